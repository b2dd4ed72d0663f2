"""The variational autoencoder's Gaussian latent: a code sampled with the
reparameterization trick, whose KL divergence from N(0, 1) joins the loss."""
from studio.graph.layers.activation import need_float
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register


def _latent_infer(p, ins) -> Shape:
    (x,) = ins
    need_float("Gaussian latent", x)
    if len(x) != 1 or x.seq:
        raise ShapeError(f"Gaussian latent needs a vector, got {x.full()}: add a Flatten first")
    return Shape((p["features"],))


GAUSSIAN_LATENT = register(LayerSpec(
    type="GaussianLatent", trainable=True, category="Dense & Shape", title="Gaussian latent",
    description=("The heart of a variational autoencoder. Two Linear maps give a mean μ and a log "
                 "variance for each latent feature; in training the output is a random code "
                 "z = μ + σ·ε, at inference it is μ. Its KL divergence from N(0, 1), times the KL "
                 "weight, is added to the loss, so codes fill a smooth space you can sample new "
                 "examples from."),
    params=(
        Param("features", "int", 8, "Latent features (size of the code)", 1, 65536),
        Param("kl_weight", "float", 1e-3, "Weight of the KL term in the loss", 0.0, 1000.0,
              label="KL weight"),
    ),
    inputs=(Port("in"),), outputs=(Port("out"),), infer=_latent_infer,
    ctor=lambda p, ins: Ctor("studio.GaussianLatent", dict(
        in_features=ins[0][0], features=p["features"], kl_weight=p["kl_weight"])),
    summary=lambda p: f"z {p['features']} · KL ×{p['kl_weight']:g}",
    weights=lambda p, i, o: 2 * (i[0][0] * p["features"] + p["features"]),
    macs=lambda p, i, o: 2 * i[0][0] * p["features"],
    icon="dense",
))
