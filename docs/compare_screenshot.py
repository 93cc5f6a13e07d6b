"""Make docs/images/compare_view.png: the comparison view of the shipped IU-Net against a 30-second
fine-tune of it on the sample washers (the fine-tune takes a few minutes on a laptop CPU):

    QT_QPA_PLATFORM=offscreen python docs/compare_screenshot.py [OUT.png]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from iunet_gui.gui.app import make_app
from iunet_gui.gui.main_window import MainWindow
from iunet_gui.gui.model.controller import DEFAULT_CHECKPOINT
from iunet_gui.resources import SAMPLES
from iunet_gui.training.recipes import recipe_config
from iunet_gui.training.trainer import train


def main(out: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="iunet-compare-"))
    project = root / "washers"
    shutil.copytree(SAMPLES, project)
    run = root / "finetune"
    train(recipe_config("washers", data=str(project), out=str(run), init=str(DEFAULT_CHECKPOINT), time_limit_min=0.5))
    app = make_app()
    win = MainWindow(settings=QSettings(str(root / "settings.ini"), QSettings.IniFormat))
    win.quiet_errors = True
    win.show()
    win.open_folder(project)
    part = win.models_part
    ids = [part.registry.in_use().id, part.registry.register(run / "best.pt", "trained", run_dir=run).id]
    part.registry.rename(ids[0], "shipped IU-Net")
    part.registry.rename(ids[1], "fine-tuned 30 s")
    part.refresh()
    part.compare(ids)
    view = part.compare_view
    while view.comparison is None:
        app.processEvents()
        time.sleep(0.05)
    view.resize(1400, 820)
    view.images.selectRow(0)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    while view.predictions.job is not None or view.overlay is None:  # the models' predictions, made in a worker
        app.processEvents()
        time.sleep(0.05)
    view.grab().save(str(out))
    view.close()
    win.close()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "images" / "compare_view.png"))
