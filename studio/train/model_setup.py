"""Fit a project's graph to a dataset, compile it, and build the loss and metric.

Everything here runs before the first batch, so a mismatch between the drawn
network and the data becomes one sentence for the user, not a stack trace.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import fx

from studio.data.dataset import Dataset
from studio.graph.compile import CompileError, compile_graph
from studio.graph.fixes import SetParam
from studio.graph.model import GraphError
from studio.graph.opaque import OpaqueUnavailable
from studio.graph.layers.io import TASK_OF_LOSS


class SetupError(Exception):
    """The network and the dataset do not fit together; `kind` is a TrainError kind.
    `fix`, when there is an obvious one, is the edit that cures it, and `problem`
    the message without the advice (for a button that offers the fix itself)."""
    exit_code = 2

    def __init__(self, message: str, kind: str = "shape", fix: SetParam | None = None, problem: str = ""):
        super().__init__(message)
        self.kind = kind
        self.fix = fix
        self.problem = problem or message


def output_node(project) -> tuple[str, dict]:
    m = project.model
    outs = m.outputs()
    if not outs:
        raise SetupError("The network has no Output layer: add one to choose the loss")
    return outs[0], m.params(outs[0])


def match_input(project, dataset: Dataset) -> None:
    """Set the Input node's parameters from the dataset (shapes then re-infer)."""
    m = project.model
    inputs = m.inputs()
    if len(inputs) != 1:
        raise SetupError(f"Training needs exactly one Input layer, the network has {len(inputs)}")
    params = dataset.input_params()
    try:
        for key, value in params.items():
            if m.params(inputs[0]).get(key) != value:
                m.set_param(inputs[0], key, value)
    except GraphError as e:
        raise SetupError(f"The Input cannot take {dataset.name}'s examples: {e}", "data") from None


def check_head(project, dataset: Dataset) -> None:
    """The last layer must give one score per class (or one value per target)."""
    m = project.model
    out, p = output_node(project)
    if p["task"] == "reconstruction":
        if dataset.kind == "tokens":
            raise SetupError("A reconstruction compares the output with the input, which cannot be "
                             "done for token ids: choose an image, sequence or vector dataset")
        return  # validation checks that the output has the input's shape
    task = TASK_OF_LOSS[p["loss"]]
    if task != dataset.task:
        raise SetupError(f"The Output uses the {p['loss'].replace('_', ' ')} loss, which is for "
                         f"{task}, but {dataset.name} is a {dataset.task} dataset: change the Output's loss")
    ins = m.in_edges(out)
    if len(ins) != 1:
        return  # validation reports the wiring
    last = ins[0].src
    shape = m.shapes.out(last)
    if shape is None:
        return  # compile reports the shape problem upstream
    width = shape.dims[-1] if len(shape.dims) == 1 else None
    need = dataset.num_outputs
    ok_widths = {need}
    if p["loss"] == "bce_with_logits" and need == 2:
        ok_widths.add(1)  # one logit for a yes/no task
    if width in ok_widths:
        return
    what = "scores" if dataset.task == "classification" else "values"
    has = "classes" if dataset.task == "classification" else "targets"
    layer = m.type_of(last)
    if width is None:
        raise SetupError(f"The last layer {last} ({layer}) gives {shape.full()}, but {dataset.name} needs "
                         f"{need} {what} per example: end with Flatten and a Linear of size {need}")
    problem = f"The last {layer} ({last}) gives {width} {what} but {dataset.name} has {need} {has}"
    fix = SetParam(f"Set to {need}", last, "out_features", need) if layer == "Linear" else None
    raise SetupError(f"{problem}: set its size to {need}", fix=fix, problem=problem)


def check_labels(dataset: Dataset) -> None:
    """Class ids must be int64 in 0..K-1, or cross-entropy fails mid-epoch with a cryptic error."""
    if dataset.task != "classification":
        return
    k = len(dataset.classes)
    for name, y in (("training", dataset.y_train), ("validation", dataset.y_val)):
        if y.numel() == 0:
            continue
        if y.dtype != torch.long or y.dim() != 1:
            raise SetupError(f"{dataset.name}'s {name} labels must be one class id per example", "data")
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= k:
            raise SetupError(f"{dataset.name} has {name} labels from {lo} to {hi}, but only {k} classes "
                             f"(0 to {k - 1})", "data")


