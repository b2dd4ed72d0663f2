"""The training engine: a blocking `run()` with callbacks, used by the CLI and by
the Qt run panel (from a worker thread; stop/pause/resume_run are thread-safe).

Hot-loop habits (each measured on a CPU): no .item() per batch (losses and correct
counts stay on the device and are read on logged steps, about every 100 ms),
zero_grad(set_to_none=True), index_select batches, callbacks only on logged steps.
"""
from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import torch

from studio.data.batches import Batcher

from studio.train import resume, run_files, tensorboard_log
from studio.train.calibrate import Plan, effective_precision, plan_for_run
from studio.train.checkpoint import load_checkpoint
from studio.train.evaluate import evaluate
from studio.train.events import BatchEvent, EpochEvent, RunResult, TrainError
from studio.train.model_setup import (LatentTerms, has_conv, latent_terms, make_objective,
                                      trainable_layers)
from studio.train.host_memory import keep_freed_memory, release_freed_memory
from studio.train.finetune import keep_frozen, param_groups, starting_model
from studio.train.optim import Schedule, l1_penalty, make_optimizer
from studio.train.runtime import NonFiniteLoss, classify, pick_device
from studio.train.train_graph import training_graph

CALLBACKS = ("on_batch_end", "on_epoch_end", "on_run_end", "on_error", "on_notice")


class _Stopped(Exception):
    pass


