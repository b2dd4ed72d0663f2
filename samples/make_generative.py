"""Write the generative samples: a convolutional autoencoder and a variational
autoencoder on the offline Shapes data.

    python samples/make_generative.py
"""
from __future__ import annotations

from make_samples import HERE, Layout, conv, project

from studio.graph.model import GraphModel
from studio.project.file import Project, save

SHAPES = dict(dataset="shapes", samples=3000, use_test_split=False, val_split=0.2)
RECONSTRUCT = {"loss": "mse", "task": "reconstruction"}


def _encoder(lay: Layout) -> None:
    lay.chain(("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}),
              conv(16), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
              conv(32), "ReLU", ("MaxPool2d", {"kernel_size": 2}), "Flatten")


def _decoder(lay: Layout) -> None:
    lay.chain(("Linear", {"out_features": 32 * 8 * 8}), "ReLU", ("Reshape", {"shape": [32, 8, 8]}),
              ("ConvTranspose2d", {"out_channels": 16}), "ReLU",
              ("ConvTranspose2d", {"out_channels": 3}), "Sigmoid", ("Output", RECONSTRUCT))


def shapes_autoencoder() -> Project:
    m = GraphModel()
    lay = Layout(m)
    _encoder(lay)
    lay.add("Linear", {"out_features": 16})
    _decoder(lay)
    return project(
        "Shapes autoencoder",
        "An encoder squeezes each 32×32 image into 16 numbers and a decoder (ConvTranspose2d layers "
        "that double the size) paints the image back; the Output compares the result with the input "
        "itself, so no labels are used. Train it and open Results: inputs beside their "
        "reconstructions. Then press Embedding… and choose the 16-number code (linear1): the shapes "
        "form clusters although the network never saw a label.",
        m, SHAPES, dict(optimizer="adam", lr=2e-3, batch_size=32, epochs=8))


def shapes_vae() -> Project:
    m = GraphModel()
    lay = Layout(m)
    _encoder(lay)
    lay.chain(("Linear", {"out_features": 128}), "ReLU",
              ("GaussianLatent", {"features": 8, "kl_weight": 1e-3}))
    _decoder(lay)
    return project(
        "Shapes variational autoencoder",
        "Like the autoencoder, but the code is a Gaussian latent: the encoder gives a mean and a "
        "spread for 8 latent features, training decodes a random sample from them, and a KL term "
        "(logged each epoch as kl) pulls the codes towards N(0, 1). Train it and open Results: new "
        "images decoded from random codes, and a walk between two inputs through the latent space. "
        "Raise the KL weight for smoother, blurrier samples.",
        m, SHAPES, dict(optimizer="adam", lr=2e-3, batch_size=32, epochs=10))


GENERATIVE = {"shapes_autoencoder": shapes_autoencoder, "shapes_vae": shapes_vae}


def main() -> None:
    for name, make in GENERATIVE.items():
        path = save(make(), HERE / f"{name}.studio.json")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
