"""The node-editor canvas: CanvasView (embed this), and the MIME type the
palette uses for drag-and-drop (its data: the layer type name, utf-8)."""
from studio.ui.editor.canvas.view import LAYER_MIME, CanvasView

__all__ = ["CanvasView", "LAYER_MIME"]
