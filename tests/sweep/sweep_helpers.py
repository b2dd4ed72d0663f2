"""A tiny spiral project with a sweep section, written in the real project format."""
import json
from pathlib import Path

from studio.project.file import dumps, load

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "spiral_mlp.studio.json"


def spiral_doc(dimensions, *, epochs=2, samples=200, dataset="moons", **sweep) -> dict:
    """The spiral sample's network on the two-moons data (it learns in a few epochs)."""
    doc = json.loads(dumps(load(SAMPLE)))
    doc["data"].update(samples=samples, dataset=dataset)
    doc["training"].update(epochs=epochs, device="cpu")
    doc["sweep"] = {"strategy": "random", "trials": 4, "pruner": "none", **sweep, "dimensions": dimensions}
    return doc


def write_project(folder: Path, dimensions, name="spiral.studio.json", **kw) -> Path:
    path = Path(folder) / name
    path.write_text(json.dumps(spiral_doc(dimensions, **kw), indent=1), encoding="utf-8")
    return path


LR = {"target": "training", "param": "lr", "kind": "float", "low": 1e-3, "high": 0.05, "log": True}
WIDTH = {"node": "linear1", "param": "out_features", "kind": "int", "low": 4, "high": 32, "log": True}
