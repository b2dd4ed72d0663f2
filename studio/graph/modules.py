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

    def __init__(self, num_features: int, momentum: float = 0.1):
        super().__init__()
        self.bn = nn.BatchNorm1d(num_features, momentum=momentum)

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
