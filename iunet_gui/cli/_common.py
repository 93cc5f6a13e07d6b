"""Small helpers shared by the command modules: progress line, tables, JSON output."""
from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager

from iunet_gui.core.progress import ProgressEvent


class ProgressLine:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str = "", stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.t0 = time.perf_counter()
        self._last = 0.0

    def __call__(self, ev: ProgressEvent) -> None:
        now = time.perf_counter()
        done = ev.steps and ev.step >= ev.steps
        if not self.tty and not done and now - self._last < 2.0:
            return
        self._last = now
        parts = [self.label or ev.stage]
        if ev.epochs:
            parts.append(f"epoch {ev.epoch}/{ev.epochs}")
        if ev.steps:
            frac = ev.step / ev.steps
            bar = "#" * int(frac * 20)
            parts.append(f"[{bar:<20}] {ev.step}/{ev.steps}")
        if ev.loss is not None:
            parts.append(f"loss {ev.loss:.4f}")
        for k, v in ev.metrics.items():
            parts.append(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}")
        if ev.images_per_s:
            parts.append(f"{ev.images_per_s:.1f} img/s")
        if ev.eta_s is not None:
            parts.append(f"ETA {ev.eta_s:.0f}s")
        if ev.message:
            parts.append(ev.message)
        line = "  ".join(parts)
        if self.tty:
            self.stream.write("\r\x1b[2K" + line + ("\n" if done else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def fmt(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def print_table(headers: list[str], rows: list[list], stream=None) -> None:
    stream = stream or sys.stdout
    cells = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    stream.write("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip() + "\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        stream.write("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n")


# the command-line flag of each inspection setting, for messages about a bad value
FLAGS = {"threshold": "--threshold", "merge_gap_px": "--merge-gap", "chain_gap_px": "--chain-gap",
         "iou_threshold": "--iou-threshold", "mm_per_px": "--mm-per-px", "tile": "--tile",
         "tolerance_px": "--tolerance"}


def add_backend_argument(p, help_text: str = "inference backend (auto = ONNX Runtime on the CPU when installed)"):
    from iunet_gui.inference.runners import BACKEND_CHOICES

    p.add_argument("--backend", default="auto", choices=BACKEND_CHOICES, help=help_text)


def inspect_settings(args):
    """app.settings.InspectSettings from a command's options (those it has), checked; a bad value
    is an IunetError that names its flag."""
    from iunet_gui.app.settings import InspectSettings

    given = {"backend": "backend", "device": "device", "threads": "threads", "threshold": "threshold",
             "flip_mean": "tta", "merge_gap_px": "merge_gap", "chain_gap_px": "chain_gap", "tile": "tile",
             "mm_per_px": "mm_per_px", "iou_threshold": "iou_threshold",
             "tolerance_px": "tolerance"}
    values = {key: getattr(args, opt) for key, opt in given.items() if hasattr(args, opt)}
    if hasattr(args, "no_crop"):
        values["crop_to_part"] = not args.no_crop
    return InspectSettings(**values).validated(lambda key: FLAGS.get(key, key))


EXIT_STOPPED = 130  # stopped by Ctrl+C (128 + SIGINT); what was finished is kept


@contextmanager
def ctrl_c_cancels(token, notice: str):
    """Within the block, Ctrl+C sets `token` (the work stops cleanly at its next check, with
    core.progress.Cancelled) and prints `notice`; a second Ctrl+C interrupts at once. Off the main
    thread (no signal handlers there) the block runs unchanged."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(_signum, _frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print(f"\n{notice} (Ctrl+C again quits at once)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
