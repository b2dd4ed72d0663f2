"""Fine-tuning: frozen layers and per-layer learning-rate multipliers, read from
each node's `frozen` and `lr_mult` params, as optimizer parameter groups."""
from __future__ import annotations

from pathlib import Path

import torch

from studio.train.model_setup import SetupError, build_model


def param_groups(model: torch.nn.Module, graph, base_lr: float) -> tuple[list[dict], list[torch.nn.Module]]:
    """Groups for the optimizer (one per learning-rate multiplier) and the frozen
    node modules. Frozen weights get requires_grad=False and join no group."""
    groups: dict[float, list[torch.nn.Parameter]] = {}
    frozen: list[torch.nn.Module] = []

    def visit(module: torch.nn.Module, graph, mult: float) -> None:
        for nid, child in module.named_children():
            params = graph.params(nid) if nid in graph.g else {}
            if params.get("frozen"):
                child.requires_grad_(False)
                frozen.append(child)
                continue
            m = mult * float(params.get("lr_mult", 1.0))
            if params and graph.type_of(nid) == "Block":  # its layers may set their own
                copies = list(child) if isinstance(child, torch.nn.Sequential) else [child]
                for c in copies:
                    visit(c, graph.body(nid), m)
                continue
            groups.setdefault(m, []).extend(p for p in child.parameters() if p.requires_grad)

    visit(model, graph, 1.0)
    out = [{"params": ps, "lr": base_lr * m, "lr_mult": m} for m, ps in sorted(groups.items()) if ps]
    if not out and any(True for _ in model.parameters()):
        raise SetupError("Every layer with weights is frozen: there is nothing to train; unfreeze one")
    return out, frozen


def keep_frozen(frozen: list[torch.nn.Module]) -> None:
    """Frozen layers stay in evaluation mode: BatchNorm keeps its statistics, Dropout is off."""
    for m in frozen:
        m.eval()


def counts(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, frozen) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters()) - trainable


def init_weights_path(project, value: str) -> Path:
    """`init_weights` is relative to the project file's folder."""
    p = Path(value)
    if not p.is_absolute() and getattr(project, "path", None) is not None:
        p = Path(project.path).parent / p
    return p


def load_init_weights(model: torch.nn.Module, path: Path) -> list[str]:
    """Start from `path`: every tensor that fits is loaded; the names of those that
    do not (a replaced head, a resized layer) are returned and keep their fresh values."""
    from studio.train.weights import WeightsError, read_state, strip_prefix
    state = strip_prefix(model, read_state(path))
    own = model.state_dict()
    fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not fits:
        raise WeightsError(f"{Path(path).name}: none of its tensors fit this network (init_weights)")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in fits.items()}, strict=False)
    return [k for k in own if k not in fits]


def starting_model(project, dataset, device: str | None = None, initial: bool = True):
    """(network, tensors of the initial weights that did not fit) as a run starts it: torch's
    RNG seeded with the project's seed, the network built, then the initial weights the
    training settings name (a fine-tuning run), unless `initial` is False (a resumed run).
    The RNG is left as the build left it: the run draws on from there."""
    s = project.train
    torch.manual_seed(s.seed)
    model = build_model(project, dataset, device)
    skipped: list[str] = []
    if s.init_weights and initial:  # e.g. an import's weights; a replaced head starts fresh
        skipped = load_init_weights(model, init_weights_path(project, s.init_weights))
    return model, skipped