class Trainer:
    GRAD_NORM_EVERY = 20  # steps between per-layer gradient norms (~20 small ops and a sync each)
    CALIBRATE = True      # time the CPU speed knobs at the start (see calibrate.py)

    def __init__(self, project, dataset, *, out_dir=None, callbacks=(), device=None, resume=False,
                 log_interval: float = 0.1, tensorboard_dir=None):
        self.project, self.dataset = project, dataset
        self.settings, self.data_settings = project.train, project.data
        self.out_dir = Path(out_dir) if out_dir else None
        self.callbacks = list(callbacks)
        self.requested_device = device or self.settings.device
        self.device: torch.device | None = None
        self.resume = resume
        self.log_interval = log_interval  # seconds between BatchEvents (0 = every batch)
        self.model: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.frozen: list[torch.nn.Module] = []  # node modules kept fixed (fine-tuning)
        self.init_skipped: list[str] = []  # init_weights tensors that did not fit (a replaced head)
        self.history: list[EpochEvent] = []
        self.confusion: torch.Tensor | None = None
        self.val_predictions: dict[str, torch.Tensor] | None = None
        self.error: TrainError | None = None
        self.failure: BaseException | None = None  # the exception behind `error`
        self.result: RunResult | None = None
        self.epoch = 0          # completed epochs
        self.step = 0           # completed optimizer steps
        self.best_epoch, self.best_score, self.bad_epochs = 0, None, 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.paths: dict[str, str] = {}
        self._partial: dict | None = None  # an epoch interrupted by stop(), for resuming
        self._where = (None, None)
        self._stop, self._go = threading.Event(), threading.Event()
        self._go.set()
        self._train_images, self._train_seconds = 0, 0.0
        self._norms_step = -1
        self.notes: list[str] = []  # things the user should know about this run (also on_notice)
        self.plan: Plan | None = None
        self.precision = "fp32"
        self._compiled = None
        self._steps: torch.nn.Module | None = None  # what the training steps run
        self.val_terms: dict[str, float] = {}  # extra loss terms on the validation set (a VAE's KL)
        self.tensorboard_dir = tensorboard_dir  # or the `tensorboard` setting: <out_dir>/tensorboard
        tensorboard_log.attach(self)

    # -- control, from any thread ------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._go.set()  # wake a paused run so it can stop

    def pause(self) -> None:
        self._go.clear()

    def resume_run(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the run -------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.perf_counter()
        self._handlers = {n: [getattr(c, n) for c in self.callbacks if callable(getattr(c, n, None))]
                          for n in CALLBACKS}
        threads = torch.get_num_threads()
        try:
            self._setup()
            status = self._loop()
        except Exception as e:  # noqa: BLE001 - every failure becomes a TrainError
            self.failure = e
            self.error = classify(e, *self._where, str(self.device or self.requested_device),
                                  self.settings.batch_size)
            self._emit("on_error", self.error)
            status = "failed"
        finally:
            torch.set_num_threads(threads)  # calibration may have chosen fewer for this run
            release_freed_memory()
        self.result = self._result(status, time.perf_counter() - started)
        self._emit("on_run_end", self.result)
        return self.result

    # -- hooks: what a data-parallel subclass changes (studio/train/distributed.py) ----
    def make_batcher(self, x, y, batch_size: int, *, train: bool, **kw) -> Batcher:
        """The batches of one split; `train`: the shuffled, augmented training split."""
        return Batcher(x, y, batch_size, **kw)

    def wrap_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module the steps run, once set up and restored (e.g. a DDP wrapper)."""
        return model

    def reduce(self, t: torch.Tensor) -> torch.Tensor:
        """`t` summed over every process training this model; alone, `t` itself."""
        return t

    def before_validation(self) -> None:
        """Called before each validation pass (e.g. to agree on BatchNorm statistics)."""

    def read_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """(tensors, scalars) of the checkpoint to resume."""
        return load_checkpoint(self.out_dir)

    def _emit(self, name: str, event) -> None:
        for fn in self._handlers[name]:
            fn(event)

    def _setup(self) -> None:
        s, d = self.settings, self.data_settings
        self.device = pick_device(self.requested_device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        model, self.init_skipped = starting_model(self.project, self.dataset, str(self.device),
                                                  initial=not self.resume)
        self.precision, note = effective_precision(s.precision, self.device)
        if note:
            self._notice(note)
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        self.objective = make_objective(self.project, self.dataset, s.label_smoothing)
        conv_images = self.dataset.kind == "image" and has_conv(model) and s.channels_last
        self.channels_last = self.device.type == "cuda" and conv_images
        if self.device.type == "cpu":
            keep_freed_memory()  # no page faults for each step's activations (host_memory.py)
            self._calibrate(model, conv_images)
        model = model.to(self.device, memory_format=torch.channels_last) if self.channels_last \
            else model.to(self.device)
        self.model = model
        groups, self.frozen = param_groups(model, self.project.model, s.lr)
        self.optimizer = make_optimizer(groups, s)
        self.layers = trainable_layers(model)
        self.l1_params = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() > 1]
        ds = self.dataset
        common = dict(device=self.device, mean=ds.mean, std=ds.std, normalize=d.normalize,
                      channels_last=self.channels_last)
        # An autoencoder's targets are its inputs (unaugmented: a shifted target would teach shifts).
        rec = self.objective.reconstructs
        y_train, y_val = (ds.x_train, ds.x_val) if rec else (ds.y_train, ds.y_val)
        self.train_batches = self.make_batcher(ds.x_train, y_train, s.batch_size, train=True, shuffle=True,
                                               seed=s.seed, crop=0 if rec else d.augment_crop,
                                               flip=d.augment_flip and not rec, **common)
        self.val_batches = self.make_batcher(ds.x_val, y_val, max(s.batch_size, 256), train=False, **common)
        latents = latent_terms(model)
        self.latent_terms = LatentTerms(latents) if latents else None
        if self.latent_terms is not None:  # a VAE: its KL joins the loss
            self.objective = self.latent_terms.wrap(self.objective)
        n = len(self.train_batches)
        self.schedule = Schedule(s, n, n * s.epochs)
        if self.out_dir is not None:
            self.paths.update(run_files.write_start(self.out_dir, self.project, ds))
        if self.resume:
            self._restore()
        wrapped = self.wrap_model(self.model)
        # The steps run a leaner graph with the same parameters (train_graph.py); a wrapper
        # (data-parallel) keeps its own forward.
        self._steps = training_graph(wrapped, self.amp_dtype is not None)[0] if wrapped is self.model else wrapped
        self.model = wrapped
        if self.plan is not None and self.plan.knobs.compile:
            self._compiled = torch.compile(self._steps)

    def _notice(self, text: str) -> None:
        self.notes.append(text)
        self._emit("on_notice", text)

    def _calibrate(self, model, conv_images: bool) -> None:
        """Choose memory format, threads (and torch.compile if asked) for a CPU run."""
        # A progress line while measuring, not a note: the notes say what came of it.
        self.plan, notes = plan_for_run(model, self, conv_images, self.CALIBRATE,
                                        announce=lambda text: self._emit("on_notice", text))
        for text in notes:
            self._notice(text)
        self.channels_last = self.plan.knobs.channels_last
        torch.set_num_threads(self.plan.knobs.threads)
        if self.precision == "bf16" and not self.plan.knobs.bf16:
            self.precision, self.amp_dtype = "fp32", None

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _loop(self) -> str:
        s = self.settings
        while self.epoch < s.epochs:
            if self._stop.is_set():
                self._save_checkpoint("stopped")
                return "stopped"
            epoch = self.epoch + 1
            t0 = time.perf_counter()
            try:
                train_loss, train_metric, seconds = self._train_epoch(epoch)
            except _Stopped:
                self._save_checkpoint("stopped")
                return "stopped"
            self._where = (epoch, None)
            val_loss, val_metric = self._validate()
            self.epoch = epoch
            is_best = self._track_best(val_loss, val_metric, train_loss, train_metric)
            event = EpochEvent(epoch, s.epochs, train_loss, train_metric, val_loss, val_metric,
                               self.objective.metric_name, self.optimizer.param_groups[0]["lr"],
                               time.perf_counter() - t0, is_best, dict(self.val_terms))
            self.history.append(event)
            stop_early = bool(s.early_stopping) and self.bad_epochs >= s.early_stopping
            status = "early_stopped" if stop_early else ("finished" if epoch == s.epochs else "running")
            self._save_checkpoint(status)
            self._emit("on_epoch_end", event)
            if stop_early:
                return "early_stopped"
        return "finished"

    def _train_epoch(self, epoch: int) -> tuple[float, float, float]:
        s, model, opt, obj = self.settings, self.model, self.optimizer, self.objective
        model.train()
        keep_frozen(self.frozen)
        start, aug_state = 0, None
        sums = {"loss": 0.0, "metric": 0.0, "count": 0, "seconds": 0.0}
        if self._partial and self._partial["epoch"] == epoch:
            start, aug_state = self._partial["batch"], self._partial.get("aug")
            sums.update({k: self._partial[k] for k in sums})
        self._partial = None
        batches = self.train_batches
        nb = len(batches)
        window_loss, window_metric, window_n = [], [], []
        last_log = time.perf_counter()
        tick, images_since = last_log, 0
        scheduled = s.schedule != "constant"
        lr = opt.param_groups[0]["lr"]
        for b, (_, x, y) in enumerate(batches.batches(epoch, start, aug_state), start):
            if self._stop.is_set() or not self._go.is_set():
                if not self._go.is_set():
                    paused_at = time.perf_counter()
                    self._go.wait()
                    tick += time.perf_counter() - paused_at
                    last_log += time.perf_counter() - paused_at
                if self._stop.is_set():
                    self._flush(sums, window_loss, window_metric, window_n, tick, epoch,
                                b - len(window_n) + 1, lr)
                    self._partial = dict(sums, epoch=epoch, batch=b, aug=batches.aug_state())
                    raise _Stopped
            self._where = (epoch, b + 1)
            if scheduled:
                lr = self.schedule.apply(opt, self.step)
            opt.zero_grad(set_to_none=True)
            with self._autocast():
                out = (self._compiled or self._steps)(x)
                loss = obj.loss(out, obj.target(y))
            if s.l1:
                loss = loss + s.l1 * l1_penalty(self.l1_params)
            self._backward_step(loss)
            self.step += 1
            window_loss.append(loss.detach())
            window_metric.append(obj.metric_sum(out, y))
            window_n.append(y.shape[0])
            now = time.perf_counter()
            if now - last_log >= self.log_interval or b == nb - 1 or b == start:
                images = sum(window_n)
                loss_mean, metric_mean = self._flush(sums, window_loss, window_metric, window_n,
                                                     tick, epoch, b - len(window_n) + 2, lr)
                now = time.perf_counter()
                images_since += images
                ips = images_since / max(now - last_log, 1e-9)
                norms = None
                if self.step - self._norms_step >= self.GRAD_NORM_EVERY or self._norms_step < 0:
                    norms, self._norms_step = self._grad_norms(), self.step
                self._emit("on_batch_end", BatchEvent(epoch, b + 1, nb, self.step, loss_mean, metric_mean,
                                                      lr, ips, norms))
                last_log, images_since = now, 0
                window_loss, window_metric, window_n = [], [], []
                tick = time.perf_counter()
        loss, metric, count = self.reduce(torch.tensor([sums["loss"], sums["metric"], sums["count"]],
                                                       dtype=torch.float64)).tolist()
        return loss / max(1.0, count), metric / max(1.0, count), sums["seconds"]

    def _flush(self, sums, losses, metrics, ns, tick, epoch, first_batch, lr):
        """Read the window's losses (one sync), check them, add them to the epoch sums."""
        if not losses:
            return float("nan"), float("nan")
        values = torch.stack(losses).float().cpu()
        bad = (~torch.isfinite(values)).nonzero()
        if len(bad):
            i = int(bad[0])
            raise NonFiniteLoss(epoch, first_batch + i, float(values[i]), lr)
        weights = torch.tensor(ns, dtype=torch.float32)
        n = int(weights.sum())
        loss_sum = float((values * weights).sum())
        metric_sum = float(torch.stack(metrics).float().sum())
        seconds = time.perf_counter() - tick
        sums["loss"] += loss_sum
        sums["metric"] += metric_sum
        sums["count"] += n
        sums["seconds"] += seconds
        self._train_images += n
        self._train_seconds += seconds
        return loss_sum / n, metric_sum / n

    def _backward_step(self, loss: torch.Tensor) -> None:
        s, opt = self.settings, self.optimizer
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(opt)
            if s.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), s.grad_clip)
            self.scaler.step(opt)
            self.scaler.update()
            return
        loss.backward()
        if s.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), s.grad_clip)
        opt.step()

    def _grad_norms(self) -> dict[str, float] | None:
        """L2 norm of each trainable layer's gradient, keyed by node id (one sync)."""
        names, norms = [], []
        for nid, params in self.layers.items():
            grads = [p.grad for p in params if p.grad is not None]
            if grads:
                names.append(nid)
                norms.append(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))
        if not norms:
            return None
        return dict(zip(names, torch.stack(norms).float().tolist()))

    def _validate(self) -> tuple[float | None, float | None]:
        self.before_validation()
        loss_sum, metric_sum, confusion, predictions = evaluate(self._steps, self.val_batches, self.objective,
                                                                self.device, self._autocast)
        keep_frozen(self.frozen)  # evaluate() put every layer back in training mode
        if predictions is not None:
            self.val_predictions = predictions
        loss, metric, n = self.reduce(torch.tensor([loss_sum, metric_sum, self.val_batches.n],
                                                   dtype=torch.float64)).tolist()
        if n == 0:
            return None, None
        if confusion is not None:
            self.confusion = self.reduce(confusion)
        self.val_terms = self.latent_terms.take_validation() if self.latent_terms is not None else {}
        return loss / n, metric / n

    def _track_best(self, val_loss, val_metric, train_loss, train_metric) -> bool:
        """Best by validation metric (accuracy up, MAE down); training loss without validation."""
        if val_metric is not None:
            score = val_metric if self.objective.classification else -val_metric
        else:
            score = -train_loss
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_epoch, self.bad_epochs = score, self.epoch, 0
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            if self.out_dir is not None:
                self.paths["best"] = run_files.write_weights(self.out_dir, "best", self.best_state)
            return True
        self.bad_epochs += 1
        return False

    # -- checkpoints (studio/train/resume.py) ------------------------------------------
    def _save_checkpoint(self, status: str) -> None:
        resume.save(self, status)

    def _restore(self) -> None:
        resume.restore(self)

    def _result(self, status: str, seconds: float) -> RunResult:
        last = self.history[-1] if self.history else None
        ips = self._train_images / self._train_seconds if self._train_seconds > 0 else 0.0
        message = self.error.message if self.error else ""
        return RunResult(status, self.epoch, self.best_epoch, last.train_loss if last else None,
                         last.val_loss if last else None, last.val_metric if last else None,
                         self.objective.metric_name if hasattr(self, "objective") else "",
                         seconds, ips, dict(self.paths), message)
