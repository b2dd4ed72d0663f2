"""Trace a torch module with torch.fx, catalogue layers and chosen submodules as
leaves, and record every node's shape by running the trace on example inputs
(meta tensors for a model without real weights)."""
from __future__ import annotations

import operator
import traceback
from pathlib import Path

import torch
from torch import fx, nn

from studio.importer.layer_scale import scales_as_calls
from studio.importer.mapping import LEAF_FUNCTIONS, channel_chunk, leaf_types, studio_helper
from studio.importer.sizes import RecordingShapeProp, fold_sizes
from studio.importer.vit import patches_as_calls, tokens_as_calls


class ImportFailed(ValueError):
    """The model cannot be imported; one line that says why and what to do."""
    exit_code = 2


class _Tracer(fx.Tracer):
    def __init__(self, opaque: set[str]):
        super().__init__(autowrap_functions=tuple(LEAF_FUNCTIONS))
        self.opaque = opaque
        self.stack: list[str] = []
        self.failed_in: str | None = None

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if qualname in self.opaque or isinstance(m, leaf_types()) or studio_helper(m):
            return True
        return super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        path = self.path_of_module(m)
        self.stack.append(path)
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:
            if self.failed_in is None:
                self.failed_in = path
            raise
        finally:
            self.stack.pop()


def _where(exc: BaseException) -> str:
    """The last line of the model's own code in the traceback (not torch's)."""
    torch_dir = str(Path(torch.__file__).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(torch_dir) and "/studio/importer/" not in f.filename]
    if not frames:
        return "in the model"
    f = frames[-1]
    return f"at {Path(f.filename).name}:{f.lineno} in {f.name}()"


def trace(model: nn.Module, opaque: set[str]) -> fx.GraphModule:
    tracer = _Tracer(opaque)
    try:
        graph = tracer.trace(model)
    except Exception as e:  # noqa: BLE001 - fx raises many kinds; all mean "cannot trace"
        where = tracer.failed_in
        module = (f" (module {where!r}, {type(model.get_submodule(where)).__name__})" if where else "")
        hint = f"; keep it opaque with --opaque {where}" if where else ""
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ImportFailed(f"torch.fx stopped {_where(e)}{module}: {msg}{hint}") from None
    _chunks_as_calls(graph)
    scales_as_calls(graph, model)
    tokens_as_calls(graph, model)
    gm = fx.GraphModule(model, graph)
    gm.graph.eliminate_dead_code()
    return gm


def _chunks_as_calls(graph: fx.Graph) -> None:
    """`a, b = x.chunk(n, dim=1)`: fx records the chunk (a tuple, no layer) and an indexing per
    part. When the parts are only indexed, each indexing becomes channel_chunk(x, n, i)."""
    for n in list(graph.nodes):
        is_chunk = (n.op == "call_method" and n.target == "chunk") or (
            n.op == "call_function" and n.target is torch.chunk)
        if not is_chunk or not n.users:
            continue
        args = dict(zip(("x", "chunks", "dim"), n.args)) | dict(n.kwargs)
        x, chunks, dim = args.get("x", args.get("input")), args.get("chunks"), args.get("dim", 0)
        if not (isinstance(x, fx.Node) and type(chunks) is int and chunks > 0 and dim in (1, -3)
                and set(args) <= {"x", "input", "chunks", "dim"}):
            continue
        users = list(n.users)
        if not all(u.op == "call_function" and u.target is operator.getitem and not u.kwargs
                   and type(u.args[1]) is int for u in users):
            continue
        for u in users:
            with graph.inserting_before(u):
                part = graph.call_function(channel_chunk, (x, chunks, u.args[1]))
            part.meta = dict(u.meta)
            u.replace_all_uses_with(part)
            graph.erase_node(u)
        graph.erase_node(n)


def propagate(gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> None:
    """Store node.meta['tensor_meta'] (shape, dtype) for every node; then the sizes the model
    reads from its tensors become constants (sizes.py) and patchifying one call."""
    try:
        with torch.no_grad():
            RecordingShapeProp(gm).propagate(*inputs)
    except Exception as e:  # noqa: BLE001 - the model's own complaint about the input
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ImportFailed(f"the model does not run on inputs of shape "
                           f"{', '.join('×'.join(map(str, x.shape[1:])) for x in inputs)}: {msg} "
                           f"(set the input shape with --input)") from None
    fold_sizes(gm)
    patches_as_calls(gm.graph)
    gm.graph.eliminate_dead_code()
    gm.recompile()
