"""Export a trained network, and prove each export works before saying so.

Every format is written, read back the way a user would read it, and run on a
random batch; the result is compared with the original model's output.
Networks take images as the user has them and carry their labels (see
export_wrap.py); parity.py then checks them on the validation set.
Functions only (no printing), so the Qt app and the CLI share them.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import sys
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load_file

from studio.fileio import WriteError, check_target, clean_orphans, commit, staged
from studio.graph.codegen import generate
from studio.graph.compile import compile_graph

from studio.train.checkpoint import save_weights, write_atomic
from studio.train.export_files import (MODEL_CLASS, NET_CLASS, TAIL_CONSTANTS, import_export,
                                       predict_onnx_source, python_block)
from studio.train.export_wrap import (EXTRA_FILE, ExportInfo, Preprocess, info_for, metadata,
                                      metadata_json, user_inputs, wrap)
from studio.train.formats import FORMATS, SUFFIXES
from studio.train.run_files import read_meta
from studio.train.weights import load_weights, read_state

TOLERANCE = 1e-4


class ExportError(Exception):
    exit_code = 2


@dataclass
class ExportResult:
    path: str
    verified: bool
    max_abs_diff: float | None
    message: str
    extra_paths: tuple[str, ...] = ()
    info: ExportInfo | None = None   # what the file takes and predicts (also inside it)
    parity: object = None            # parity.Parity, when the caller checked the validation set


def prepared_model(project, weights) -> torch.nn.Module:
    """A CPU float32 eval copy of `weights` (a module, or a weights file, loaded into the project's graph)."""
    if isinstance(weights, torch.nn.Module):
        model = copy.deepcopy(weights).to("cpu", memory_format=torch.contiguous_format)
    else:
        model = compile_graph(project.model)
        load_weights(model, weights)
    return model.float().eval()


WEIGHTS_ONLY = ("safetensors", "pt")  # no graph: they hold the bare network's weights


def export_target(out_path, fmt: str) -> Path:
    """The file `fmt` writes for `out_path` (TARGET_RULES); ExportError if the suffix does not fit."""
    out = Path(out_path)
    name = out.name
    if not name or name in (".", ".."):
        raise ExportError(f"the output {str(out_path)!r} is not a file name: give one, e.g. model{FORMATS[fmt][0]}")
    if any(name.endswith(sfx) and len(name) > len(sfx) for sfx in SUFFIXES[fmt]):
        return out
    suffix = Path(name).suffix
    if suffix in ("", f".{fmt}"):
        return out.with_name(name[: len(name) - len(suffix)] + FORMATS[fmt][0])
    raise ExportError(f"{name}: the suffix {suffix} does not fit --format {fmt} (use "
                      f"{' or '.join(SUFFIXES[fmt])}, e.g. {Path(name).stem}{FORMATS[fmt][0]})")


def export_model(project, weights, fmt: str, out_path, *, meta: dict | None = None,
                 input_mode: str = "float") -> ExportResult:
    """`meta`: the run's meta.json (read beside a weights file when not given).
    `input_mode`: "float" ([0,1] images), "uint8" (0..255) or "raw" (the bare network)."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if meta is None and not isinstance(weights, (torch.nn.Module, dict)):
        meta = read_meta(Path(weights))
    info = info_for(project, meta, "raw" if fmt in WEIGHTS_ONLY else input_mode)
    out = export_target(out_path, fmt)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(out, f"cannot make its folder ({e.strerror or type(e).__name__})", 2) from None
    for target in [out, out.with_suffix(".safetensors")] if fmt == "python" else [out]:
        check_target(target)  # refuse a link, device or folder before the (slow) export
    clean_orphans(out.parent)
    model = wrap(prepared_model(project, weights), info)
    gen = torch.Generator().manual_seed(0)
    inputs = user_inputs(project, info, 2, gen)
    check = user_inputs(project, info, 3, gen)  # another batch size, to catch a batch dimension baked in
    with torch.no_grad():
        expected = model(*check)
    with staged(out) as stage:
        # Written and verified in a private folder; only a verified export replaces anything.
        result = _moved(_WRITERS[fmt](project, model, inputs, check, expected, stage / out.name, info),
                        stage, out.parent)
        if not result.verified:
            result.message += f"; so nothing was written to {out}"
        else:
            for staged_file in sorted(stage.iterdir(), key=lambda p: p.name == out.name):  # the main file last
                commit(staged_file, out.parent / staged_file.name)
    result.info = info
    if info.image and meta is None and info.input != "raw":
        result.message += ("; no meta.json beside the weights, so class names and normalization are "
                           "unknown: the export takes [0,1] images unnormalized")
    return result


def _moved(result: ExportResult, stage: Path, folder: Path) -> ExportResult:
    """The result with paths in the stage folder replaced by the paths they are committed to."""
    def move(text: str) -> str:
        return text.replace(str(stage), str(folder))
    return dataclasses.replace(result, path=move(result.path), message=move(result.message),
                               extra_paths=tuple(move(p) for p in result.extra_paths))


def _meta_text(text: str) -> str:
    """Header text for a weights file: lone surrogates (valid in a project, not in UTF-8) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _diff(expected: torch.Tensor, got) -> float:
    got = torch.as_tensor(got)
    if tuple(got.shape) != tuple(expected.shape):
        return float("inf")
    return float((got.float() - expected.float()).abs().max()) if expected.numel() else 0.0


def _result(path: Path, diff: float, what: str, extra=(), note: str = "") -> ExportResult:
    ok = diff <= TOLERANCE
    verdict = (f"verified: reloaded and matched the model within {diff:.2g}" if ok
               else f"NOT verified: the reloaded model differs by {diff:.3g}")
    return ExportResult(str(path), ok, diff, f"{what} written to {path}; {verdict}{note}", tuple(extra))


def _fresh(project, state) -> torch.nn.Module:
    model = compile_graph(project.model)
    load_weights(model, state)
    return model.eval()


def _safetensors(project, model, inputs, check, expected, out, info):
    save_weights(out, model.state_dict(), {"format": "studio.weights", "project": _meta_text(project.name),
                                           **metadata(info)})
    with torch.no_grad():
        got = _fresh(project, out)(*check)
    return _result(out, _diff(expected, got), FORMATS["safetensors"][1])


def _pt(project, model, inputs, check, expected, out, info):
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, buf)
    write_atomic(out, buf.getvalue())
    with torch.no_grad():
        got = _fresh(project, read_state(out))(*check)
    return _result(out, _diff(expected, got), FORMATS["pt"][1])


