"""Live activations in the core: every node's output captured by hooks, the
per-epoch probe through the real trainer, and the views drawn from them."""
import numpy as np
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
    assert np.isnan(maps.image[6]).all() and np.isnan(maps.image[:, 5]).all()  # the gaps hold no value
    for v in (maps, heat, bars):
        values = v.image[~np.isnan(v.image)]
        assert values.min() >= 0 and values.max() <= 1


def test_capture_reaches_inside_blocks_by_the_paths_walk_gives():
    from studio.graph.blocks import group, qualified, walk
    from studio.graph.builder import sequential
    from studio.graph.compile import compile_graph
    m, ids = sequential([("Conv2d", {"out_channels": 4, "padding": 1}), "ReLU",
                         ("Conv2d", {"out_channels": 4, "padding": 1}), "Flatten",
                         ("Linear", {"out_features": 3})], input_params={"height": 8, "width": 8})
    rec = group(m, ids[2:4], "Pair")
    m.set_param(rec.block, "repeat", 2)
    snap = activations.capture(compile_graph(m), torch.randn(2, 3, 8, 8))
    layers = {p for g, n, p in walk(m) if g.type_of(n) not in ("Input", "Output", "BlockInput", "BlockOutput")}
    assert layers <= set(snap)
    body = m.body(rec.block)
    inner = [n for n in body.nodes() if body.type_of(n) == "Conv2d"][0]
    assert qualified(body, inner) == f"{rec.block}.0.{inner}"
    assert snap[qualified(body, inner)].shape == (2, 4, 8, 8)
