"""The opaque module: an imported submodule that no catalogue layer describes.

It keeps a reference to the module (see studio.graph.opaque), the shapes and
weight count it had when imported, and nothing executable. With the recorded
input shape it needs no code at all; for another input shape it rebuilds the
module and runs it on meta tensors (no memory, no compute) to learn its output.
"""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register


def _infer(p, ins) -> Shape:
    (x,) = ins
    if tuple(x.dims) == tuple(p["in_dims"]):
        return Shape(tuple(p["out_dims"]), seq=p["out_seq"])
    import torch

    from studio.graph.opaque import OpaqueUnavailable, submodule
    try:
        mod = submodule(p["source"], p["kwargs"], p["path"])
    except OpaqueUnavailable as e:
        raise ShapeError(f"{p['module_type']} was imported for input {'×'.join(map(str, p['in_dims']))}; "
                         f"to learn its shape for {x.full()} Studio must rebuild it, but {e}") from None
    dtype = torch.long if x.dtype == "long" else torch.float32
    try:
        meta = torch.empty((2, *x.dims), dtype=dtype, device="meta")
        with torch.no_grad():
            y = _on_meta(mod)(meta)
    except Exception as e:  # noqa: BLE001 - the module's own complaint about the shape
        raise ShapeError(f"{p['module_type']} does not accept {x.full()}: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not isinstance(y, torch.Tensor) or y.dim() < 2:
        raise ShapeError(f"{p['module_type']} gives no per-example tensor for {x.full()}")
    return Shape(tuple(y.shape[1:]), seq=p["out_seq"])


def _on_meta(mod):
    """A meta-device copy of `mod`, cached on it (the copy holds no memory)."""
    cached = getattr(mod, "_studio_meta_copy", None)
    if cached is None:
        import copy
        cached = copy.deepcopy(mod).to("meta")
        object.__setattr__(mod, "_studio_meta_copy", cached)  # not a registered submodule
    return cached


def _summary(p) -> str:
    return f"{p['module_type']} · {p['weights']:,} w"


OPAQUE = register(LayerSpec(
    type="Opaque", trainable=True, category="Imported", title="Opaque module",
    description=("A module from an imported model that Studio has no layer for. It keeps the "
                 "module's weights and runs it as it is; its inside cannot be edited here."),
    params=(
        # references recorded by the import: shown, not edited
        Param("module_type", "text", "Module", "The torch class of the module", editable=False),
        Param("source", "text", "", "Its origin: torchvision:<model>, file:<x.py>:<Class> "
                                    "or onnx:<x.onnx>", editable=False),
        Param("kwargs", "text", "{}", "Keyword arguments the model was built with (JSON)", editable=False),
        Param("path", "text", "", "The module's place inside that model", editable=False),
        Param("in_dims", "ints", (1,), "Input shape it was imported with (batch excluded)", 1, 10 ** 9),
        Param("out_dims", "ints", (1,), "Output shape for that input (batch excluded)", 1, 10 ** 9),
        Param("out_seq", "bool", False, "The output is a sequence (T×F)"),
        Param("weights", "int", 0, "Number of weights it holds", 0, 10 ** 12),
    ),
    inputs=(Port("in"),), outputs=(Port("out"),), infer=_infer,
    ctor=lambda p, ins: Ctor("opaque.module", dict(source=p["source"], kwargs=p["kwargs"], path=p["path"])),
    summary=_summary, weights=lambda p, i, o: p["weights"], icon="shape", palette=False,
))
