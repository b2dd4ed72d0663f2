"""The one entry point the trainer and UI use: settings in, Dataset out.

Sources are imported lazily so choosing "Spiral" never imports Pillow or
torchvision. Whatever goes wrong reading files becomes a DataError with a
message a user can act on, never a traceback.
"""
from __future__ import annotations

import importlib

import numpy as np

from studio.data.common import Progress, report
from studio.data.dataset import DataError, Dataset
from studio.settings import DATASET_KIND, DATASET_KINDS

def describe_datasets() -> list[tuple[str, str, str, bool, bool]]:
    """(key, title, description, needs_path, offline) for every dataset, in menu order."""
    return [(k.key, k.title, k.text, k.needs_path, k.offline) for k in DATASET_KINDS]


def load_dataset(settings, progress: Progress = None) -> Dataset:
    """Load the dataset `settings.dataset` names. `progress(fraction, message)` is
    called during slow work (downloads, decoding) if given."""
    kind = DATASET_KIND.get(settings.dataset)
    if kind is None:
        raise DataError(f"Unknown dataset {settings.dataset!r}; choose one of {', '.join(DATASET_KIND)}")
    title, (module_name, func_name) = kind.title, kind.loader.split(":")
    func = getattr(importlib.import_module(f"{__package__}.{module_name}"), func_name)
    try:
        if module_name == "synthetic":
            dataset = func(settings)
        else:
            dataset = func(settings, progress)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"Not enough memory to load {title}; set a smaller limit "
                        "(use only the first N training examples)") from None
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        raise DataError(f"Could not read {title}{where}: {e.strerror or e}") from None
    report(progress, 1.0, f"{title}: {len(dataset.x_train)} training and "
                          f"{len(dataset.x_val)} validation examples")
    return dataset


def _label(dataset: Dataset, y) -> str:
    if dataset.task == "classification":
        i = int(y)
        return dataset.classes[i] if 0 <= i < len(dataset.classes) else str(i)
    values = y.reshape(-1).tolist()
    return ", ".join(f"{v:.3g}" for v in values[:3]) + (" …" if len(values) > 3 else "")


def preview(dataset: Dataset, n: int = 16) -> list[tuple[np.ndarray | None, str]]:
    """Up to n (image, label) pairs from the training set for a preview grid.
    Images are uint8 H×W×3 (colour) or H×W (grey); None for non-image data."""
    count = min(n, len(dataset.x_train))
    out: list[tuple[np.ndarray | None, str]] = []
    for i in range(count):
        image = None
        if dataset.kind == "image":
            chw = dataset.x_train[i].cpu().numpy()
            image = chw[0].copy() if chw.shape[0] == 1 else np.ascontiguousarray(chw[:3].transpose(1, 2, 0))
        out.append((image, _label(dataset, dataset.y_train[i])))
    return out
