"""What an exported network takes, and the labels it travels with.

Exports take what a user naturally has: images as float32 RGB NCHW in [0,1]
(torchvision's ToTensor convention), or raw uint8 0..255 with `input="uint8"`;
the run's normalization is applied inside the graph by `Preprocess`. Sequence,
vector and token inputs take what the dataset loader yields (the trainer feeds
those unchanged). `input="raw"` keeps the bare network for people who normalize
themselves.

The class names, the input spec, mean/std and the Studio version travel inside
the file as flat string metadata (`metadata()`), read back by `read_metadata()`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import torch
from torch import nn

INPUT_MODES = ("float", "uint8", "raw")
LOADER = "loader"   # sequence/vector/token networks: what the dataset loader yields
PREFIX = "studio."
EXTRA_FILE = "studio_meta.json"  # TorchScript / pt2 extra file holding metadata() as JSON


class ExportSpecError(Exception):
    exit_code = 2


def studio_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("studio")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class ExportInfo:
    """Everything a user of the exported file needs besides the graph."""
    kind: str                          # image | sequence | vector | tokens
    shape: list[int]                   # one example, without the batch dimension
    input: str = "float"               # float | uint8 | raw for images; "loader" otherwise
    classes: list[str] = field(default_factory=list)
    task: str = "classification"
    mean: list[float] | None = None    # per channel, in 0..1 units (what the run used)
    std: list[float] | None = None
    version: str = field(default_factory=studio_version)

    @property
    def image(self) -> bool:
        return self.kind == "image"

    @property
    def wrapped(self) -> bool:
        """The exported graph normalizes images itself."""
        return self.image and self.input != "raw"

    def spec(self) -> dict:
        """The input spec as a user reads it: dtype, layout, channel order, value range."""
        s = {"kind": self.kind, "shape": ["batch", *self.shape], "mode": self.input}
        if self.image:
            c = self.shape[0]
            s["layout"] = "NCHW"
            s["channels"] = {3: "RGB", 1: "L (grey)"}.get(c, f"{c} channels")
            if self.input == "uint8":
                s.update(dtype="uint8", range=[0, 255], normalized_in_graph=True)
            elif self.input == "float":
                s.update(dtype="float32", range=[0.0, 1.0], normalized_in_graph=True)
            else:
                s.update(dtype="float32", range=None, normalized_in_graph=False,
                         expects="(x / 255 - mean) / std" if self.mean else "x / 255")
        else:
            s["dtype"] = "int64" if self.kind == "tokens" else "float32"
            s["normalized_in_graph"] = False
        return s


def info_for(project, meta: dict | None, input_mode: str = "float") -> ExportInfo:
    """The export info of `project`'s network from a run's meta.json (None: none known)."""
    if input_mode not in INPUT_MODES:
        raise ExportSpecError(f"Unknown input mode {input_mode!r}; choose one of {', '.join(INPUT_MODES)}")
    from studio.graph.compile import example_inputs
    meta = meta or {}
    m = project.model
    inputs = [n for n in m.nodes() if m.type_of(n) == "Input"]
    kind = m.params(inputs[0])["kind"] if len(inputs) == 1 else "tensor"
    shape = list(example_inputs(m, batch=1)[0].shape[1:]) if len(inputs) == 1 else []
    if input_mode == "uint8" and kind != "image":
        raise ExportSpecError(f"--input uint8 is for image networks; this network's Input is {kind}")
    mean = std = None
    if kind == "image" and meta.get("normalize", True) and meta.get("mean") and meta.get("std"):
        mean = [float(v) for v in meta["mean"]]
        std = [float(v) for v in meta["std"]]
    classes = [str(c) for c in meta.get("classes") or []]
    task = str(meta.get("task") or ("classification" if classes else "unknown"))
    return ExportInfo(kind, [int(d) for d in shape], input_mode if kind == "image" else LOADER,
                      classes, task, mean, std)


class Preprocess(nn.Module):
    """Images as the user has them -> what the network was trained on.
    The same affine map as the trainer's batcher: x * scale - shift."""

    def __init__(self, net: nn.Module, mean, std, channels: int, uint8: bool):
        super().__init__()
        self.net = net
        m = torch.tensor(mean if mean else [0.0] * channels, dtype=torch.float32)
        s = torch.tensor(std if std else [1.0] * channels, dtype=torch.float32)
        self.register_buffer("scale", (1.0 / ((255.0 if uint8 else 1.0) * s)).view(1, -1, 1, 1))
        self.register_buffer("shift", (m / s).view(1, -1, 1, 1))

    def forward(self, x):
        return self.net(x.to(torch.float32) * self.scale - self.shift)


