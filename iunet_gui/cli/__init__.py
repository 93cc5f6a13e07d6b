"""The `iunet-gui` command.

`iunet-gui [DIR] [--image NAME] [--model CKPT] [--predict] [--screenshot PNG]` opens the window; `iunet-gui COMMAND ...`
works headless. Each command lives in its own module of this package and defines
`HELP` (one line), `add_arguments(parser)` and `run(args) -> int`. Modules are imported only
when their command runs, so `--help` and the window stay fast (no torch import).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from iunet_gui import __version__
from iunet_gui.core.errors import IunetError

# command name -> (module, one-line help). Keep the help here so `--help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("synth", "render synthetic washer photos with labelme ground truth"),
    "masks": ("masks", "labelme JSON -> binary mask PNG (255 = defect)"),
    "measure": ("measure", "measure every defect of a mask or labelme JSON (minimum rotated rectangle)"),
    "evaluate": ("evaluate", "score predicted masks against ground truth (IoU, MIoU, accuracy, length error)"),
    "calibrate": ("calibrate", "find the washer's outer circle and derive mm per pixel"),
    "models": ("models", "list the networks, presets, parameters and GFLOP; --project DIR: its model registry"),
    "export-onnx": ("export_onnx", "export a checkpoint to ONNX (BN folded, dynamic size)"),
    "train": ("train", "train a segmentation network on a project or image+mask folder"),
    "predict": ("predict", "predict defect masks, probabilities and lengths for images"),
    "samples": ("samples", "write the sample washer photos and their labels into a folder"),
    "inspect": ("inspect", "judge parts by the project's specification, log them, write reports (QA station)"),
    "report": ("report", "the inspection reports (HTML, PDF, CSV) of a project from its log alone"),
}

def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iunet-gui",
        description=(
            "Label surface defects on metal washers, train IU-Net, measure and review predictions.\n"
            "With no command, opens the app on DIR (default: the sample washers)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="GUI use: iunet-gui [DIR] [--image NAME] [--model CKPT] [--predict] [--screenshot PNG]\n"
        "Run 'iunet-gui COMMAND --help' for a command's options. Exit codes: 0 ok, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"iunet-gui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iunet-gui", description="Open the iunet-gui window.")
    p.add_argument("folder", nargs="?", default=None,
                   help="project folder (default: the sample washers: sample_images/ in a checkout, "
                        "else a copy in the per-user data folder)")
    p.add_argument("--image", default=None, help="image to show first (file name in the folder)")
    p.add_argument("--screenshot", default=None, metavar="PNG",
                   help="open at 1440x900, render, save a screenshot to PNG and exit")
    p.add_argument("--model", default=None, metavar="CKPT",
                   help="trained model for the Model panel (default: the shipped iunet_default.pt)")
    p.add_argument("--predict", action="store_true",
                   help="predict every image as it opens (the Model panel's 'Predict each image as it opens')")
    return p


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        name = argv[0]
        module_name, help_text = COMMANDS[name]
        module = importlib.import_module(f"iunet_gui.cli.{module_name}")
        parser = argparse.ArgumentParser(prog=f"iunet-gui {name}", description=help_text)
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        try:
            return int(module.run(args) or 0)
        except IunetError as exc:
            return _fail(parser.prog, str(exc))
        except FileNotFoundError as exc:
            return _fail(parser.prog, f"file not found: {exc.filename or exc}")
        except KeyboardInterrupt:
            return _fail(parser.prog, "interrupted")
    if argv and argv[0] in ("-h", "--help", "--version"):
        try:
            _build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse exits after printing help/version
            return int(exc.code or 0)
        return 0
    args = _gui_parser().parse_args(argv)
    from iunet_gui.gui.app import run_app  # Qt imported only here

    if args.folder:
        folder = Path(args.folder)
    else:
        from iunet_gui.cli.samples import default_folder

        folder = default_folder()
    return int(run_app(folder, image=args.image, screenshot=args.screenshot, model=args.model,
                       predict=args.predict) or 0)
