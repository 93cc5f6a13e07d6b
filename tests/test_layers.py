"""The layer contract, read from the source with ast (every import, at module level or inside a function):

    core <- models <- inference <- training <- app <- cli, gui

A package imports only from the layers below it and never upward; core imports neither torch nor Qt (a QA
script can use it alone), and nothing below cli/gui imports Qt. `iunet_gui.resources` (package data paths)
sits below everything and imports nothing of the package. The one upward edge allowed is the command line's
entry point starting the window (`cli/__init__.py` -> `gui.app`)."""
import ast
from pathlib import Path

import iunet_gui

PACKAGE = Path(iunet_gui.__file__).resolve().parent
LAYERS = {"resources": 0, "core": 1, "models": 2, "inference": 3, "training": 4, "app": 5, "cli": 6, "gui": 6}
QT = {"PySide6", "shiboken6", "pyqtgraph"}
FORBIDDEN = {  # third-party packages a layer must not import
    "resources": QT | {"torch"},
    "core": QT | {"torch"},
    "models": QT,
    "inference": QT,
    "training": QT,
    "app": QT,
}
ALLOWED_UPWARD = {("cli/__init__.py", "iunet_gui.gui.app")}  # `iunet-gui [DIR]` opens the window


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "iunet_gui" or (node.level and not node.module):  # `from iunet_gui import gui`
                for alias in node.names:
                    yield node.lineno, f"{module}.{alias.name}"
            else:
                yield node.lineno, module


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "iunet_gui" and len(parts) > 1 and parts[1] in LAYERS else None


def _is_module(module: str) -> bool:
    """iunet_gui.X names a module or package (not a name defined in iunet_gui/__init__.py, like __version__)."""
    name = module.split(".")[1]
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir()


def _sources():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def violations() -> list[str]:
    found = []
    for path in _sources():
        rel = path.relative_to(PACKAGE).as_posix()
        own = rel.split("/")[0] if "/" in rel else None
        if own not in LAYERS:  # iunet_gui/__init__.py, __main__.py: the top of the package
            continue
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN.get(own, set()):
                found.append(f"{rel}:{line} imports {module} ({own} must not import {top})")
            target = _layer(module)
            if module.startswith("iunet_gui.") and target is None and _is_module(module):
                found.append(f"{rel}:{line} imports {module}, which belongs to no layer")
            if target is None or target == own or (rel, module) in ALLOWED_UPWARD:
                continue
            if LAYERS[target] >= LAYERS[own]:
                found.append(f"{rel}:{line} imports {module} ({own} may not import {target})")
    return found


def test_every_package_of_iunet_gui_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(LAYERS) == set()


def test_the_package_root_imports_nothing():
    assert list(_imports(PACKAGE / "__init__.py")) == []


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    sub = tmp_path / "iunet_gui" / "core"
    sub.mkdir(parents=True)
    (sub / "__init__.py").write_text("")
    (sub / "probe.py").write_text("from . import images\nfrom ..gui import canvas\n\n"
                                  "def f():\n    import torch\n    from iunet_gui import training\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "iunet_gui")
    assert list(_imports(sub / "probe.py")) == [
        (1, "iunet_gui.core.images"), (2, "iunet_gui.gui"), (5, "torch"), (6, "iunet_gui.training")]
    assert sorted(v.split(" (")[0] for v in violations()) == [
        "core/probe.py:2 imports iunet_gui.gui", "core/probe.py:5 imports torch",
        "core/probe.py:6 imports iunet_gui.training"]


def test_layers_import_only_downward_and_core_is_free_of_torch_and_qt():
    assert violations() == []
