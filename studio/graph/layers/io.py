"""Input and Output: where data enters the graph and where the loss is taken."""
from studio.graph.spec import LayerSpec, Param, Port, Shape, ShapeError, register

INPUT_KINDS = ("image", "sequence", "vector", "tokens")


def _input_shape(p, _ins) -> Shape:
    k = p["kind"]
    if k == "image":
        return Shape((p["channels"], p["height"], p["width"]))
    if k == "sequence":
        return Shape((p["length"], p["features"]), seq=True)
    if k == "tokens":
        return Shape((p["length"],), seq=True, dtype="long", vocab=p["vocab"])
    return Shape((p["features"],))


def _input_summary(p) -> str:
    return _input_shape(p, []).full()


INPUT = register(LayerSpec(
    type="Input", category="Input / Output", title="Input",
    description=("Where each example enters the network. Its shape is set by the dataset "
                 "you train on: an image C×H×W, a sequence of T steps with F features, a "
                 "flat vector of F numbers, or a sequence of T token ids for an Embedding."),
    params=(
        Param("kind", "choice", "image", "What one example looks like", choices=INPUT_KINDS),
        Param("channels", "int", 3, "Image colour channels (3 for RGB, 1 for grey)", 1, 4096),
        Param("height", "int", 32, "Image height in pixels", 1, 8192),
        Param("width", "int", 32, "Image width in pixels", 1, 8192),
        Param("length", "int", 32, "Sequence length T (time steps)", 1, 100000),
        Param("features", "int", 2, "Features per step, or the vector length", 1, 1000000),
        Param("vocab", "int", 1000, "Number of distinct token ids", 2, 10000000),
    ),
    inputs=(), outputs=(Port("out"),),
    infer=_input_shape, ctor=None, summary=_input_summary, icon="io",
))

LOSSES = ("cross_entropy", "mse", "bce_with_logits", "l1")
TASKS = ("classification", "regression", "reconstruction")
RECONSTRUCTION_LOSSES = ("mse", "l1", "bce_with_logits")
TASK_OF_LOSS = {"cross_entropy": "classification", "bce_with_logits": "classification",
                "mse": "regression", "l1": "regression"}


def _output_shape(p, ins) -> Shape:
    (x,) = ins
    if p["loss"] == "cross_entropy" and (len(x) != 1 or x.seq):
        raise ShapeError(
            f"Cross-entropy needs one score per class (a vector), got {x.label()}. "
            "End the network with Flatten and a Linear layer whose size is the number of classes.")
    if x.dtype != "float":
        raise ShapeError("The Output needs the network's predictions, not token ids")
    return x


OUTPUT = register(LayerSpec(
    type="Output", category="Input / Output", title="Output",
    description=("The network's prediction. It chooses the loss that training minimises: "
                 "cross-entropy for classes (the layer before gives one score per class, "
                 "no Softmax needed), mean squared error or L1 for numbers (regression), or "
                 "binary cross-entropy with logits for yes/no targets. As a reconstruction it "
                 "compares the output with the network's own input (images in 0..1), which is how "
                 "an autoencoder learns: end the decoder with a Sigmoid and use mean squared error."),
    params=(
        Param("loss", "choice", "cross_entropy", "What training minimises", choices=LOSSES),
        Param("task", "choice", "classification",
              "Predict a class or a number, or reconstruct the input (autoencoders)", choices=TASKS),
    ),
    inputs=(Port("in"),), outputs=(),
    infer=_output_shape, ctor=None, summary=lambda p: p["loss"].replace("_", "-"), icon="io",
))
