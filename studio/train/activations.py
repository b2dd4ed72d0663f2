"""Live activations, Qt-free: every node's output for a small fixed probe batch
from the validation set, captured with forward hooks after each epoch (one
forward pass of a few examples: a negligible cost beside an epoch) or on demand
from the current weights.

`summarize` turns one node's output for one example into what a view draws:
a grid of feature maps for images, a T×F heat map for sequences, a bar strip
for vectors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import fx, nn

PROBE_SIZE = 4
MAX_MAPS = 16


def node_modules(model: nn.Module, prefix: str = ""):
    """(dotted path, module) of every node, inside blocks too: a block compiles to an
    fx.GraphModule (or an nn.Sequential of them when repeated) whose children are its
    nodes. The paths are those studio.graph.blocks.walk and .qualified give."""
    for name, child in model.named_children():
        path = prefix + name
        yield path, child
        if isinstance(child, fx.GraphModule):
            yield from node_modules(child, path + ".")
        elif isinstance(child, nn.Sequential) and len(child) and all(
                isinstance(c, fx.GraphModule) for c in child):
            for i, c in enumerate(child):
                yield from node_modules(c, f"{path}.{i}.")


def capture(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """{node path: output for the rows of x} for every node module (a block's layers
    as "block.layer"), in execution order."""
    out: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in node_modules(model):
        def hook(_m, _i, o, name=name):
            o = o[0] if isinstance(o, tuple) else o
            if isinstance(o, torch.Tensor):
                out[name] = o.detach().float().cpu()
        hooks.append(module.register_forward_hook(hook))
    was = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    return out


@dataclass
class View:
    kind: str            # "maps" | "heatmap" | "bars"
    image: np.ndarray    # float32 0..1: maps H'×W' (a grid, NaN between maps), heatmap T×F, bars 1×N
    caption: str


def summarize(activation: torch.Tensor, max_maps: int = MAX_MAPS) -> View:
    """One example's output (no batch dimension) as a drawable 0..1 array."""
    a = activation.detach().float()
    if a.dim() == 3:  # C×H×W: the first channels side by side in a grid, each scaled on its own
        c, h, w = a.shape
        n = min(c, max_maps)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        # NaN marks the gaps: no value, so a view draws them apart from the colour ramp.
        grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
        for i in range(n):
            m = a[i]
            m = (m - m.min()) / (m.max() - m.min()).clamp_min(1e-12)
            r, k = divmod(i, cols)
            grid[r * (h + 1): r * (h + 1) + h, k * (w + 1): k * (w + 1) + w] = m.numpy()
        more = f" (first {n} of {c})" if c > n else ""
        return View("maps", grid, f"{c} feature maps {h}×{w}{more}")
    if a.dim() == 2:  # T×F sequence
        m = (a - a.min()) / (a.max() - a.min()).clamp_min(1e-12)
        return View("heatmap", m.numpy().astype(np.float32), f"{a.shape[0]} steps × {a.shape[1]} features")
    v = a.reshape(-1)
    m = (v - v.min()) / (v.max() - v.min()).clamp_min(1e-12)
    return View("bars", m.numpy().astype(np.float32)[None], f"{v.numel()} values, "
                f"{float(v.min()):.3g} to {float(v.max()):.3g}")


class ActivationProbe:
    """A trainer callback: after each epoch, every node's outputs for the first
    PROBE_SIZE validation examples. `latest` holds (epoch, {node: outputs}, the raw
    examples as the dataset has them)."""

    def __init__(self, size: int = PROBE_SIZE):
        self.size = size
        self.trainer = None
        self.latest: tuple[int, dict[str, torch.Tensor], torch.Tensor] | None = None

    def probe_batch(self) -> torch.Tensor | None:
        t = self.trainer
        if t is None or getattr(t, "val_batches", None) is None or t.val_batches.n == 0:
            return None
        vb = t.val_batches
        return vb.prepare(vb.x[: self.size], augment=False)

    def on_epoch_end(self, event) -> None:
        x = self.probe_batch()
        if x is not None:
            raw = self.trainer.val_batches.x[: self.size].detach().cpu()
            self.latest = (event.epoch, capture(self.trainer.model, x), raw)
