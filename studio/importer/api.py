"""`import_model`: a model spec in, a Studio project and its weights out."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.graph import opaque
from studio.graph.blocks import walk
from studio.importer.convert import Converted, convert
from studio.importer.sources import Source, load_weights_into, open_source
from studio.importer.trace import ImportFailed
from studio.project.file import Project, save

INPUT_KINDS = ("image", "sequence", "vector", "tokens")


@dataclass
class ImportResult:
    project: Project
    state: dict[str, torch.Tensor]
    source: Source
    converted: Converted
    inputs: tuple[torch.Tensor, ...] = field(default=())

    @property
    def weights(self) -> int:
        return self.project.model.shapes.totals()[0]

    @property
    def opaque(self) -> dict[str, str]:
        return self.converted.opaque

    def locate(self, torch_path: str):
        """(graph, node id) of the node that a torch submodule path became; the graph is a
        block's body for a layer inside a block (every copy of a repeated block gives its one
        node). None when the path is not a node (a weightless module fx folded away)."""
        dotted = self.converted.node_of.get(torch_path)
        if dotted is None:
            return None
        g, parts = self.project.model, dotted.split(".")
        while parts:
            nid = parts.pop(0)
            if nid not in g.g:
                return None
            if not parts:
                return g, nid
            if g.params(nid)["repeat"] > 1:
                parts.pop(0)  # the copy's index
            g = g.body(nid)
        return None

    @property
    def layers(self) -> int:
        """Layers at every level, blocks' insides ×repeat included (not the blocks nor the ends)."""
        def count(g) -> int:
            return sum(g.params(n)["repeat"] * count(g.body(n)) if g.type_of(n) == "Block" else
                       g.type_of(n) not in ("Input", "Output", "BlockInput", "BlockOutput") for n in g.nodes())
        return count(self.project.model)

    def summary(self) -> str:
        m = self.project.model
        kept = f", {len(self.opaque)} opaque" if self.opaque else ""
        blocks = sum(1 for g, nid, _ in walk(m) if g.type_of(nid) == "Block")
        shape = (f" in {blocks} blocks, {len(m)} nodes at the top" if blocks else "")
        flat = self.converted.flat
        left = (f"; {len(flat)} submodule{'s' if len(flat) != 1 else ''} kept flat (not one tensor in, "
                "one tensor out)" if flat else "")
        return f"{self.source.name}: {self.layers} layers{shape}{kept}, {self.weights:,} weights{left}"


def parse_input(text: str, vocab: int | None = None) -> tuple[tuple[int, ...], torch.dtype, int | None]:
    """'image:3,224,224', 'sequence:T,F', 'vector:F' or 'tokens:T[,VOCAB]' -> (dims, dtype, vocab)."""
    kind, _, rest = text.partition(":")
    try:
        dims = tuple(int(d) for d in rest.replace("x", ",").split(",") if d.strip())
    except ValueError:
        dims = ()
    want = {"image": 3, "sequence": 2, "vector": 1, "tokens": 1}.get(kind)
    if kind == "tokens" and len(dims) == 2:
        dims, vocab = dims[:1], dims[1]
    if want is None or len(dims) != want or any(d < 1 for d in dims):
        raise ImportFailed(f"--input {text!r} must be image:C,H,W, sequence:T,F, vector:F or tokens:T,VOCAB")
    return dims, (torch.long if kind == "tokens" else torch.float32), vocab


def example_inputs(text: str, batch: int = 2, meta: bool = False, vocab: int | None = None):
    dims, dtype, vocab = parse_input(text, vocab)
    device = "meta" if meta else "cpu"
    if dtype == torch.long:
        high = vocab or 2
        x = torch.zeros((batch, *dims), dtype=dtype, device=device) if meta else \
            torch.randint(0, high, (batch, *dims))
        return (x,), vocab
    return (torch.randn((batch, *dims), device=device),), vocab


def import_model(spec: str, *, input: str | None = None, kwargs: dict | None = None,
                 num_classes: int | None = None, weights: str | Path | None = None,
                 pretrained: bool = False, opaque_paths=(), meta: bool = False,
                 vocab: int | None = None, flat: bool = False) -> ImportResult:
    """Import `spec` (see sources.open_source). `meta` builds without weights (shapes
    and counts only, for the coverage table). `flat` keeps one flat graph instead of
    a block per submodule."""
    if weights and pretrained:
        raise ImportFailed("use --weights or --pretrained, not both")
    src = open_source(spec, kwargs, num_classes, pretrained, meta)
    if weights:
        load_weights_into(src.module, weights)
    for p in opaque_paths:
        try:
            src.module.get_submodule(p)
        except AttributeError:
            raise ImportFailed(f"--opaque {p}: the model has no submodule {p!r}") from None
    inputs, vocab = example_inputs(input or src.input or "image:3,224,224", meta=meta, vocab=vocab)
    opaque.remember(src.ref, src.kwargs, src.module)
    conv = convert(src.module, inputs, src.ref, src.kwargs, set(opaque_paths), vocab, blocks=not flat)
    project = Project(model=conv.model, name=src.name,
                      description=f"Imported from {src.ref}" + (f" with {src.kwargs}" if src.kwargs != "{}" else ""))
    return ImportResult(project, conv.state, src, conv, inputs)


def compiled_with_weights(result: ImportResult):
    """The compiled Studio network holding the imported weights."""
    from studio.graph.compile import compile_graph
    gm = compile_graph(result.project.model)
    gm.load_state_dict(result.state, strict=True)
    return gm.eval()


def weights_path(project_path: str | Path) -> Path:
    p = Path(project_path)
    stem = p.name[: -len(".studio.json")] if p.name.endswith(".studio.json") else p.stem
    return p.with_name(f"{stem}.weights.safetensors")


def write(result: ImportResult, project_path: str | Path) -> tuple[Path, Path | None]:
    """Save the project and, when the model had real weights, the weights beside it."""
    from safetensors.torch import save_file
    if not result.state:
        return save(result.project, project_path), None
    wpath = weights_path(project_path)
    save_file({k: v.detach().contiguous().clone() for k, v in result.state.items()}, str(wpath))
    result.project.train.init_weights = wpath.name  # `studio train` starts from the imported weights
    return save(result.project, project_path), wpath
