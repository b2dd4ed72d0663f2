"""torch's Transformer encoders as Studio's TransformerEncoder layer: nn.TransformerEncoder
(batch first, no final norm) and a lone nn.TransformerEncoderLayer, weights by name.

Kept apart from mapping.py's table (which registers these rules); a refusal is a
ValueError whose text says why, and mapping turns it into its NoLayer."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

ENCODERS = (nn.TransformerEncoder, nn.TransformerEncoderLayer)


def _layer_params(layer: nn.TransformerEncoderLayer) -> dict:
    attn = layer.self_attn
    if not attn.batch_first:
        raise ValueError("TransformerEncoderLayer without batch_first=True")
    if not attn._qkv_same_embed_dim or attn.in_proj_bias is None or attn.bias_k is not None \
            or attn.add_zero_attn or layer.linear1.bias is None or layer.linear2.bias is None:
        raise ValueError("TransformerEncoderLayer without biases, or with separate key/value sizes")
    norms = (layer.norm1, layer.norm2)
    if any(n.eps != 1e-5 or not n.elementwise_affine or n.bias is None for n in norms):
        raise ValueError("TransformerEncoderLayer whose LayerNorms are not the default (eps 1e-5, affine)")
    act = layer.activation
    if act is F.relu or type(act) is nn.ReLU:
        activation = "relu"
    elif act is F.gelu or (type(act) is nn.GELU and act.approximate == "none"):
        activation = "gelu"
    else:
        raise ValueError(f"TransformerEncoderLayer with activation {getattr(act, '__name__', act)!r}")
    return dict(nhead=attn.num_heads, dim_feedforward=layer.linear1.out_features, dropout=float(layer.dropout.p),
                activation=activation, norm_first=bool(layer.norm_first))


def encoder_params(m: nn.Module) -> dict:
    """The layer's params, or ValueError saying why `m` is not one."""
    if isinstance(m, nn.TransformerEncoderLayer):
        return dict(_layer_params(m), num_layers=1)
    if m.norm is not None:
        raise ValueError("TransformerEncoder with a final norm")
    params = [_layer_params(layer) for layer in m.layers]
    if not params or any(p != params[0] for p in params):
        raise ValueError("TransformerEncoder whose layers differ")
    return dict(params[0], num_layers=len(params))


def weights_holder(m: nn.Module) -> nn.Module:
    """A module whose state_dict names `m`'s weights as nn.TransformerEncoder does
    (layers.0.self_attn...), so they load into the layer by name."""
    if not isinstance(m, nn.TransformerEncoderLayer):
        return m
    holder = nn.Module()
    holder.layers = nn.ModuleList([m])
    return holder
