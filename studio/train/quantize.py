"""int8 ONNX exports through onnxruntime's quantization, measured, not assumed.

Networks with convolutions get static quantization (QDQ, per-channel weights)
calibrated on training examples, fed in the export's own input convention;
others (Linear, LSTM) get dynamic quantization, which needs no calibration.
The report gives file sizes, latency at batch 1 and 32 on this CPU, and
accuracy against the fp32 export on the validation set; losing more than
`MAX_DROP` points of accuracy is flagged.
"""
from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.train.checkpoint import write_atomic
from studio.train.export_wrap import ExportInfo, from_user_images, metadata

MAX_DROP = 1.0          # accuracy points
CALIBRATION = 256       # training examples for static calibration


class QuantizeError(Exception):
    exit_code = 2


@dataclass
class QuantReport:
    fp32_file: str
    int8_file: str
    method: str                     # "static (QDQ, per-channel)" | "dynamic"
    fp32_bytes: int
    int8_bytes: int
    threads: int
    latency_ms: dict                # {"fp32": {"1": ms, "32": ms}, "int8": {...}}
    fp32_accuracy: float | None
    int8_accuracy: float | None
    top1_agreement: float | None
    examples: int

    @property
    def drop_points(self) -> float | None:
        if self.fp32_accuracy is None or self.int8_accuracy is None:
            return None
        return (self.fp32_accuracy - self.int8_accuracy) * 100

    @property
    def too_lossy(self) -> bool:
        return self.drop_points is not None and self.drop_points > MAX_DROP

    def table(self) -> str:
        lat = self.latency_ms

        def acc(v):
            return "n/a" if v is None else f"{v * 100:.2f}%"
        rows = [("", "fp32", "int8"),
                ("size", f"{self.fp32_bytes / 1024:.1f} KiB", f"{self.int8_bytes / 1024:.1f} KiB"),
                ("latency batch 1", f"{lat['fp32']['1']:.3f} ms", f"{lat['int8']['1']:.3f} ms"),
                ("latency batch 32", f"{lat['fp32']['32']:.3f} ms", f"{lat['int8']['32']:.3f} ms"),
                (f"val accuracy ({self.examples})", acc(self.fp32_accuracy), acc(self.int8_accuracy))]
        width = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, width)).rstrip() for r in rows]
        lines.append(f"int8 method: {self.method}; latency: median, onnxruntime CPU, {self.threads} thread(s)")
        if self.top1_agreement is not None:
            lines.append(f"int8 agrees with fp32 on top-1 for {self.top1_agreement * 100:.2f}% of examples")
        if self.too_lossy:
            lines.append(f"WARNING: the int8 model loses {self.drop_points:.2f} points of accuracy "
                         f"(more than {MAX_DROP:g}): prefer the fp32 export")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"file": self.int8_file, "fp32_file": self.fp32_file, "method": self.method,
                "fp32_bytes": self.fp32_bytes, "int8_bytes": self.int8_bytes, "threads": self.threads,
                "latency_ms": self.latency_ms, "fp32_accuracy": self.fp32_accuracy,
                "int8_accuracy": self.int8_accuracy, "top1_agreement": self.top1_agreement,
                "examples": self.examples, "drop_points": self.drop_points, "too_lossy": self.too_lossy}


def int8_path(fp32_path) -> Path:
    p = Path(fp32_path)
    return p.with_name(p.name[: -len(p.suffix)] + ".int8" + p.suffix)


def _user(x: torch.Tensor, info: ExportInfo) -> np.ndarray:
    return (from_user_images(x, info) if info.image else x).numpy()


class _Calibration:
    """onnxruntime's CalibrationDataReader protocol over training examples."""

    def __init__(self, name: str, x: torch.Tensor, info: ExportInfo, batch: int = 32):
        self.batches = iter([{name: _user(x[i:i + batch], info)} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self.batches, None)


def _has_conv(path) -> bool:
    import onnx
    return any(n.op_type.startswith("Conv") for n in onnx.load(str(path)).graph.node)


def quantize_onnx(fp32_path, dataset, info: ExportInfo, out_path=None, threads: int = 1,
                  repeats: int = 50) -> QuantReport:
    """Write the int8 model beside `fp32_path` (or at `out_path`) and measure both."""
    try:
        import onnx
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        raise QuantizeError("int8 export needs onnxruntime: pip install 'studio[onnx]'") from None
    out = Path(out_path) if out_path else int8_path(fp32_path)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        pre = Path(tmp) / "pre.onnx"
        q = Path(tmp) / "q.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        name = onnx.load(str(pre)).graph.input[0].name
        if _has_conv(pre):
            method = "static (QDQ, per-channel weights, MinMax calibration on training data)"
            gen = torch.Generator().manual_seed(0)
            pick = torch.randperm(len(dataset.x_train), generator=gen)[:CALIBRATION]
            quantize_static(str(pre), str(q), _Calibration(name, dataset.x_train.index_select(0, pick), info),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        else:
            method = "dynamic (int8 weights; Linear/MatMul/LSTM)"
            quantize_dynamic(str(pre), str(q), weight_type=QuantType.QInt8)
        proto = onnx.load(str(q))
    props = dict(metadata(info), **{"studio.quantized": method})
    onnx.helper.set_model_props(proto, props)
    write_atomic(out, proto.SerializeToString())
    return measure(fp32_path, out, dataset, info, method, threads, repeats)


def _session(path, threads: int):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return s, s.get_inputs()[0].name


def _latency(session, name, x: np.ndarray, repeats: int) -> float:
    feed = {name: x}
    session.run(None, feed)  # warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _predict(session, name, x: torch.Tensor, info: ExportInfo, batch: int = 256) -> np.ndarray:
    outs = [session.run(None, {name: _user(x[i:i + batch], info)})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs) if outs else np.zeros((0,))


def measure(fp32_path, int8_file, dataset, info: ExportInfo, method: str, threads: int = 1,
            repeats: int = 50) -> QuantReport:
    sessions = {k: _session(p, threads) for k, p in (("fp32", fp32_path), ("int8", int8_file))}
    src = dataset.x_val if len(dataset.x_val) else dataset.x_train
    sample = torch.cat([src] * (32 // max(1, len(src)) + 1))[:32]
    latency = {k: {str(b): round(_latency(s, n, _user(sample[:b], info), repeats if b == 1 else
                                          max(5, repeats // 2)), 4) for b in (1, 32)}
               for k, (s, n) in sessions.items()}
    acc = {"fp32": None, "int8": None}
    agree = None
    n = len(dataset.x_val)
    if dataset.task == "classification" and n:
        preds = {k: _predict(s, nm, dataset.x_val, info).argmax(1) for k, (s, nm) in sessions.items()}
        y = dataset.y_val.numpy()
        acc = {k: float((p == y).mean()) for k, p in preds.items()}
        agree = float((preds["fp32"] == preds["int8"]).mean())
    return QuantReport(str(fp32_path), str(int8_file), method, Path(fp32_path).stat().st_size,
                       Path(int8_file).stat().st_size, threads, latency, acc["fp32"], acc["int8"], agree, n)
