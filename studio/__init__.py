"""Studio: draw, train and export neural networks.

Importing `studio` stays light (no torch, no Qt); the notebook API is loaded
on first use: `from studio import load_project, load_dataset, Trainer`
(see studio/train/api.py for the stable names).
"""

_API = ("StudioProject", "load_project", "load_dataset", "Trainer", "export_model", "ExportResult",
        "open_exported", "Dataset")


def __getattr__(name: str):
    if name in _API:
        from studio.train import api
        return getattr(api, name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
