"""Every sample loads, is valid and compiles; the offline ones really learn in a short run."""
import statistics
from pathlib import Path

import pytest
import torch

from studio.graph.compile import compile_graph, example_inputs
from studio.project.file import load
from studio.graph.validate import validate

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.studio.json"))
EXPECTED = {"cifar10_cnn", "cifar10_resnet", "cifar10_mlp", "cifar10_lstm", "shapes_cnn", "waves_lstm",
            "waves_transformer", "spiral_mlp", "sine_regression", "digits_autoencoder", "digits_vae"}


def test_all_samples_are_there():
    assert {p.name.removesuffix(".studio.json") for p in SAMPLES} >= EXPECTED


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_is_valid_described_and_laid_out(path):
    project = load(path)
    assert validate(project.model) == []
    assert len(project.description) > 60
    m = project.model
    positions = [m.pos(n) for n in m.nodes()]
    assert len(set(positions)) == len(positions)  # no stacked cards
    # Long chains wrap into rows of 5; a residual block is never cut (the ResNet's are 8 wide).
    assert max(x for x, _ in positions) <= 7 * 260 + 1
    for e in m.edges():  # no wire runs straight behind a card it does not connect to
        (xa, ya), (xb, yb) = m.pos(e.src), m.pos(e.dst)
        assert not [n for n in m.nodes() if ya == yb == m.pos(n)[1] and min(xa, xb) < m.pos(n)[0] < max(xa, xb)]
    model = compile_graph(m).eval()
    with torch.no_grad():
        out = model(*example_inputs(m, batch=2))
    assert out.shape[0] == 2 and torch.isfinite(out).all()


def test_seed_cnn_sample_is_the_tf_tutorial_network():
    project = load(SAMPLES[0].parent / "cifar10_cnn.studio.json")
    assert project.model.shapes.totals()[0] == 122_570
    t = project.train
    assert (t.optimizer, t.batch_size, t.epochs) == ("adam", 32, 10)


def test_resnet_sample_has_skips_batchnorm_and_its_recipe():
    project = load(SAMPLES[0].parent / "cifar10_resnet.studio.json")
    types = [project.model.type_of(n) for n in project.model.nodes()]
    assert types.count("Add") == 2 and "BatchNorm2d" in types
    t, d = project.train, project.data
    assert (t.optimizer, t.nesterov, t.momentum, t.schedule, t.label_smoothing) == ("sgd", True, 0.9, "onecycle", 0.1)
    assert (d.augment_crop, d.augment_flip) == (4, True)


# name, overrides for a short run, threshold. The full samples reach >90% (see their descriptions).
# Float kernels differ between CPUs and thread counts, so one seed's result is not portable: the
# median over SEEDS must reach the threshold (bench/sample_spread.py measures the spread).
SEEDS = (0, 1, 2)
LEARNING = [
    ("shapes_cnn", dict(samples=1500), dict(epochs=4, batch_size=16, lr=2e-3), 0.8),
    ("waves_lstm", dict(samples=1000), dict(epochs=20, batch_size=16, lr=5e-3), 0.85),
    # Over seeds 0-8 this short run reached 0.835-0.955 (median 0.89); chance is 0.25.
    ("waves_transformer", dict(samples=1000), dict(epochs=20, batch_size=16, lr=2e-3), 0.75),
    ("spiral_mlp", dict(samples=1000), dict(epochs=20, lr=2e-2), 0.85),
]


@pytest.mark.parametrize("name,data,train,threshold", LEARNING, ids=[x[0] for x in LEARNING])
def test_offline_sample_learns(name, data, train, threshold):
    from studio.data.load import load_dataset
    from studio.train.trainer import Trainer
    accuracies = []
    for seed in SEEDS:
        project = load(SAMPLES[0].parent / f"{name}.studio.json")
        for k, v in data.items():
            setattr(project.data, k, v)
        for k, v in {**train, "seed": seed}.items():
            setattr(project.train, k, v)
        result = Trainer(project, load_dataset(project.data)).run()
        assert result.status == "finished", result.message
        accuracies.append(result.val_metric)
    median = statistics.median(accuracies)
    assert median >= threshold, f"{name}: median validation accuracy {median:.3f} over seeds {accuracies}"


def test_transformer_sample_is_attention_with_positions_and_a_mean_over_time():
    project = load(SAMPLES[0].parent / "waves_transformer.studio.json")
    m = project.model
    types = [m.type_of(n) for n in m.nodes()]
    assert types.index("PositionalEncoding") < types.index("TransformerEncoder") < types.index("Mean")
    (mean,) = m.of_type("Mean")
    assert m.shapes.info[mean].inputs[0].full() == "T×16 (T = 32)" and m.shapes.out(mean).full() == "16"
    assert (project.data.dataset, project.train.grad_clip) == ("waves", 1.0)


def test_sine_sample_regresses():
    from studio.data.load import load_dataset
    from studio.train.trainer import Trainer
    project = load(SAMPLES[0].parent / "sine_regression.studio.json")
    project.data.samples, project.train.epochs = 800, 15
    result = Trainer(project, load_dataset(project.data)).run()
    assert result.metric_name == "mae" and result.val_metric < 0.25, result
