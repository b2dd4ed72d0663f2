"""The in-memory batcher: coverage, seeded order, normalization, augmentation."""
import torch

from studio.data.batches import Batcher, random_crop, random_flip


def images(n=10):
    return torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_every_example_once_per_epoch_in_a_seeded_order():
    x, y = images(10), torch.arange(10)
    b = Batcher(x, y, 4, shuffle=True, seed=1)
    assert len(b) == 3
    seen = torch.cat([yb for _, _, yb in b.batches(1)])
    assert sorted(seen.tolist()) == list(range(10))
    again = torch.cat([yb for _, _, yb in Batcher(x, y, 4, shuffle=True, seed=1).batches(1)])
    other_epoch = torch.cat([yb for _, _, yb in b.batches(2)])
    assert torch.equal(seen, again) and not torch.equal(seen, other_epoch)


def test_uint8_images_are_normalized_per_channel():
    x = images()
    b = Batcher(x, torch.arange(10), 10, mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 0.125))
    (_, xb, _), = list(b.batches())
    want = (x.float() / 255 - torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.5, 0.25, 0.125]).view(1, 3, 1, 1)
    torch.testing.assert_close(xb, want)


def test_float_data_passes_through():
    x = torch.randn(6, 5, 2)
    (_, xb, _), = list(Batcher(x, torch.arange(6), 6).batches())
    assert torch.equal(xb, x)


def test_random_crop_shifts_each_image_within_the_padding():
    x = images(6)
    g = torch.Generator().manual_seed(0)
    out = random_crop(x, 2, g)
    assert out.shape == x.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(6):  # each output is some window of its own padded image
        windows = padded[i].unfold(1, 8, 1).unfold(2, 8, 1)  # C×5×5×8×8
        assert any(torch.equal(windows[:, r, c], out[i]) for r in range(5) for c in range(5))


def test_random_flip_mirrors_some_images_and_keeps_the_rest():
    x = images(32)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(out[i], x[i].flip(2)) for i in range(32)]
    kept = [torch.equal(out[i], x[i]) for i in range(32)]
    assert all(f or k for f, k in zip(flipped, kept)) and 4 < sum(flipped) < 28
