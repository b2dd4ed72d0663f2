"""Small torch modules for layers that torch.nn lacks as a module.

Each class imports only torch, because the code exporter copies their source
verbatim into generated `.py` files, which must run without Studio installed.
"""
import torch
from torch import nn


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, dim=self.dim)


class Reshape(nn.Module):
    def __init__(self, shape: tuple):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


class ImageRows(nn.Module):
    """C×H×W image to an H-step sequence of C·W features: one row per step."""

    def forward(self, x):
        n, c, h, w = x.shape
        return x.permute(0, 2, 1, 3).reshape(n, h, c * w)


class SeqBatchNorm1d(nn.Module):
    """BatchNorm over the features of a N×T×F sequence."""

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.bn = nn.BatchNorm1d(num_features, momentum=momentum, eps=eps)

    def forward(self, x):
        return self.bn(x.transpose(1, 2)).transpose(1, 2)


class Recurrent(nn.Module):
    """RNN, LSTM or GRU (batch first) that returns every step or only the last."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, last_only: bool = False):
        super().__init__()
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.rnn = cls(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                       bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.last_only = last_only
        self.dirs = 2 if bidirectional else 1

    def forward(self, x):
        out, h = self.rnn(x)
        if not self.last_only:
            return out
        if isinstance(h, tuple):  # LSTM returns (h, c)
            h = h[0]
        # h: (layers·dirs, N, H); the last layer's states, both directions.
        return torch.cat([h[h.shape[0] - self.dirs + i] for i in range(self.dirs)], dim=1)


class TokenEmbedding(nn.Module):
    """nn.Embedding that accepts float-typed token ids, as tensors from a CSV arrive."""

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__()
        self.emb = nn.Embedding(num_embeddings, embedding_dim)

    def forward(self, x):
        return self.emb(x.long())


class PositionalEncoding(nn.Module):
    """Adds a vector per position to a N×T×F sequence: learned (one trained vector per step)
    or fixed sines and cosines of falling frequencies ("Attention Is All You Need")."""

    def __init__(self, max_len: int, features: int, kind: str = "learned"):
        super().__init__()
        self.max_len, self.kind = max_len, kind
        if kind == "learned":
            self.pe = nn.Parameter(torch.randn(max_len, features) * 0.02)
        else:  # fixed: rebuilt here, not saved with the weights
            pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
            rate = torch.exp(torch.arange(0, features, 2, dtype=torch.float32)
                             * (-torch.log(torch.tensor(10000.0)) / features))
            pe = torch.zeros(max_len, features)
            pe[:, 0::2] = torch.sin(pos * rate)
            pe[:, 1::2] = torch.cos(pos * rate[: features // 2])
            self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        return x + self.pe[: x.shape[1]]


class TransformerEncoderStack(nn.Module):
    """nn.TransformerEncoder: `num_layers` copies of nn.TransformerEncoderLayer over a
    batch-first N×T×F sequence."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, num_layers: int = 1,
                 dropout: float = 0.1, activation: str = "relu", norm_first: bool = False):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def forward(self, x):
        return self.encoder(x)


class GaussianLatent(nn.Module):
    """μ and log σ² from one Linear; z = μ + σ·ε in training, μ otherwise.
    `kl` holds the last batch's weighted KL divergence from N(0, 1), for the loss."""

    def __init__(self, in_features: int, features: int, kl_weight: float = 1e-3):
        super().__init__()
        self.stats = nn.Linear(in_features, 2 * features)
        self.kl_weight = kl_weight
        self.kl = torch.zeros(())

    def forward(self, x):
        mu, logvar = self.stats(x).chunk(2, dim=1)
        logvar = logvar.clamp(-20.0, 20.0)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1).mean()
        self.kl = self.kl_weight * kl
        if not self.training:
            return mu
        return mu + (0.5 * logvar).exp() * torch.randn_like(mu)


class Mul(nn.Module):
    """Element-wise product with broadcasting: a C×1×1 gate scales a C×H×W image
    (squeeze-and-excitation)."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Mean(nn.Module):
    """Mean over the given dimensions (batch is 0), e.g. (2, 3): global average pooling."""

    def __init__(self, dims: tuple, keepdim: bool = False):
        super().__init__()
        self.dims = tuple(dims)
        self.keepdim = keepdim

    def forward(self, x):
        return x.mean(self.dims, keepdim=self.keepdim)


class StochasticDepth(nn.Module):
    """While training, drops the whole residual branch of a random subset of
    examples ("row") or of the whole batch ("batch"), rescaling the survivors."""

    def __init__(self, p: float, mode: str = "row"):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
        if keep > 0.0:
            noise.div_(keep)
        return x * noise


class OpaqueModule:
    """Rebuilds a submodule of the model it was imported from: `OpaqueModule(source,
    kwargs, path)` is that torch module itself (weights come from the state_dict
    afterwards). `source` is torchvision:<name>, file:<x.py>:<Class> (this runs that
    file) or onnx:<x.onnx>; `kwargs` is JSON text. Each model is built once."""

    built: dict = {}

    def __new__(cls, source: str, kwargs: str, path: str):
        import importlib.util
        import json
        model = cls.built.get((source, kwargs))
        if model is None:
            kind, _, rest = source.partition(":")
            args = json.loads(kwargs)
            if kind == "torchvision":
                from torchvision import models
                model = models.get_model(rest, **args)
            elif kind == "file":
                file, _, name = rest.rpartition(":")
                spec = importlib.util.spec_from_file_location("imported_model", file)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                model = getattr(mod, name)(**args)
            elif kind == "onnx":
                import onnx
                from onnx2torch import convert
                model = convert(onnx.load(rest))
            else:
                raise ValueError(f"unknown module source {source!r}")
            cls.built[(source, kwargs)] = model
        return model.get_submodule(path) if path else model


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of an N×C×H×W image (ConvNeXt's)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ChannelChunk(nn.Module):
    """One of `chunks` equal parts of an N×C×H×W image's channels: x.chunk(chunks, 1)[part]."""

    def __init__(self, chunks: int, part: int):
        super().__init__()
        self.chunks, self.part = chunks, part

    def forward(self, x):
        return x.chunk(self.chunks, 1)[self.part]


class Permute(nn.Module):
    """Reorders the dimensions (batch is 0): (0, 2, 3, 1) makes an N×C×H×W batch N×H×W×C."""

    def __init__(self, dims: tuple):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return torch.permute(x, self.dims)


class LayerScale(nn.Module):
    """Multiplies by a learned tensor of the given shape (C×1×1: one number per channel)."""

    def __init__(self, shape: tuple, init: float = 1e-6):
        super().__init__()
        self.init = init
        self.weight = nn.Parameter(torch.full(tuple(shape), float(init)))

    def forward(self, x):
        return x * self.weight
