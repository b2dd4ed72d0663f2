"""The notebook API: `from studio import ...`, and the README's example runs."""
import re
import subprocess
import sys
from pathlib import Path

import torch

import studio
from studio.train import api

ROOT = Path(__file__).resolve().parents[2]


def test_importing_studio_stays_light():
    code = "import sys, studio; print('torch' in sys.modules, 'PySide6' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout.split() == ["False", "False"], r.stderr


def test_stable_names_are_importable_from_studio():
    for name in api.__all__:
        assert getattr(studio, name) is getattr(api, name)
    assert set(api.__all__) == set(studio._API)


def test_readme_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Python API.*?```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) == 5
    real = api.load_project

    def small(path):  # the sample as written, but small enough for a test
        p = real(ROOT / path)
        p.train.epochs, p.data.samples = 1, 120
        return p
    monkeypatch.setattr(api, "load_project", small)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(block, "README", "exec"), ns)
    assert isinstance(ns["net"], torch.nn.Module)
    assert ns["result"].status == "finished"
    assert (tmp_path / "runs" / "notebook" / "best.safetensors").exists()


def test_build_fits_the_input_to_a_dataset():
    from studio.settings import DataSettings
    project = api.load_project(ROOT / "samples" / "shapes_cnn.studio.json")
    data = api.load_dataset(DataSettings(dataset="shapes", samples=40))
    net = project.build(data)
    assert net(data.x_val[:2].float()).shape == (2, 4)
