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
