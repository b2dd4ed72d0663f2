"""Architecture contracts: import-linter's layers and forbidden-Qt contracts
(declared in pyproject.toml), and no import cycle between modules."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_import_contracts_hold():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "repo"
    shutil.copytree(ROOT / "studio", dst / "studio", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_contracts_catch_a_planted_upward_import(tmp_path):
    repo = _copy(tmp_path)
    (repo / "studio" / "graph" / "planted.py").write_text("from studio.train import trainer\n")
    r = _lint(repo)
    assert r.returncode != 0 and "studio.graph.planted -> studio.train.trainer" in r.stdout, r.stdout[-2000:]


def test_contracts_keep_settings_out_of_the_graph(tmp_path):
    repo = _copy(tmp_path)
    (repo / "studio" / "graph" / "planted.py").write_text("from studio.settings import TrainSettings\n")
    r = _lint(repo)
    assert r.returncode != 0 and "studio.graph.planted -> studio.settings" in r.stdout, r.stdout[-2000:]


def test_contracts_catch_qt_in_the_core(tmp_path):
    repo = _copy(tmp_path)
    (repo / "studio" / "data" / "planted.py").write_text("import PySide6.QtCore\n")
    r = _lint(repo)
    assert r.returncode != 0 and "studio.data.planted -> PySide6" in r.stdout, r.stdout[-2000:]


def _module_cycles(package: str = "studio") -> list[list[str]]:
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    g = nx.DiGraph()
    for m in graph.modules:
        for imported in graph.find_modules_directly_imported_by(m):
            g.add_edge(m, imported)
    # A package's __init__ importing its own submodules is how packages register, not a cycle.
    for a, b in list(g.edges):
        if b.startswith(a + ".") or a.startswith(b + "."):
            g.remove_edge(a, b)
    return [sorted(c) for c in nx.simple_cycles(g)]


def test_no_import_cycle_between_modules():
    assert _module_cycles() == []
