"""What `studio train` and its distributed workers share: the run folder,
command-line overrides of the project's settings, and the JSON summary."""
from __future__ import annotations

import json
import math
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
                       ("device", args.device), ("precision", getattr(args, "precision", None))):
        if value is not None:
            project.set_setting("train", key, value, "--" + key.replace("_", "-"))
    if args.data_dir:
        project.set_setting("data", "root", str(Path(args.data_dir).expanduser()), "--data-dir")


def run_folder(args, project_path: Path) -> Path:
    """The run folder: --out, or a new one under runs/. A folder that holds anything but a
    Studio run is refused (exit 2): a run never writes over a user's files."""
    from studio.train.run_files import RunFolderError, check_run_folder
    if args.out:
        out = Path(args.out)
        try:
            check_run_folder(out)
        except RunFolderError as e:
            raise UsageError(f"--out: {e}") from None
        return out
    runs = Path("runs")
    if args.resume:
        found = sorted(runs.glob(f"{stem(project_path)}-*/{CHECKPOINT_FILE}"))
        if not found:
            raise UsageError(f"--resume: no earlier run of {project_path.name} in {runs}/; give --out")
        return found[-1].parent
    return runs / f"{stem(project_path)}-{time.strftime('%Y%m%d-%H%M%S')}"


def check_device_and_cost(project) -> None:
    """Before loading data: the device must exist, and the network as drawn must fit in its
    memory (the app's pre-run check); the trainer checks again once the Input fits the data."""
    from studio.train.model_setup import SetupError
    from studio.train.precheck import CostError, refuse_if_too_big
    from studio.train.runtime import pick_device
    try:
        device = pick_device(project.train.device)
    except SetupError as e:
        raise UsageError(str(e)) from None
    except RuntimeError as e:  # torch's own refusal of a device string
        raise UsageError(f"device {project.train.device!r}: {str(e).splitlines()[0] if str(e) else e}") from None
    if all(project.model.shapes.out(n) is not None for n in project.model.nodes()):
        try:
            refuse_if_too_big(project, str(device))
        except CostError as e:
            raise UsageError(str(e)) from None


def json_line(doc: dict) -> str:
    """Valid JSON whatever the numbers: NaN and infinities (a diverged run) become null."""
    def finite(v):
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [finite(x) for x in v]
        return v
    return json.dumps(finite(doc), allow_nan=False)


def summary(result, trainer) -> dict:
    metric_key = "val_accuracy" if result.metric_name == "accuracy" else "val_mae"
    out = {"status": result.status, "epochs": result.epochs, "train_loss": result.train_loss,
           "val_loss": result.val_loss, metric_key: result.val_metric, "best_epoch": result.best_epoch,
           "seconds": round(result.seconds, 3), "images_per_second": round(result.images_per_second, 1),
           "paths": result.paths}
    if getattr(trainer, "precision", None):
        out["precision"] = trainer.precision
    if getattr(trainer, "plan", None) is not None:
        out["speed"] = trainer.plan.describe()
    if trainer.error is not None:
        out["error"] = {"kind": trainer.error.kind, "message": trainer.error.message}
    bad = [k for k, v in out.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:  # json_line writes them as null; say why, so null never reads as "not measured"
        out["non_finite"] = bad
    return out
