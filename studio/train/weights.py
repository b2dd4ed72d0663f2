"""Load trained weights into a compiled model: all of them, or none.

Reads safetensors, or `.pt`/`.pth` files through `torch.load(weights_only=True)`
(which refuses arbitrary pickled objects). Every tensor is checked against the
model first; any mismatch raises WeightsError with a per-tensor report and
leaves the model untouched.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file


class WeightsError(Exception):
    """Weights that do not fit the network; the message lists every problem."""
    exit_code = 2

    def __init__(self, message: str, report: list[str] | None = None):
        self.report = list(report or [])
        super().__init__(message + ("\n  " + "\n  ".join(self.report) if self.report else ""))


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"No weights file at {path}")
    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path))
        elif path.suffix in (".pt", ".pth", ".bin"):
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        else:
            raise WeightsError(f"{path.name}: weights must be a .safetensors or .pt file")
    except WeightsError:
        raise
    except (SafetensorError, OSError, RuntimeError, ValueError, EOFError) as e:
        raise WeightsError(f"{path.name} is not a readable weights file ({str(e).splitlines()[0]})") from None
    except Exception as e:  # noqa: BLE001 - torch.load's refusals come as pickle errors
        raise WeightsError(f"{path.name} holds more than tensors and was not loaded "
                           f"({type(e).__name__}); only plain state_dicts are accepted") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # the common {"state_dict": ...} wrapper
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path.name} is not a state_dict of tensors")
    return state


def mismatch_report(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    own = model.state_dict()
    report = []
    for key, t in own.items():
        if key not in state:
            report.append(f"missing: {key} (expected {_shape(t)})")
        elif tuple(state[key].shape) != tuple(t.shape):
            report.append(f"shape: {key} is {_shape(state[key])} in the file but {_shape(t)} in the network")
    for key in state:
        if key not in own:
            report.append(f"unexpected: {key} ({_shape(state[key])}) is not in the network")
    return report


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


def strip_prefix(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Accept a Studio checkpoint ("model.*") or a model saved inside a wrapper ("module.*")."""
    own = model.state_dict()
    if all(k in state for k in own):
        return state
    for prefix in ("model.", "module."):
        inner = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if inner and all(k in inner for k in own):
            return inner
    return state


def load_weights(model: torch.nn.Module, source) -> list[str]:
    """Load a path or a state_dict into `model`. Returns notes (e.g. dtype casts).
    Raises WeightsError, without touching the model, if anything does not fit."""
    state = read_state(source) if isinstance(source, (str, Path)) else dict(source)
    state = strip_prefix(model, state)
    report = mismatch_report(model, state)
    if report:
        name = Path(source).name if isinstance(source, (str, Path)) else "the weights"
        raise WeightsError(f"{name} do not fit this network ({len(report)} problem"
                           f"{'s' if len(report) != 1 else ''}):", report)
    own = model.state_dict()
    notes = [f"{k}: {state[k].dtype} converted to {own[k].dtype}" for k in own if state[k].dtype != own[k].dtype]
    model.load_state_dict({k: state[k].to(own[k].dtype) for k in own}, strict=True)
    return notes
