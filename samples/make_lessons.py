"""Write the lesson samples: pairs of projects that make one idea of the primer
visible when both are trained and their runs compared.

    python samples/make_lessons.py

- vanishing gradients: a 10-layer sigmoid MLP, and the same depth with ReLU + BatchNorm;
- overfitting: a wide MLP on 200 images, and the same with dropout, weight decay
  and augmentation.
"""
from __future__ import annotations

from make_samples import HERE, Layout, project

from studio.graph.model import GraphModel
from studio.project.file import Project, save

DEPTH, WIDTH = 10, 32
SPIRAL = dict(dataset="spiral", samples=2000, use_test_split=False, val_split=0.2)
FEW_SHAPES = dict(dataset="shapes", samples=400, use_test_split=False, val_split=0.5)


def _deep_mlp(activation: str, batchnorm: bool) -> GraphModel:
    m = GraphModel()
    lay = Layout(m)
    lay.add("Input", {"kind": "vector", "features": 2})
    for _ in range(DEPTH):
        lay.add("Linear", {"out_features": WIDTH})
        if batchnorm:
            lay.add("BatchNorm1d")
        lay.add(activation)
    lay.chain(("Linear", {"out_features": 2}), "Output")
    return m


def lesson_vanishing_sigmoid() -> Project:
    return project(
        "Lesson: vanishing gradients (sigmoid)",
        "Ten Linear + Sigmoid layers on the spiral. Train it and open Curves: the gradient-norm plot "
        "(log scale) shows the first layers' gradients about a billion times smaller than the last "
        "layer's, because each sigmoid multiplies the gradient by at most 0.25. Accuracy stays at "
        "chance (50%). Then open 'Lesson: vanishing gradients (ReLU + BatchNorm)' and train it: the "
        "same depth learns.",
        _deep_mlp("Sigmoid", False), SPIRAL, dict(optimizer="adam", lr=3e-3, batch_size=32, epochs=10))


def lesson_vanishing_relu_bn() -> Project:
    return project(
        "Lesson: vanishing gradients (ReLU + BatchNorm)",
        "The same ten layers as the sigmoid lesson, with ReLU and BatchNorm. Train it and compare the "
        "gradient-norm plot: every layer now gets gradients of similar size, and the spiral is "
        "learned to about 99% in ten epochs. Try removing the BatchNorm layers, or putting Sigmoid "
        "back in one place, and train again.",
        _deep_mlp("ReLU", True), SPIRAL, dict(optimizer="adam", lr=3e-3, batch_size=32, epochs=10))


def _wide_mlp(dropout: float) -> GraphModel:
    m = GraphModel()
    lay = Layout(m)
    lay.chain(("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}), "Flatten")
    for _ in range(2):
        lay.chain(("Linear", {"out_features": 256}), "ReLU")
        if dropout:
            lay.add("Dropout", {"p": dropout})
    lay.chain(("Linear", {"out_features": 4}), "Output")
    return m


def lesson_overfitting() -> Project:
    return project(
        "Lesson: overfitting",
        "A wide MLP (about 800k weights) trained on only 200 shape images. Train it and watch the loss "
        "plot: the training loss falls to almost zero and training accuracy reaches 100%, while the "
        "validation loss stops falling after a few epochs and then climbs: the network memorises the "
        "examples instead of learning shapes. Then open 'Lesson: overfitting, cured'.",
        _wide_mlp(0.0), FEW_SHAPES, dict(optimizer="adam", lr=1e-3, batch_size=32, epochs=40))


def lesson_overfitting_cured() -> Project:
    return project(
        "Lesson: overfitting, cured",
        "The same wide MLP and the same 200 images, with Dropout (p 0.5), weight decay (AdamW, 0.05) "
        "and random crops and flips. Train it and compare with the overfitting lesson: the training "
        "and validation losses now stay close together. The strongest cure is more data: set "
        "Examples to 4000 and train again.",
        _wide_mlp(0.5), dict(FEW_SHAPES, augment_crop=4, augment_flip=True),
        dict(optimizer="adamw", lr=1e-3, weight_decay=0.05, batch_size=32, epochs=40))


LESSONS = {"lesson_vanishing_sigmoid": lesson_vanishing_sigmoid,
           "lesson_vanishing_relu_bn": lesson_vanishing_relu_bn,
           "lesson_overfitting": lesson_overfitting,
           "lesson_overfitting_cured": lesson_overfitting_cured}


def main() -> None:
    for name, make in LESSONS.items():
        path = save(make(), HERE / f"{name}.studio.json")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
