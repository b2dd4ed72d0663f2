"""Shared by the security tests: tiny real projects, weights and run folders, and the
CLI run in-process with its exit code and output split into lines."""
from __future__ import annotations

from pathlib import Path

from studio.cli.main import main
from studio.graph.compile import compile_graph
from studio.project.file import load, save
from studio.train.checkpoint import save_weights

ROOT = Path(__file__).resolve().parents[2]
SPIRAL = ROOT / "samples" / "spiral_mlp.studio.json"
MARKER_CODE = "__import__('pathlib').Path({marker!r}).write_text('pwned')"


def tiny_project(folder: Path, name: str = "tiny", **fields):
    """The spiral sample made small (200 points, 1 epoch), saved in `folder`."""
    project = load(SPIRAL)
    project.data.samples, project.train.epochs, project.train.batch_size = 200, 1, 50
    for key, value in fields.items():
        setattr(project, key, value)
    path = save(project, Path(folder) / f"{name}.studio.json")
    return project, path


def weights_for(project, path: Path) -> Path:
    save_weights(path, compile_graph(project.model).state_dict())
    return path


def cli(capsys, *argv) -> tuple[int, list[str], list[str]]:
    """(exit code, stdout lines, stderr lines) of one in-process `studio` command."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


PROGRESS = ("data: ", "epoch ")  # what `studio train` prints on stderr before an error


def assert_one_error_line(err: list[str], *words: str) -> str:
    """The exit-code contract: one last stderr line `studio: error: ...`, no traceback, no
    warning; any other line is training progress."""
    assert err and all(line.startswith(PROGRESS) for line in err[:-1]), err
    line = err[-1]
    assert line.startswith("studio: error: ") and "Traceback" not in line, line
    assert len(line) <= 500, len(line)
    for w in words:
        assert w in line, (w, line)
    return line


def hostile_texts(marker: Path) -> list[str]:
    """Strings that would run code (creating `marker`) if pasted into source unescaped."""
    code = MARKER_CODE.format(marker=str(marker))
    return [
        f'"""\n{code}\n"""', f"'''\n{code}\n'''", f'x"""; {code}; """', f"\\\n{code}",
        f"\n{code}\n", f"\r{code}", f"\x0c{code}", f"\u2028{code}", "\x00", "\ud800", "\\N", "\\N{",
        "\\", "'", '"', "{}", "{0}", "%s", "\x1b[31mred", f"# \n{code}", f"');{code}#",
    ]
