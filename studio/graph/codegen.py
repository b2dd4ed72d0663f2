"""Generate a standalone, readable .py file defining the compiled network as
a plain nn.Module. It imports only torch and loads the same state_dict.

Each block becomes an nn.Module class of its own (blocks inside it, classes of
their own too), defined before the network; a repeated block is an nn.Sequential
of copies of its class. Class names are plain and unique (BasicBlock, BasicBlock_2);
where one differs from the block's name, the class says the name as given in a
`block_name` string literal, so an import can name the block back exactly. The
module's state_dict keys are those of studio.graph.compile.compile_graph, so the
same weights load strictly.

Text that comes from a project file (its name, the weights file name) reaches
the source only as a Python literal (repr); node ids and class names must be
plain identifiers (a block's name is reduced to one by compile.class_name);
comments hold printable characters only. `check_source` (codegen_check.py)
proves a generated module has exactly the expected shape before anyone runs it.
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.graph import modules as helper_modules
from studio.graph.codegen_check import (BASE_RESERVED, BLOCK_NAME, CodegenError, check_source,
                                        helper_classes, repeat_source)
from studio.graph.compile import class_name as block_class_name
from studio.graph.compile import input_args, plan
from studio.graph.layers import spec

if TYPE_CHECKING:
    from studio.graph.model import GraphModel

__all__ = ["CodegenError", "check_source", "generate", "info_label"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_CTOR = re.compile(r"(nn\.)?[A-Za-z_][A-Za-z0-9_]*")


def _ident(name: object, what: str) -> str:
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        raise CodegenError(f"{what} {name!r} is not a plain Python name")
    return name


def _arg(v) -> str:
    """A constructor argument as a literal; only the plain types layer params have."""
    if isinstance(v, tuple):
        return "(" + ", ".join(_arg(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, float) and not math.isfinite(v):
        return f"float({repr(v)!r})"
    if v is None or isinstance(v, (bool, int, float, str)):
        return repr(v)
    raise CodegenError(f"a layer parameter of type {type(v).__name__} cannot be written as source")


def _comment(text: str) -> str:
    """Comment text on one line: anything not printable (newlines, NUL, separators) becomes '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def info_label(model: "GraphModel", nid: str) -> str:
    s = model.shapes.out(nid)
    return s.full() if s is not None else "?"


@dataclass
class _Writer:
    """Writes one class per graph level; block classes collect in `classes` (inner first)."""
    taken: set[str]
    helpers: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    by_body: dict[tuple[str, str], str] = field(default_factory=dict)  # (block name, class text) -> class

    def parts(self, model: "GraphModel") -> tuple[list[str], list[str], list[str]]:
        """(forward's inputs, __init__ lines, forward lines) of the class for `model`."""
        inputs, layers, out = plan(model)
        for nid in model.nodes():
            _ident(nid, "node id")
        inits = [self.layer_line(model, nid) for nid in layers]
        body = [f"        {nid} = self.{nid}({', '.join(input_args(model, nid))})" for nid in layers]
        (last,) = input_args(model, out)
        body.append(f"        return {last}")
        return inputs, inits, body

    def layer_line(self, model: "GraphModel", nid: str) -> str:
        shape = _comment(info_label(model, nid))
        if model.type_of(nid) == "Block":
            p = model.params(nid)
            cls = self.block_class(model.body(nid), p["name"])
            n = p["repeat"]
            what = _comment(f"block {p['name']!r}" + (f" ×{n}" if n > 1 else ""))
            ctor = repeat_source(cls, n) if n > 1 else f"{cls}()"
            return f"        self.{nid} = {ctor}  # -> {shape}, {what}"
        info = model.shapes.info[nid]
        c = spec(model.type_of(nid)).ctor(model.params(nid), list(info.inputs))
        ns, _, name = c.name.partition(".")
        if ns == "opaque":  # an imported module Studio has no layer for: rebuilt from its reference
            ns, name = "studio", "OpaqueModule"
        if ns == "studio" and name not in self.helpers:
            self.helpers.append(name)
        args = ", ".join(f"{_ident(k, 'parameter')}={_arg(v)}" for k, v in c.kwargs.items())
        ctor = c.name if ns == "nn" else name
        if not _CTOR.fullmatch(ctor):
            raise CodegenError(f"layer constructor {ctor!r} is not a plain name")
        return f"        self.{nid} = {ctor}({args})  # -> {shape}"

    def block_class(self, body: "GraphModel", name: str) -> str:
        """The class for a block body (written once per distinct body and name)."""
        inputs, inits, lines = self.parts(body)
        text = _class_text("{name}", inputs, inits, lines, body)
        known = self.by_body.get((name, text))
        if known:
            return known
        base = block_class_name(name)
        cls, i = base, 1
        if cls in self.taken:
            cls = f"{base}_block" if base in BASE_RESERVED else f"{base}_2"
        while cls in self.taken:
            i += 1
            cls = f"{base}_{i}"
        self.taken.add(cls)
        self.by_body[(name, text)] = cls
        head, rest = text.replace("{name}", cls, 1).split("\n", 1)
        if cls != name and BLOCK_NAME not in body.nodes():  # the name as given, for an import to read back
            head += f"\n    {BLOCK_NAME} = {name!r}  # the block's name in Studio\n"
        self.classes.append(f"{head}\n{rest}")
        return cls


def _class_text(cls: str, inputs: list[str], inits: list[str], body: list[str], model: "GraphModel") -> str:
    shapes = ", ".join(f"{n}: N×{model.shapes.out(n).full()}" for n in inputs)
    return "\n".join([
        f"class {cls}(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *inits,
        "",
        f"    def forward(self, {', '.join(inputs)}):",
        f"        # inputs: {_comment(shapes)}",
        *body,
    ])


def generate(model: "GraphModel", class_name: str = "StudioModel", title: str = "",
             weights_name: str = "weights.safetensors", load_class: str | None = None,
             reserved: tuple[str, ...] = ()) -> str:
    """The module's source. `load_class`: the class the docstring tells users to build
    (a subclass appended by the caller), if not `class_name` itself. `reserved`: other
    module-level names the caller appends (a block's class never takes them)."""
    class_name = _ident(class_name, "class name")
    load_class = _ident(load_class or class_name, "class name")
    writer = _Writer(taken=set(BASE_RESERVED) | set(helper_classes()) | {class_name, load_class, *reserved})
    inputs, inits, body = writer.parts(model)
    main = _class_text(class_name, inputs, inits, body, model)
    helper_src = "\n\n\n".join(inspect.getsource(getattr(helper_modules, h)).rstrip() for h in writer.helpers)
    lines = [
        '"""A network generated by Studio (its name is in NAME below).',
        "",
        "Load the trained weights with:",
        f"    model = {load_class}()",
        "    model.load_state_dict(safetensors.torch.load_file(WEIGHTS))",
        '"""',
        "import torch",
        "from torch import nn",
        "",
        f"NAME = {title or 'Network'!r}",
        f"WEIGHTS = {weights_name!r}",
        "",
    ]
    for text in ([helper_src] if helper_src else []) + writer.classes + [main]:
        lines += ["", text, ""]
    source = "\n".join(lines)
    check_source(source, model, class_name, tail_constants=tuple(reserved))
    return source
