"""A non-editable install works: the wheel carries assets/, samples/ and py.typed,
and the installed app opens a sample offscreen and finds its icons.

The wheel goes into a fresh venv (no pip, no system site-packages); the heavy
dependencies come from this interpreter's site-packages through a .pth file placed
after the venv's own, so the installed `studio`, not the checkout, is imported."""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = r"""
import sys
from pathlib import Path
import studio
from studio.resources import resource_dir
installed = Path(studio.__file__).resolve().parent
assert installed.is_relative_to(Path(sys.prefix).resolve()), f"imported {installed}, not the wheel"
from PySide6.QtWidgets import QApplication
app = QApplication(["studio"])
from studio.ui.style import icons
from studio.ui.shell import main_window
assert main_window.SAMPLES_DIR.is_relative_to(installed), main_window.SAMPLES_DIR
assert not icons.icon("save").isNull() and not icons.icon("conv").isNull()
w = main_window.MainWindow()
assert w.open_path(main_window.SAMPLES_DIR / "shapes_cnn.studio.json", confirm=False, as_copy=True)
assert len(w.project.model) == 12, len(w.project.model)
print("OK", installed, len(list(resource_dir("samples").glob("*.studio.json"))))
"""


def test_wheel_installs_and_opens_a_sample(tmp_path):
    src = tmp_path / "src"  # build from a copy: the build leaves build/ and *.egg-info behind
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", "_artifacts", ".git")
    for name in ("studio", "assets", "samples"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
                   check=True, capture_output=True, cwd=tmp_path)
    wheel = next(dist.glob("studio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"studio/py.typed", "studio/assets/icons/app.svg", "studio/samples/waves_lstm.studio.json"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # else pip sees the checkout as installed
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, env=env)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_shared_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([str(python), "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("OK"), out.stdout
