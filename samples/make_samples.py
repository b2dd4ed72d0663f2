"""Write the sample projects in samples/ (except cifar10_cnn, which is kept as it is).

    python samples/make_samples.py

Nodes are placed by studio.graph.layout, as the canvas's Auto-layout (Ctrl+L) places
them: rows of at most 5 cards that wrap like text, residual skips on a row of their own.
The seed CNN keeps its graph; only its positions are re-laid out the same way.
"""
from __future__ import annotations

from pathlib import Path

from studio.graph.layout import positions
from studio.graph.model import GraphModel
from studio.project.file import Project, load, save
from studio.settings import DataSettings, TrainSettings

HERE = Path(__file__).resolve().parent


def lay_out(m: GraphModel) -> None:
    """Every node where Auto-layout (Ctrl+L) would put it."""
    for nid, p in positions(m.nodes(), [(e.src, e.dst) for e in m.edges()]).items():
        m.move(nid, p)


class Layout:
    """Adds nodes and wires each to the previous one; `project` lays them out."""

    def __init__(self, model: GraphModel):
        self.m, self.prev = model, None

    def add(self, type_: str, params: dict | None = None, wire: bool = True) -> str:
        nid = self.m.add_node(type_, params or {})
        if wire and self.prev is not None:
            self.m.connect(self.prev, "out", nid, "in")
        self.prev = nid
        return nid

    def chain(self, *layers) -> str:
        for item in layers:
            type_, params = (item, {}) if isinstance(item, str) else item
            self.add(type_, params)
        return self.prev


def conv(c: int, k: int = 3, pad: int = 1, bias: bool = True):
    return ("Conv2d", {"out_channels": c, "kernel_size": k, "padding": pad, "bias": bias})


def conv_bn(lay: Layout, c: int) -> str:
    return lay.chain(conv(c, bias=False), "BatchNorm2d", "ReLU")


def project(name, description, model, data: dict, train: dict) -> Project:
    lay_out(model)
    return Project(model=model, name=name, description=description,
                   data=DataSettings(**data), train=TrainSettings(**train))


def cifar10_resnet() -> Project:
    """ResNet-9 style (Myrtle's DAWNBench net): two residual blocks with Add skips."""
    m = GraphModel()
    lay = Layout(m)
    lay.add("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32})
    conv_bn(lay, 64)
    for c, residual in ((128, True), (256, False), (512, True)):
        conv_bn(lay, c)
        block_in = lay.chain(("MaxPool2d", {"kernel_size": 2}))
        if residual:
            conv_bn(lay, c)
            last = conv_bn(lay, c)
            add = lay.add("Add", wire=False)
            m.connect(block_in, "out", add, "in")
            m.connect(last, "out", add, "in")
    lay.chain(("MaxPool2d", {"kernel_size": 4}), "Flatten", ("Linear", {"out_features": 10}), "Output")
    return project(
        "CIFAR-10 ResNet",
        "A small residual network (ResNet-9): convolutions with BatchNorm, and two residual blocks "
        "whose Add layers let the signal skip ahead. Trained with random crops and flips, SGD with "
        "Nesterov momentum, a one-cycle learning rate and label smoothing. Aims for over 90% test "
        "accuracy in 30 epochs: a few minutes on a GPU, far too slow on a CPU.",
        m, dict(dataset="cifar10", augment_crop=4, augment_flip=True),
        dict(optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="onecycle",
             batch_size=256, epochs=30, label_smoothing=0.1, precision="bf16"))


def cifar10_mlp() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}), "Flatten",
                    ("Linear", {"out_features": 512}), "ReLU", ("Dropout", {"p": 0.2}),
                    ("Linear", {"out_features": 256}), "ReLU", ("Linear", {"out_features": 10}), "Output")
    return project(
        "CIFAR-10 MLP",
        "A fully connected baseline: every pixel goes into dense layers, with no idea that nearby "
        "pixels belong together. Reaches about 50-55% test accuracy; compare it with the CNN to see "
        "what convolutions buy.",
        m, dict(dataset="cifar10"), dict(optimizer="adam", lr=1e-3, batch_size=128, epochs=20))


def cifar10_lstm() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}), "ImageRows",
                    ("LSTM", {"hidden_size": 128}), ("Linear", {"out_features": 10}), "Output")
    return project(
        "CIFAR-10 LSTM",
        "An LSTM reads each image one row at a time (32 steps of 3×32 colour values) and classifies "
        "it from its final state. A recurrent network is not the natural tool for photos, but it "
        "learns: expect about 55% test accuracy.",
        m, dict(dataset="cifar10"), dict(optimizer="adam", lr=1e-3, batch_size=128, epochs=15))


