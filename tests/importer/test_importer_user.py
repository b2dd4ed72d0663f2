"""The user's own modules, ONNX files and bad input, through `studio import`."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch

from studio.cli.main import main
from studio.graph import opaque
from studio.importer import ImportFailed, compiled_with_weights, import_model

USER_CODE = textwrap.dedent('''
    import torch
    from torch import nn


    class Gate(nn.Module):
        """A custom layer Studio has no layer for: a learned per-channel gate."""
        def __init__(self, c):
            super().__init__()
            self.scale = nn.Parameter(torch.full((c, 1, 1), 0.5))

        def forward(self, x):
            return x * torch.sigmoid(self.scale)


    class Net(nn.Module):
        def __init__(self, classes=4, width=8):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 3, padding=1)
            self.gate = Gate(width)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(width, classes)

        def forward(self, x):
            x = self.gate(torch.relu(self.conv(x)))
            return self.fc(torch.flatten(self.pool(x), 1))


    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 8)

        def forward(self, x):
            if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
                return self.lin(x)
            return -self.lin(x)


    class Untraceable(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = Branchy()
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc(self.body(x))


    class TextLSTM(nn.Module):
        def __init__(self, vocab=50, dim=8, hidden=16, classes=3):
            super().__init__()
            self.emb = nn.Embedding(vocab, dim)
            self.lstm = nn.LSTM(dim, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, classes)

        def forward(self, tokens):
            out, (h, c) = self.lstm(self.emb(tokens))
            return self.fc(h[-1])


    class TextGRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(40, 6)
            self.gru = nn.GRU(6, 10, num_layers=2, batch_first=True)
            self.fc = nn.Linear(10, 2)

        def forward(self, tokens):
            out, _ = self.gru(self.emb(tokens))
            return self.fc(out[:, -1])
''')


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "user_model.py"
    path.write_text(USER_CODE, encoding="utf-8")
    return path


@pytest.fixture
def fresh_consent():
    """Forget files trusted and modules built by earlier imports in this process."""
    opaque._trusted.clear()
    opaque._roots.clear()
    yield
    opaque._trusted.clear()
    opaque._roots.clear()


def test_custom_layer_becomes_an_opaque_node_with_its_weights(user_file):
    r = import_model(f"{user_file}:Net", input="image:3,16,16")
    m = r.project.model
    kept = [n for n in m.nodes() if m.type_of(n) == "Opaque"]
    assert kept == ["gate"] and r.opaque["gate"].startswith("get_attr")
    p = m.params("gate")
    assert (p["module_type"], p["path"], p["weights"]) == ("Gate", "gate", 8)
    assert p["source"] == f"file:{user_file.resolve()}:Net"
    assert r.weights == sum(q.numel() for q in r.source.module.parameters())
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - r.source.module(x)).abs().max() <= 1e-6


def test_user_module_with_opaque_node_trains_only_with_consent(user_file, tmp_path, capsys, fresh_consent):
    proj = tmp_path / "net.studio.json"
    assert main(["import", f"{user_file}:Net", "--input", "image:3,32,32", "-o", str(proj)]) == 0
    assert "running Python code from" in capsys.readouterr().err
    doc = json.loads(proj.read_text())
    assert "def forward" not in proj.read_text()  # a reference, not code
    doc["data"] = {"dataset": "shapes", "samples": 96}
    doc["training"] = {"epochs": 1, "batch_size": 16}
    proj.write_text(json.dumps(doc))
    opaque._trusted.clear()
    opaque._roots.clear()  # as in a new session: nothing trusted, nothing built
    assert main(["train", str(proj), "--out", str(tmp_path / "r1")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("studio: error")]
    assert len(err) == 1 and "--trust-code" in err[0] and "user_model.py" in err[0]
    assert main(["train", str(proj), "--out", str(tmp_path / "r2"), "--trust-code", str(user_file)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epochs"] == 1


def test_loading_a_project_never_runs_its_code(user_file, tmp_path, fresh_consent):
    """Opening and re-inferring shapes needs no code: the node records its shapes."""
    r = import_model(f"{user_file}:Net", input="image:3,16,16")
    from studio.project.file import loads, dumps
    text = dumps(r.project)
    opaque._trusted.clear()
    opaque._roots.clear()
    user_file.write_text("raise SystemExit('user code ran')\n")  # would abort the test if run
    p = loads(text)
    assert p.model.shapes.out("gate").dims == (8, 16, 16)
    inp = next(n for n in p.model.nodes() if p.model.type_of(n) == "Input")
    p.model.set_param(inp, "height", 20)  # a new shape would need the module: refused, clearly
    assert "--trust-code" in p.model.shapes.error("gate")


@pytest.mark.parametrize("cls,layers", [("TextLSTM", ["Input", "Embedding", "LSTM", "Linear", "Output"]),
                                        ("TextGRU", ["Input", "Embedding", "GRU", "Linear", "Output"])])
def test_embedding_recurrent_linear_imports_as_catalogue_layers(user_file, cls, layers):
    r = import_model(f"{user_file}:{cls}", input="tokens:12")
    m = r.project.model
    assert sorted(m.type_of(n) for n in m.nodes()) == sorted(layers)
    rec = next(n for n in m.nodes() if m.type_of(n) in ("LSTM", "GRU"))
    assert m.params(rec)["output"] == "last step"
    x = torch.randint(0, 40, (3, 12))
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - r.source.module(x)).abs().max() <= 1e-5


def test_untraceable_code_names_where_fx_stopped_and_opaque_gets_past_it(user_file, tmp_path, capsys):
    spec = f"{user_file}:Untraceable"
    assert main(["import", spec, "--input", "vector:4", "-o", str(tmp_path / "u.studio.json")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("studio: error")]
    assert len(err) == 1
    assert "user_model.py:" in err[0] and "'body'" in err[0] and "--opaque body" in err[0]
    assert main(["import", spec, "--input", "vector:4", "--opaque", "body", "-o", str(tmp_path / "u.studio.json")]) == 0
    r = import_model(spec, input="vector:4", opaque_paths=["body"])
    assert r.opaque == {"body": "kept opaque on request"}


@pytest.mark.parametrize("make_args,expect", [
    (lambda f, t: [f"{f}:Nope"], "no nn.Module class named Nope"),
    (lambda f, t: [f"{f}:Net", "--kwargs", '{"bogus": 1}'], "does not accept these arguments"),
    (lambda f, t: [f"{f}:Net", "--kwargs", "[1, 2"], "--kwargs must be a JSON object"),
    (lambda f, t: [f"{t / 'notes.txt'}:Net"], "is not a Python file"),
    (lambda f, t: [f"{t / 'broken.py'}:Net"], "is not valid Python"),
    (lambda f, t: [f"{t / 'missing.py'}:Net"], "No Python file at"),
    (lambda f, t: ["torchvision:resnet19"], "torchvision has no classification model 'resnet19'"),
    (lambda f, t: ["resnet18"], "cannot tell what 'resnet18' is"),
    (lambda f, t: ["timm:resnet18"], "timm"),
    (lambda f, t: ["torchvision:resnet18", "--opaque", "layer9"], "no submodule 'layer9'"),
    (lambda f, t: ["torchvision:resnet18", "--input", "image:3,32"], "--input"),
    (lambda f, t: [str(t / "missing.onnx")], "No ONNX file at"),
])
def test_bad_input_exits_2_with_one_line(user_file, tmp_path, capsys, make_args, expect):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.py").write_text("def (:\n")
    code = main(["import", *make_args(user_file, tmp_path), "-o", str(tmp_path / "x.studio.json")])
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("studio: running")]
    assert code == 2
    assert len(err) == 1 and err[0].startswith("studio: error:") and expect in err[0], err


def test_weights_that_do_not_fit_are_refused(tmp_path, capsys):
    from safetensors.torch import save_file
    save_file({"fc.weight": torch.zeros(3, 3)}, str(tmp_path / "w.safetensors"))
    assert main(["import", "torchvision:resnet18", "--weights", str(tmp_path / "w.safetensors"),
                 "-o", str(tmp_path / "x.studio.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not fit the model" in err[0] and "missing" in err[0]


def test_pretrained_offline_names_the_cache_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*a, **k):
        raise OSError("network is unreachable")
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(ImportFailed) as e:
        import_model("torchvision:resnet18", pretrained=True)
    assert str(tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in str(e.value)
    assert "\n" not in str(e.value)


def test_pretrained_reads_the_cache_and_replaces_the_head(tmp_path, monkeypatch):
    from torchvision import models
    ref = models.resnet18().eval()
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(ref.state_dict(), cache / "resnet18-f37072fd.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    r = import_model("torchvision:resnet18", pretrained=True, num_classes=3, input="image:3,32,32")
    gm = compiled_with_weights(r)
    assert torch.equal(gm.conv1.weight, ref.conv1.weight)
    assert gm.fc.weight.shape == (3, 512)


def test_onnx_file_imports_through_onnx2torch(tmp_path):
    import warnings
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.randn(1, 3, 8, 8),), str(tmp_path / "net.onnx"), dynamo=False)
    r = import_model(str(tmp_path / "net.onnx"))
    m = r.project.model
    assert sorted(m.type_of(n) for n in m.nodes()) == ["Conv2d", "Flatten", "Input", "Linear", "MaxPool2d",
                                                       "Output", "ReLU"]
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - net(x)).abs().max() <= 1e-5


def test_model_whose_own_forward_is_not_layers_is_kept_whole(tmp_path):
    (tmp_path / "scaled.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.scale = nn.Parameter(torch.full((3,), 2.0))

            def forward(self, x):
                return self.fc(x) + self.scale  # a learned offset held bare: no layer
    '''))
    r = import_model(f"{tmp_path / 'scaled.py'}:Scaled", input="vector:4")
    m = r.project.model
    assert sorted(m.type_of(n) for n in m.nodes()) == ["Input", "Opaque", "Output"]
    assert "own forward()" in r.opaque["model"] and r.weights == 4 * 3 + 3 + 3
    x = torch.randn(2, 4)
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - r.source.module(x)).abs().max() <= 1e-6


def test_a_reference_never_asks_torchvision_to_download(fresh_consent):
    from studio.graph.opaque import OpaqueUnavailable, build
    with pytest.raises(OpaqueUnavailable, match="published weights"):
        build("torchvision:resnet18", '{"weights": "DEFAULT"}', "fc")
    with pytest.raises(OpaqueUnavailable, match="--trust-code"):
        build("file:/nonexistent/evil.py:Net", "{}", "")
    assert build("torchvision:resnet18", '{"num_classes": 3}', "fc").out_features == 3


def test_a_decoder_imports_with_transposed_convolution_and_upsampling(tmp_path):
    (tmp_path / "dec.py").write_text(textwrap.dedent('''
        from torch import nn

        class Decoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
                self.grow = nn.Upsample(scale_factor=2, mode="bilinear")
                self.odd = nn.ConvTranspose2d(3, 2, 2, stride=2, groups=1, dilation=2)  # no such layer

            def forward(self, x):
                return self.odd(self.grow(self.up(x)))
    '''))
    r = import_model(f"{tmp_path / 'dec.py'}:Decoder", input="image:4,5,5")
    m = r.project.model
    assert [m.type_of(n) for n in ("up", "grow", "odd")] == ["ConvTranspose2d", "Upsample", "Opaque"]
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - r.source.module(x)).abs().max() <= 1e-5


def test_python_export_of_an_opaque_node_passes_the_source_check(user_file, tmp_path, capsys):
    proj = tmp_path / "net.studio.json"
    assert main(["import", f"{user_file}:Net", "--input", "image:3,16,16", "-o", str(proj)]) == 0
    out = tmp_path / "net.py"
    assert main(["export", str(proj), "--weights", str(tmp_path / "net.weights.safetensors"), "--format",
                 "python", "--no-parity", "-o", str(out)]) == 0, capsys.readouterr().err
    assert "verified" in capsys.readouterr().out
    assert f"OpaqueModule(source={f'file:{user_file.resolve()}:Net'!r}" in out.read_text()
