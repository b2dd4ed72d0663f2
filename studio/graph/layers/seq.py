"""Recurrent layers and the token Embedding."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)


def _embedding_infer(p, ins) -> Shape:
    (x,) = ins
    if x.dtype != "long" or len(x) != 1:
        raise ShapeError(f"Embedding needs a sequence of token ids (an Input of kind 'tokens'), got {x.full()}")
    return Shape((x[0], p["embedding_dim"]), seq=True)


EMBEDDING = register(LayerSpec(
    type="Embedding", trainable=True, category="Recurrent", title="Embedding",
    description=("Looks up a learned vector for each token id, turning a sequence of T ids into a "
                 "T×E sequence. The vocabulary size comes from the Input."),
    params=(Param("embedding_dim", "int", 32, "Size E of each token's vector", 1, 65536, label="Size"),),
    inputs=IN, outputs=OUT, infer=_embedding_infer,
    ctor=lambda p, ins: Ctor("studio.TokenEmbedding", dict(num_embeddings=ins[0].vocab,
                                                           embedding_dim=p["embedding_dim"])),
    summary=lambda p: f"{p['embedding_dim']}",
    weights=lambda p, i, o: i[0].vocab * p["embedding_dim"], icon="rnn",
))

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _recurrent(kind: str, blurb: str) -> LayerSpec:
    gates = GATES[kind]

    def infer(p, ins) -> Shape:
        (x,) = ins
        if not x.seq or len(x) != 2 or x.dtype != "float":
            extra = " Add an Embedding first." if x.dtype == "long" else (
                " Use 'Image rows' to read an image row by row." if len(x) == 3 else "")
            raise ShapeError(f"{kind} needs a sequence T×F, got {x.full()}.{extra}",
                             insert="ImageRows" if x.dtype != "long" and len(x) == 3 else None)
        h = p["hidden_size"] * (2 if p["bidirectional"] else 1)
        if p["output"] == "last step":
            return Shape((h,))
        return Shape((x[0], h), seq=True)

    def weights(p, ins, _o) -> int:
        f, h, dirs = ins[0][-1], p["hidden_size"], 2 if p["bidirectional"] else 1
        total = 0
        for layer in range(p["num_layers"]):
            inp = f if layer == 0 else h * dirs
            total += dirs * gates * (h * inp + h * h + 2 * h)
        return total

    def macs(p, ins, _o) -> int:
        t, f = ins[0]
        h, dirs = p["hidden_size"], 2 if p["bidirectional"] else 1
        total = 0
        for layer in range(p["num_layers"]):
            inp = f if layer == 0 else h * dirs
            total += dirs * gates * (h * inp + h * h) * t
        return total

    return register(LayerSpec(
        type=kind, trainable=True, category="Recurrent", title=kind, description=blurb,
        params=(
            Param("hidden_size", "int", 64, "Size of the state carried between steps", 1, 65536, label="Hidden"),
            Param("num_layers", "int", 1, "Stacked recurrent layers", 1, 16, label="Layers"),
            Param("bidirectional", "bool", False, "Also read the sequence backwards"),
            Param("output", "choice", "last step", "Return every step (T×H) or only the last (H)",
                  choices=("last step", "all steps")),
            Param("dropout", "float", 0.0, "Dropout between stacked layers", 0.0, 0.99),
        ),
        inputs=IN, outputs=OUT, infer=infer,
        ctor=lambda p, ins: Ctor("studio.Recurrent", dict(
            kind=kind.lower(), input_size=ins[0][-1], hidden_size=p["hidden_size"],
            num_layers=p["num_layers"], bidirectional=p["bidirectional"], dropout=p["dropout"],
            last_only=p["output"] == "last step")),
        summary=lambda p: f"{p['hidden_size']}" + (f" ×{p['num_layers']}" if p["num_layers"] > 1 else "")
                          + (" bi" if p["bidirectional"] else "") + (" · last" if p["output"] == "last step" else " · all"),
        weights=weights, macs=macs, icon="rnn",
    ))


RNN = _recurrent("RNN", "A simple recurrent layer: a tanh state updated at each step. Over long "
                        "sequences its gradients vanish; LSTM and GRU were invented to fix that.")
LSTM = _recurrent("LSTM", "Long short-term memory: gates decide what to keep, forget and output, "
                          "so gradients survive long sequences.")
GRU = _recurrent("GRU", "A lighter LSTM with two gates instead of three; often as good.")
