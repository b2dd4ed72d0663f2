"""The core must stay usable without Qt: nothing outside studio/ui imports it."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "studio"
QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_does_not_import_qt():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "ui" in path.relative_to(ROOT).parts[:1]:
            continue
        for name in _imports(path):
            if name.split(".")[0] in QT:
                offenders.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_boundary_check_sees_a_planted_import(tmp_path):
    planted = tmp_path / "bad.py"
    planted.write_text("from PySide6.QtCore import QObject\n")
    assert "PySide6.QtCore" in list(_imports(planted))
