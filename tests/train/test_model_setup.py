"""The trainer's fit checks between the drawn network and the dataset."""
from types import SimpleNamespace

import pytest

from studio.graph.builder import sequential
from studio.graph.fixes import SetParam, apply_fix
from studio.project.model import Project
from studio.train.model_setup import SetupError, check_head


def test_a_wrong_head_width_carries_its_fix_as_data():
    """The trainer's head check says what is wrong and, for a Linear, offers the
    edit that cures it; a last layer of another kind gets advice only."""
    data = SimpleNamespace(name="Shapes", task="classification", num_outputs=4)
    m, ids = sequential([("Flatten", {}), ("Linear", {"out_features": 10})])
    with pytest.raises(SetupError) as e:
        check_head(Project(model=m), data)
    assert e.value.fix == SetParam("Set to 4", ids[2], "out_features", 4)
    assert e.value.problem == "The last Linear (linear1) gives 10 scores but Shapes has 4 classes"
    apply_fix(m, e.value.fix)
    check_head(Project(model=m), data)
    m, ids = sequential([("Flatten", {}), ("Linear", {"out_features": 10}), ("ReLU", {})])
    with pytest.raises(SetupError) as e:
        check_head(Project(model=m), data)
    assert e.value.fix is None and "set its size to 4" in str(e.value)