def shapes_cnn() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}),
                    conv(16), "ReLU", ("MaxPool2d", {"kernel_size": 2}), conv(32), "ReLU",
                    ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Linear", {"out_features": 64}), "ReLU",
                    ("Linear", {"out_features": 4}), "Output")
    return project(
        "Shapes CNN",
        "A small CNN that tells circles, squares, triangles and crosses apart in generated 32×32 "
        "images. Needs no download and trains on a laptop CPU in under two minutes to over 90% "
        "validation accuracy.",
        m, dict(dataset="shapes", samples=3000, use_test_split=False, val_split=0.2),
        dict(optimizer="adam", lr=2e-3, batch_size=32, epochs=8))


def waves_lstm() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "sequence", "length": 32, "features": 1}),
                    ("LSTM", {"hidden_size": 32}), ("Linear", {"out_features": 4}), "Output")
    return project(
        "Waves LSTM",
        "An LSTM listens to generated signals step by step and says whether each is a sine, square, "
        "sawtooth or noise. Shows the T×F sequence shapes on the wires; trains offline on a CPU in "
        "well under two minutes to over 90% validation accuracy. Gradient clipping (max norm 1) keeps "
        "the recurrent updates steady, so it learns the same on any CPU.",
        m, dict(dataset="waves", samples=2000, use_test_split=False, val_split=0.2),
        dict(optimizer="adam", lr=5e-3, batch_size=32, epochs=15, grad_clip=1.0))


def waves_transformer() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "sequence", "length": 32, "features": 1}),
                    ("Linear", {"out_features": 16}), ("PositionalEncoding", {"max_len": 32}),
                    ("TransformerEncoder", {"nhead": 4, "dim_feedforward": 32, "num_layers": 1, "dropout": 0.0}),
                    ("Mean", {"dims": [1]}), ("Linear", {"out_features": 4}), "Output")
    return project(
        "Waves Transformer",
        "The waves of the LSTM sample, told apart by attention instead: a Linear turns each step's value "
        "into 16 features, the positional encoding adds where each step is, and the Transformer encoder "
        "lets every step look at every other. Mean (over dimension 1, time) averages the steps into one "
        "vector for the classifier. Trains offline on a CPU in under a minute to over 90% validation "
        "accuracy.",
        m, dict(dataset="waves", samples=2000, use_test_split=False, val_split=0.2),
        dict(optimizer="adam", lr=2e-3, batch_size=32, epochs=15, grad_clip=1.0))


def spiral_mlp() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "vector", "features": 2}), ("Linear", {"out_features": 64}), "ReLU",
                    ("Linear", {"out_features": 64}), "ReLU", ("Linear", {"out_features": 2}), "Output")
    return project(
        "Spiral MLP",
        "A tiny network learns to separate two interleaved spiral arms of 2-D points, a shape no "
        "straight line can split. Trains in seconds; try removing a hidden layer or swapping ReLU "
        "for Sigmoid and watch it struggle.",
        m, dict(dataset="spiral", samples=2000, use_test_split=False, val_split=0.2),
        dict(optimizer="adam", lr=1e-2, batch_size=32, epochs=20))


def sine_regression() -> Project:
    m = GraphModel()
    Layout(m).chain(("Input", {"kind": "vector", "features": 1}), ("Linear", {"out_features": 32}), "Tanh",
                    ("Linear", {"out_features": 32}), "Tanh", ("Linear", {"out_features": 1}),
                    ("Output", {"loss": "mse", "task": "regression"}))
    return project(
        "Sine regression",
        "Regression instead of classes: a small network learns the curve y = sin(x) from noisy "
        "samples, minimising mean squared error. The metric is the mean absolute error (MAE).",
        m, dict(dataset="sine", samples=2000, use_test_split=False, val_split=0.2),
        dict(optimizer="adam", lr=1e-2, batch_size=32, epochs=30))


SAMPLES = {"cifar10_resnet": cifar10_resnet, "cifar10_mlp": cifar10_mlp, "cifar10_lstm": cifar10_lstm,
           "shapes_cnn": shapes_cnn, "waves_lstm": waves_lstm,
           "waves_transformer": waves_transformer, "spiral_mlp": spiral_mlp,
           "sine_regression": sine_regression}


def relayout_seed_cnn() -> None:
    """Positions only: the seed CNN's graph and settings stay exactly as they are."""
    path = HERE / "cifar10_cnn.studio.json"
    proj = load(path)
    lay_out(proj.model)
    save(proj, path)


def main() -> None:
    relayout_seed_cnn()
    for name, make in SAMPLES.items():
        path = save(make(), HERE / f"{name}.studio.json")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
