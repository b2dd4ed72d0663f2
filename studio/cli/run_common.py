"""What `studio train` and its distributed workers share: the run folder,
command-line overrides of the project's settings, and the JSON summary."""
from __future__ import annotations

import time
from pathlib import Path

from studio.cli.main import UsageError
from studio.train import CHECKPOINT_FILE


def stem(path: Path) -> str:
    name = path.name
    for suffix in (".studio.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def apply_overrides(project, args) -> None:
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr),
                       ("device", args.device)):
        if value is not None:
            project.set_setting("train", key, value, "--" + key.replace("_", "-"))
    if args.data_dir:
        project.set_setting("data", "root", str(Path(args.data_dir).expanduser()), "--data-dir")


def run_folder(args, project_path: Path) -> Path:
    if args.out:
        return Path(args.out)
    runs = Path("runs")
    if args.resume:
        found = sorted(runs.glob(f"{stem(project_path)}-*/{CHECKPOINT_FILE}"))
        if not found:
            raise UsageError(f"--resume: no earlier run of {project_path.name} in {runs}/; give --out")
        return found[-1].parent
    return runs / f"{stem(project_path)}-{time.strftime('%Y%m%d-%H%M%S')}"


def summary(result, trainer) -> dict:
    metric_key = "val_accuracy" if result.metric_name == "accuracy" else "val_mae"
    out = {"status": result.status, "epochs": result.epochs, "train_loss": result.train_loss,
           "val_loss": result.val_loss, metric_key: result.val_metric, "best_epoch": result.best_epoch,
           "seconds": round(result.seconds, 3), "images_per_second": round(result.images_per_second, 1),
           "paths": result.paths}
    if trainer.error is not None:
        out["error"] = {"kind": trainer.error.kind, "message": trainer.error.message}
    return out
