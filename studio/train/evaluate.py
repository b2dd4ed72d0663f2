"""One validation pass of a model over a split: sums to be averaged (across
processes, in a data-parallel run) and the per-example predictions."""
from __future__ import annotations

from typing import Callable, ContextManager

import torch


@torch.inference_mode()
def evaluate(model: torch.nn.Module, batches, objective, device: torch.device,
             autocast: Callable[[], ContextManager]) -> tuple[float, float, torch.Tensor | None, dict | None]:
    """(loss sum, metric sum, k×k confusion matrix or None, predictions or None) over
    `batches`; predictions hold the validation index, predicted and true class
    (and confidence, for classification) of every example."""
    obj = objective
    k = obj.num_classes
    confusion = torch.zeros(k * k, dtype=torch.long, device=device) if obj.classification else None
    if batches.n == 0:
        return 0.0, 0.0, confusion.view(k, k).cpu() if confusion is not None else None, None
    model.eval()
    loss_fn = obj.eval_loss or obj.loss
    loss_sum = torch.zeros((), device=device)
    metric_sum = torch.zeros((), device=device)
    idxs, preds, targets, conf = [], [], [], []
    for idx, x, y in batches.batches():
        with autocast():
            out = model(x)
        out = out.float()
        loss_sum += loss_fn(out, obj.target(y)) * y.shape[0]
        metric_sum += obj.metric_sum(out, y)
        pred = obj.predict(out)
        if confusion is not None:
            confusion += torch.bincount(y * k + pred, minlength=k * k)
            conf.append(confidence(out, obj.loss_name))
        idxs.append(idx)
        preds.append(pred)
        targets.append(y)
    model.train()
    predictions = {"index": torch.cat(idxs).cpu(), "pred": torch.cat(preds).cpu(), "target": torch.cat(targets).cpu()}
    if conf:
        predictions["confidence"] = torch.cat(conf).cpu()
    values = torch.stack([loss_sum, metric_sum]).cpu().tolist()
    return values[0], values[1], confusion.view(k, k).cpu() if confusion is not None else None, predictions


def confidence(out: torch.Tensor, loss_name: str) -> torch.Tensor:
    """The predicted class's probability, per example."""
    if loss_name == "cross_entropy":
        return out.softmax(1).amax(1)
    if out.shape[1] == 1:
        p = out.view(-1).sigmoid()
        return torch.maximum(p, 1 - p)
    return out.sigmoid().amax(1)
