"""Live activations in the core: every node's output captured by hooks, the
per-epoch probe through the real trainer, and the views drawn from them."""
import torch

from studio.train import activations
from studio.train.trainer import Trainer

from tests.train.helpers import cnn_project, tiny_images


def test_probe_captures_every_layer_after_every_epoch():
    probe = activations.ActivationProbe()
    p = cnn_project(classes=10, epochs=2)
    t = Trainer(p, tiny_images(), callbacks=[probe])
    probe.trainer = t
    seen = []
    t.callbacks.append(type("Spy", (), {"on_epoch_end": lambda self, e: seen.append(probe.latest[0])})())
    t.run()
    assert seen == [1, 2]
    epoch, snap, raw = probe.latest
    assert raw.dtype == torch.uint8 and raw.shape == (4, 3, 32, 32)
    assert list(snap)[0].startswith("conv2d") and all(v.shape[0] == 4 for v in snap.values())
    # The captured output of the last layer is the model's output for those examples.
    x = t.val_batches.prepare(t.val_batches.x[:4], augment=False)
    with torch.no_grad():
        assert torch.allclose(snap[list(snap)[-1]], t.model.eval()(x), atol=1e-5)


def test_views_for_each_kind_of_output():
    maps = activations.summarize(torch.randn(20, 6, 5))
    assert maps.kind == "maps" and "first 16 of 20" in maps.caption
    assert maps.image.shape == (4 * 7 - 1, 4 * 6 - 1)
    heat = activations.summarize(torch.randn(12, 3))
    assert heat.kind == "heatmap" and heat.image.shape == (12, 3)
    bars = activations.summarize(torch.tensor([0.0, 2.0, 4.0]))
    assert bars.kind == "bars" and bars.image.tolist() == [[0.0, 0.5, 1.0]]
    for v in (maps, heat, bars):
        assert v.image.min() >= 0 and v.image.max() <= 1
