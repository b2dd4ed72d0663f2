"""Small graphs exercising every layer type with several parameter settings.

Each specimen is Input → one layer (or two branches merged) → Output, so a
failure names exactly one layer and one setting.
"""
from __future__ import annotations

from studio.graph.builder import sequential
from studio.graph.model import GraphModel
from tests.graph.block_specimens import all_block_specimens

IMG = {"kind": "image", "channels": 3, "height": 8, "width": 8}
SEQ = {"kind": "sequence", "length": 5, "features": 6}
VEC = {"kind": "vector", "features": 12}
TOK = {"kind": "tokens", "length": 7, "vocab": 30}
MSE = {"loss": "mse", "task": "regression"}

# (label, input params, layer type, layer params)
SINGLE = [
    ("conv_default", IMG, "Conv2d", {"out_channels": 4}),
    ("conv_s2_p1_nobias", IMG, "Conv2d", {"out_channels": 5, "kernel_size": 3, "stride": 2, "padding": 1,
                                          "bias": False}),
    ("conv_k1", IMG, "Conv2d", {"out_channels": 2, "kernel_size": 1}),
    ("conv_k8_whole", IMG, "Conv2d", {"out_channels": 2, "kernel_size": 8}),
    ("maxpool", IMG, "MaxPool2d", {}),
    ("maxpool_k3_s1_p1", IMG, "MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}),
    ("avgpool", IMG, "AvgPool2d", {"kernel_size": 3, "stride": 2}),
    ("avgpool_p1", IMG, "AvgPool2d", {"kernel_size": 2, "padding": 1}),
    ("adaptive1", IMG, "AdaptiveAvgPool2d", {}),
    ("adaptive3", IMG, "AdaptiveAvgPool2d", {"output_size": 3}),
    ("bn2d", IMG, "BatchNorm2d", {"momentum": 0.5}),
    ("bn1d_vec", VEC, "BatchNorm1d", {}),
    ("bn1d_seq", SEQ, "BatchNorm1d", {"momentum": 0.3}),
    ("layernorm_vec", VEC, "LayerNorm", {}),
    ("layernorm_seq", SEQ, "LayerNorm", {}),
    ("layernorm_img", IMG, "LayerNorm", {}),
    ("layernorm2d", IMG, "LayerNorm2d", {"eps": 1e-6}),
    ("channel_shuffle", {**IMG, "channels": 6}, "ChannelShuffle", {"groups": 3}),
    ("channel_chunk", {**IMG, "channels": 6}, "ChannelChunk", {"chunks": 3, "part": 2}),
    ("channel_chunk_first", IMG, "ChannelChunk", {"chunks": 1}),
    ("dropout", VEC, "Dropout", {"p": 0.3}),
    ("dropout_img", IMG, "Dropout", {}),
    ("relu", IMG, "ReLU", {}),
    ("leaky", VEC, "LeakyReLU", {"negative_slope": 0.2}),
    ("sigmoid", SEQ, "Sigmoid", {}),
    ("tanh", VEC, "Tanh", {}),
    ("gelu", IMG, "GELU", {}),
    ("softmax_vec", VEC, "Softmax", {}),
    ("softmax_img", IMG, "Softmax", {}),
    ("softmax_seq", SEQ, "Softmax", {}),
    ("flatten_img", IMG, "Flatten", {}),
    ("flatten_seq", SEQ, "Flatten", {}),
    ("linear", VEC, "Linear", {"out_features": 7}),
    ("linear_nobias", VEC, "Linear", {"out_features": 3, "bias": False}),
    ("linear_seq", SEQ, "Linear", {"out_features": 4}),
    ("reshape_img", VEC, "Reshape", {"shape": [3, 2, -1]}),
    ("reshape_seq", VEC, "Reshape", {"shape": [4, 3], "sequence": True}),
    ("reshape_flat", IMG, "Reshape", {"shape": [-1]}),
    ("image_rows", IMG, "ImageRows", {}),
    ("embedding", TOK, "Embedding", {"embedding_dim": 5}),
    ("conv_groups_dilated", IMG, "Conv2d", {"out_channels": 6, "groups": 3, "dilation": 2, "padding": 2}),
    ("conv_depthwise_s2", IMG, "Conv2d", {"out_channels": 3, "groups": 3, "stride": 2, "padding": 1,
                                          "bias": False}),
    ("bn2d_eps", IMG, "BatchNorm2d", {"momentum": 0.01, "eps": 1e-3}),
    ("bn1d_seq_eps", SEQ, "BatchNorm1d", {"eps": 1e-3}),
    ("layernorm_eps", SEQ, "LayerNorm", {"eps": 1e-6}),
    ("relu6", IMG, "ReLU6", {}),
    ("maxpool_ceil", IMG, "MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("avgpool_ceil_p1", IMG, "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("silu", VEC, "SiLU", {}),
    ("hardswish", IMG, "Hardswish", {}),
    ("hardsigmoid", SEQ, "Hardsigmoid", {}),
    ("identity", SEQ, "Identity", {}),
    ("stochastic_depth", IMG, "StochasticDepth", {"p": 0.3}),
    ("stochastic_depth_batch", VEC, "StochasticDepth", {"p": 0.5, "mode": "batch"}),
    ("mean_hw", IMG, "Mean", {}),
    ("mean_keepdim", IMG, "Mean", {"dims": [-1, -2], "keepdim": True}),
    ("mean_seq_time", SEQ, "Mean", {"dims": [1]}),
    # An imported torchvision submodule (squeezenet1_1's first convolution), rebuilt from its reference.
    ("opaque_torchvision", IMG, "Opaque", {"module_type": "Conv2d", "source": "torchvision:squeezenet1_1",
                                           "path": "features.0", "in_dims": [3, 8, 8], "out_dims": [64, 3, 3],
                                           "weights": 1792}),
    ("tconv_default", IMG, "ConvTranspose2d", {}),
    ("tconv_k3_s2_p1_op1", IMG, "ConvTranspose2d", {"out_channels": 3, "kernel_size": 3, "stride": 2,
                                                    "padding": 1, "output_padding": 1, "bias": False}),
    ("tconv_s1", IMG, "ConvTranspose2d", {"out_channels": 2, "kernel_size": 3, "stride": 1}),
    ("upsample", IMG, "Upsample", {}),
    ("upsample_bilinear3", IMG, "Upsample", {"scale_factor": 3, "mode": "bilinear"}),
    ("gaussian_latent", VEC, "GaussianLatent", {"features": 4}),
    ("transformer", SEQ, "TransformerEncoder", {"nhead": 3, "dim_feedforward": 16}),
    ("transformer_prenorm_gelu", SEQ, "TransformerEncoder", {"nhead": 2, "num_layers": 1, "dropout": 0.0,
                                                             "activation": "gelu", "norm_first": True}),
    ("posenc_learned", SEQ, "PositionalEncoding", {}),
    ("posenc_sinusoidal_exact", SEQ, "PositionalEncoding", {"kind": "sinusoidal", "max_len": 5}),
    ("posenc_sinusoidal_odd", {**SEQ, "features": 5}, "PositionalEncoding", {"kind": "sinusoidal"}),
    ("permute_channels_last", IMG, "Permute", {}),
    ("permute_seq_negative", SEQ, "Permute", {"dims": [0, -1, 1]}),
    ("linear_per_position_img", IMG, "Linear", {"out_features": 4, "per_position": True}),
    ("layer_scale_img", IMG, "LayerScale", {"init": 0.5}),
    ("layer_scale_seq", SEQ, "LayerScale", {"init": 2.0}),
    ("layer_scale_vec", VEC, "LayerScale", {}),
]
for kind in ("RNN", "LSTM", "GRU"):
    SINGLE += [
        (f"{kind}_last", SEQ, kind, {"hidden_size": 8}),
        (f"{kind}_all", SEQ, kind, {"hidden_size": 8, "output": "all steps"}),
        (f"{kind}_bi_2layers_last", SEQ, kind, {"hidden_size": 4, "num_layers": 2, "bidirectional": True,
                                               "dropout": 0.2}),
        (f"{kind}_bi_2layers_all", SEQ, kind, {"hidden_size": 4, "num_layers": 2, "bidirectional": True,
                                              "output": "all steps"}),
    ]

# (label, input params, branch layers (type, params) x2, merge type)
MERGES = [
    ("add_img", IMG, ("Conv2d", {"out_channels": 4, "padding": 1}), ("Conv2d", {"out_channels": 4, "kernel_size": 1}),
     "Add"),
    ("add_vec", VEC, ("Linear", {"out_features": 6}), ("Linear", {"out_features": 6, "bias": False}), "Add3"),
    ("concat_img", IMG, ("Conv2d", {"out_channels": 4, "padding": 1}), ("ReLU", {}), "Concat"),
    ("concat_vec", VEC, ("Linear", {"out_features": 5}), ("Sigmoid", {}), "Concat"),
    ("concat_seq", SEQ, ("LSTM", {"hidden_size": 3, "output": "all steps"}), ("Linear", {"out_features": 2}),
     "Concat"),
    ("mul_squeeze_excite", IMG, ("AdaptiveAvgPool2d", {}), ("Conv2d", {"out_channels": 3, "padding": 1}), "Mul"),
    ("mul_vec", VEC, ("Sigmoid", {}), ("Linear", {"out_features": 12}), "Mul"),
]

OUTPUTS = [("out_ce", VEC, {"loss": "cross_entropy", "task": "classification"}),
           ("out_bce", VEC, {"loss": "bce_with_logits", "task": "classification"}),
           ("out_l1", SEQ, {"loss": "l1", "task": "regression"}),
           ("out_mse_img", IMG, MSE)]


def single(inp: dict, type_: str, params: dict) -> tuple[GraphModel, list[str]]:
    return sequential([(type_, params)], inp, MSE)


def merged(inp: dict, a: tuple, b: tuple, merge: str) -> GraphModel:
    """Input feeds branches a and b; the merge takes both (Add3: a, b and a third
    wire straight from b's input when shapes allow) and feeds Output."""
    m = GraphModel()
    i = m.add_node("Input", inp, nid="inp")
    na = m.add_node(*a, nid="branch_a")
    nb = m.add_node(*b, nid="branch_b")
    mg = m.add_node("Add" if merge == "Add3" else merge, nid="merge")
    o = m.add_node("Output", MSE, nid="out")
    m.connect(i, "out", na, "in")
    m.connect(i, "out", nb, "in")
    m.connect(na, "out", mg, "in")
    m.connect(nb, "out", mg, "in")
    if merge == "Add3":
        third = m.add_node("Linear", {"out_features": 6}, nid="branch_c")
        m.connect(i, "out", third, "in")
        m.connect(third, "out", mg, "in")
    m.connect(mg, "out", o, "in")
    return m


def all_specimens() -> list[tuple[str, GraphModel]]:
    out = [(label, single(inp, t, p)[0]) for label, inp, t, p in SINGLE]
    out += [(label, merged(inp, a, b, mg)) for label, inp, a, b, mg in MERGES]
    out += [(label, sequential([], inp, op)[0]) for label, inp, op in OUTPUTS]
    return out + all_block_specimens()
