"""Make docs/images/review.png: the window's Review dock on the sample washers, inspected with the shipped
model against a specification, a few decisions made. Run it under a display (or Xvfb):

    xvfb-run -a -s "-screen 0 1440x900x24" python docs/review_screenshot.py [OUT.png]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from iunet_gui.core.project import Project
from iunet_gui.core.spec import ClassLimits, Specification
from iunet_gui.gui.app import SCREENSHOT_SIZE, make_app
from iunet_gui.gui.main_window import MainWindow
from iunet_gui.resources import SAMPLES

SPEC = Specification({"defect": ClassLimits(max_length_mm=4.0, max_width_mm=1.5, max_count=2)})


def main(out: Path) -> int:
    app = make_app()
    work = Path(tempfile.mkdtemp(prefix="iunet-review-"))
    folder = work / "washers"
    shutil.copytree(SAMPLES, folder)
    Project.open(folder).specification = SPEC
    win = MainWindow(settings=QSettings(str(work / "settings.ini"), QSettings.IniFormat))
    win.quiet_errors = True
    win.resize(*SCREENSHOT_SIZE)
    win.show()
    win.open_folder(folder)
    models = win.model_dock.models
    win.model_dock.predict_all()

    def review():
        if models.all_job is not None:
            QTimer.singleShot(200, review)
            return
        qa = win.qa
        qa.dock.raise_()
        app.processEvents()
        qa.open_item(qa.dock.items[0])  # the worst image: its NG defects confirmed, the others false alarms
        for d in list(qa.dock.current.defects):
            qa.station.decide(qa.dock.current, int(d["idx"]), "confirm" if d["judged"] == "ng" else "false_alarm")
        qa.confirm_verdict()  # and on to the next undecided one
        qa.station.decide(qa.dock.current, None, "override_ok", "burr within the drawing's tolerance")
        qa.open_item(qa.dock.items[0])
        win.canvas.fit()
        app.processEvents()
        QTimer.singleShot(300, shoot)

    def shoot():
        ok = win.grab().save(str(out))
        print(f"{'wrote' if ok else 'could not write'} {out}")
        win.ask_unsaved = lambda: "discard"
        win.close()
        shutil.rmtree(work, ignore_errors=True)
        app.exit(0 if ok else 2)

    QTimer.singleShot(300, review)
    return app.exec()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "images" / "review.png"
    sys.exit(main(target))