def wrap(model: nn.Module, info: ExportInfo) -> nn.Module:
    if not info.wrapped:
        return model
    return Preprocess(model, info.mean, info.std, info.shape[0], info.input == "uint8").eval()


def user_inputs(project, info: ExportInfo, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Random inputs in the exported file's own convention (for the write-time check)."""
    from studio.graph.compile import example_inputs
    if info.wrapped:
        shape = (batch, *info.shape)
        if info.input == "uint8":
            return (torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen),)
        return (torch.rand(shape, generator=gen),)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        return example_inputs(project.model, batch=batch)


def from_user_images(x_uint8: torch.Tensor, info: ExportInfo) -> torch.Tensor:
    """uint8 N×C×H×W images in the convention the exported file takes."""
    if info.input == "uint8":
        return x_uint8
    x = x_uint8.float().div_(255.0)
    if info.input == "raw" and info.mean:
        mean = torch.tensor(info.mean).view(1, -1, 1, 1)
        std = torch.tensor(info.std).view(1, -1, 1, 1)
        x = (x - mean) / std
    return x


# -- metadata ------------------------------------------------------------------------
def metadata(info: ExportInfo) -> dict[str, str]:
    """Flat string pairs (what ONNX metadata_props and safetensors headers hold)."""
    return {
        PREFIX + "format": "studio.export",
        PREFIX + "version": info.version,
        PREFIX + "classes": json.dumps(info.classes),
        PREFIX + "task": info.task,
        PREFIX + "input": json.dumps(info.spec()),
        PREFIX + "mean": json.dumps(info.mean),
        PREFIX + "std": json.dumps(info.std),
    }


def read_metadata(props: dict[str, str]) -> ExportInfo:
    """The ExportInfo stored by metadata(); ExportSpecError when there is none or it is damaged."""
    if props.get(PREFIX + "format") != "studio.export":
        raise ExportSpecError("The file carries no Studio export metadata (was it exported by Studio?)")
    try:
        spec = json.loads(props[PREFIX + "input"])
        classes = json.loads(props.get(PREFIX + "classes", "[]"))
        mean = json.loads(props.get(PREFIX + "mean", "null"))
        std = json.loads(props.get(PREFIX + "std", "null"))
        info = ExportInfo(str(spec["kind"]), [int(d) for d in spec["shape"][1:]], str(spec.get("mode", "float")),
                          [str(c) for c in classes], str(props.get(PREFIX + "task", "")),
                          [float(v) for v in mean] if mean else None, [float(v) for v in std] if std else None,
                          str(props.get(PREFIX + "version", "unknown")))
    except (KeyError, TypeError, ValueError) as e:
        raise ExportSpecError(f"The file's Studio metadata is damaged ({e})") from None
    if info.input not in INPUT_MODES + (LOADER,):
        raise ExportSpecError(f"The file's Studio metadata names an unknown input mode {info.input!r}")
    return info


def metadata_json(info: ExportInfo) -> str:
    return json.dumps(metadata(info), indent=1)


def read_metadata_json(text: str | bytes) -> ExportInfo:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ExportSpecError(f"The file's Studio metadata is not JSON ({e})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise ExportSpecError("The file's Studio metadata is not a table of strings")
    return read_metadata(doc)
