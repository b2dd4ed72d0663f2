"""TensorBoard event files: scalars, learning rate, per-layer gradient norms,
the graph and the confusion matrix, read back with TensorBoard's own reader."""
import numpy as np
import pytest
import torch

from studio.train.tensorboard_log import confusion_image
from studio.train.trainer import Trainer

from .helpers import cnn_project, tiny_images

pytest.importorskip("tensorboard")


def events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return acc


def test_run_writes_scalars_grad_norms_graph_and_confusion(tmp_path):
    project = cnn_project(epochs=2)
    t = Trainer(project, tiny_images(), tensorboard_dir=tmp_path / "tb", log_interval=0)
    assert t.run().status == "finished"
    acc = events(tmp_path / "tb")
    tags = acc.Tags()
    for tag in ("batch/loss", "batch/accuracy", "lr", "loss/train", "loss/val", "accuracy/train",
                "accuracy/val", "epoch/lr"):
        assert tag in tags["scalars"], tag
    assert {"grad_norm/conv2d1", "grad_norm/linear1"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("loss/val")] == [1, 2]
    assert acc.Scalars("loss/train")[-1].value == pytest.approx(t.history[-1].train_loss, rel=1e-5)
    assert "confusion_matrix" in tags["images"] and len(acc.Images("confusion_matrix")) == 2
    assert tags["graph"] is True


def test_the_setting_writes_into_the_run_folder(tmp_path):
    project = cnn_project()
    project.train.tensorboard = True
    Trainer(project, tiny_images(), out_dir=tmp_path).run()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    project.train.tensorboard = False
    Trainer(project, tiny_images(), out_dir=tmp_path / "off").run()
    assert not (tmp_path / "off" / "tensorboard").exists()


def test_cli_tensorboard_flag(tmp_path, capsys):
    from studio.cli.main import main
    from studio.project.file import save
    project = cnn_project(classes=4)
    project.data.dataset, project.data.samples = "shapes", 64
    save(project, tmp_path / "p.studio.json")
    code = main(["train", str(tmp_path / "p.studio.json"), "--epochs", "1", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "tb")])
    assert code == 0, capsys.readouterr().err
    assert "loss/val" in events(tmp_path / "tb").Tags()["scalars"]


def test_confusion_image_rows_are_scaled_per_true_class():
    c = torch.tensor([[90, 10], [0, 1]])
    img = confusion_image(c, cell=4)
    assert img.shape == (8, 8, 3) and img.dtype == np.uint8
    # The one example of class 1, predicted right, is as dark as a full row.
    assert img[6, 6, 0] == 0 and img[2, 2, 0] > img[6, 6, 0] and img[6, 2, 0] == 255
