"""CIFAR-10 loading and validation (real data; small batches written by the tests), on-device augmentation."""

import pytest
import torch
from torch.nn import functional as F

from physode.errors import InputError
from physode.problems.cifar10.data import Split, augment, eval_batches, load_cifar10, normalize, train_batches


@pytest.fixture(scope="module")


def images() -> Split:
    """1,001 random uint8 images with labels: augmentation and sharding do not depend on content."""
    generator = torch.Generator().manual_seed(0)
    return Split(torch.randint(0, 256, (1001, 3, 32, 32), generator=generator, dtype=torch.uint8),
                 torch.randint(0, 10, (1001,), generator=generator))


def test_real_data_shapes_and_counts(cifar10_root):
    train, test = load_cifar10(cifar10_root)
    assert train.images.shape == (50000, 3, 32, 32) and test.images.shape == (10000, 3, 32, 32)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert torch.bincount(train.labels).tolist() == [5000] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert len(load_cifar10(cifar10_root.parent)[1]) == 10000  # the folder containing it works too


def test_small_batches_are_refused_for_their_shape(small_cifar10):
    with pytest.raises(InputError, match=r"data_batch_1 holds data of shape \(20, 3072\), expected \(10000, 3072\)"):
        load_cifar10(small_cifar10)
    with pytest.raises(InputError, match="data_batch_1 holds data of shape"):
        load_cifar10(small_cifar10.parent)  # found as the subfolder of its parent


def test_truncated_batch_names_the_file(small_cifar10):
    batch = small_cifar10 / "data_batch_1"
    batch.write_bytes(batch.read_bytes()[:1000])
    with pytest.raises(InputError, match="data_batch_1 is truncated or corrupt"):
        load_cifar10(small_cifar10)


def test_missing_batch_names_the_file(small_cifar10):
    (small_cifar10 / "data_batch_1").unlink()
    with pytest.raises(InputError, match="data_batch_1 is missing"):
        load_cifar10(small_cifar10)


def test_wrong_directory(tmp_path):
    with pytest.raises(InputError, match="not a CIFAR-10 directory.*--data-root"):
        load_cifar10(tmp_path)


def test_augment_is_a_seeded_crop_and_flip(images):
    batch = images.images[:16]
    out = augment(batch, torch.Generator().manual_seed(1))
    assert torch.equal(out, augment(batch, torch.Generator().manual_seed(1)))
    padded = F.pad(batch, (4,) * 4)
    for i in range(16):  # every output is some 32x32 window of the padded image, maybe mirrored
        windows = padded[i].unfold(1, 32, 1).unfold(2, 32, 1).permute(1, 2, 0, 3, 4).reshape(-1, 3, 32, 32)
        match = (windows == out[i]).flatten(1).all(1) | (windows.flip(-1) == out[i]).flatten(1).all(1)
        assert match.any()


def test_shards_of_a_global_batch_reassemble_the_single_process_batch(images):
    split = images.head(512)
    single = list(train_batches(split, 128, torch.Generator().manual_seed(0)))
    shards = [list(train_batches(split, 128, torch.Generator().manual_seed(0), rank, 2)) for rank in (0, 1)]
    assert len(single) == 4
    for step, (images, labels) in enumerate(single):
        assert torch.equal(images, torch.cat([shards[0][step][0], shards[1][step][0]]))
        assert torch.equal(labels, torch.cat([shards[0][step][1], shards[1][step][1]]))
    with pytest.raises(InputError, match="not divisible"):
        next(train_batches(split, 127, torch.Generator(), 0, 2))


def test_eval_shards_cover_the_test_set_once(images):
    test = images.head(1001)
    seen = torch.cat([y for rank in (0, 1) for _, y in eval_batches(test, 100, rank, 2)])
    assert seen.numel() == 1001 and torch.equal(seen.sort().values, test.labels.sort().values)
    assert normalize(test.images[:2]).dtype == torch.float32
