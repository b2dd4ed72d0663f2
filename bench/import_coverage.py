"""Coverage of `studio import` over every torchvision classification model, and
output parity for a chosen set.

    python bench/import_coverage.py [--parity resnet18,...] [--only NAME,...] [--md FILE]

Coverage builds each model on the meta device (no memory, no weights) and
imports it at 3×224×224: "full" (catalogue layers only), "opaque" (with opaque
modules: how many, and the commonest reason), "whole model opaque" (its own
forward() does something no layer describes, so the model is one opaque node),
"failed" (with the reason). With blocks (the default import) it also shows the
nodes at the top level, the blocks at every level, and the submodules kept
flat (not one tensor in, one tensor out). Parity
builds the model with random weights and random BatchNorm statistics, imports
it, and compares the compiled Studio network with torchvision's own output on
a random batch of 2; it also compares parameter counts. Weights get a little
noise first, so zero-initialised layers (ViT's head) cannot hide a difference.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import torch

PARITY = ["resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0", "vgg11", "densenet121",
          "convnext_tiny", "regnet_y_400mf", "regnet_x_400mf", "mobilenet_v2", "shufflenet_v2_x0_5",
          "mnasnet1_0", "googlenet", "inception_v3", "swin_t", "vit_b_32"]


def coverage(name: str) -> dict:
    from studio.importer import ImportFailed, import_model
    t = time.perf_counter()
    try:
        r = import_model(f"torchvision:{name}", meta=True)
    except ImportFailed as e:
        return dict(name=name, status="failed", why=str(e), secs=time.perf_counter() - t)
    model = r.source.module
    total = sum(p.numel() for p in model.parameters())
    unused = sum(r.converted.unused.values())
    opaque = r.opaque
    why = ""
    if opaque:
        reasons = sorted({v for v in opaque.values()}, key=lambda v: list(opaque.values()).count(v))
        why = reasons[-1][:90]
    if unused:
        why = (why + "; " if why else "") + "unused in eval: " + ", ".join(r.converted.unused)
    status = "whole model opaque" if "" in r.converted.node_of else ("opaque" if opaque else "full")
    return dict(name=name, status=status, layers=r.layers, top=len(r.project.model), blocks=_blocks(r),
                flat=len(r.converted.flat),
                opaque=len(opaque), weights=r.weights, torch_weights=total - unused, unused=unused, why=why,
                secs=time.perf_counter() - t)


def _blocks(r) -> int:
    from studio.graph.blocks import walk
    return sum(1 for g, nid, _ in walk(r.project.model) if g.type_of(nid) == "Block")


def parity(name: str, size: int = 224) -> dict:
    from torchvision import models

    from studio.importer import compiled_with_weights, import_model
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = models.get_model(name).eval()
    with torch.no_grad():  # BatchNorm statistics off their defaults, so they must be carried over
        for p in model.parameters():  # and no zero-initialised head (ViT's) hides the rest
            p.add_(torch.randn_like(p) * 0.02)
        for mod in model.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
    from safetensors.torch import save_file
    with tempfile.TemporaryDirectory() as scratch:  # up to 2.5 GB (vit_h_14): never left behind
        path = os.path.join(scratch, f"{name}.safetensors")
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
        r = import_model(f"torchvision:{name}", weights=path, input=f"image:3,{size},{size}")
        gm = compiled_with_weights(r)
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        want, got = r.source.module(x), gm(x)
    return dict(name=name, diff=(want - got).abs().max().item(), scale=want.abs().max().item(),
                studio_params=sum(p.numel() for p in gm.parameters()),
                torch_params=sum(p.numel() for p in model.parameters()),
                unused=sum(r.converted.unused.values()), layers=r.layers, top=len(r.project.model),
                opaque=len(r.opaque))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated model names for the coverage table")
    ap.add_argument("--parity", default=",".join(PARITY), help="models to check outputs for ('' for none)")
    ap.add_argument("--md", help="also write the tables as Markdown to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from torchvision import models
    names = args.only.split(",") if args.only else models.list_models(module=models)
    lines = ["| model | result | layers | top nodes | blocks | kept flat | opaque | weights | = torchvision | note |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    counts = {"full": 0, "opaque": 0, "whole model opaque": 0, "failed": 0}
    for name in names:
        c = coverage(name)
        counts[c["status"]] += 1
        if c["status"] == "failed":
            row = f"| {name} | failed | | | | | | | | {c['why'][:160]} |"
        else:
            same = "yes" if c["weights"] == c["torch_weights"] else f"NO ({c['torch_weights']:,})"
            row = (f"| {name} | {c['status']} | {c['layers']} | {c['top']} | {c['blocks']} | {c['flat']} | "
                   f"{c['opaque']} | {c['weights']:,} | {same} | {c['why']} |")
        print(row, f"({c['secs']:.1f}s)", flush=True)
        lines.append(row)
    summary = (f"{len(names)} models: {counts['full']} full, {counts['opaque']} with opaque nodes, "
               f"{counts['whole model opaque']} kept whole as one opaque node, {counts['failed']} failed")
    print(summary)
    lines += ["", summary, "", "| model | max abs diff | output scale | Studio params | torchvision params | "
              "unused in eval | layers | top nodes | opaque |", "|---|---|---|---|---|---|---|---|---|"]
    for name in [n for n in args.parity.split(",") if n]:
        p = parity(name)
        row = (f"| {name} | {p['diff']:.2e} | {p['scale']:.2f} | {p['studio_params']:,} | {p['torch_params']:,} | "
               f"{p['unused']:,} | {p['layers']} | {p['top']} | {p['opaque']} |")
        print(row, flush=True)
        lines.append(row)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
