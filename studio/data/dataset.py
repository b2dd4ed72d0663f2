"""The in-memory dataset every source produces and the trainer consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


class DataError(Exception):
    """A dataset cannot be loaded; the message says what is wrong and what to do."""
    exit_code = 2


@dataclass
class Dataset:
    name: str
    kind: str                       # "image" | "sequence" | "vector" | "tokens"
    task: str                       # "classification" | "regression"
    x_train: torch.Tensor           # uint8 N×C×H×W images; float32 N×T×F / N×F; int64 N×T tokens
    y_train: torch.Tensor           # int64 N class ids, or float32 N×K regression targets
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: list[str] = field(default_factory=list)   # empty for regression
    mean: tuple[float, ...] | None = None  # per-channel, in 0..1 units, for uint8 images
    std: tuple[float, ...] | None = None
    vocab: int = 0                  # tokens only
    source: str = ""                # where it came from, for messages and the UI
    notes: list[str] = field(default_factory=list)      # non-fatal remarks, e.g. skipped files

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_outputs(self) -> int:
        """Units the last layer needs: classes, or regression targets."""
        if self.task == "classification":
            return len(self.classes)
        return 1 if self.y_train.dim() == 1 else int(self.y_train.shape[1])

    def input_params(self) -> dict:
        """Input-node parameters that describe one example of this dataset."""
        s = self.sample_shape
        if self.kind == "image":
            return {"kind": "image", "channels": s[0], "height": s[1], "width": s[2]}
        if self.kind == "sequence":
            return {"kind": "sequence", "length": s[0], "features": s[1]}
        if self.kind == "tokens":
            return {"kind": "tokens", "length": s[0], "vocab": self.vocab}
        return {"kind": "vector", "features": s[0]}