def build_model(project, dataset: Dataset, device: str | None = None) -> fx.GraphModule:
    """The compiled network for `dataset`. With `device`, refuse first (SetupError "cost")
    a network whose weights and activations cannot fit there: the app's pre-run check."""
    check_labels(dataset)
    match_input(project, dataset)
    if device is not None:
        from studio.train.precheck import CostError, refuse_if_too_big
        try:
            refuse_if_too_big(project, device, len(dataset.x_train))
        except CostError as e:
            raise SetupError(str(e), "cost") from None
    try:
        check_head(project, dataset)
        return compile_graph(project.model)
    except CompileError as e:
        raise SetupError(str(e)) from None
    except OpaqueUnavailable as e:  # an imported module that needs the user's consent or a missing file
        raise SetupError(str(e)) from None


@dataclass
class Objective:
    """The loss and the metric for one Output node and dataset."""
    loss_name: str
    metric_name: str            # "accuracy" | "mae"
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    target: Callable[[torch.Tensor], torch.Tensor]      # dataset targets → loss targets
    predict: Callable[[torch.Tensor], torch.Tensor]     # outputs → class ids or values
    num_classes: int
    eval_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None  # no smoothing
    reconstructs: bool = False  # the target is the input itself (autoencoders)

    @property
    def classification(self) -> bool:
        return self.metric_name == "accuracy"

    def metric_sum(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Correct predictions, or summed absolute error (per example), on device: no sync."""
        if self.classification:
            return (self.predict(out) == y).sum()
        err = (out.detach().float() - self.target(y).float()).abs()
        return err.reshape(err.shape[0], -1).mean(1).sum()


def make_objective(project, dataset: Dataset, label_smoothing: float = 0.0) -> Objective:
    _, p = output_node(project)
    name, k = p["loss"], dataset.num_outputs
    if p["task"] == "reconstruction":
        return _reconstruction(name)
    if name == "cross_entropy":
        def loss(out, t):
            return F.cross_entropy(out, t, label_smoothing=label_smoothing)
        return Objective(name, "accuracy", loss, lambda y: y, lambda out: out.argmax(1), k,
                         eval_loss=lambda out, t: F.cross_entropy(out, t))
    if name == "bce_with_logits":
        single = _head_width(project) == 1

        def target(y):
            return y.float().view(-1, 1) if single else F.one_hot(y, k).float()

        def predict(out):
            return (out.view(-1) > 0).long() if single else out.argmax(1)
        return Objective(name, "accuracy", lambda out, t: F.binary_cross_entropy_with_logits(out, t),
                         target, predict, k)
    fn = F.mse_loss if name == "mse" else F.l1_loss

    def reg_target(y):
        return y.view(-1, 1) if y.dim() == 1 else y
    return Objective(name, "mae", lambda out, t: fn(out, t), reg_target, lambda out: out, 0)


def _reconstruction(name: str) -> Objective:
    """Output against input. uint8 images are compared in 0..1 (a Sigmoid's range), whatever
    the normalization of the network's input; other inputs as they are."""
    def target(x):
        return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    fn = {"mse": F.mse_loss, "l1": F.l1_loss, "bce_with_logits": F.binary_cross_entropy_with_logits}[name]
    return Objective(name, "mae", fn, target, lambda out: out, 0, reconstructs=True)


def latent_terms(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Modules that add a term to the loss (the VAE's Gaussian latent: its `kl`)."""
    return [m for m in model.modules() if hasattr(m, "kl") and hasattr(m, "kl_weight")]


class LatentTerms:
    """Adds the Gaussian latents' KL terms to an objective's losses, and keeps the
    validation KL (per example) for the epoch's log."""

    def __init__(self, modules: list[torch.nn.Module]):
        self.modules = modules
        self._sum, self._n = 0.0, 0

    def _add(self, fn):
        def loss(out, target):
            kl = sum(m.kl for m in self.modules)
            if not self.modules[0].training:
                self._sum += float(kl) * out.shape[0]
                self._n += out.shape[0]
            return fn(out, target) + kl
        return loss

    def wrap(self, objective: Objective) -> Objective:
        return dataclasses.replace(objective, loss=self._add(objective.loss),
                                   eval_loss=self._add(objective.eval_loss) if objective.eval_loss else None)

    def take_validation(self) -> dict[str, float]:
        out = {"kl": self._sum / self._n} if self._n else {}
        self._sum, self._n = 0.0, 0
        return out


def _head_width(project) -> int | None:
    out, _ = output_node(project)
    m = project.model
    shape = m.shapes.out(m.in_edges(out)[0].src)
    return shape.dims[-1] if shape is not None and len(shape.dims) == 1 else None


def trainable_layers(model: torch.nn.Module) -> dict[str, list[torch.nn.Parameter]]:
    """Parameters grouped by node id (top-level submodule), for per-layer gradient norms."""
    groups: dict[str, list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault(name.split(".", 1)[0], []).append(param)
    return groups


def has_conv(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
