"""Helpers every source shares: where data lives, limits, seeded splits, image stats.

Splits and generated data use a fixed seed (SEED) rather than the training seed,
so the same settings always give the same train/validation examples: changing the
training seed must not move examples between the two sets.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch

from studio.data.dataset import DataError, Dataset

SEED = 0
Progress = Callable[[float, str], None] | None


def data_root(root: str) -> Path:
    """The folder datasets are stored in: settings.root, or ~/.studio/data when empty."""
    path = Path(os.path.expanduser(root)) if root.strip() else Path.home() / ".studio" / "data"
    if path.exists() and not path.is_dir():   # a file or a FIFO: never read it, never download into it
        raise DataError(f"The data folder {path} is not a folder; choose the folder that holds the dataset")
    return path


def cache_root() -> Path:
    """Where decoded images are cached: $XDG_CACHE_HOME/studio, else ~/.cache/studio."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "studio"


def offline_error(title: str, folder: Path, files: str, how: str, reason: str | None,
                  missing: list[str] | None = None) -> DataError:
    """The message for a dataset that is not here and could not be downloaded:
    what failed, the exact folder the files belong in, and the offline alternative."""
    why = f"downloading it failed ({reason})" if reason else "the download did not contain it"
    now = f" Missing now: {', '.join(missing)}." if missing else ""
    return DataError(
        f"{title} is not on this computer and {why}.\n"
        f"Put the files {files} in\n    {folder.resolve()}\n({how}).{now}\n"
        f'Or choose the "Shapes" dataset, which is generated on this computer and needs no download.')


def report(progress: Progress, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def limit_rows(x: torch.Tensor, y: torch.Tensor, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `limit` examples (0 = all)."""
    if limit and limit < len(x):
        return x[:limit], y[:limit]
    return x, y


def seeded_split(x: torch.Tensor, y: torch.Tensor, val_fraction: float):
    """Random train/validation split with a fixed seed. Keeps at least one example
    in each part when val_fraction > 0 and there are two or more examples."""
    n = len(x)
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SEED))
    val_idx, train_idx = order[:n_val], order[n_val:]
    return (x.index_select(0, train_idx), y.index_select(0, train_idx),
            x.index_select(0, val_idx), y.index_select(0, val_idx))


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 N×C×H×W images, in 0..1 units.
    Works in chunks so 50k CIFAR images never become one 600 MB float copy."""
    n, c = x.shape[0], x.shape[1]
    if n == 0:
        return tuple([0.5] * c), tuple([0.25] * c)
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    for start in range(0, n, 4096):
        chunk = x[start:start + 4096]
        f = chunk.reshape(chunk.shape[0], c, -1).to(torch.float64) / 255.0
        total += f.sum(dim=(0, 2))
        squares += (f * f).sum(dim=(0, 2))
    count = n * x[0, 0].numel()
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt().clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def split_and_finish(settings, *, name: str, kind: str, task: str, x: torch.Tensor, y: torch.Tensor,
                     classes: list[str], source: str, test: tuple[torch.Tensor, torch.Tensor] | None = None,
                     notes: list[str] | None = None) -> Dataset:
    """Apply limit and the validation split, compute image stats, build the Dataset.

    `limit` takes the first N training examples; when the source's own test split
    is used it also caps that at N, so a quick try stays quick end to end."""
    x, y = limit_rows(x, y, settings.limit)
    if test is not None and settings.use_test_split:
        xt, yt = limit_rows(*test, settings.limit)
        x_train, y_train, x_val, y_val = x, y, xt, yt
    else:
        x_train, y_train, x_val, y_val = seeded_split(x, y, settings.val_split)
    if len(x_train) == 0:
        raise DataError(f"{name} has no training examples left; check the limit and validation split")
    mean = std = None
    if kind == "image":
        mean, std = channel_stats(x_train)
    return Dataset(name=name, kind=kind, task=task, x_train=x_train.contiguous(), y_train=y_train.contiguous(),
                   x_val=x_val.contiguous(), y_val=y_val.contiguous(), classes=list(classes),
                   mean=mean, std=std, source=source, notes=list(notes or []))
