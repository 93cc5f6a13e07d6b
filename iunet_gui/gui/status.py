"""The window's status bar: tool, cursor position (px and mm), zoom, image size, saved state."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

MODE_NAMES = {"edit": "Edit", "polygon": "Polygon", "rectangle": "Rectangle", "circle": "Circle"}


class WindowStatus:
    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.mode_label = QLabel("Edit")
        self.pos_label = QLabel("–")
        self.zoom_label = QLabel("100 %")
        self.size_label = QLabel("")
        self.saved_label = QLabel("")
        for w in (self.mode_label, self.pos_label, self.zoom_label, self.size_label, self.saved_label):
            bar.addPermanentWidget(w)

    def show_mode(self, mode: str) -> None:
        self.mode_label.setText(MODE_NAMES[mode])

    def show_position(self, x: float, y: float, mm_per_px: float | None) -> None:
        text = f"x {x:.0f}  y {y:.0f} px"
        if mm_per_px:
            text += f"   ({x * mm_per_px:.2f}, {y * mm_per_px:.2f} mm)"
        self.pos_label.setText(text)

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def show_image(self, size: tuple[int, int] | None, dirty: bool | None) -> None:
        """The open image's (width, height) and saved state; None for no image."""
        self.size_label.setText(f"{size[0]} × {size[1]} px" if size else "")
        self.show_saved(dirty)

    def show_saved(self, dirty: bool | None) -> None:
        """'● unsaved', '✓ saved', or nothing (None: no labels to save)."""
        label = self.saved_label
        label.setText("" if dirty is None else "● unsaved" if dirty else "✓ saved")
        label.setObjectName("unsaved" if dirty else "saved")
        label.style().unpolish(label)
        label.style().polish(label)
