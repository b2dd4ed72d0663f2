"""Runs saved on disk as export sources: a run folder holding the project copy,
best weights and meta.json (what Trainer writes) can be exported after the app
or the CLI has been restarted."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.project.file import ProjectError, load

from studio.train.run_files import META_NAME, PROJECT_NAME, read_meta


@dataclass
class SavedRun:
    folder: Path
    project: object          # the project copy the run trained (Input matched to its data)
    weights: str             # best.safetensors
    meta: dict | None
    label: str               # for tooltips: which run an export would use


def saved_run(folder) -> SavedRun | None:
    folder = Path(folder)
    weights = folder / "best.safetensors"
    if not (weights.exists() and (folder / PROJECT_NAME).exists() and (folder / META_NAME).exists()):
        return None
    try:
        project = load(folder / PROJECT_NAME)
    except (ProjectError, OSError):
        return None
    return SavedRun(folder, project, str(weights), read_meta(weights), f"the saved run {folder.name}")


def latest_saved_run(runs_dir) -> SavedRun | None:
    """The newest exportable run in a project's runs folder (run-001, run-002...)."""
    if runs_dir is None or not Path(runs_dir).is_dir():
        return None
    for folder in sorted(Path(runs_dir).glob("run-*"), reverse=True):
        found = saved_run(folder) if folder.is_dir() else None
        if found is not None:
            return found
    return None
