"""ONNX files as torch modules through onnx2torch (the optional `onnx` extra).
Converting reads the graph and its weights; it runs no code from the file."""
from __future__ import annotations

from pathlib import Path

from torch import nn


def convert(path: Path) -> nn.Module:
    from studio.graph.opaque import OpaqueUnavailable
    try:
        import onnx
        from onnx2torch import convert as onnx_to_torch
    except ImportError:
        raise OpaqueUnavailable("importing ONNX needs the optional extra: pip install 'studio[onnx]'") from None
    if not path.is_file():
        raise OpaqueUnavailable(f"No ONNX file at {path}")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - protobuf's errors are many and unhelpful
        raise OpaqueUnavailable(f"{path} is not an ONNX model ({type(e).__name__})") from None
    try:
        return onnx_to_torch(model)
    except Exception as e:  # noqa: BLE001
        raise OpaqueUnavailable(f"onnx2torch cannot convert {path.name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
