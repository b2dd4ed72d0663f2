"""Attention layers for sequences: a Transformer encoder, the positional encoding it needs,
and the pieces a Vision Transformer adds around it.

Self-attention compares every step of a T×F sequence with every other step, so it sees
the whole sequence at once but not the order of the steps: a PositionalEncoding in front
adds that order back. To classify a whole sequence, average it over time with Mean (dims 1),
or put a ClassToken in front of it and read that step back with SelectStep (step 0), as
the Vision Transformer does; ImageToSequence makes an image's pixels (after a Conv2d with
kernel and stride the patch size: its patches) the steps.
"""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)


def need_sequence(title: str, x: Shape) -> Shape:
    if not x.seq or len(x) != 2 or x.dtype != "float":
        extra = " Add an Embedding first." if x.dtype == "long" else (
            " Use 'Image rows' to read an image row by row." if len(x) == 3 else "")
        raise ShapeError(f"{title} needs a sequence T×F, got {x.full()}.{extra}",
                         insert="ImageRows" if x.dtype != "long" and len(x) == 3 else None)
    return x


def _head_counts(features: int, most: int = 8) -> str:
    counts = [h for h in range(1, features + 1) if features % h == 0][:most]
    return ", ".join(map(str, counts))


def _encoder_infer(p, ins) -> Shape:
    x = need_sequence("Transformer encoder", ins[0])
    f, heads = x[1], p["nhead"]
    if f % heads:
        raise ShapeError(f"Transformer encoder: {heads} heads cannot share the {f} features of each step "
                         f"(each head gets F / heads of them, so heads must divide {f}). Head counts that "
                         f"work: {_head_counts(f)}; or change F with a Linear before it.")
    return x


def _encoder_weights(p, ins, _o) -> int:
    d, ff = ins[0][1], p["dim_feedforward"]
    # query/key/value and output projections (4 d×d + biases), two feed-forward Linears, two LayerNorms
    per_layer = (4 * d * d + 4 * d) + (d * ff + ff) + (ff * d + d) + 4 * d
    return p["num_layers"] * per_layer


def _encoder_macs(p, ins, _o) -> int:
    t, d = ins[0]
    ff = p["dim_feedforward"]
    # projections 4·T·d², scores Q·Kᵀ and their weighted sum of V 2·T²·d, feed-forward 2·T·d·ff
    return p["num_layers"] * (4 * t * d * d + 2 * t * t * d + 2 * t * d * ff)


TRANSFORMER_ENCODER = register(LayerSpec(
    type="TransformerEncoder", trainable=True, category="Attention", title="Transformer encoder",
    description=("Self-attention: every step of the sequence looks at every other step and takes a "
                 "weighted mix of them, the weights saying how relevant each step is; a small "
                 "feed-forward network then works on each step. T×F in, T×F out. Attention ignores "
                 "the order of the steps, so put a Positional encoding before it."),
    params=(
        Param("nhead", "int", 4, "Attention heads: each looks for its own pattern (must divide F)",
              1, 1024, label="Heads"),
        Param("dim_feedforward", "int", 128, "Width of the feed-forward network inside each layer",
              1, 65536, label="Feed-forward"),
        Param("num_layers", "int", 2, "Encoder layers stacked one after another", 1, 48, label="Layers"),
        Param("dropout", "float", 0.1, "Dropout inside each layer while training", 0.0, 0.99),
        Param("activation", "choice", "relu", "Activation of the feed-forward network",
              choices=("relu", "gelu")),
        Param("norm_first", "bool", False, "LayerNorm before attention (pre-norm): steadier when deep",
              label="Norm first"),
        Param("eps", "float", 1e-5, "Added to the LayerNorms' variance so it is never zero (ViT: 1e-6)",
              1e-12, 1.0, label="Norm eps"),
    ),
    inputs=IN, outputs=OUT, infer=_encoder_infer,
    ctor=lambda p, ins: Ctor("studio.TransformerEncoderStack", dict(
        d_model=ins[0][1], nhead=p["nhead"], dim_feedforward=p["dim_feedforward"],
        num_layers=p["num_layers"], dropout=p["dropout"], activation=p["activation"],
        norm_first=p["norm_first"], **({"layer_norm_eps": p["eps"]} if p["eps"] != 1e-5 else {}))),
    summary=lambda p: f"{p['nhead']} heads" + (f" ×{p['num_layers']}" if p["num_layers"] > 1 else ""),
    weights=_encoder_weights, macs=_encoder_macs, icon="attn",
))


