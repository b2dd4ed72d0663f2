"""The vocabulary every layer declaration is written in.

A `LayerSpec` is the single description of a layer type: the palette, the
inspector, shape inference, the compiler, the project format and the code
exporter all read it, so nothing about a layer is repeated elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence


class ShapeError(ValueError):
    """A layer cannot accept the shapes wired into it; the message is for a learner.
    `insert` names a layer type that, put on the input wire, fixes it."""

    def __init__(self, message: str, insert: str | None = None):
        super().__init__(message)
        self.insert = insert


@dataclass(frozen=True)
class Shape:
    """A tensor shape without the batch dimension.

    `seq` marks the first dimension as time (T×F), so wires can show "T×128"
    and recurrent layers know which axis is which. `dtype` is "float" except
    for token ids fed to an Embedding.
    """

    dims: tuple[int, ...]
    seq: bool = False
    dtype: str = "float"
    vocab: int = 0  # token ids are < vocab; lets Embedding infer its size

    def __iter__(self):
        return iter(self.dims)

    def __len__(self) -> int:
        return len(self.dims)

    def __getitem__(self, i):
        return self.dims[i]

    @property
    def numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    def label(self) -> str:
        """Short wire label: 64×16×16, or T×128 for sequences (T shown in full())."""
        if self.seq:
            return "×".join(["T"] + [str(d) for d in self.dims[1:]])
        return "×".join(str(d) for d in self.dims) or "scalar"

    def full(self) -> str:
        if self.seq:
            rest = "×".join(str(d) for d in self.dims[1:])
            return f"T×{rest} (T = {self.dims[0]})" if rest else f"T (T = {self.dims[0]})"
        return self.label()


def fmt(dims: Sequence[int]) -> str:
    return "×".join(str(d) for d in dims)


def hw(value: int | Sequence[int]) -> tuple[int, int]:
    """A "size2" param value as (height, width): 3 -> (3, 3), (1, 7) -> (1, 7)."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def hw_text(value: int | Sequence[int]) -> str:
    """A "size2" value for people: "3" when square, "1×7" (height × width) when not."""
    h, w = hw(value)
    return str(h) if h == w else f"{h}×{w}"


@dataclass(frozen=True)
class Param:
    """One user-settable parameter: its type, default, range and one-line help."""

    name: str
    # "size2": a height×width size, an int when square (the usual case) or a pair (h, w)
    kind: str  # "int" | "float" | "bool" | "choice" | "ints" | "text" | "size2"
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    editable: bool = True  # False: shown, never edited in the app (an import's references)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def check(self, value: Any) -> Any:
        """Return `value` coerced to this param's type, or raise ValueError saying why."""
        k = self.kind
        if k == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError(f"{self.name} must be true or false, got {value!r}")
        if k == "int":
            return self._int(value)
        if k == "size2":  # a square pair is stored as its int, so each size has one form
            if not isinstance(value, (list, tuple)):
                return self._int(value, " or a pair [height, width]")
            if len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
                raise ValueError(f"{self.name} must be a whole number or a pair [height, width] of "
                                 f"whole numbers, got {_short(value)}")
            for v in value:
                self._range(v)
            return value[0] if value[0] == value[1] else (value[0], value[1])
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{self.name} must be a number, got {value!r}")
            try:
                value = float(value)
            except OverflowError:  # an int past 1e308, e.g. from a hand-edited file
                raise ValueError(f"{self.name} must be a finite number") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{self.name} must be a finite number")
            self._range(value)
            return value
        if k == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        if k == "text":  # references recorded by an import; never executed or evaluated
            if not isinstance(value, str) or len(value) > 2000:
                raise ValueError(f"{self.name} must be text of at most 2000 characters")
            return value
        if k == "ints":
            if not isinstance(value, (list, tuple)) or not value or len(value) > 6:
                raise ValueError(f"{self.name} must be a list of 1 to 6 whole numbers, got {value!r}")
            out = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ValueError(f"{self.name} must hold whole numbers, got {v!r}")
                self._range(v)
                out.append(v)
            return tuple(out)
        raise ValueError(f"unknown parameter kind {k}")

    def _int(self, value: Any, alternative: str = "") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ValueError(f"{self.name} must be a whole number{alternative}, got {_short(value)}")
        self._range(value)
        return value

    def _range(self, v) -> None:
        if self.minimum is not None and v < self.minimum:
            raise ValueError(f"{self.name} must be at least {self.minimum:g}, got {v}")
        if self.maximum is not None and v > self.maximum:
            raise ValueError(f"{self.name} must be at most {self.maximum:g}, got {v}")


