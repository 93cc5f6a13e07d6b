"""`iunet-gui samples DIR`: write the shipped sample washers (photos, labelme JSON, project file) into DIR.

The same samples are what the window opens with no folder argument: in place in a checkout
(sample_images/), or copied once into the per-user data folder when the app is installed.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from iunet_gui.core.atomic import atomic_write_bytes
from iunet_gui.core.errors import IunetError
from iunet_gui.resources import SAMPLES

HELP = "write the sample washer photos and their labels into a folder"
CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when running from a checkout


def user_data_folder() -> Path:
    """Where the installed app keeps its own files: $IUNET_GUI_DATA, else the platform's per-user data folder."""
    if os.environ.get("IUNET_GUI_DATA"):
        return Path(os.environ["IUNET_GUI_DATA"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "iunet-gui"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "iunet-gui"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "iunet-gui"


def write_samples(folder: Path) -> list[Path]:
    """Copy the packaged samples into `folder` (made if missing); files already there are kept as they are.
    Returns the files written."""
    sources = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    if not sources:
        raise IunetError(f"this installation ships no samples ({SAMPLES} is empty)")
    if folder.exists() and not folder.is_dir():
        raise IunetError(f"{folder} is a file, not a folder")
    written = []
    for src in sources:
        dst = folder / src.name
        if not dst.exists():
            atomic_write_bytes(dst, src.read_bytes())
            written.append(dst)
    return written


def default_folder() -> Path:
    """The folder the window opens with no argument: sample_images/ in a checkout, else the samples
    written (once) into the per-user data folder, so an installed app never writes into its package."""
    in_checkout = CHECKOUT / "sample_images"
    if (CHECKOUT / "pyproject.toml").is_file() and in_checkout.is_dir():
        return in_checkout
    folder = user_data_folder() / "samples"
    write_samples(folder)
    return folder


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="folder to write the samples into (made if missing; existing files are kept)")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    written = write_samples(folder)
    kept = sum(1 for p in SAMPLES.iterdir() if p.is_file()) - len(written)
    print(f"wrote {len(written)} files to {folder}" + (f" ({kept} already there, kept)" if kept else ""))
    print(f"open them with: iunet-gui {folder}")
    return 0
