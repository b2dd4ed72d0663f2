"""Checkpoints without pickle: tensors in safetensors, scalars in JSON.

A checkpoint is `checkpoint.safetensors` holding the model ("model.*"), the
optimizer's tensors ("optim.<param>.<key>"), the RNG states ("rng.*") and a
copy of the JSON scalars in its header metadata, plus `checkpoint.json`, the
same scalars for people and tools. Each file is written to a temporary file
and renamed into place, so a crash mid-write leaves the previous one intact;
the loader trusts the header copy, so the two files can never disagree.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save

from studio.fileio import write_atomic  # noqa: F401 - the one atomic writer, re-exported
from studio.train import CHECKPOINT_FILE
from studio.train.events import EpochEvent

META_KEY = "studio.checkpoint"


class CheckpointError(Exception):
    exit_code = 2


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
    if not path.is_file() or path.is_symlink():
        raise CheckpointError(f"{path} is not a regular file; Studio only resumes from its own checkpoints")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if META_KEY not in meta:
            raise ValueError("it has no Studio header")
        doc = json.loads(meta[META_KEY], parse_constant=_reject)
        check_doc(doc)
    except RecursionError:
        raise CheckpointError(f"{path} is not a readable Studio checkpoint (its header is nested too deeply)") from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as e:
        raise CheckpointError(f"{path} is not a readable Studio checkpoint ({_short(e)})") from None
    return tensors, doc


def _short(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def _reject(name: str):
    raise ValueError(f"{name} is not allowed in the header")


_INT_FIELDS = ("version", "epoch", "step", "epochs", "best_epoch", "bad_epochs")


def check_doc(doc) -> None:
    """The checkpoint header has every field resuming reads, with the right types (ValueError if not)."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"its header {what}")
    need(isinstance(doc, dict), "is not an object")
    for key in _INT_FIELDS:
        need(isinstance(doc.get(key), int) and not isinstance(doc.get(key), bool) and doc[key] >= 0,
             f'lacks a whole number "{key}"')
    need(isinstance(doc.get("status"), str), 'lacks "status"')
    score = doc.get("best_score")
    need(score is None or (isinstance(score, (int, float)) and not isinstance(score, bool)), '"best_score" is not a number')
    need(doc.get("partial") is None or isinstance(doc["partial"], dict), '"partial" is not an object')
    history = doc.get("history")
    fields = {f.name for f in dataclasses.fields(EpochEvent)}
    need(isinstance(history, list) and all(isinstance(e, dict) and set(e) == fields for e in history),
         '"history" is not a list of epochs')
    opt = doc.get("optimizer")
    need(isinstance(opt, dict) and isinstance(opt.get("param_groups"), list)
         and all(isinstance(g, dict) for g in opt["param_groups"])
         and isinstance(opt.get("scalars", {}), dict), '"optimizer" is not an optimizer state')


def split(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    n = len(prefix)
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix)}
