"""The training-step graph: same parameters, bit-identical training, and the
user's network left as drawn."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import fx, nn

from studio.train.train_graph import training_graph


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.conv(x)
        return self.relu(y) + y  # the conv output has two users: its ReLU must not run in place


def net() -> fx.GraphModule:
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1),
                        nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, 1), Residual(), nn.Sigmoid(), nn.ReLU(),
                        nn.Flatten(), nn.Linear(8 * 13 * 13, 16), nn.ReLU(), nn.Linear(16, 5))
    return fx.symbolic_trace(seq)


def train(model, steps, channels_last=False, autocast=False):
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        x, y = torch.randn(8, 3, 30, 30, generator=g), torch.randint(0, 5, (8,), generator=g)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return torch.stack(losses)


def ops(gm: fx.GraphModule) -> list[str]:
    """The graph's operations in order: module types and function names."""
    out = []
    for n in gm.graph.nodes:
        if n.op == "call_module":
            out.append(type(gm.get_submodule(n.target)).__name__)
        elif n.op == "call_function":
            inplace = "_" if n.kwargs.get("inplace") else ""
            out.append(getattr(n.target, "__name__", str(n.target)) + inplace)
    return out


def test_rewrites_pool_first_and_in_place_relus_only_where_safe():
    gm = net()
    fast, n = training_graph(gm)
    got = ops(fast)
    # ReLU -> MaxPool became MaxPool -> ReLU (twice), in place on the pool's output.
    assert got[:4] == ["Conv2d", "MaxPool2d", "relu_", "Conv2d"]
    assert got[4:7] == ["BatchNorm2d", "MaxPool2d", "relu_"]
    # The residual's ReLU reads a conv output that the add reads too; the ReLU after the
    # Sigmoid would overwrite what Sigmoid's backward needs: both stay out of place.
    assert got.count("ReLU") == 2 and got.count("relu_") == 3
    assert n == 2 + 3
    # The user's network keeps its own graph and modules.
    assert ops(gm)[:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert fast.get_parameter("0.weight") is gm.get_parameter("0.weight")


@pytest.mark.parametrize("channels_last", [False, True])
def test_training_is_bit_identical(channels_last):
    plain = net()
    fast_base = copy.deepcopy(plain)
    fast, _ = training_graph(fast_base)
    if channels_last:
        plain, fast = (m.to(memory_format=torch.channels_last) for m in (plain, fast))
    a = train(plain, 4, channels_last)
    b = train(fast, 4, channels_last)
    assert torch.equal(a, b)
    for (name, p), q in zip(plain.state_dict().items(), fast_base.state_dict().values()):
        assert torch.equal(p, q), name  # BatchNorm's running statistics too


def test_output_linear_in_fp32_under_mixed_precision_only():
    gm = net()
    x = torch.randn(2, 3, 30, 30)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert training_graph(gm)[0](x).dtype == torch.bfloat16
        mixed, _ = training_graph(gm, mixed_precision=True)
        out = mixed(x)
    assert out.dtype == torch.float32
    assert ops(mixed)[-1] == "linear_fp32" and "Linear" in ops(mixed)  # only the last one
    out.sum().backward()
    assert gm.get_parameter("13.weight").grad.dtype == torch.float32
    train(mixed, 2, autocast=True)  # trains


def test_not_a_graph_module_or_nothing_to_do_is_returned_as_is():
    m = nn.Sequential(nn.Linear(2, 2))
    assert training_graph(m) == (m, 0)
    gm = fx.symbolic_trace(nn.Sequential(nn.Linear(2, 2), nn.Tanh()))
    assert training_graph(gm) == (gm, 0)


def test_hooks_on_the_network_run_for_the_steps_and_hooked_layers_stay():
    gm = net()
    seen = []
    gm.get_submodule("1").register_forward_hook(lambda m, i, o: seen.append(o.shape))  # the first ReLU
    fast, _ = training_graph(gm)
    assert ops(fast)[:3] == ["Conv2d", "ReLU", "MaxPool2d"]  # hooked: not moved after the pool
    gm.register_forward_pre_hook(lambda m, i: seen.append("pre"))  # added after: still runs
    fast(torch.randn(1, 3, 30, 30))
    assert seen == ["pre", torch.Size([1, 8, 28, 28])]