def _torchscript(project, model, inputs, check, expected, out, info):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, inputs, check_trace=False)
        buf = io.BytesIO()
        torch.jit.save(traced, buf, _extra_files={EXTRA_FILE: metadata_json(info)})
        write_atomic(out, buf.getvalue())
        loaded = torch.jit.load(str(out), map_location="cpu")
        with torch.no_grad():
            got = loaded(*check)
    return _result(out, _diff(expected, got), FORMATS["torchscript"][1])


def _dynamic_batch(inputs) -> tuple[dict, ...]:
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    return tuple({0: batch} for _ in inputs)


def _export_program(model, inputs):
    """torch.export with a dynamic batch size, or a fixed one if the graph cannot have it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.export.export(model, inputs, dynamic_shapes=_dynamic_batch(inputs)), True
        except Exception:  # noqa: BLE001 - e.g. a Reshape that fixes the batch: fall back to static
            return torch.export.export(model, inputs), False


def _pt2(project, model, inputs, check, expected, out, info):
    program, dynamic = _export_program(model, inputs)
    buf = io.BytesIO()
    torch.export.save(program, buf, extra_files={EXTRA_FILE: metadata_json(info)})
    write_atomic(out, buf.getvalue())
    loaded = torch.export.load(str(out)).module()
    data = check if dynamic else inputs
    with torch.no_grad():
        want = expected if dynamic else model(*inputs)
        got = loaded(*data)
    note = "" if dynamic else " (fixed batch size of 2: the graph did not allow a variable one)"
    return _result(out, _diff(want, got), FORMATS["pt2"][1], note=note)


def _onnx(project, model, inputs, check, expected, out, info):
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch.onnx's dynamo exporter needs it
    except ImportError:
        raise ExportError("ONNX export needs the onnx and onnxscript packages: "
                          "pip install 'studio[onnx]'") from None
    names = [f"input{i}" for i in range(len(inputs))] if len(inputs) > 1 else ["input"]
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, inputs, str(out), dynamo=True, external_data=False,
                          input_names=names, output_names=["output"],
                          dynamic_shapes=_dynamic_batch(inputs), verbose=False)
    proto = onnx.load(str(out))
    onnx.helper.set_model_props(proto, metadata(info))
    write_atomic(out, proto.SerializeToString())
    onnx.checker.check_model(proto, full_check=True)
    extra = ()
    if info.image and expected.dim() == 2:  # an image classifier (not, say, an autoencoder)
        script = out.with_name("predict_onnx.py")
        write_atomic(script, predict_onnx_source(out.name).encode("utf-8"))
        extra = (str(script),)
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        feeds = {i.name: t.numpy() for i, t in zip(session.get_inputs(), check)}
        got = session.run(None, feeds)[0]
        return _result(out, _diff(expected, torch.from_numpy(got)), "ONNX", extra,
                       note=" (run with onnxruntime)")
    got = _onnx_reference(proto, names, check)
    if got is not None:
        return _result(out, _diff(expected, torch.from_numpy(got)), "ONNX", extra,
                       note=" (run with onnx's reference evaluator; onnxruntime is not installed)")
    # Nothing could execute it: check the structure and the declared shapes instead.
    problems = []
    for value, tensor in zip(proto.graph.input, inputs):
        problems += _shape_problems(value, tuple(tensor.shape[1:]), "input")
    problems += _shape_problems(proto.graph.output[0], tuple(expected.shape[1:]), "output")
    ok = not problems
    msg = (f"ONNX written to {out}; checked with onnx.checker and the graph's input/output shapes "
           f"match (onnxruntime is not installed, so outputs were not compared)" if ok
           else f"ONNX written to {out} but its shapes look wrong: {'; '.join(problems)}")
    return ExportResult(str(out), ok, None, msg, extra)


def _onnx_reference(proto, names, check):
    """Outputs from onnx's pure-Python ReferenceEvaluator, or None if it cannot run this graph."""
    try:
        from onnx.reference import ReferenceEvaluator
        return ReferenceEvaluator(proto).run(None, {n: t.numpy() for n, t in zip(names, check)})[0]
    except Exception:  # noqa: BLE001 - an op the reference runtime lacks: fall back to shapes
        return None


