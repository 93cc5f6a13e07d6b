"""Canvas speed: open an image, paint frames with 200 polygons of 50 vertices at 1280x1024
(fitted and zoomed in), and the time from launch to a shown window (torch not imported).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py
"""
from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_folder(d: Path) -> Path:
    import numpy as np

    from iunet_gui.core.annotation import Shape
    from iunet_gui.core.images import save_image
    from iunet_gui.core.synth import render_washer

    s = render_washer(np.random.default_rng(0))
    save_image(d / "w.jpg", s.image)
    rng = np.random.default_rng(1)
    ann = s.annotation
    ann.image_path = "w.jpg"
    for _ in range(200):
        cx, cy, r = rng.uniform(100, 1180), rng.uniform(100, 924), rng.uniform(15, 60)
        ang = np.linspace(0, 2 * math.pi, 50, endpoint=False)
        rad = r * (0.7 + 0.3 * rng.random(50))
        ann.shapes.append(Shape("scratch", np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)].tolist()))
    ann.save(d / "w.json")
    return d


def paint_ms(win, frames: int = 30) -> float:
    from PySide6.QtGui import QPixmap

    vp = win.canvas.viewport()
    pm = QPixmap(vp.size())
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        vp.render(pm)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def launch_to_window(folder: Path) -> tuple[float, bool]:
    code = ("import time, sys; t0 = time.perf_counter()\n"
            "from iunet_gui.gui.app import make_app\nfrom iunet_gui.gui.main_window import MainWindow\n"
            f"app = make_app(); w = MainWindow(); w.resize(1440, 900); w.show(); w.open_folder({str(folder)!r})\n"
            "app.processEvents()\nprint(time.perf_counter() - t0, 'torch' in sys.modules)\n")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return time.perf_counter() - t, out[1] == "True"


def main() -> int:
    from PySide6.QtCore import QSettings

    from iunet_gui.gui.app import make_app
    from iunet_gui.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as d:
        folder = make_folder(Path(d))
        app = make_app()
        win = MainWindow(settings=QSettings(str(Path(d) / "s.ini"), QSettings.IniFormat))
        win.quiet_errors = True
        win.resize(1440, 900)
        win.show()
        app.processEvents()
        t = time.perf_counter()
        win.open_folder(folder)
        app.processEvents()
        open_ms = (time.perf_counter() - t) * 1e3
        win.canvas.fit()
        app.processEvents()
        fitted = paint_ms(win)
        win.canvas.select_shapes(win.document.shapes[:20])
        selected = paint_ms(win)
        win.canvas.set_zoom(4.0)
        app.processEvents()
        zoomed = paint_ms(win)
        win.document._dirty = False
        win.close()
        runs = [launch_to_window(folder) for _ in range(3)]
    launch = statistics.median(r[0] for r in runs)
    print(f"{QSysInfo()}; viewport {1440}x{900} window, 200 polygons x 50 vertices on a 1280x1024 image")
    print(f"open image + annotation : {open_ms:7.1f} ms")
    print(f"paint, fitted           : {fitted:7.1f} ms/frame   (target <= 16)")
    print(f"paint, 20 selected      : {selected:7.1f} ms/frame")
    print(f"paint, zoomed 400 %     : {zoomed:7.1f} ms/frame")
    print(f"launch to shown window  : {launch * 1e3:7.0f} ms (median of 3 cold processes; target <= 2000); "
          f"torch imported: {any(r[1] for r in runs)}")
    return 0


def QSysInfo() -> str:
    from PySide6.QtGui import QGuiApplication

    return f"Qt platform '{QGuiApplication.platformName()}'"


if __name__ == "__main__":
    raise SystemExit(main())
