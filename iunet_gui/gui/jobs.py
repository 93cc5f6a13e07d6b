"""Long work (training, prediction) off the GUI thread: one QThread per job, results and progress
back as queued signals, a CancelToken the worker checks between steps."""
from __future__ import annotations

import traceback

from PySide6.QtCore import QThread, Signal

from iunet_gui.core.errors import IunetError
from iunet_gui.core.progress import Cancelled, CancelToken


class Job(QThread):
    """Runs `fn(progress, cancel)` in a thread. `progressed` carries the ProgressEvents it reports,
    `succeeded` its result, `stopped` what it had done when its cancel token stopped it (the
    Cancelled's `partial`; stopping is not an error), `failed` a message for the user (the traceback
    goes to `details`)."""

    progressed = Signal(object)
    succeeded = Signal(object)
    stopped = Signal(object)
    failed = Signal(str)

    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self.fn = fn
        self.cancel_token = CancelToken()
        self.details = ""

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def run(self) -> None:
        try:
            result = self.fn(self.progressed.emit, self.cancel_token)
        except Cancelled as stop:
            self.stopped.emit(stop.partial)
        except IunetError as exc:  # bad input, told in the app's own words
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit("out of memory")
        except Exception as exc:  # a worker must never take the window down
            self.details = traceback.format_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)
