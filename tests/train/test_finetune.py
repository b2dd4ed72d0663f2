"""Fine-tuning through `studio train`: an imported resnet18 with its stem frozen
trains from the imported weights, and the frozen weights stay bit-identical."""
from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from studio.cli.main import main
from tests.cli.test_cli_train import write_cifar

STEM = ("conv1", "bn1", "layer1")  # layer1: a block (BasicBlock ×2), frozen whole


def test_frozen_stem_is_bit_identical_after_training(tmp_path, capsys):
    root = tmp_path / "data"
    write_cifar(root, n_train=40, n_test=10)
    proj = tmp_path / "r18.studio.json"
    assert main(["import", "torchvision:resnet18", "--num-classes", "5", "--input", "image:3,32,32",
                 "-o", str(proj)]) == 0
    doc = json.loads(proj.read_text())
    assert doc["training"]["init_weights"] == "r18.weights.safetensors"
    for node in doc["graph"]["nodes"]:
        if node["id"] in STEM:
            node["params"]["frozen"] = True
        if node["id"] == "fc":  # a new head for CIFAR's 10 classes, learning faster
            node["params"].update(lr_mult=10.0, out_features=10)
    doc["training"].update(epochs=1, batch_size=20, optimizer="sgd", lr=0.05)
    proj.write_text(json.dumps(doc))
    out = tmp_path / "run"
    assert main(["train", str(proj), "--data-dir", str(root), "--out", str(out)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "init_weights: 2 tensors did not fit and started fresh (fc.weight, fc.bias)" in err
    before = load_file(str(tmp_path / "r18.weights.safetensors"))
    after = load_file(str(out / "last.safetensors"))
    after = {k.removeprefix("model."): v for k, v in after.items()}
    frozen = [k for k in before if k.split(".")[0] in STEM]
    assert len(frozen) == 6 + 24  # conv weight; bn weight, bias, running mean, var, batches tracked; 2 × 12
    for k in frozen:
        assert torch.equal(before[k], after[k]), k
    moved = [k for k in before if k.split(".")[0] not in STEM and k.endswith("weight")
             and not torch.equal(before[k], after[k])]
    assert "layer2.layer2_0.conv1.weight" in moved  # the rest (blocks' insides too) started from the import and trained
    assert after["fc.weight"].shape == (10, 512)


def test_lr_multiplier_scales_the_schedule():
    from studio.graph.builder import sequential
    from studio.graph.compile import compile_graph
    from studio.settings import TrainSettings
    from studio.train.finetune import param_groups
    from studio.train.optim import Schedule, make_optimizer
    m, ids = sequential([("Linear", {"out_features": 4}), ("ReLU", {}), ("Linear", {"out_features": 2})],
                        {"kind": "vector", "features": 3})
    m.set_param(ids[1], "lr_mult", 0.1)
    m.set_param(ids[3], "frozen", True)
    gm = compile_graph(m)
    groups, frozen = param_groups(gm, m, 0.5)
    opt = make_optimizer(groups, TrainSettings(optimizer="sgd"))
    Schedule(TrainSettings(lr=0.5), 1, 1).apply(opt, 0)
    assert [g["lr"] for g in opt.param_groups] == [0.05]
    assert frozen == [getattr(gm, ids[3])] and not any(p.requires_grad for p in frozen[0].parameters())
