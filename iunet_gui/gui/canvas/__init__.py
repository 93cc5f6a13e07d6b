"""The labelling canvas: view (zoom, pan), tools (drawing, editing), items (one per shape),
overlay (a model's prediction) and the shape context menu, wired together in widget.Canvas."""
from iunet_gui.gui.canvas.view import to_qimage
from iunet_gui.gui.canvas.widget import MODES, Canvas

__all__ = ["Canvas", "MODES", "to_qimage"]
