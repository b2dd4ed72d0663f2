"""The app's read-only files: `assets/` (icons) and `samples/` (sample projects).

They live at the top of the repository. A built wheel carries them inside the
package as `studio/assets` and `studio/samples` (setup.py maps the folders), so
we ask importlib.resources first and fall back to the checkout beside the package.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_dir(name: str) -> Path:
    """The folder `name` ("assets" or "samples"), installed or in a source checkout."""
    packaged = files("studio").joinpath(name)
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name
