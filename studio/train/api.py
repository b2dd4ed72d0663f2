"""The Python API for notebooks and scripts, re-exported by `studio` itself:

    from studio import Trainer, load_dataset, load_project
    project = load_project("samples/shapes_cnn.studio.json")
    net = project.build()            # a torch.nn.Module (torch.fx), as drawn
    result = Trainer(project, load_dataset(project.data), out_dir="runs/nb").run()

The names in __all__ are kept stable: new arguments are added as keywords
with defaults, and nothing listed here is renamed or removed.
"""
from __future__ import annotations

from pathlib import Path

import torch

from studio.data.dataset import Dataset
from studio.data.load import load_dataset
from studio.graph.compile import compile_graph
from studio.project.file import load
from studio.project.model import Project

from studio.train.export import ExportResult, export_model
from studio.train.exported import open_exported
from studio.train.model_setup import build_model
from studio.train.trainer import Trainer

__all__ = ["StudioProject", "load_project", "load_dataset", "Trainer", "export_model", "ExportResult",
           "open_exported", "Dataset"]


class StudioProject(Project):
    """A Project (it goes wherever one does, e.g. Trainer) with notebook conveniences."""

    def build(self, dataset: Dataset | None = None) -> torch.nn.Module:
        """The network as a fresh, untrained torch.nn.Module. With `dataset`, its
        Input is first fitted to the data, as training does."""
        if dataset is not None:
            return build_model(self, dataset)
        return compile_graph(self.model)

    def load_data(self, progress=None) -> Dataset:
        """The dataset named in the project's data settings."""
        return load_dataset(self.data, progress)


def load_project(path: str | Path) -> StudioProject:
    """Read a `.studio.json` project; ProjectError says what is wrong with a bad file."""
    p = load(path)
    p.model.unsubscribe(p._forward)  # the graph moves to the StudioProject, with its own forwarder
    return StudioProject(model=p.model, data=p.data, train=p.train, name=p.name,
                         description=p.description, path=p.path)