def _position_infer(p, ins) -> Shape:
    x = need_sequence("Positional encoding", ins[0])
    if x[0] > p["max_len"]:
        raise ShapeError(f"Positional encoding knows {p['max_len']} positions, but the sequence has "
                         f"{x[0]} steps: set Max length to at least {x[0]}")
    return x


POSITIONAL_ENCODING = register(LayerSpec(
    type="PositionalEncoding", trainable=True, category="Attention", title="Positional encoding",
    description=("Adds a vector to each step that says where in the sequence it is, since attention "
                 "alone cannot tell the first step from the last. 'learned' trains one vector per "
                 "position; 'sinusoidal' uses fixed waves of different speeds and has no weights."),
    params=(
        Param("kind", "choice", "learned", "Trained position vectors, or fixed sine waves (no weights)",
              choices=("learned", "sinusoidal")),
        Param("max_len", "int", 256, "Longest sequence it can take (steps)", 1, 100000, label="Max length"),
    ),
    inputs=IN, outputs=OUT, infer=_position_infer,
    ctor=lambda p, ins: Ctor("studio.PositionalEncoding", dict(max_len=p["max_len"], features=ins[0][1],
                                                               kind=p["kind"])),
    summary=lambda p: f"{p['kind']} ≤{p['max_len']}",
    weights=lambda p, i, o: p["max_len"] * i[0][1] if p["kind"] == "learned" else 0,
    macs=lambda p, i, o: o.numel, icon="attn",
))


def _image_to_sequence_infer(p, ins) -> Shape:
    (x,) = ins
    if len(x) != 3 or x.seq or x.dtype != "float":
        raise ShapeError(f"Image to sequence needs an image C×H×W, got {x.full()}")
    c, h, w = x
    return Shape((h * w, c), seq=True)


IMAGE_TO_SEQUENCE = register(LayerSpec(
    type="ImageToSequence", category="Attention", title="Image to sequence",
    description=("Reads an image pixel by pixel, row by row, as a sequence: H·W steps of C features "
                 "each. After a Conv2d whose kernel size and stride are the patch size, each step is "
                 "one patch of the image, as the Vision Transformer reads it. No weights."),
    params=(), inputs=IN, outputs=OUT, infer=_image_to_sequence_infer,
    ctor=lambda p, ins: Ctor("studio.ImageToSequence", {}), icon="attn",
))


def _class_token_infer(p, ins) -> Shape:
    x = need_sequence("Class token", ins[0])
    return Shape((x[0] + 1, x[1]), seq=True)


CLASS_TOKEN = register(LayerSpec(
    type="ClassToken", trainable=True, category="Attention", title="Class token",
    description=("Puts one learned F vector in front of the sequence as an extra first step: T×F in, "
                 "(T+1)×F out. Through a Transformer encoder that step gathers what the whole sequence "
                 "says; read it back with Select step (step 0) to classify, as the Vision Transformer does."),
    params=(), inputs=IN, outputs=OUT, infer=_class_token_infer,
    ctor=lambda p, ins: Ctor("studio.ClassToken", dict(features=ins[0][1])),
    summary=lambda p: "+1 step first", weights=lambda p, i, o: i[0][1], icon="attn",
))


def _select_step_infer(p, ins) -> Shape:
    x = need_sequence("Select step", ins[0])
    t, step = x[0], p["step"]
    if not -t <= step < t:
        raise ShapeError(f"Select step {step} does not exist in a sequence of {t} steps: use 0 to {t - 1} "
                         f"from the start, or -1 to -{t} from the end")
    return Shape((x[1],))


SELECT_STEP = register(LayerSpec(
    type="SelectStep", category="Attention", title="Select step",
    description=("Passes on one step of a T×F sequence, an F vector: step 0 is the first (where a Class "
                 "token sits), -1 the last. No weights."),
    params=(Param("step", "int", 0, "Which step: 0 is the first, -1 the last", -100000, 99999),),
    inputs=IN, outputs=OUT, infer=_select_step_infer,
    ctor=lambda p, ins: Ctor("studio.SelectStep", dict(step=p["step"])),
    summary=lambda p: f"step {p['step']}", icon="attn",
))
