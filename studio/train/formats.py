"""Export formats: (file suffix, what it is). Kept free of torch imports so the
command line can list them without loading torch."""

FORMATS = {
    "safetensors": (".safetensors", "weights (safetensors)"),
    "pt": (".pt", "weights (PyTorch state_dict)"),
    "torchscript": (".ts.pt", "TorchScript (legacy: deprecated in torch 2.14, prefer pt2)"),
    "pt2": (".pt2", "torch.export program"),
    "onnx": (".onnx", "ONNX"),
    "python": (".py", "Python module + safetensors weights"),
}

# Suffixes each format accepts as they are; studio.train.export.export_target applies TARGET_RULES.
SUFFIXES = {"safetensors": (".safetensors",), "pt": (".pt", ".pth"),
            "torchscript": (".ts.pt", ".pt", ".ts", ".torchscript"), "pt2": (".pt2",),
            "onnx": (".onnx",), "python": (".py",)}
TARGET_RULES = ("The file name must fit the format: a name without a suffix gets the format's "
                "(model -> model.onnx), and so does one ending in the format's name "
                "(model.python -> model.py); another suffix is refused. Only regular files are "
                "replaced (never a link, device or folder), and only once the export has been "
                "reloaded and verified; a failed export leaves the old file as it was.")
