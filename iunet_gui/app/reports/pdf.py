"""The PDF of the HTML report, for printing: Chromium's own print to PDF when a Chromium is installed,
else the caller's `fallback(html_text, out)`, else Qt's QTextDocument + QPdfWriter run as its own
process (`python -m iunet_gui.cli.qt_pdf`: app/ imports no Qt, and the window need not import cli/)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from iunet_gui.core.errors import IunetError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """A headless-capable Chromium on PATH (IUNET_GUI_CHROMIUM names one), or None."""
    named = os.environ.get("IUNET_GUI_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(browser: str, profile: str) -> list[str]:
    """Headless Chromium's options for a one-shot render (its own profile; no sandbox: root in CI)."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}"]


def write_pdf(html_path, out, fallback=None, timeout_s: float = 120.0) -> str:
    """Print the HTML report file `html_path` to the PDF `out`; returns which way ("chromium",
    "fallback" or "qt"). Raises IunetError when none works."""
    html_path, out = Path(html_path).resolve(), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    browser = find_chromium()
    if browser is not None:
        with tempfile.TemporaryDirectory(prefix="iunet-chromium-") as profile:
            tmp = out.with_name(f".{out.name}.part.pdf")
            cmd = chromium_command(browser, profile) + ["--no-pdf-header-footer", f"--print-to-pdf={tmp}",
                                                        html_path.as_uri()]
            try:
                subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
                if tmp.is_file() and tmp.stat().st_size > 0:
                    os.replace(tmp, out)
                    return "chromium"
            except (OSError, subprocess.TimeoutExpired):
                pass
            finally:
                tmp.unlink(missing_ok=True)
    if fallback is not None:
        fallback(html_path.read_text(encoding="utf-8"), out)
        return "fallback"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    try:
        done = subprocess.run([sys.executable, "-m", "iunet_gui.cli.qt_pdf", str(html_path), str(out)], env=env,
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IunetError(f"{out}: no PDF written ({exc}); install Chromium (apt-get install chromium)") from None
    if done.returncode != 0 or not out.is_file():
        why = (done.stderr.strip().splitlines() or ["Qt could not write it"])[-1]
        raise IunetError(f"{out}: no PDF written ({why}); install Chromium (apt-get install chromium)")
    return "qt"