def _shape_problems(value, want: tuple[int, ...], what: str) -> list[str]:
    dims = value.type.tensor_type.shape.dim
    got = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    if len(got) != len(want) + 1 or got[1:] != want:
        return [f"{what} {value.name} is {got}, expected (batch, {', '.join(map(str, want))})"]
    return []


def _python(project, model, inputs, check, expected, out, info):
    out = out.with_suffix(".py")
    weights = out.with_suffix(".safetensors")
    net = NET_CLASS if info.wrapped else MODEL_CLASS
    block = python_block(info)
    source = generate(project.model, class_name=net, title=project.name or "Network",
                      weights_name=weights.name, load_class=MODEL_CLASS,
                      reserved=(MODEL_CLASS, NET_CLASS, *TAIL_CONSTANTS)) + block
    write_atomic(out, source.encode("utf-8"))
    bare = model.net if isinstance(model, Preprocess) else model
    save_weights(weights, bare.state_dict(), {"format": "studio.weights", "project": _meta_text(project.name),
                                              **metadata(replace(info, input="raw"))})
    # Import the file as a user would, but only once its structure is proven (import_export).
    name = None
    try:
        module = import_export(out, project.model, info)
        name = module.__name__
        fresh = getattr(module, MODEL_CLASS)()
        fresh.load_state_dict(load_file(str(weights)))
        with torch.no_grad():
            got = fresh.eval()(*check)
    finally:
        sys.modules.pop(name, None)
    return _result(out, _diff(expected, got), FORMATS["python"][1], extra=(str(weights),))


_WRITERS = {"safetensors": _safetensors, "pt": _pt, "torchscript": _torchscript, "pt2": _pt2,
            "onnx": _onnx, "python": _python}
