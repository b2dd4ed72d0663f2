"""Import existing PyTorch models (torchvision, the user's own modules, ONNX,
timm) as editable Studio graphs through torch.fx. Qt-free."""
from studio.importer.api import ImportResult, compiled_with_weights, import_model, write  # noqa: F401
from studio.importer.trace import ImportFailed  # noqa: F401
