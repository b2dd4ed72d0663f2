"""Checkpoints without pickle: tensors in safetensors, scalars in JSON.

A checkpoint is `checkpoint.safetensors` holding the model ("model.*"), the
optimizer's tensors ("optim.<param>.<key>"), the RNG states ("rng.*") and a
copy of the JSON scalars in its header metadata, plus `checkpoint.json`, the
same scalars for people and tools. Each file is written to a temporary file
and renamed into place, so a crash mid-write leaves the previous one intact;
the loader trusts the header copy, so the two files can never disagree.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from studio.train import CHECKPOINT_FILE

META_KEY = "studio.checkpoint"


class CheckpointError(Exception):
    exit_code = 2


def write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous()


def weights_bytes(state: dict[str, torch.Tensor], meta: dict[str, str] | None = None) -> bytes:
    return st_save({k: _cpu(v) for k, v in state.items()}, metadata=meta)


def save_weights(path: Path, state: dict[str, torch.Tensor], meta: dict[str, str] | None = None) -> None:
    write_atomic(path, weights_bytes(state, meta))


def flatten_optimizer(sd: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state_dict into tensors and JSON-able scalars."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in sd["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"scalars": scalars, "param_groups": groups}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """Inverse of flatten_optimizer; `tensors` are keyed "<param>.<key>" (prefix removed)."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, entry in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entry)
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scalars: dict, rng: dict[str, torch.Tensor]) -> Path:
    folder = Path(folder)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_tensors, opt_meta = flatten_optimizer(optimizer.state_dict())
    tensors.update(opt_tensors)
    tensors.update({f"rng.{k}": v for k, v in rng.items() if v is not None})
    doc = dict(scalars, optimizer=opt_meta)
    text = json.dumps(doc, indent=1)
    path = folder / CHECKPOINT_FILE
    save_weights(path, tensors, {META_KEY: text})
    write_atomic(folder / "checkpoint.json", text.encode("utf-8"))
    return path


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, scalars) of the checkpoint in `folder`."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        raise CheckpointError(f"No checkpoint to resume in {folder}: train without --resume first")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        doc = json.loads(meta[META_KEY])
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"{path} is not a readable Studio checkpoint ({e})") from None
    return tensors, doc


def split(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    n = len(prefix)
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix)}
