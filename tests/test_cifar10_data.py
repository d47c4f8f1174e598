"""CIFAR-10 loading, validation and on-device augmentation, on the real data."""

from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from physode.errors import InputError
from physode.problems.cifar10.data import augment, eval_batches, load_cifar10, normalize, train_batches

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-batches-py"


@pytest.fixture(scope="module")
def cifar():
    return load_cifar10(DATA)


def test_real_data_shapes_and_counts(cifar):
    train, test = cifar
    assert train.images.shape == (50000, 3, 32, 32) and test.images.shape == (10000, 3, 32, 32)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert torch.bincount(train.labels).tolist() == [5000] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for item in DATA.iterdir():
        (root / item.name).symlink_to(item)
    return root


def test_truncated_batch_names_the_file(tmp_path):
    root = _copy(tmp_path)
    (root / "data_batch_3").unlink()
    (root / "data_batch_3").write_bytes((DATA / "data_batch_3").read_bytes()[:1_000_000])
    with pytest.raises(InputError, match="data_batch_3 is truncated or corrupt"):
        load_cifar10(root)


def test_missing_batch_names_the_file(tmp_path):
    root = _copy(tmp_path)
    (root / "data_batch_5").unlink()
    with pytest.raises(InputError, match="data_batch_5 is missing"):
        load_cifar10(root)


def test_wrong_directory(tmp_path):
    with pytest.raises(InputError, match="not a CIFAR-10 directory.*--data-root"):
        load_cifar10(tmp_path)


def test_augment_is_a_seeded_crop_and_flip(cifar):
    images = cifar[0].images[:16]
    out = augment(images, torch.Generator().manual_seed(1))
    assert torch.equal(out, augment(images, torch.Generator().manual_seed(1)))
    padded = F.pad(images, (4,) * 4)
    for i in range(16):  # every output is some 32x32 window of the padded image, maybe mirrored
        windows = padded[i].unfold(1, 32, 1).unfold(2, 32, 1).permute(1, 2, 0, 3, 4).reshape(-1, 3, 32, 32)
        match = (windows == out[i]).flatten(1).all(1) | (windows.flip(-1) == out[i]).flatten(1).all(1)
        assert match.any()


def test_shards_of_a_global_batch_reassemble_the_single_process_batch(cifar):
    split = cifar[0].head(512)
    single = list(train_batches(split, 128, torch.Generator().manual_seed(0)))
    shards = [list(train_batches(split, 128, torch.Generator().manual_seed(0), rank, 2)) for rank in (0, 1)]
    assert len(single) == 4
    for step, (images, labels) in enumerate(single):
        assert torch.equal(images, torch.cat([shards[0][step][0], shards[1][step][0]]))
        assert torch.equal(labels, torch.cat([shards[0][step][1], shards[1][step][1]]))
    with pytest.raises(InputError, match="not divisible"):
        next(train_batches(split, 127, torch.Generator(), 0, 2))


def test_eval_shards_cover_the_test_set_once(cifar):
    test = cifar[1].head(1001)
    seen = torch.cat([y for rank in (0, 1) for _, y in eval_batches(test, 100, rank, 2)])
    assert seen.numel() == 1001 and torch.equal(seen.sort().values, test.labels.sort().values)
    assert normalize(test.images[:2]).dtype == torch.float32
