import os

import pytest
import torch

# The suite shares two cores: keep torch from oversubscribing them.
torch.set_num_threads(int(os.environ.get("PHYSODE_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
