"""Attention maps, Qt-free: for a Transformer encoder node, how much each step of a
probe example draws on every other step, per encoder layer and head.

A forward pre-hook on each layer's `self_attn` records exactly what it receives
(a pre-norm layer feeds it norm1(x), a post-norm layer x); after the forward pass
the same attention module runs again on those inputs with need_weights=True and
average_attn_weights=False. The hooks also keep PyTorch off its fused encoder-layer
path, which never calls self_attn. Only on demand: the views say which nodes they
show (`Wish`), and the probe works maps out for those alone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import fx, nn

from studio.train.activations import node_modules


def encoder_layers(module: nn.Module) -> list[nn.TransformerEncoderLayer]:
    return [m for m in module.modules()
            if isinstance(m, nn.TransformerEncoderLayer) and isinstance(m.self_attn, nn.MultiheadAttention)]


def attention_nodes(model: nn.Module) -> dict[str, list[nn.TransformerEncoderLayer]]:
    """{node path (as activations.capture names it): its encoder layers} for every node
    with self-attention inside, blocks included (a block itself is not such a node)."""
    found = {}
    for path, module in node_modules(model):
        if isinstance(module, fx.GraphModule) or (
                isinstance(module, nn.Sequential) and any(isinstance(c, fx.GraphModule) for c in module)):
            continue
        layers = encoder_layers(module)
        if layers:
            found[path] = layers
    return found


def capture(model: nn.Module, x: torch.Tensor, nodes=None) -> dict[str, torch.Tensor]:
    """{node path: attention weights N×layers×heads×T×T} for the rows of x, for the
    attention nodes among `nodes` (all of them when None). Row t of a T×T map is
    how much step t draws on each step: it sums to 1."""
    found = attention_nodes(model)
    if nodes is not None:
        found = {p: layers for p, layers in found.items() if p in set(nodes)}
    if not found:
        return {}
    seen: dict[tuple[str, int], tuple[tuple, dict]] = {}
    hooks = []
    for path, layers in found.items():
        for i, layer in enumerate(layers):
            def pre(_m, args, kwargs, key=(path, i)):
                seen[key] = (args, {k: kwargs.get(k) for k in ("attn_mask", "key_padding_mask")})
            hooks.append(layer.self_attn.register_forward_pre_hook(pre, with_kwargs=True))
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    out = {}
    with torch.no_grad():
        for path, layers in found.items():
            maps = []
            for i, layer in enumerate(layers):
                if (path, i) not in seen:  # a layer the forward pass skipped
                    break
                args, masks = seen[(path, i)]
                q, k, v = args[:3]
                attn, was_training = layer.self_attn, layer.self_attn.training
                attn.eval()
                try:
                    _, w = attn(q, k, v, need_weights=True, average_attn_weights=False, **masks)
                finally:
                    attn.train(was_training)
                maps.append(w.float().cpu())
            if maps and len({m.shape for m in maps}) == 1:
                out[path] = torch.stack(maps, dim=1)
    return out


class Wish:
    """Which nodes' attention maps the views want, by who asks (the Activations tab,
    the inspector); set in the GUI thread, read by the probe in the training thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by: dict[str, frozenset[str]] = {}

    def ask(self, who: str, nodes) -> None:
        with self._lock:
            self._by[who] = frozenset(nodes)

    def nodes(self) -> set[str]:
        with self._lock:
            return set().union(*self._by.values()) if self._by else set()


def for_probe(model: nn.Module, x: torch.Tensor, wish: Wish | None) -> dict[str, torch.Tensor | None]:
    """{attention node: maps, or None where no view asked for them}: the views learn
    which nodes have attention to show without paying for the ones nobody looks at."""
    names = list(attention_nodes(model))
    wanted = [n for n in names if wish is not None and n in wish.nodes()]
    maps = capture(model, x, wanted) if wanted else {}
    return {n: maps.get(n) for n in names}


@dataclass
class Heat:
    image: np.ndarray   # float32 T×T, 0..1: the map over its largest weight
    caption: str


def summarize(maps: torch.Tensor, layer: int, head: int | None) -> Heat:
    """One example's maps (layers×heads×T×T) as a drawable 0..1 T×T array: one head,
    or the mean of all heads when head is None."""
    per_layer = maps[min(layer, maps.shape[0] - 1)]
    m = per_layer.mean(0) if head is None else per_layer[min(head, per_layer.shape[0] - 1)]
    top = float(m.max())
    image = (m / max(top, 1e-12)).numpy().astype(np.float32)
    which = "mean of heads" if head is None else f"head {head + 1}"
    even = 1 / m.shape[-1]  # what each step would get if attention were spread evenly
    return Heat(image, f"layer {layer + 1}, {which} (brightest {top:.2f}; even spread {even:.2f})")


class AttentionProbe:
    """A trainer callback beside an activations.ActivationProbe, on the same probe
    examples: after each epoch, `latest` is (epoch, for_probe(...)). Without
    attention nodes, or with no view asking, it costs no forward pass."""

    def __init__(self, activations_probe, wish: Wish | None = None):
        self.activations_probe, self.wish = activations_probe, wish
        self.latest: tuple[int, dict[str, torch.Tensor | None]] | None = None

    def on_epoch_end(self, event) -> None:
        trainer = self.activations_probe.trainer
        x = self.activations_probe.probe_batch()
        if x is not None:
            self.latest = (event.epoch, for_probe(trainer.model, x, self.wish))
