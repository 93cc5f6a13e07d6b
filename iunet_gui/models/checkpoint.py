"""Checkpoints that rebuild their own network: registry name + config + weights + metadata.

Loaded with `torch.load(weights_only=True)`: a checkpoint can't run code. A broken file, a
foreign file or a checkpoint of another format version raises CheckpointError.

`classes` names what the network finds: ["defect"] for a binary network (one logit), the K defect
kinds of a multi-class one (K + 1 logits, background first); `colors` ("#rrggbb", one per class)
are the colours the window draws them in (a binary checkpoint without them: DEFAULT_COLOR).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from iunet_gui.core.atomic import atomic_write_bytes
from iunet_gui.core.errors import CheckpointError

FORMAT = "iunet-gui-checkpoint"
FORMAT_VERSION = 1
DEFAULT_COLOR = "#ff3030"  # a binary network's "defect"


@dataclass
class Checkpoint:
    model: nn.Module
    arch: str
    config: dict
    classes: list[str] = field(default_factory=lambda: ["defect"])
    colors: list[str] = field(default_factory=lambda: [DEFAULT_COLOR])
    meta: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    trainer_state: dict | None = None
    path: Path | None = None

    @property
    def in_channels(self) -> int:
        return int(self.config.get("in_channels", 3))

    @property
    def multiclass(self) -> bool:
        return int(self.config.get("num_classes", 1)) > 1

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", 0.5))


def save_checkpoint(path, model: nn.Module, *, arch: str, config: dict | None = None, classes=("defect",),
                    colors=None, meta: dict | None = None, optimizer_state: dict | None = None,
                    trainer_state: dict | None = None) -> None:
    """Atomically write a checkpoint (weights on the CPU, plain data only). `colors`: one per class
    (None: the fallback colours)."""
    state = {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()}
    payload = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "arch": arch,
        "config": _plain(config if config is not None else _unwrap(model).config),
        "state_dict": state, "classes": [str(c) for c in classes],
        "colors": class_colors(classes, colors), "meta": _plain(meta or {}),
        "optimizer": optimizer_state, "trainer_state": trainer_state,
        "torch_version": str(torch.__version__),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def class_colors(classes, colors=None) -> list[str]:
    """One "#rrggbb" colour per class: the given ones where they are colours, else fallbacks."""
    import re

    fallback = ("#e6194b", "#f58231", "#4363d8", "#3cb44b", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")
    given = list(colors or [])
    if len(classes) == 1 and not given:
        return [DEFAULT_COLOR]
    return [given[i].lower() if i < len(given) and isinstance(given[i], str)
            and re.fullmatch(r"#[0-9a-fA-F]{6}", given[i]) else fallback[i % len(fallback)]
            for i in range(len(classes))]


def _plain(obj):
    """Only plain data goes into a checkpoint, so that `weights_only` loading accepts it."""
    import json

    return json.loads(json.dumps(obj, default=str))


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DistributedDataParallel / compiled wrappers


def load_checkpoint(path, map_location="cpu") -> Checkpoint:
    from iunet_gui.models.registry import build_model

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the checkpoint file is empty")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # any unpickling failure is a broken or foreign file
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable iunet-gui checkpoint ({msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an iunet-gui checkpoint (no '{FORMAT}' header)")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version} is not supported by this version "
                              f"of iunet-gui (expects {FORMAT_VERSION}); retrain or use a matching version")
    arch, config = data.get("arch"), data.get("config")
    if not isinstance(arch, str) or not isinstance(config, dict):
        raise CheckpointError(f"{path}: checkpoint lacks its architecture name or config")
    try:
        model = build_model(arch, **config)
        model.load_state_dict(data["state_dict"])
    except (ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: weights do not fit the stored {arch} architecture "
                              f"({str(exc).splitlines()[0][:200]})") from None
    model.eval()
    classes = list(data.get("classes") or ["defect"])
    n_out = getattr(model, "out_channels", 1)
    if n_out > 1 and len(classes) != n_out - 1:
        raise CheckpointError(f"{path}: names {len(classes)} classes for a network of {n_out - 1} defect kinds")
    return Checkpoint(model=model, arch=arch, config=config, classes=classes,
                      colors=class_colors(classes, data.get("colors")),
                      meta=dict(data.get("meta") or {}), optimizer_state=data.get("optimizer"),
                      trainer_state=data.get("trainer_state"), path=path)
