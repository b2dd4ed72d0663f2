import torch
from torch import nn

from studio.graph.builder import sequential
from studio.graph.compile import compile_graph

SEED = [("Conv2d", {"out_channels": 32, "kernel_size": 3}), "ReLU", "MaxPool2d",
        ("Conv2d", {"out_channels": 64, "kernel_size": 3}), "ReLU", "MaxPool2d",
        ("Conv2d", {"out_channels": 64, "kernel_size": 3}), "ReLU", "Flatten",
        ("Linear", {"out_features": 64}), "ReLU", ("Linear", {"out_features": 10})]


def test_seed_cnn_shapes_params_and_outputs():
    m, ids = sequential(SEED)
    shapes = [m.shapes.out(n).dims for n in ids]
    assert shapes[7] == (64, 4, 4) and shapes[9] == (1024,)
    assert m.shapes.totals()[0] == 122_570
    gm = compile_graph(m)
    assert sum(p.numel() for p in gm.parameters()) == 122_570
    ref = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 64),
                        nn.ReLU(), nn.Linear(64, 10))
    ref.load_state_dict(dict(zip(ref.state_dict().keys(), gm.state_dict().values())))
    x = torch.randn(4, 3, 32, 32)
    torch.testing.assert_close(gm(x), ref(x), atol=1e-6, rtol=1e-6)
