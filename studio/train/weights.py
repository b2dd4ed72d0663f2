"""Load trained weights into a compiled model: all of them, or none.

Reads safetensors, or `.pt`/`.pth` files through `torch.load(weights_only=True)`
(which refuses arbitrary pickled objects). Every tensor is checked against the
model first; any mismatch raises WeightsError with a per-tensor report and
leaves the model untouched.
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file


MAX_REPORT = 12  # problems listed in a message; `report` keeps them all


class WeightsError(Exception):
    """Weights that do not fit the network; the message lists the first problems, `report` all."""
    exit_code = 2

    def __init__(self, message: str, report: list[str] | None = None):
        self.report = list(report or [])
        shown = self.report[:MAX_REPORT]
        if len(self.report) > MAX_REPORT:
            shown.append(f"... and {len(self.report) - MAX_REPORT:,} more")
        super().__init__(message + ("\n  " + "\n  ".join(shown) if shown else ""))


def _first_line(e: BaseException) -> str:
    """torch's message, first line, without its advice to unpickle anything (weights_only=False)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = lines[0] if lines else type(e).__name__
    if "weights_only" in text or "pickle" in text.lower() or len(text) > 200:
        return type(e).__name__
    return text


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.split("/", 1)[-1].startswith(("code/", "constants.pkl")) for n in z.namelist())
    except Exception:  # noqa: BLE001 - any zip the zipfile module cannot read: torch.load decides
        return False


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise WeightsError(f"No weights file at {path}") from None
    if not stat.S_ISREG(st.st_mode):
        raise WeightsError(f"{path} is not a regular file (a folder, device or FIFO is never read as weights)")
    if st.st_size == 0:
        raise WeightsError(f"{path.name} is empty, not a weights file")
    if path.suffix in (".pt", ".pth", ".bin") and _is_torchscript(path):
        raise WeightsError(f"{path.name} is a TorchScript program, not a state_dict; Studio reads weights only "
                           "(export them as .safetensors or .pt)")
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
        raise WeightsError(f"{path.name} is not a readable weights file ({_first_line(e)})") from None
    except Exception as e:  # noqa: BLE001 - torch.load's refusals come as pickle errors
        raise WeightsError(f"{path.name} holds more than tensors and was not loaded "
                           f"({type(e).__name__}); only plain state_dicts are accepted") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # the common {"state_dict": ...} wrapper
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
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
    bad = [f"dtype: {k} is {state[k].dtype} in the file but {own[k].dtype} in the network"
           for k in own if not castable(state[k].dtype, own[k].dtype)]
    if bad:
        name = Path(source).name if isinstance(source, (str, Path)) else "the weights"
        raise WeightsError(f"{name} hold tensors of a type that cannot become the network's without changing "
                           f"their values ({len(bad)} tensor{'s' if len(bad) != 1 else ''}):", bad)
    notes = [f"{k}: {state[k].dtype} converted to {own[k].dtype}" for k in own if state[k].dtype != own[k].dtype]
    model.load_state_dict({k: state[k].to(own[k].dtype) for k in own}, strict=True)
    return notes


def castable(src: torch.dtype, dst: torch.dtype) -> bool:
    """Only casts that keep the values: float to float (half, bfloat16, double to float32),
    integer to integer. Never complex (drops the imaginary part), bool or int into floats."""
    if src == dst:
        return True
    if src.is_complex or dst.is_complex or torch.bool in (src, dst):
        return False
    return src.is_floating_point == dst.is_floating_point
