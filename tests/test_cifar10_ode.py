"""CIFAR-10 ODE variants: every arch x variant trains, stays within the paper's parameter overheads,
checkpointed blocks give backprop's gradients and BatchNorm statistics, figures from the CLI."""

import pytest
import torch
from torch.nn import functional as F

import physode
from physode.cli import main
from physode.errors import InputError
from physode.gradients import Adjoint, Checkpoint
from physode.problems.cifar10 import paper
from physode.problems.cifar10.data import load_cifar10, normalize
from physode.problems.cifar10.figures import evolving_blocks, kernel_trajectory
from physode.problems.cifar10.models import ARCHS, CONFIGURATIONS, build_model, count_parameters
from physode.problems.cifar10.ode import StepBatchNorm2d
from physode.problems.cifar10.protocol import accuracies_percent, finished_runs, run_protocol
from physode.problems.cifar10.train import TrainConfig, train

ODE_VARIANTS = [v for v in CONFIGURATIONS if v != "baseline"]
RETRACE_WARNING = "did not retrace the forward pass"
# Neural ODE's adjoint on these blocks (BatchNorm in training mode, 2 Euler steps) does not retrace
# its forward pass and says so; the tests below that train it accept that warning, and
# test_neuralode_adjoint_warns_on_the_cifar_blocks asserts it.
pytestmark = pytest.mark.filterwarnings(f"ignore:.*{RETRACE_WARNING}:UserWarning")
BASELINE = {"alexnet": 1_756_682, "resnet4": 7_706, "resnet10": 44_186}
WIDTHS = {"alexnet": [64], "resnet4": [16], "resnet10": [16, 32]}
CONVS_PER_BLOCK = {"alexnet": 1, "resnet4": 2, "resnet10": 2}


@pytest.fixture(scope="module")
def real_batch(cifar10_root):
    train_set = load_cifar10(cifar10_root)[0]
    return normalize(train_set.images[:32]), train_set.labels[:32]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("variant", ODE_VARIANTS)
def test_every_variant_trains_a_step_within_the_paper_overhead(arch, variant):
    model = build_model(arch, variant)
    count = count_parameters(model)
    print(f"{arch} {variant}: {count:,} parameters (paper {paper.PARAMS_K[variant][arch]}K)")
    assert paper.within_paper_params(count, variant, arch)
    # The overhead is exactly what ode.py documents: C per conv (time channel) or 4 C per conv (RDA).
    per_conv = 4 if variant.startswith("anodev2") else 1
    assert count - BASELINE[arch] == sum(per_conv * CONVS_PER_BLOCK[arch] * c for c in WIDTHS[arch])
    blocks = [m for m in model.modules() if isinstance(m, physode.CoupledODEBlock)]
    assert len(blocks) == len(WIDTHS[arch])
    loss = F.cross_entropy(model(torch.randn(2, 3, 32, 32)), torch.tensor([1, 7]))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("variant,kind,steps,weight_steps,evolved,alignment", [
    ("neuralode", Adjoint, 2, None, 0, "stage"), ("anode", Checkpoint, 2, None, 0, "stage"),
    ("anodev2-c1", Checkpoint, 5, None, 2, "stage"), ("anodev2-c2", Checkpoint, 2, 10, 2, "endpoints")])
def test_variants_are_the_papers_configurations(variant, kind, steps, weight_steps, evolved, alignment):
    (block,) = [m for m in build_model("resnet4", variant).modules() if isinstance(m, physode.CoupledODEBlock)]
    assert isinstance(block.grad, kind) and block.steps == steps and block.weight_steps == weight_steps
    assert block.alignment == alignment  # config two applies w0 and w1 (the paper's first and last)
    assert len(block.evolved) == evolved and all(name.endswith("weight") for name in block.evolved)
    assert all(len(norm.stats) == steps for norm in block.modules() if isinstance(norm, StepBatchNorm2d))
    for operator in block.operators:  # ANODEV2 evolves its kernels by the paper's Eq. 9 with tanh
        assert (operator.sigma, operator.sigma_placement) == ("tanh", "each_step")