def _short(value: Any) -> str:
    """A refused value for a message; a hand-edited file can hold a huge one."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Port:
    name: str
    multi: bool = False  # accepts several wires (merges)
    label: str = ""


@dataclass(frozen=True)
class Ctor:
    """How to build a layer's module: a dotted constructor name and its keyword
    arguments. The compiler calls it; the code exporter prints it."""

    name: str  # "nn.Conv2d" or "studio.Add" (helper in studio.graph.modules)
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Params = Mapping[str, Any]
InferFn = Callable[[Params, list[Shape]], Shape]
CtorFn = Callable[[Params, list[Shape]], Ctor]
CountFn = Callable[[Params, list[Shape], Shape], int]


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    title: str
    description: str
    params: tuple[Param, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    infer: InferFn
    ctor: CtorFn | None  # None: no module (Input, Output pass data through)
    summary: Callable[[Params], str] = lambda p: ""
    weights: CountFn = lambda p, i, o: 0
    macs: CountFn = lambda p, i, o: 0
    icon: str = ""
    palette: bool = True  # False: made by an import, not offered in the palette or quick-add
    trainable: bool = False  # has weights: gets the fine-tuning params (frozen, lr_mult)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def port_names(self, direction: str) -> list[str]:
        ports = self.inputs if direction == "in" else self.outputs
        return [p.name for p in ports]


_REGISTRY: dict[str, LayerSpec] = {}


@dataclass(frozen=True)
class Category:
    """A palette group. `icon` (assets/icons/<icon>.svg) is drawn for its layers that
    have none of their own; `colour` tints their icons and card headers."""
    name: str
    icon: str
    colour: str


# Palette order. A new category is one line here (plus its layers' module).
CATEGORY = {c.name: c for c in (
    Category("Input / Output", "io", "#8b93a7"),
    Category("Convolution", "conv", "#4f7cf7"),
    Category("Pooling", "pool", "#2fa7a0"),
    Category("Normalization", "norm", "#a070e8"),
    Category("Activation", "act", "#e59a2f"),
    Category("Dense & Shape", "dense", "#3f9f5f"),
    Category("Recurrent", "rnn", "#d9577a"),
    Category("Attention", "attn", "#2b9ccf"),
    Category("Merge", "merge", "#6b7f99"),
    Category("Blocks", "block", "#c0703a"),  # sub-networks (studio.graph.layers.block)
    Category("Imported", "shape", "#7a7f8c"),  # opaque modules; not in the palette
)}
CATEGORIES = tuple(CATEGORY)


# Fine-tuning, on every layer with weights; the trainer reads them (optimizer parameter groups).
TUNE_PARAMS = (
    Param("frozen", "bool", False, "Keep this layer's weights (and statistics) fixed while training"),
    Param("lr_mult", "float", 1.0, "Multiplies the learning rate for this layer's weights", 0.0, 100.0,
          label="LR ×"),
)


def _tuned_summary(summary):
    def text(p) -> str:
        base = summary(p)
        marks = ("frozen" if p.get("frozen") else "") + (
            f" lr×{p['lr_mult']:g}" if p.get("lr_mult", 1.0) != 1.0 and not p.get("frozen") else "")
        return f"{base} · {marks.strip()}" if base and marks else (base or marks.strip())
    return text


def register(spec: LayerSpec) -> LayerSpec:
    if spec.trainable:
        spec = replace(spec, params=spec.params + TUNE_PARAMS, summary=_tuned_summary(spec.summary))
    if spec.type in _REGISTRY:
        raise ValueError(f"layer type {spec.type} declared twice")
    if spec.category not in CATEGORIES:
        raise ValueError(f"unknown category {spec.category}")
    _REGISTRY[spec.type] = spec
    return spec


def registry() -> dict[str, LayerSpec]:
    return _REGISTRY
