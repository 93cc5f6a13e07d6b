"""The package carries the whole app: icons, the default checkpoint and the samples, found through the package
itself (a wheel has no repository around it); `iunet-gui samples` writes the samples and keeps a user's files."""
import re
import subprocess
import tomllib
from pathlib import Path

import iunet_gui
from iunet_gui.cli import main
from iunet_gui.cli import samples as samples_cli
from iunet_gui.resources import DEFAULT_CHECKPOINT, ICONS, RESOURCES, SAMPLES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(iunet_gui.__file__).resolve().parent


def _shipped_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["setuptools"]["package-data"]["iunet_gui"]


def test_resources_live_inside_the_package():
    for path in (RESOURCES, ICONS, SAMPLES):
        assert path.resolve().is_relative_to(PACKAGE)
    assert DEFAULT_CHECKPOINT.is_file() and DEFAULT_CHECKPOINT.stat().st_size > 100_000
    assert not (ROOT / "resources").exists()  # one copy: nothing left at the repository root


def test_every_data_file_of_the_package_is_declared_as_package_data():
    """A data file that no package-data pattern matches is missing from the wheel, not from a checkout."""
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "iunet_gui"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    data = {Path(f).relative_to("iunet_gui").as_posix() for f in tracked if not f.endswith(".py")}
    assert {"resources/iunet_default.pt", "samples/washer_000.jpg", "samples/iunet_project.json"} <= data
    shipped = {f for f in data if any(Path(f).match(pattern) for pattern in _shipped_patterns())}
    assert data - shipped == set()


def test_every_icon_the_window_asks_for_is_shipped():
    source = "\n".join(p.read_text() for p in (PACKAGE / "gui").rglob("*.py"))
    names = set(re.findall(r'\bicon\("([a-z0-9-]+)"\)', source))
    names |= {f"status-{s}" for s in ("unlabelled", "labelled", "predicted", "reviewed", "broken")}
    assert len(names) >= 10
    assert sorted(n for n in names if not (ICONS / f"{n}.svg").is_file()) == []


def test_sample_images_at_the_root_is_the_packaged_samples_folder():
    link = ROOT / "sample_images"
    assert link.is_symlink() and link.resolve() == SAMPLES.resolve()
    assert len(list(SAMPLES.glob("washer_*.jpg"))) == 12


def test_samples_command_writes_the_samples_and_keeps_existing_files(tmp_path, capsys):
    out = tmp_path / "new" / "samples"
    assert main(["samples", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in SAMPLES.iterdir() if p.is_file())
    assert (out / "washer_003.jpg").read_bytes() == (SAMPLES / "washer_003.jpg").read_bytes()
    assert f"wrote {len(names)} files" in capsys.readouterr().out

    (out / "washer_003.json").write_text('{"my": "labels"}')
    (out / "washer_004.jpg").unlink()
    assert main(["samples", str(out)]) == 0
    assert (out / "washer_003.json").read_text() == '{"my": "labels"}'  # a user's edit is never overwritten
    assert (out / "washer_004.jpg").is_file()
    assert f"wrote 1 files to {out} ({len(names) - 1} already there, kept)" in capsys.readouterr().out


def test_samples_command_refuses_a_file_as_the_folder(tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["samples", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "x"


def test_default_folder_is_sample_images_in_a_checkout():
    assert samples_cli.default_folder() == ROOT / "sample_images"


def test_default_folder_of_an_installed_app_is_a_copy_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(samples_cli, "CHECKOUT", tmp_path / "site-packages-parent")  # no pyproject.toml there
    monkeypatch.setenv("IUNET_GUI_DATA", str(tmp_path / "data"))
    folder = samples_cli.default_folder()
    assert folder == tmp_path / "data" / "samples"
    assert (folder / "washer_000.json").read_bytes() == (SAMPLES / "washer_000.json").read_bytes()
    (folder / "washer_000.json").write_text("{}")
    assert samples_cli.default_folder() == folder and (folder / "washer_000.json").read_text() == "{}"


def test_user_data_folder_follows_xdg_on_linux(monkeypatch):
    monkeypatch.setattr(samples_cli.sys, "platform", "linux")
    monkeypatch.delenv("IUNET_GUI_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg")
    assert samples_cli.user_data_folder() == Path("/xdg/iunet-gui")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert samples_cli.user_data_folder() == Path.home() / ".local" / "share" / "iunet-gui"
    monkeypatch.setenv("IUNET_GUI_DATA", "/elsewhere")
    assert samples_cli.user_data_folder() == Path("/elsewhere")