@pytest.mark.parametrize("variant", ["anode", "anodev2-c1", "anodev2-c2"])
def test_checkpointed_block_matches_backprop_and_updates_each_step_statistics_once(variant, real_batch):
    images, labels = real_batch
    grads, stats = [], []
    for grad in ("checkpoint", "backprop"):
        torch.manual_seed(0)
        model = build_model("resnet4", variant, grad=grad)
        F.cross_entropy(model(images), labels).backward()
        grads.append([p.grad for p in model.parameters()])
        norms = [m for m in model.modules() if isinstance(m, StepBatchNorm2d)]
        stats.append([(s.running_mean.clone(), int(s.num_batches_tracked)) for n in norms for s in n.stats])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert [n for _, n in stats[0]] == [1] * len(stats[0])  # one Euler evaluation per step, no recompute
    for (a, _), (b, _) in zip(*stats):
        torch.testing.assert_close(a, b)
    means = [m for m, _ in stats[0]][: len(stats[0]) // 2]  # the first BatchNorm's slots, one per step
    assert not torch.allclose(means[0], means[-1])  # steps see different activations: own statistics


@pytest.mark.parametrize("variant", ["neuralode", "anode", "anodev2-c1", "anodev2-c2"])
def test_ode_variant_loss_decreases_on_a_real_batch(variant, real_batch):
    images, labels = real_batch
    model = build_model("resnet4", variant)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def test_bad_variant_options_are_input_errors():
    with pytest.raises(InputError, match="steps must be a positive integer"):
        build_model("resnet4", "anode", steps=0)
    with pytest.raises(InputError, match="unknown sigma"):
        build_model("resnet4", "anodev2-c1", sigma="relu")


def test_kernel_trajectory_starts_at_the_kernel_and_moves_once_trained():
    model = build_model("alexnet", "anodev2-c2")
    (block,) = evolving_blocks(model)
    with torch.no_grad():
        block.operators[0].rho.fill_(-1.0)  # pure decay: theta(t) = exp(-t) * (diffused theta0)
    name, path = kernel_trajectory(model, [0.0, 0.5, 1.0])
    assert name == "layers.0.weight" and path.shape == (3, 64, 64, 5, 5)
    torch.testing.assert_close(path[0], block.f.layers[0].weight.detach())
    ratio = path[2].sum() / path[0].sum()  # diffusion keeps the mean, reaction scales it
    assert ratio.item() == pytest.approx(torch.exp(torch.tensor(-1.0)).item(), rel=1e-4)
    with pytest.raises(InputError, match="no evolving weights"):
        kernel_trajectory(build_model("resnet4", "anode"), [0.0, 1.0])


def test_plot_commands_write_pngs_from_a_checkpoint(cifar10_root, tmp_path, capsys):
    run = tmp_path / "c1"
    config = TrainConfig(arch="resnet4", variant="anodev2-c1", epochs=1, batch_size=64, limit_train=64,
                         limit_test=64, progress=False)
    train(config, cifar10_root, run)
    assert main(["plot-kernel", "cifar10", "--checkpoint", str(run / "checkpoint.pt"),
                 "--out", str(tmp_path / "kernel.png"), "--times", "4", "--kernels", "2"]) == 0
    assert main(["plot-curves", "cifar10", str(run), "--out", str(tmp_path / "curves.png")]) == 0
    for png in ("kernel.png", "curves.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["plot-curves", "cifar10", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "neither a run directory" in err
    assert not (tmp_path / "x.png").exists()


def test_accuracy_table_has_the_papers_layout():
    table = paper.accuracy_table({("resnet4", "anode"): [70.0, 72.0]}, ["resnet4"], ["baseline", "anode"])
    header, _, baseline, anode = table.splitlines()
    assert header == "| variant | ResNet-4 min / max | avg | runs | paper min / max | paper avg |"
    assert anode == "| ANODE (Nt=2) | 70.00 / 72.00 | 71.00 | 2 | 76.92 / 77.45 | 77.30 |"
    assert baseline.startswith("| Baseline | - | - | 0 | 76.47 / 77.35 | 76.95 |")


def test_protocol_skips_finished_runs_and_summarises_them(cifar10_root, tmp_path):
    base = TrainConfig(epochs=1, batch_size=64, limit_train=64, limit_test=100, progress=False)
    first = run_protocol(base, ["resnet4"], ["baseline"], [0, 1], cifar10_root, tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint.pt")}
    again = run_protocol(base, ["resnet4"], ["baseline"], [0, 1], cifar10_root, tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/checkpoint.pt")} == stamps and len(stamps) == 2
    assert first == again == finished_runs(tmp_path, ["resnet4"], ["baseline"], [0, 1, 2], epochs=1)
    assert finished_runs(tmp_path, ["resnet4"], ["baseline"], [0, 1], epochs=2) == []
    assert list(accuracies_percent(first)) == [("resnet4", "baseline")]


@pytest.mark.parametrize("variant", ["neuralode", "anodev2-c1"])
def test_trains_with_the_cuda_defaults_bf16_and_channels_last(cifar10_root, tmp_path, variant):
    # Module.to(memory_format=channels_last) fails on SpectralRDA's 5-D velocity; train converts convs only.
    config = TrainConfig(arch="resnet4", variant=variant, epochs=1, batch_size=32, limit_train=64, limit_test=32,
                         amp=True, channels_last=True, progress=False)
    (record,) = train(config, cifar10_root, tmp_path)
    assert torch.isfinite(torch.tensor(record["train_loss"]))


def test_neuralode_adjoint_warns_on_the_cifar_blocks():
    """ANODE's finding, measured: the continuous adjoint's reverse solve of a CIFAR block drifts from
    the forward states it should retrace, so its gradient is not the model's; the user is told."""
    torch.manual_seed(0)
    model = build_model("resnet4", "neuralode")
    loss = F.cross_entropy(model(torch.randn(4, 3, 32, 32)), torch.tensor([1, 7, 3, 0]))
    with pytest.warns(UserWarning, match=RETRACE_WARNING):
        loss.backward()
