"""Item 10 (weights and run files): no silent wrong numbers. Weights of a type that would
change their values (int8, uint8, bool, complex) are refused with a message instead of
being cast and "verified"; half/bfloat16/double are converted with a note; a meta.json
with a zero std is refused instead of printing "nan%"."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from studio.graph.compile import compile_graph
from studio.project.file import save
from studio.train.weights import WeightsError, load_weights

from tests.train.helpers import cnn_project, mlp_project

from .kit import assert_one_error_line, cli


def _state(project, dtype):
    state = compile_graph(project.model).state_dict()
    if dtype.is_complex:
        return {k: torch.complex(v, torch.ones_like(v)) for k, v in state.items()}
    return {k: (v * 10).to(dtype) for k, v in state.items()}


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int32, torch.bool, torch.complex64])
def test_value_changing_dtypes_are_refused(tmp_path, capsys, dtype):
    project = mlp_project()
    state = _state(project, dtype)
    model = compile_graph(project.model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError, match="cannot become the network's"):
        load_weights(model, state)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    save_file(state, str(tmp_path / "w.safetensors"))
    path = save(project, tmp_path / "p.studio.json")
    code, out, err = cli(capsys, "export", path, "--weights", tmp_path / "w.safetensors", "--format", "python",
                         "-o", tmp_path / "net")
    assert code == 2 and not any("verified" in line for line in out)
    assert_one_error_line(err, "dtype", str(dtype).removeprefix("torch."))
    assert not (tmp_path / "net.py").exists()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_float_weights_are_converted_with_a_note(dtype):
    project = mlp_project()
    state = _state(project, dtype)
    model = compile_graph(project.model)
    notes = load_weights(model, state)
    assert len(notes) == len(state) and all(f"{dtype} converted to torch.float32" in n for n in notes)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k].float())


def test_cast_rules():
    from studio.train.weights import castable
    assert castable(torch.float16, torch.float32) and castable(torch.int32, torch.int64)
    assert not castable(torch.int64, torch.float32) and not castable(torch.float32, torch.int64)
    assert not castable(torch.complex64, torch.float32) and not castable(torch.bool, torch.float32)


def test_zero_std_in_meta_is_refused_not_nan_percent(tmp_path, capsys):
    project = cnn_project()  # a 3×32×32 image classifier
    path = save(project, tmp_path / "p.studio.json")
    run = tmp_path / "run"
    run.mkdir()
    save_file(compile_graph(project.model).state_dict(), str(run / "best.safetensors"))
    (run / "meta.json").write_text(json.dumps({"format": "studio.run", "classes": [f"c{i}" for i in range(10)],
                                               "normalize": True, "mean": [0.5] * 3, "std": [0.0] * 3}))
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(tmp_path / "x.png")
    code, out, err = cli(capsys, "predict", path, "--weights", run / "best.safetensors", tmp_path / "x.png")
    assert code == 2 and not any("nan" in line for line in out)
    assert_one_error_line(err, "std", "zero")
