"""The README and docs/ stay true to the code: every command they give names options that exist, every
setting they set exists, CI ends with the README's test command, and the README stays short."""
import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

from iunet_gui.cli import COMMANDS, _gui_parser
from iunet_gui.training.config import setting_names

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _snippets(text: str) -> list[str]:
    """Every command line in the text: lines of ``` blocks and `inline code` spans (which may wrap
    over lines in prose)."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    prose = re.sub(r"\s*\n\s*", " ", re.sub(r"```.*?```", "", text, flags=re.S))
    lines = [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`]+)`", prose)
    return [line.split("  #")[0].strip() for line in lines]


def _commands() -> list[tuple[str, list[str]]]:
    """(doc name, argv) of every `iunet-gui …` and `python benchmarks/….py …` command in the docs."""
    found = []
    for doc in DOCS:
        for snippet in _snippets(doc.read_text()):
            for part in re.split(r"&&|;|\|", snippet):
                words = shlex.split(part.replace("…", ""), posix=True)
                for i, word in enumerate(words):
                    if word == "iunet-gui" or (word == "python" and i + 1 < len(words)
                                               and words[i + 1].startswith("benchmarks/")):
                        found.append((doc.name, words[i:]))
                        break
    return found


def _parser(argv: list[str]) -> tuple[str, argparse.ArgumentParser | None]:
    if argv[0] == "python":
        return argv[1], None
    if len(argv) > 1 and argv[1] in COMMANDS:
        parser = argparse.ArgumentParser()
        importlib.import_module(f"iunet_gui.cli.{COMMANDS[argv[1]][0]}").add_arguments(parser)
        return argv[1], parser
    return "window", _gui_parser()


def _options(argv: list[str]) -> list[str]:
    return [w.split("=")[0] for w in argv if w.startswith("--")]


def test_the_docs_give_commands():
    names = {_parser(argv)[0] for _, argv in _commands()}
    assert {"train", "predict", "evaluate", "samples", "window", "benchmarks/bench_training.py"} <= names


def test_every_option_in_the_docs_exists():
    missing = []
    for doc, argv in _commands():
        name, parser = _parser(argv)
        if parser is None:  # a benchmark script: its options are spelt in its source
            source = (ROOT / name).read_text()
            missing += [f"{doc}: {name} {o}" for o in _options(argv) if f'"{o}"' not in source]
        else:
            known = set(parser._option_string_actions)
            missing += [f"{doc}: {name} {o}" for o in _options(argv) if o not in known]
    assert missing == []


def test_every_setting_the_docs_set_exists():
    text = " ".join(doc.read_text() for doc in DOCS)
    keys = set(re.findall(r"--set ([a-z_]+)=", text))
    for spans in re.findall(r"--real-set ((?:[a-z_]+=\S+\s?)+)", text):
        keys |= set(re.findall(r"([a-z_]+)=", spans))
    assert {"grey_share", "region_weight", "weight_decay", "area_sampling"} <= keys
    assert sorted(keys - set(setting_names())) == []


def test_ci_ends_with_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", quick_start, flags=re.S)
    assert len(blocks) == 2  # start the app, run the tests
    assert "sample_images" in blocks[0]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == blocks[1]


@pytest.mark.parametrize("doc, limit", [("README.md", 300), ("docs/architecture.md", 120)])
def test_docs_stay_short(doc, limit):
    assert len((ROOT / doc).read_text().splitlines()) < limit
