"""Positions that no float can hold are a ProjectError, not an OverflowError."""
import json
from pathlib import Path

import pytest

from studio.project.file import ProjectError, loads

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cifar10_cnn.studio.json"


@pytest.mark.parametrize("bad", [10 ** 400, -(10 ** 400), 1e300, "3", True])
def test_bad_positions_are_project_errors(bad):
    doc = json.loads(SAMPLE.read_text())
    doc["graph"]["nodes"][3]["pos"] = [bad, 0]
    with pytest.raises(ProjectError, match='"pos" must be two numbers'):
        loads(json.dumps(doc))
