"""A sweep can search the Transformer sample's attention settings; a head count that does
not divide the features makes that one trial's network invalid, with the layer's own reason."""
import json
from pathlib import Path

from studio.graph.validate import validate
from studio.project.file import dumps, load, loads
from studio.sweep.trial import trial_project

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "waves_transformer.studio.json"
HEADS = {"node": "transformerencoder1", "param": "nhead", "kind": "choice", "choices": [2, 3, 4]}
ACT = {"node": "transformerencoder1", "param": "activation", "kind": "choice", "choices": ["relu", "gelu"]}
POS = {"node": "positionalencoding1", "param": "kind", "kind": "choice", "choices": ["learned", "sinusoidal"]}


def test_attention_params_are_searchable_and_a_bad_head_count_is_explained():
    doc = json.loads(dumps(load(SAMPLE)))
    doc["sweep"] = {"strategy": "grid", "trials": 12, "pruner": "none", "dimensions": [HEADS, ACT, POS]}
    project = loads(json.dumps(doc))
    assert [d.key for d in project.sweep.dimensions] == [
        "transformerencoder1.nhead", "transformerencoder1.activation", "positionalencoding1.kind"]
    good = trial_project(project, project.sweep, {"transformerencoder1.nhead": 4, "transformerencoder1.activation":
                                                  "gelu", "positionalencoding1.kind": "sinusoidal"}, 0)
    assert validate(good.model) == [] and good.model.shapes.totals()[0] < project.model.shapes.totals()[0]
    bad = trial_project(project, project.sweep, {"transformerencoder1.nhead": 3, "transformerencoder1.activation":
                                                 "relu", "positionalencoding1.kind": "learned"}, 1)
    (problem,) = validate(bad.model)
    assert "3 heads" in str(problem) and "1, 2, 4, 8, 16" in str(problem)
