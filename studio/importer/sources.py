"""Where an imported model comes from: a torchvision builder, a class in the
user's own Python file, an ONNX file (onnx2torch) or timm; and its weights."""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from studio.graph import opaque
from studio.graph.opaque import OpaqueUnavailable
from studio.importer.trace import ImportFailed


@dataclass
class Source:
    module: nn.Module
    ref: str  # what opaque nodes refer to: torchvision:<name>, file:<path>:<Class>, onnx:<path>
    kwargs: str  # JSON text of the builder's keyword arguments
    name: str
    input: str | None = None  # the input the source itself declares (ONNX), e.g. "image:3,224,224"
    runs_user_code: bool = False


def parse_json_kwargs(text: str | None) -> dict:
    if not text:
        return {}
    try:
        return opaque.parse_kwargs(text, "--kwargs")
    except OpaqueUnavailable as e:
        raise ImportFailed(str(e)) from None


def open_source(spec: str, kwargs: dict | None = None, num_classes: int | None = None,
                pretrained: bool = False, meta: bool = False) -> Source:
    """Build the module named by `spec` (random weights unless `pretrained`)."""
    kwargs = dict(kwargs or {})
    try:
        if spec.startswith("torchvision:"):
            return _torchvision(spec.split(":", 1)[1], kwargs, num_classes, pretrained, meta)
        if spec.startswith("timm:"):
            return _timm(spec.split(":", 1)[1], kwargs, num_classes, pretrained)
        if spec.endswith(".onnx"):
            return _onnx(Path(spec))
        path, sep, cls = spec.rpartition(":")
        if sep and path.endswith(".py"):
            return _file(Path(path), cls, kwargs, num_classes)
        if sep and cls.isidentifier() and path:
            raise ImportFailed(f"{path} is not a Python file (.py)")
    except OpaqueUnavailable as e:
        raise ImportFailed(str(e)) from None
    raise ImportFailed(f"cannot tell what {spec!r} is: use torchvision:NAME, path/model.py:ClassName, "
                       "model.onnx or timm:NAME")


def _torchvision(name: str, kwargs: dict, num_classes: int | None, pretrained: bool, meta: bool) -> Source:
    from torchvision import models
    names = models.list_models(module=models)
    if name not in names:
        close = [n for n in names if n.startswith(name[:4])][:4]
        raise ImportFailed(f"torchvision has no classification model {name!r}"
                           + (f" (did you mean {', '.join(close)}?)" if close else ""))
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    build = dict(kwargs)
    if pretrained:
        build.pop("num_classes", None)  # the published weights are for their own classes
    builder = models.get_model_builder(name)
    if meta:
        try:
            with torch.device("meta"):
                module = opaque.instantiate(builder, build, f"torchvision {name}")
        except OpaqueUnavailable:  # a builder that computes with tensors (RegNet) cannot run on meta
            module = opaque.instantiate(builder, build, f"torchvision {name}").to("meta")
    else:
        module = opaque.instantiate(builder, build, f"torchvision {name}")
    if pretrained:
        load_state(module, pretrained_state(name), f"torchvision's {name} weights")
        if num_classes is not None:
            replace_head(module, num_classes)
    return Source(module.eval(), f"torchvision:{name}", json.dumps(kwargs, sort_keys=True), name)


def pretrained_state(name: str) -> dict:
    """torchvision's published weights for `name`, from torch hub's cache or downloaded into it."""
    from torchvision import models
    weights = models.get_model_weights(name).DEFAULT
    cache = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    if cache.exists():
        return torch.load(cache, map_location="cpu", weights_only=True)
    import contextlib
    import io
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # torch hub prints "Downloading: ..."
            return torch.hub.load_state_dict_from_url(weights.url, map_location="cpu", progress=False,
                                                      weights_only=True)
    except Exception as e:  # noqa: BLE001 - offline: URLError, socket errors, HTTP errors
        raise ImportFailed(f"--pretrained: no cached weights at {cache}, and the download failed "
                           f"({type(e).__name__}); copy the file there or use --weights FILE") from None


def replace_head(module: nn.Module, num_classes: int) -> str:
    """Swap the last Linear for a fresh one with `num_classes` outputs; its path."""
    last = [(n, m) for n, m in module.named_modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ImportFailed("the model has no Linear layer to resize to the new class count")
    path, old = last[-1]
    parent = module.get_submodule(path.rpartition(".")[0]) if "." in path else module
    setattr(parent, path.rpartition(".")[2], nn.Linear(old.in_features, num_classes, bias=old.bias is not None))
    return path


def _timm(name: str, kwargs: dict, num_classes: int | None, pretrained: bool) -> Source:
    try:
        import timm
    except ImportError:
        raise ImportFailed("timm is not installed; install it (pip install timm) to import timm models") from None
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if name not in timm.list_models():
        raise ImportFailed(f"timm has no model {name!r}")
    module = opaque.instantiate(lambda **k: timm.create_model(name, pretrained=pretrained, **k), kwargs, name)
    return Source(module.eval(), f"timm:{name}", json.dumps(kwargs, sort_keys=True), name)


def _onnx(path: Path) -> Source:
    module = opaque.convert_onnx(path)
    ref = f"onnx:{path.resolve()}"
    return Source(module.eval(), ref, "{}", path.stem, input=_onnx_input(path))


def _onnx_input(path: Path) -> str | None:
    import onnx
    g = onnx.load(str(path), load_external_data=False).graph
    inits = {i.name for i in g.initializer}
    ins = [i for i in g.input if i.name not in inits]
    if len(ins) != 1:
        return None
    dims = [d.dim_value for d in ins[0].type.tensor_type.shape.dim][1:]
    if not dims or any(d <= 0 for d in dims):
        return None
    kind = {3: "image", 2: "sequence", 1: "vector"}.get(len(dims))
    return f"{kind}:{','.join(map(str, dims))}" if kind else None


def _file(path: Path, cls: str, kwargs: dict, num_classes: int | None) -> Source:
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if not path.is_file():
        raise ImportFailed(f"No Python file at {path}")
    opaque.trust(path)  # importing a user's module is their consent to run it
    klass = opaque.load_class(path, cls)
    module = opaque.instantiate(klass, kwargs, cls)
    return Source(module.eval(), f"file:{path.resolve()}:{cls}", json.dumps(kwargs, sort_keys=True), cls,
                  runs_user_code=True)


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from safetensors or a weights-only .pt file (no pickled code)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"No weights file at {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - refused pickles, truncated files
        raise ImportFailed(f"{path.name} is not a readable weights file ({type(e).__name__}); "
                           "use .safetensors or a .pt state_dict") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ImportFailed(f"{path.name} is not a state_dict of tensors")
    return state


def load_weights_into(module: nn.Module, path: str | Path) -> None:
    state = read_weights(path)
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shape = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or shape:
        parts = [f"{len(v)} {what} (e.g. {v[0]})" for v, what in
                 ((missing, "missing"), (extra, "unexpected"), (shape, "of another shape")) if v]
        raise ImportFailed(f"{Path(path).name} does not fit the model: {', '.join(parts)}")
    load_state(module, state, Path(path).name)


def load_state(module: nn.Module, state: dict, what: str) -> None:
    """load_state_dict, with the module's own format versions when the file has none
    (safetensors keeps no `_metadata`; MNASNet refuses a state without its version)."""
    from collections import OrderedDict
    state = OrderedDict(state)
    state._metadata = getattr(state, "_metadata", None) or getattr(module.state_dict(), "_metadata", None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as e:
        raise ImportFailed(f"{what} cannot be loaded into the model: {str(e).splitlines()[0]}") from None
