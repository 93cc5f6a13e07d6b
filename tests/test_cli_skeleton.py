import subprocess
import sys

from iunet_gui.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_importing_package_and_core_does_not_import_torch_or_qt():
    code = (
        "import sys, iunet_gui, iunet_gui.core, iunet_gui.cli\n"
        "import pkgutil, importlib, iunet_gui.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('iunet_gui.core.' + m.name)\n"
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
