"""A weights file must never run code: a pickle payload planted in a .pt file
(and in a CIFAR batch) does nothing through any path that loads weights, and
the user gets one clear sentence. Weights that do not fit give a per-tensor
report and leave the model untouched."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from studio.cli.main import main as cli
from studio.project import file as projects
from studio.graph.compile import compile_graph
from studio.train.checkpoint import save_weights
from studio.train.weights import WeightsError, load_weights, read_state

from .conftest import SAMPLES

MLP = SAMPLES / "spiral_mlp.studio.json"
CNN = SAMPLES / "shapes_cnn.studio.json"


class Payload:
    """Unpickling this would create the marker file (and could run anything)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def evil(tmp_path):
    """Payloads in every pickle container torch.load accepts, plus the marker they would make."""
    marker = tmp_path / "PWNED"
    zip_pt = tmp_path / "evil.pt"
    torch.save({"linear1.weight": torch.zeros(2, 2), "x": Payload(marker)}, zip_pt)
    legacy = tmp_path / "evil_legacy.pth"
    with legacy.open("wb") as f:
        pickle.dump({"state_dict": Payload(marker)}, f, protocol=2)
    disguised = tmp_path / "evil.safetensors"        # a pickle wearing a safetensors name
    disguised.write_bytes(zip_pt.read_bytes())
    return marker, [zip_pt, legacy, disguised]


def test_the_weights_loader_refuses_payloads(evil):
    marker, files = evil
    model = compile_graph(projects.load(MLP).model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for path in files:
        with pytest.raises(WeightsError) as e:
            load_weights(model, path)
        assert path.name in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(WeightsError):
            read_state(path)
    assert not marker.exists()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("command", ["export", "predict"])
def test_export_and_predict_refuse_payloads(evil, tmp_path, capsys, command):
    marker, files = evil
    image = tmp_path / "x.png"
    from PIL import Image
    Image.new("RGB", (8, 8)).save(image)
    for path in files:
        out = tmp_path / "out.safetensors"
        argv = (["export", str(MLP), "--weights", str(path), "--format", "safetensors", "-o", str(out)]
                if command == "export" else ["predict", str(CNN), "--weights", str(path), str(image)])
        assert cli(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("studio: error: ") and "\n" not in err and "Traceback" not in err
        assert path.name in err and ("not loaded" in err or "not a readable weights file" in err)
        assert not out.exists()
    assert not marker.exists()


def test_a_cifar_batch_with_a_payload_is_refused(tmp_path):
    """CIFAR-10 batches are pickles too; the dataset loader must not run them."""
    from studio.data.cifar import safe_load
    from studio.data.dataset import DataError
    marker = tmp_path / "PWNED"
    batch = tmp_path / "data_batch_1"
    with batch.open("wb") as f:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": Payload(marker)}, f)
    with pytest.raises(DataError):
        safe_load(batch)
    assert not marker.exists()


def test_weights_that_do_not_fit_get_a_per_tensor_report_and_nothing_is_loaded(tmp_path):
    model = compile_graph(projects.load(MLP).model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = {k: v.clone() for k, v in state.items()}
    keys = list(state)
    missing, wrong = keys[0], keys[1]
    del state[missing]
    state[wrong] = torch.ones(*[d + 1 for d in state[wrong].shape])
    state["extra.weight"] = torch.ones(3)
    for k in keys[2:]:
        state[k] = torch.full_like(state[k], 7.0)  # would change the model if half-loaded
    path = tmp_path / "other.safetensors"
    save_weights(path, state)
    with pytest.raises(WeightsError) as e:
        load_weights(model, path)
    report = "\n".join(e.value.report)
    assert len(e.value.report) == 3
    assert f"missing: {missing}" in report
    assert f"shape: {wrong} is" in report and "in the file but" in report
    assert "unexpected: extra.weight (3)" in report
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
