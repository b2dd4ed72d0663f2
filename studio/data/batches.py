"""The in-memory batcher: seeded shuffling, index_select gathering, per-batch
normalization and whole-batch augmentation on the training device.

Images stay uint8 until a batch is gathered (4× less memory, and on a GPU the
whole set lives on the device). Augmentation works on the uint8 batch, so the
crop's zero padding is black, as torchvision's RandomCrop(padding=p) pads.
No DataLoader, no workers, no per-sample Python: one gather per chunk of batches.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
import torch.nn.functional as F


def epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    """A CPU generator determined by (seed, epoch, stream), so an epoch can be
    replayed exactly when a run resumes mid-epoch."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7919 + stream) % (2**63))


class Batcher:
    """Iterates (x, y) batches of one split.

    `x` is uint8 N×C×H×W for images (normalized here) or a float/int64 tensor
    that is passed through unchanged. Data already on `device` is not copied.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, *, device="cpu",
                 shuffle: bool = False, seed: int = 0, mean: Sequence[float] | None = None,
                 std: Sequence[float] | None = None, normalize: bool = True, crop: int = 0,
                 flip: bool = False, channels_last: bool = False, drop_last: bool = False):
        self.device = torch.device(device)
        # Keep the dataset on the training device when it is a GPU: no per-batch copies.
        if self.device.type != "cpu":
            x, y = x.to(self.device), y.to(self.device)
        self.x, self.y = x, y
        self.n = int(x.shape[0])
        self.batch_size = max(1, int(batch_size))
        self.shuffle, self.seed = shuffle, seed
        self.drop_last = drop_last and self.n >= self.batch_size
        self.is_image = x.dim() == 4
        self.crop = int(crop) if self.is_image else 0
        self.flip = bool(flip) and self.is_image
        self.channels_last = channels_last and self.is_image
        self.scale = self.shift = None
        if self.is_image and x.dtype == torch.uint8:
            # (x/255 - mean)/std folded into one multiply-add: x*scale - shift.
            c = x.shape[1]
            m = torch.tensor(mean if (normalize and mean) else [0.0] * c, dtype=torch.float32)
            s = torch.tensor(std if (normalize and std) else [1.0] * c, dtype=torch.float32)
            self.scale = (1.0 / (255.0 * s)).view(1, c, 1, 1).to(self.device)
            self.shift = (m / s).view(1, c, 1, 1).to(self.device)

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return (self.n + self.batch_size - 1) // self.batch_size

    def order(self, epoch: int) -> torch.Tensor:
        if self.shuffle:
            idx = torch.randperm(self.n, generator=epoch_generator(self.seed, epoch, 0))
        else:
            idx = torch.arange(self.n)
        return idx.to(self.device)

    # Batches are gathered and prepared a chunk (~8 MB of float data) at a time and
    # then sliced: a few large ops instead of several small ones per batch. With
    # two threads on a busy machine each small op's thread fork/join cost several
    # percent of a CNN step (measured with bench/train_throughput.py).
    CHUNK_BYTES = 8 << 20

    def chunk_batches(self) -> int:
        per_example = 4 * max(1, self.x[0].numel()) if self.n else 4
        return max(1, min(64, self.CHUNK_BYTES // (per_example * self.batch_size)))

    def batches(self, epoch: int = 1, start: int = 0,
                aug_state: torch.Tensor | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Yields (indices, x, y) from batch number `start` (0-based) of `epoch`.
        `aug_state` (from aug_state() when a run stopped) replays the augmentation
        of the chunk holding batch `start`, so a resumed epoch matches an unbroken one."""
        order = self.order(epoch)
        self.aug_gen = epoch_generator(self.seed, epoch, 1)
        if aug_state is not None:
            self.aug_gen.set_state(aug_state)
        self.aug_before = None
        augmenting = bool(self.crop or self.flip)
        bs, nb, k = self.batch_size, len(self), self.chunk_batches()
        for c0 in range((start // k) * k, nb, k):
            c1 = min(c0 + k, nb)
            idx = order[c0 * bs:c1 * bs]
            if augmenting:  # the state before this chunk's draws, to replay it on resume
                self.aug_before = self.aug_gen.get_state()
            xs, ys = self.prepare(self.x.index_select(0, idx)), self.y.index_select(0, idx)
            for b in range(max(c0, start), c1):
                part = slice((b - c0) * bs, (b - c0 + 1) * bs)
                yield idx[part], xs[part], ys[part]

    def __iter__(self):
        for _, x, y in self.batches():
            yield x, y

    def prepare(self, xb: torch.Tensor, augment: bool = True) -> torch.Tensor:
        if self.device.type != "cpu" and xb.device != self.device:
            xb = xb.to(self.device, non_blocking=True)
        if augment and self.crop:
            xb = random_crop(xb, self.crop, self.aug_gen)
        if augment and self.flip:
            xb = random_flip(xb, self.aug_gen)
        if self.scale is not None:
            xb = xb.float().mul_(self.scale).sub_(self.shift)
        if self.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        return xb

    def aug_state(self) -> torch.Tensor | None:
        """Augmentation RNG state before the chunk of the batch most recently yielded."""
        return getattr(self, "aug_before", None)


def random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Pad every image by `pad` zeros and cut a random H×W window per image,
    using two gathers over the whole batch."""
    n, c, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=gen).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (offsets[0].view(n, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (offsets[1].view(n, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    x = padded.gather(2, rows.expand(n, c, h, w + 2 * pad))
    return x.gather(3, cols.expand(n, c, h, w))


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the batch left-right."""
    mask = (torch.rand(x.shape[0], generator=gen) < 0.5).to(x.device).view(-1, 1, 1, 1)
    return torch.where(mask, x.flip(3), x)
