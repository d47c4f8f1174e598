"""``python -m benchmarks.cifar10.gpu_quick``: runs :func:`cli.main`; bad input ends in one line."""

import sys

from benchmarks.cifar10.gpu_quick.cli import main
from physode.errors import InputError

try:
    main()
except InputError as err:  # bad input: one line, no traceback
    sys.exit(f"gpu_quick: error: {err}")
