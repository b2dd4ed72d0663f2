"""torch's Transformer encoders as Studio's TransformerEncoder layer: nn.TransformerEncoder
(batch first, no final norm), a lone nn.TransformerEncoderLayer and torchvision's ViT
EncoderBlock (a pre-norm GELU encoder layer under other names), weights by name.

Kept apart from mapping.py's table (which registers these rules); a refusal is a
ValueError whose text says why, and mapping turns it into its NoLayer."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

try:  # torchvision's Vision Transformer block
    from torchvision.models.vision_transformer import EncoderBlock as TVEncoderBlock
except ImportError:  # pragma: no cover - torchvision is a dependency
    TVEncoderBlock = None

ENCODERS = (nn.TransformerEncoder, nn.TransformerEncoderLayer) + ((TVEncoderBlock,) if TVEncoderBlock else ())


def _layer_params(layer: nn.TransformerEncoderLayer) -> dict:
    attn = layer.self_attn
    if not attn.batch_first:
        raise ValueError("TransformerEncoderLayer without batch_first=True")
    if not attn._qkv_same_embed_dim or attn.in_proj_bias is None or attn.bias_k is not None \
            or attn.add_zero_attn or layer.linear1.bias is None or layer.linear2.bias is None:
        raise ValueError("TransformerEncoderLayer without biases, or with separate key/value sizes")
    norms = (layer.norm1, layer.norm2)
    if any(not n.elementwise_affine or n.bias is None for n in norms) or norms[0].eps != norms[1].eps:
        raise ValueError("TransformerEncoderLayer whose LayerNorms lack a learned scale and shift, or "
                         "differ in eps")
    act = layer.activation
    if act is F.relu or type(act) is nn.ReLU:
        activation = "relu"
    elif act is F.gelu or (type(act) is nn.GELU and act.approximate == "none"):
        activation = "gelu"
    else:
        raise ValueError(f"TransformerEncoderLayer with activation {getattr(act, '__name__', act)!r}")
    return dict(nhead=attn.num_heads, dim_feedforward=layer.linear1.out_features, dropout=float(layer.dropout.p),
                activation=activation, norm_first=bool(layer.norm_first), eps=float(norms[0].eps))


def encoder_params(m: nn.Module) -> dict:
    """The layer's params, or ValueError saying why `m` is not one."""
    if TVEncoderBlock is not None and isinstance(m, TVEncoderBlock):
        return dict(_layer_params(_as_encoder_layer(m)), num_layers=1)
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
    if TVEncoderBlock is not None and isinstance(m, TVEncoderBlock):
        m = _as_encoder_layer(m)
    elif not isinstance(m, nn.TransformerEncoderLayer):
        return m
    holder = nn.Module()
    holder.layers = nn.ModuleList([m])
    return holder


class _Renamed(nn.Module):
    """An EncoderBlock's own modules (shared, not copied) under nn.TransformerEncoderLayer's names,
    with the attributes `_layer_params` reads. Never run: it only names the weights."""

    def __init__(self, block):
        super().__init__()
        self.norm1, self.self_attn, self.norm2 = block.ln_1, block.self_attention, block.ln_2
        self.linear1, self.linear2 = block.mlp[0], block.mlp[3]
        self.dropout, self.activation, self.norm_first = block.mlp[2], block.mlp[1], True
        self.dropouts = (block.dropout, block.mlp[2], block.mlp[4], block.self_attention.dropout)


def _as_encoder_layer(block) -> _Renamed:
    """EncoderBlock computes x + dropout(attn(ln_1(x))), then x + mlp(ln_2(x)) with mlp = Linear,
    GELU, Dropout, Linear, Dropout: nn.TransformerEncoderLayer with norm_first=True and GELU, the
    same only when its one dropout rate is used everywhere (ViT's default: 0)."""
    mlp = block.mlp
    if len(mlp) != 5 or not isinstance(mlp[0], nn.Linear) or not isinstance(mlp[3], nn.Linear) \
            or not isinstance(mlp[2], nn.Dropout) or not isinstance(mlp[4], nn.Dropout):
        raise ValueError("EncoderBlock whose MLP is not Linear, GELU, Dropout, Linear, Dropout")
    if not isinstance(block.ln_1, nn.LayerNorm) or not isinstance(block.ln_2, nn.LayerNorm):
        raise ValueError("EncoderBlock whose norms are not LayerNorms")
    r = _Renamed(block)
    rates = {float(d.p) if isinstance(d, nn.Dropout) else float(d) for d in r.dropouts}
    if len(rates) != 1:
        raise ValueError("EncoderBlock whose dropout and attention dropout rates differ")
    r.dropout = nn.Dropout(rates.pop())
    return r
