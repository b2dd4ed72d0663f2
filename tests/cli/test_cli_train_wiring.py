"""A graph with broken wiring fails before any dataset is loaded."""
import json
from pathlib import Path

from studio.cli.main import main

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "spiral_mlp.studio.json"


def test_broken_wiring_fails_before_the_dataset_loads(tmp_path, capsys, monkeypatch):
    doc = json.loads(SAMPLE.read_text())
    doc["graph"]["edges"] = doc["graph"]["edges"][:-1]  # Output loses its wire
    doc["data"].update(dataset="cifar10", root=str(tmp_path / "nowhere"))
    path = tmp_path / "broken.studio.json"
    path.write_text(json.dumps(doc))

    def no_load(*a, **k):
        raise AssertionError("the dataset was loaded before the graph was checked")

    monkeypatch.setattr("studio.data.load.load_dataset", no_load)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Output has no input wire" in err and "\n" not in err.strip()
