"""The Trainer's contract: learning, failures as TrainErrors, stop/resume, early stopping, seeds."""
import torch

from studio.train.checkpoint import load_checkpoint
from studio.train.trainer import Trainer

from .helpers import blobs, cnn_project, mlp_project, tiny_images


class Recorder:
    def __init__(self):
        self.batches, self.epochs, self.errors, self.ends = [], [], [], []

    def on_batch_end(self, e):
        self.batches.append(e)

    def on_epoch_end(self, e):
        self.epochs.append(e)

    def on_error(self, e):
        self.errors.append(e)

    def on_run_end(self, r):
        self.ends.append(r)


def test_learns_and_reports_everything():
    rec = Recorder()
    t = Trainer(mlp_project(epochs=8, lr=0.01), blobs(), callbacks=[rec], log_interval=0)
    r = t.run()
    assert r.status == "finished" and rec.ends == [r] and not rec.errors
    assert r.val_metric > 0.9 and r.metric_name == "accuracy"
    assert [e.epoch for e in rec.epochs] == list(range(1, 9)) == [e.epoch for e in t.history]
    assert rec.batches[-1].step == 8 * 6 and rec.batches[0].grad_norms.keys() == {"linear1", "linear2"}
    assert t.confusion.shape == (3, 3) and int(t.confusion.sum()) == 64
    vp = t.val_predictions
    assert len(vp["index"]) == len(vp["pred"]) == len(vp["target"]) == 64
    assert (t.confusion.diag().sum() / 64).item() == r.val_metric


def test_output_width_mismatch_is_a_clear_setup_error():
    rec = Recorder()
    r = Trainer(mlp_project(classes=5), blobs(classes=3), callbacks=[rec]).run()
    assert r.status == "failed" and rec.errors[0].kind == "shape"
    assert "The last Linear (linear2) gives 5 scores but Blobs has 3 classes" in r.message


def test_nan_loss_names_epoch_and_batch():
    rec = Recorder()
    r = Trainer(mlp_project(lr=1e6, optimizer="sgd", momentum=0.0), blobs(), callbacks=[rec]).run()
    err = rec.errors[0]
    assert r.status == "failed" and err.kind == "nan"
    assert f"epoch {err.epoch}, batch {err.batch}" in err.message and "learning rate" in err.message


def test_same_seed_same_numbers_different_seed_differs():
    runs = [Trainer(cnn_project(epochs=2, seed=s), tiny_images()).run() for s in (3, 3, 4)]
    assert runs[0].train_loss == runs[1].train_loss and runs[0].val_loss == runs[1].val_loss
    assert runs[0].train_loss != runs[2].train_loss


def _augmented(**kw):
    p = cnn_project(epochs=3, **kw)
    p.data.augment_crop, p.data.augment_flip = 4, True
    return p


def test_stop_mid_epoch_then_resume_continues_exactly(tmp_path):
    data = tiny_images(96)
    full = Trainer(_augmented(), data, log_interval=0)
    full.run()

    class StopAt:
        def on_batch_end(self, e):
            if e.step == 7:  # epoch 2, batch 2
                first.stop()
    first = Trainer(_augmented(), data, out_dir=tmp_path, callbacks=[StopAt()], log_interval=0)
    r = first.run()
    assert r.status == "stopped" and r.epochs == 1 and first.step == 7
    _, doc = load_checkpoint(tmp_path)
    assert doc["partial"]["epoch"] == 2 and doc["partial"]["batch"] == 2
    rec = Recorder()
    second = Trainer(_augmented(), data, out_dir=tmp_path, resume=True, callbacks=[rec], log_interval=0)
    r = second.run()
    assert r.status == "finished" and [e.epoch for e in rec.epochs] == [2, 3] and second.step == 15
    assert rec.batches[0].epoch == 2 and rec.batches[0].batch == 3
    assert [e.train_loss for e in second.history] == [e.train_loss for e in full.history]
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[k], v, rtol=0, atol=0)


def test_pause_and_resume_run_from_another_thread():
    import threading
    t = Trainer(mlp_project(epochs=2), blobs(), log_interval=0)
    paused = threading.Event()

    class PauseOnce:
        def on_batch_end(self, e):
            if e.step == 2:
                t.pause()
                paused.set()
    t.callbacks.append(PauseOnce())
    thread = threading.Thread(target=t.run)
    thread.start()
    assert paused.wait(30)
    thread.join(0.3)
    assert thread.is_alive() and t.paused
    t.resume_run()
    thread.join(30)
    assert t.result.status == "finished" and t.step == 12


def test_early_stopping_keeps_the_best(tmp_path):
    # A learning rate that makes validation accuracy wander: patience 1 stops early.
    p = mlp_project(epochs=30, lr=0.5, optimizer="sgd", early_stopping=1, schedule="step", step_size=1,
                    gamma=3.0)
    t = Trainer(p, blobs(), out_dir=tmp_path)
    r = t.run()
    assert r.status == "early_stopped" and r.epochs < 30
    best = max(t.history, key=lambda e: e.val_metric)
    assert r.best_epoch == best.epoch and t.history[r.best_epoch - 1].is_best
    from safetensors.torch import load_file
    saved = load_file(str(tmp_path / "best.safetensors"))
    for k, v in t.best_state.items():
        assert torch.equal(saved[k], v)


def test_regression_reports_mae_and_schedules_run():
    from .helpers import sine_project, sine_data
    for schedule, opt in (("cosine", "adamw"), ("onecycle", "sgd"), ("constant", "rmsprop")):
        r = Trainer(sine_project(schedule=schedule, optimizer=opt, grad_clip=1.0, l1=1e-5), sine_data()).run()
        assert r.status == "finished" and r.metric_name == "mae" and r.val_metric < 0.5, (schedule, r)


def test_labels_outside_the_classes_are_a_data_error():
    data = blobs()
    data.y_train[0] = 7
    rec = Recorder()
    r = Trainer(mlp_project(), data, callbacks=[rec]).run()
    assert r.status == "failed" and rec.errors[0].kind == "data" and "labels from 0 to 7" in r.message


def test_resume_into_a_changed_network_says_so(tmp_path):
    Trainer(mlp_project(epochs=1), blobs(), out_dir=tmp_path).run()
    p = mlp_project(epochs=2)
    p.model.set_param("linear1", "out_features", 8)
    r = Trainer(p, blobs(), out_dir=tmp_path, resume=True).run()
    assert r.status == "failed" and "does not fit this network" in r.message
