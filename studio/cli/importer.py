"""`studio import`: an existing PyTorch model as a Studio project and weights file."""
from __future__ import annotations

import sys
from pathlib import Path

from studio.cli.main import UsageError


def add_commands(sub) -> None:
    p = sub.add_parser(
        "import", help="import a torchvision model, your own nn.Module (.py), an ONNX file or a timm model",
        description="MODEL is torchvision:NAME, path/model.py:ClassName (runs that file's code), "
                    "model.onnx (needs the onnx extra) or timm:NAME (needs timm).")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-o", "--output", help="project file to write (default NAME.studio.json); the weights "
                                          "go beside it as NAME.weights.safetensors")
    p.add_argument("--num-classes", type=int, help="classes of the final layer")
    p.add_argument("--kwargs", help="keyword arguments for the builder or class, as JSON")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--weights", help="weights to load first (.safetensors, or a .pt state_dict)")
    g.add_argument("--pretrained", action="store_true", help="torchvision's published weights "
                                                              "(from torch hub's cache, or downloaded)")
    p.add_argument("--input", help="example input: image:C,H,W (default image:3,224,224), sequence:T,F, "
                                   "vector:F or tokens:T,VOCAB")
    p.add_argument("--opaque", action="append", default=[], metavar="SUBMODULE",
                   help="keep this submodule (e.g. layer4.1) as one opaque node; repeatable")
    p.add_argument("--flat", action="store_true",
                   help="one flat graph of layers; by default each submodule that takes one tensor and "
                        "gives one tensor (e.g. ResNet's layer1.0) becomes a block")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from studio.importer import import_model, write
    from studio.importer.sources import parse_json_kwargs
    if args.num_classes is not None and args.num_classes < 1:
        raise UsageError("--num-classes must be at least 1")
    kwargs = parse_json_kwargs(args.kwargs)
    if ".py:" in args.model and Path(args.model.rsplit(":", 1)[0]).is_file():
        print(f"studio: running Python code from {args.model.rsplit(':', 1)[0]} to import "
              f"{args.model.rsplit(':', 1)[1]}", file=sys.stderr)
    result = import_model(args.model, input=args.input, kwargs=kwargs, num_classes=args.num_classes,
                          weights=args.weights, pretrained=args.pretrained, opaque_paths=args.opaque,
                          flat=args.flat)
    out = args.output or f"{result.source.name}.studio.json"
    path, wpath = write(result, out)
    print(f"imported {result.summary()}")
    for nid, why in result.opaque.items():
        print(f"  opaque {nid}: {why}")
    flat = result.converted.flat
    if flat:
        more = f" and {len(flat) - 4} more" if len(flat) > 4 else ""
        print(f"  kept flat: {', '.join(flat[:4])}{more}")
    for path, n in result.converted.unused.items():
        print(f"  not imported: {path} ({n:,} weights) is never called by forward() in evaluation mode",
              file=sys.stderr)
    print(f"wrote {path}" + (f" and {wpath}" if wpath else ""))
    return 0
