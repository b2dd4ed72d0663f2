"""Export a trained network, and prove each export works before saying so.

Every format is written, read back the way a user would read it, and run on a
random batch; the result is compared with the original model's output.
Functions only (no printing), so the Qt app and the CLI share them.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import sys
import types
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from studio.fileio import WriteError, check_target, clean_orphans, commit, staged
from studio.graph.codegen import check_source, generate
from studio.graph.compile import compile_graph, example_inputs

from studio.train.checkpoint import save_weights, write_atomic
from studio.train.formats import FORMATS, SUFFIXES
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


def prepared_model(project, weights) -> torch.nn.Module:
    """A CPU float32 eval copy of `weights` (a module, or a weights file, loaded into the project's graph)."""
    if isinstance(weights, torch.nn.Module):
        model = copy.deepcopy(weights).to("cpu", memory_format=torch.contiguous_format)
    else:
        model = compile_graph(project.model)
        load_weights(model, weights)
    return model.float().eval()


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


def _targets(out: Path, fmt: str) -> list[Path]:
    return [out, out.with_suffix(".safetensors")] if fmt == "python" else [out]


def export_model(project, weights, fmt: str, out_path) -> ExportResult:
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = export_target(out_path, fmt)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(out, f"cannot make its folder ({e.strerror or type(e).__name__})", 2) from None
    targets = _targets(out, fmt)
    for target in targets:  # refuse a link, device or folder before the (slow) export
        check_target(target)
    clean_orphans(out.parent)
    model = prepared_model(project, weights)
    gen = torch.Generator().manual_seed(0)
    inputs = _inputs(project, 2, gen)
    check = _inputs(project, 3, gen)  # another batch size, to catch a batch dimension baked in
    with torch.no_grad():
        expected = model(*check)
    with staged(out) as stage:
        # Written and verified in a private folder; only a verified export replaces the targets.
        result = _WRITERS[fmt](project, model, inputs, check, expected, stage / out.name)
        result = _moved(result, stage, out.parent)
        if not result.verified:
            return dataclasses.replace(result, message=f"{result.message}; so {out} was not written")
        for target in targets:
            commit(stage / target.name, target)
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


def _inputs(project, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        return example_inputs(project.model, batch=batch)


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


def _safetensors(project, model, inputs, check, expected, out):
    save_weights(out, model.state_dict(), {"format": "studio.weights", "project": _meta_text(project.name)})
    with torch.no_grad():
        got = _fresh(project, out)(*check)
    return _result(out, _diff(expected, got), FORMATS["safetensors"][1])


def _pt(project, model, inputs, check, expected, out):
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, buf)
    write_atomic(out, buf.getvalue())
    with torch.no_grad():
        got = _fresh(project, read_state(out))(*check)
    return _result(out, _diff(expected, got), FORMATS["pt"][1])


def _torchscript(project, model, inputs, check, expected, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, inputs, check_trace=False)
        buf = io.BytesIO()
        torch.jit.save(traced, buf)
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


def _pt2(project, model, inputs, check, expected, out):
    program, dynamic = _export_program(model, inputs)
    buf = io.BytesIO()
    torch.export.save(program, buf)
    write_atomic(out, buf.getvalue())
    loaded = torch.export.load(str(out)).module()
    data = check if dynamic else inputs
    with torch.no_grad():
        want = expected if dynamic else model(*inputs)
        got = loaded(*data)
    note = "" if dynamic else " (fixed batch size of 2: the graph did not allow a variable one)"
    return _result(out, _diff(want, got), FORMATS["pt2"][1], note=note)


def _onnx(project, model, inputs, check, expected, out):
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
    onnx.checker.check_model(proto, full_check=True)
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        feeds = {i.name: t.numpy() for i, t in zip(session.get_inputs(), check)}
        got = session.run(None, feeds)[0]
        return _result(out, _diff(expected, torch.from_numpy(got)), "ONNX", note=" (run with onnxruntime)")
    got = _onnx_reference(proto, names, check)
    if got is not None:
        return _result(out, _diff(expected, torch.from_numpy(got)), "ONNX",
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
    return ExportResult(str(out), ok, None, msg)


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


def _python(project, model, inputs, check, expected, out):
    out = out.with_suffix(".py")
    weights = out.with_suffix(".safetensors")
    source = generate(project.model, title=project.name or "Network", weights_name=weights.name)
    write_atomic(out, source.encode("utf-8"))
    save_weights(weights, model.state_dict(), {"format": "studio.weights", "project": _meta_text(project.name)})
    # Run the bytes on disk the way a user would import them, but only once their structure is
    # proven (check_source): every text from the project is a literal, so nothing in it can run.
    written = out.read_bytes()
    check_source(written.decode("utf-8"), project.model)
    code = compile(written, str(out), "exec", dont_inherit=True)
    name = f"studio_export_{uuid.uuid4().hex}"
    module = types.ModuleType(name)
    module.__file__ = str(out)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - structure proven by check_source above
        fresh = module.StudioModel()
        fresh.load_state_dict(load_file(str(weights)))
        with torch.no_grad():
            got = fresh.eval()(*check)
    finally:
        sys.modules.pop(name, None)
    return _result(out, _diff(expected, got), FORMATS["python"][1], extra=(str(weights),))


_WRITERS = {"safetensors": _safetensors, "pt": _pt, "torchscript": _torchscript, "pt2": _pt2,
            "onnx": _onnx, "python": _python}
