"""Where opaque modules come from: an imported submodule that Studio has no
layer for is kept as a reference, never as code in the project file.

A reference is (source, kwargs, path): `torchvision:resnet18` with builder
keyword arguments as JSON text, or `file:/abs/model.py:ClassName`, or
`onnx:/abs/model.onnx`; and the submodule's dotted path in that model.
torchvision and ONNX references are rebuilt freely (no user code runs). A
`file:` reference runs the user's own Python, so it is rebuilt only after
`trust(path)`: the import that created it, or the user's explicit consent
(`--trust-code FILE`). Weights never come from here: they are random until
the weights file is loaded into the compiled network.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import sys
import warnings
from pathlib import Path

from torch import nn


class OpaqueUnavailable(ValueError):
    """An opaque module cannot be rebuilt; the message says why and what to do."""
    exit_code = 2


_trusted: set[Path] = set()
_roots: dict[tuple[str, str], nn.Module] = {}


def trust(path: str | Path) -> None:
    """Consent to run the Python file at `path` when a reference needs it."""
    _trusted.add(Path(path).resolve())


def is_trusted(path: str | Path) -> bool:
    return Path(path).resolve() in _trusted


def remember(source: str, kwargs: str, module: nn.Module) -> None:
    """Keep the root module an import already built, so rebuilding costs nothing."""
    _roots[(source, kwargs)] = module


def parse_kwargs(kwargs: str, where: str = "kwargs") -> dict:
    try:
        value = json.loads(kwargs or "{}")
    except json.JSONDecodeError as e:
        raise OpaqueUnavailable(f"{where} must be a JSON object, e.g. '{{\"num_classes\": 10}}' ({e.msg})") from None
    if not isinstance(value, dict):
        raise OpaqueUnavailable(f"{where} must be a JSON object, e.g. '{{\"num_classes\": 10}}'")
    return value


def split_file_source(rest: str) -> tuple[Path, str]:
    path, sep, cls = rest.rpartition(":")
    if not sep or not path or not cls.isidentifier():
        raise OpaqueUnavailable(f"{rest!r} must be path/to/model.py:ClassName")
    return Path(path), cls


def load_class(path: Path, cls: str):
    """The class `cls` defined in the Python file `path` (runs that file)."""
    if not path.is_file():
        raise OpaqueUnavailable(f"No Python file at {path}")
    if path.suffix != ".py":
        raise OpaqueUnavailable(f"{path} is not a Python file (.py)")
    name = f"studio_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(mod)
    except SyntaxError as e:
        del sys.modules[name]
        raise OpaqueUnavailable(f"{path} is not valid Python (line {e.lineno}: {e.msg})") from None
    except Exception as e:  # noqa: BLE001 - the user's module failed while loading
        del sys.modules[name]
        raise OpaqueUnavailable(f"{path} failed while loading: {type(e).__name__}: {e}") from None
    obj = getattr(mod, cls, None)
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise OpaqueUnavailable(f"{path} defines no nn.Module class named {cls}")
    return obj


def instantiate(factory, kwargs: dict, what: str) -> nn.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = factory(**kwargs)
    except TypeError as e:
        raise OpaqueUnavailable(f"{what} does not accept these arguments: {e}") from None
    except Exception as e:  # noqa: BLE001 - the builder's own refusal
        raise OpaqueUnavailable(f"{what} could not be built: {type(e).__name__}: {e}") from None
    if not isinstance(module, nn.Module):
        raise OpaqueUnavailable(f"{what} did not return an nn.Module")
    return module


def torchvision_builder(name: str):
    from torchvision import models
    if name not in models.list_models(module=models):
        raise OpaqueUnavailable(f"torchvision has no classification model {name!r}")
    return models.get_model_builder(name)


def root(source: str, kwargs: str) -> nn.Module:
    key = (source, kwargs)
    if key in _roots:
        return _roots[key]
    kind, _, rest = source.partition(":")
    args = parse_kwargs(kwargs)
    if kind == "torchvision":
        # A reference never fetches anything: weights come from the project's weights file.
        if {"weights", "weights_backbone", "pretrained", "progress"} & set(args):
            raise OpaqueUnavailable(f"{source}: builder arguments may not ask for published weights")
        module = instantiate(torchvision_builder(rest), args, f"torchvision {rest}")
    elif kind == "file":
        path, cls = split_file_source(rest)
        if not is_trusted(path):
            raise OpaqueUnavailable(
                f"this network keeps a module from {path} ({cls}), which means running that Python "
                f"file; Studio runs a project's code only with your consent: pass --trust-code {path}")
        module = instantiate(load_class(path, cls), args, cls)
    elif kind == "onnx":
        module = convert_onnx(Path(rest))
    else:
        raise OpaqueUnavailable(f"unknown module source {source!r}")
    module.eval()
    _roots[key] = module
    return module


def submodule(source: str, kwargs: str, path: str) -> nn.Module:
    r = root(source, kwargs)
    try:
        return r.get_submodule(path) if path else r
    except AttributeError:
        raise OpaqueUnavailable(f"{source} has no submodule {path!r}") from None


def build(source: str, kwargs: str, path: str) -> nn.Module:
    """A fresh copy of the referenced submodule, for a compiled network."""
    return copy.deepcopy(submodule(source, kwargs, path))


def convert_onnx(path: Path) -> nn.Module:
    """An ONNX file as a torch module through onnx2torch (the optional `onnx` extra).
    Converting reads the graph and its weights; it runs no code from the file."""
    try:
        import onnx
        from onnx2torch import convert
    except ImportError:
        raise OpaqueUnavailable("importing ONNX needs the optional extra: pip install 'studio[onnx]'") from None
    if not path.is_file():
        raise OpaqueUnavailable(f"No ONNX file at {path}")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - protobuf's errors are many and unhelpful
        raise OpaqueUnavailable(f"{path} is not an ONNX model ({type(e).__name__})") from None
    try:
        return convert(model)
    except Exception as e:  # noqa: BLE001
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise OpaqueUnavailable(f"onnx2torch cannot convert {path.name}: {first}") from None
