"""CIFAR-10 in at most 8 minutes on one GPU: the five variants on ResNet-10 and ResNet-4, SHORT protocol.

A short stand-in for the paper's Tables 1, 2 and 4 (350 epochs, 5 seeds): every variant of both
ResNets, one seed, as many epochs on all 50,000 training images as the time budget allows, then
test accuracy on all 10,000 test images, in the paper's layout beside its numbers.

Recipe: ANODE's optimiser (SGD, lr 0.1, momentum 0.9, weight decay 5e-4, batch 256, random crop
and flip; ``TrainConfig``'s defaults) with its step schedule (lr / 10 at epochs 150 and 250 of 350)
replaced by a one-cycle schedule that fits any epoch count: linear warm-up from 0 to 0.1 over the
first epoch, then linear decay to 0 at the last planned step. On CUDA: bf16 autocast,
channels-last, cudnn autotuning; the uint8 images and their augmentation stay on the GPU.

Deadline-aware: the wall-time budget (``--budget-s``, default 480 s) starts with the script and
covers data loading, training and evaluation. Runs go most expensive first. After the first epoch
of each run the script plans the epochs that still fit from the throughput it measured (this run's,
and the assumed throughput of the runs left, scaled by measured / assumed so far), and re-checks
after every later epoch; the first run sets the common epoch count, later runs may only lower it.
When the end moves, the lr decay is re-aimed from the current lr to 0 at the new last step.

    python -m benchmarks.cifar10.gpu_quick --device cuda              # the protocol, <= 8 min on one H200
    python -m benchmarks.cifar10.gpu_quick --device cpu --dry-run     # mechanics on 256 images, < 2 min
    python -m benchmarks.cifar10.gpu_quick --plan                     # the planned budget, no training
    python -m benchmarks.cifar10.gpu_quick --count-ops                # re-measure OPS_PER_STEP on CPU

Writes gpu_quick[_dry_run][_cpu].md and .json (_dry_run: --dry-run, _cpu: not on CUDA) to --out, else $OUT,
else benchmarks/cifar10/, atomically, after every run (so a killed protocol leaves the runs it finished).

Modules: ``plan.py`` (the assumed throughput and the epoch budget), ``protocol.py`` (the lr
schedule and the runs, trained to the deadline), ``utilisation.py`` (GPU utilisation sampling),
``report.py`` (the tables), ``count_ops.py`` (operators per training step), ``cli.py``.
"""
