"""The model registry of a project: every model the project knows (shipped, trained in the window or
with `iunet-gui train`, chosen from a file, exported to ONNX), one row each in the project's database
(app.records, `<project>/iunet_inspections.sqlite`), the files kept where they are.

A row holds: id, name (editable), architecture and preset, parameters, classes, input scale,
threshold, the data it was trained on (image count and a content hash of the labels), its parent when
fine-tuned, the date, its file(s), and its figures on the golden set (app.golden). One model is the
model in use. Gate decisions (app.gate) are rows of `gate_decisions`, override notes included.

Tables (schema step 3 of app.records.MIGRATIONS):
    models(id, name, source ["shipped"|"trained"|"file"|"onnx"], arch, preset, parameters, classes JSON,
           input_scale, threshold, train_images, labels_hash, parent_id, created, path, onnx_path,
           run_dir, golden_set, golden JSON [figures on the golden set, with the `fingerprint` of what they
           were scored on: app.gate.golden_fingerprint], removed [0/1])
    registry_state(key, value)   key "model_in_use" -> a models.id
    golden_images(id, set_name, image, labels_hash, added)
    gate_decisions(id, challenger_id, champion_id, accepted, overridden, reasons JSON, note, reviewer,
                   figures JSON, created)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from iunet_gui.core.errors import IunetError

SOURCES = ("shipped", "trained", "file", "onnx")

@dataclass
class ModelEntry:
    id: int
    name: str
    source: str
    path: Path
    arch: str | None = None
    preset: str | None = None
    parameters: int | None = None
    classes: list[str] = field(default_factory=list)
    input_scale: float | None = None
    threshold: float | None = None
    train_images: int | None = None
    labels_hash: str | None = None
    parent_id: int | None = None
    created: str = ""
    onnx_path: Path | None = None
    run_dir: Path | None = None
    golden_set: str | None = None
    golden: dict | None = None  # figures on the golden set (app.gate.golden_figures)
    in_use: bool = False

    def row(self) -> dict:
        """The registry listing's columns (CLI table, Models panel)."""
        g = self.golden or {}
        return {"id": self.id, "in_use": self.in_use, "name": self.name, "source": self.source, "arch": self.arch,
                "preset": self.preset, "parameters": self.parameters, "classes": ", ".join(self.classes),
                "input_scale": self.input_scale, "threshold": self.threshold, "train_images": self.train_images,
                "labels_hash": (self.labels_hash or "")[:10], "parent_id": self.parent_id, "created": self.created,
                "golden_miou": g.get("miou"), "golden_length_error_mean_mm": g.get("length_error_mean_mm"),
                "path": str(self.path), "onnx_path": None if self.onnx_path is None else str(self.onnx_path)}


COLUMNS = [("", "in_use"), ("id", "id"), ("name", "name"), ("source", "source"), ("arch", "arch"),
           ("preset", "preset"), ("parameters", "parameters"), ("classes", "classes"), ("scale", "input_scale"),
           ("threshold", "threshold"), ("images", "train_images"), ("labels", "labels_hash"), ("parent", "parent_id"),
           ("date", "created"), ("golden MIoU %", "golden_miou"), ("golden len err (mm)", "golden_length_error_mean_mm")]


def cell(row: dict, key: str):
    """A listing row's value as the CLI table and the Models panel show it."""
    v = row[key]
    if key == "in_use":
        return "*" if v else ""
    if key == "golden_miou":
        return None if v is None else round(100 * v, 2)
    if key == "created":
        return (v or "")[:16].replace("T", " ")
    if key == "parameters":
        return None if v is None else f"{v:,}"
    return v


def labels_hash(project, images) -> str:
    """SHA-1 over the labels of `images` (their labelme sidecar, or mask file), by name: the same
    labels give the same hash whatever order or folder they are listed in."""
    h = hashlib.sha1()
    for img in sorted(Path(p) for p in images):
        label = project.masks.get(img) if img in project.masks else project.annotation_path(img)
        h.update(img.name.encode() + b"\0")
        h.update(label.read_bytes() if label is not None and Path(label).is_file() else b"-")
    return h.hexdigest()


def describe_checkpoint(path) -> dict:
    """Architecture, preset, parameters, classes, input scale and threshold of a checkpoint or ONNX file."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        return {"arch": "onnx", "classes": ["defect"]}
    from iunet_gui.models.checkpoint import load_checkpoint
    from iunet_gui.models.registry import count_parameters

    ck = load_checkpoint(path)
    cfg = ck.meta.get("train_config") or {}
    return {"arch": ck.arch, "preset": cfg.get("preset") or ck.config.get("preset"),
            "parameters": count_parameters(ck.model), "classes": list(ck.classes),
            "input_scale": ck.meta.get("input_scale"), "threshold": ck.threshold, "meta": ck.meta}


class ModelRegistry:
    """The registry of one project folder, in its database. `log`: an open app.records.InspectionLog
    to share (else one is opened, and closed by close())."""

    def __init__(self, project_folder, log=None):
        from iunet_gui.app.records import InspectionLog

        self.folder = Path(project_folder)
        self._own = log is None
        self.log = log if log is not None else InspectionLog(self.folder)

    def close(self) -> None:
        if self._own:
            self.log.close()

    def __enter__(self) -> ModelRegistry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- registering ------------------------------------------------------------------------------
    def register(self, path, source: str = "file", *, name: str | None = None, parent_id: int | None = None,
                 data=None, run_dir=None, describe: bool = True) -> ModelEntry:
        """The entry of the model file `path`, registered now unless it is already (a file is
        registered once). `data`: the folder it was trained on (image count and labels hash from the
        checkpoint's record of its training images). `describe` False: only the file is recorded now
        (no torch import), its details later by `describe(id)`."""
        from iunet_gui.app.records import utc_now

        if source not in SOURCES:
            raise IunetError(f"unknown model source {source!r}; one of {', '.join(SOURCES)}")
        path = Path(path).resolve()
        known = self.by_path(path)
        if known is not None:
            return known
        if not path.is_file():
            raise IunetError(f"{path}: no such model file")
        info = describe_checkpoint(path) if describe else {}
        images, digest = self._training_data(info.get("meta") or {}, data)
        if parent_id is None and (info.get("meta") or {}).get("train_config", {}).get("init"):
            parent = self.by_path(info["meta"]["train_config"]["init"])
            parent_id = parent.id if parent is not None else None
        row = (name or self._default_name(path), source, info.get("arch"), info.get("preset"), info.get("parameters"),
               json.dumps(info.get("classes") or []), info.get("input_scale"), info.get("threshold"), images, digest,
               parent_id, utc_now(), str(path), None if run_dir is None else str(Path(run_dir).resolve()))
        new_id = self.log.execute(
            "INSERT INTO models (name, source, arch, preset, parameters, classes, input_scale, threshold,"
            " train_images, labels_hash, parent_id, created, path, run_dir) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            row)
        return self.get(new_id)

    def describe(self, entry_id: int, data=None) -> ModelEntry:
        """Fill in the details of an entry registered with describe=False (reads the checkpoint)."""
        entry = self.get(entry_id)
        info = describe_checkpoint(entry.path)
        images, digest = self._training_data(info.get("meta") or {}, data)
        self.log.execute(
            "UPDATE models SET arch = ?, preset = ?, parameters = ?, classes = ?, input_scale = ?, threshold = ?,"
            " train_images = ?, labels_hash = ? WHERE id = ?",
            (info.get("arch"), info.get("preset"), info.get("parameters"), json.dumps(info.get("classes") or []),
             info.get("input_scale"), info.get("threshold"), images, digest, int(entry_id)))
        return self.get(entry_id)

    def register_training(self, result, data=None) -> ModelEntry:
        """The best checkpoint of a training run (training.result.TrainResult), registered."""
        if result.best_checkpoint is None:
            raise IunetError(f"{result.run_dir}: the run kept no checkpoint to register")
        known = self.by_path(Path(result.best_checkpoint).resolve())
        entry = self.register(result.best_checkpoint, "trained", data=data, run_dir=result.run_dir)
        if known is None:  # the run is logged once, with the model it made
            self.log.log_training_run(str(entry.id), entry.train_images or 0, _run_settings(result.run_dir),
                                      _run_metrics(result))
        return entry

    def register_onnx(self, entry_id: int, onnx_path) -> ModelEntry:
        """An ONNX export of a registered checkpoint: kept beside its entry and registered itself."""
        src = self.get(entry_id)
        onnx_path = Path(onnx_path).resolve()
        self.log.execute("UPDATE models SET onnx_path = ? WHERE id = ?", (str(onnx_path), entry_id))
        entry = self.register(onnx_path, "onnx", name=f"{src.name} (ONNX)", parent_id=entry_id)
        self.log.execute(
            "UPDATE models SET arch = ?, preset = ?, parameters = ?, classes = ?, input_scale = ?, threshold = ?,"
            " train_images = ?, labels_hash = ? WHERE id = ?",
            (src.arch, src.preset, src.parameters, json.dumps(src.classes), src.input_scale, src.threshold,
             src.train_images, src.labels_hash, entry.id))
        return self.get(entry.id)

    def _training_data(self, meta: dict, data) -> tuple[int | None, str | None]:
        summary = meta.get("data") or {}
        names = list(summary.get("train_names") or []) + list(summary.get("val_names") or [])
        if not names:
            return None, None
        folder = Path(data or summary.get("source") or self.folder)
        if not folder.is_dir():
            return len(names), None
        from iunet_gui.core.project import Project

        return len(names), labels_hash(Project.open(folder), [folder / n for n in names])

    def _default_name(self, path: Path) -> str:
        return f"{path.parent.name}/{path.name}" if path.parent.name else path.name

    # -- reading ----------------------------------------------------------------------------------
    def models(self) -> list[ModelEntry]:
        """Every registered model, oldest first."""
        in_use = self._in_use_id()
        return [self._entry(r, in_use) for r in self.log.query("SELECT * FROM models WHERE removed = 0 ORDER BY id")]

    def _in_use_id(self) -> str | None:
        rows = self.log.query("SELECT value FROM registry_state WHERE key = 'model_in_use'")
        return rows[0]["value"] if rows else None

    def get(self, entry_id: int) -> ModelEntry:
        rows = self.log.query("SELECT * FROM models WHERE id = ? AND removed = 0", (int(entry_id),))
        if not rows:
            raise IunetError(f"no model {entry_id} in the registry of {self.folder}")
        return self._entry(rows[0])

    def by_path(self, path) -> ModelEntry | None:
        rows = self.log.query("SELECT * FROM models WHERE path = ? AND removed = 0 ORDER BY id DESC",
                              (str(Path(path).resolve()),))
        return self._entry(rows[0]) if rows else None

    def in_use(self) -> ModelEntry | None:
        value = self._in_use_id()
        if value is None:
            return None
        try:
            return self.get(int(value))
        except IunetError:  # the model in use was removed meanwhile
            return None

    def _entry(self, r: dict, in_use: str | None = ...) -> ModelEntry:
        in_use = self._in_use_id() if in_use is ... else in_use
        return ModelEntry(
            id=r["id"], name=r["name"], source=r["source"], path=Path(r["path"]), arch=r["arch"], preset=r["preset"],
            parameters=r["parameters"], classes=json.loads(r["classes"] or "[]"), input_scale=r["input_scale"],
            threshold=r["threshold"], train_images=r["train_images"], labels_hash=r["labels_hash"],
            parent_id=r["parent_id"], created=r["created"],
            onnx_path=Path(r["onnx_path"]) if r["onnx_path"] else None,
            run_dir=Path(r["run_dir"]) if r["run_dir"] else None, golden_set=r["golden_set"],
            golden=json.loads(r["golden"]) if r["golden"] else None,
            in_use=in_use == str(r["id"]))

    # -- changing ---------------------------------------------------------------------------------
    def set_in_use(self, entry_id: int) -> ModelEntry:
        self.get(entry_id)
        self.log.execute(
            "INSERT INTO registry_state (key, value) VALUES ('model_in_use', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(int(entry_id)),))
        return self.get(entry_id)

    def rename(self, entry_id: int, name: str) -> ModelEntry:
        name = str(name).strip()
        if not name:
            raise IunetError("a model's name can't be empty")
        self.get(entry_id)
        self.log.execute("UPDATE models SET name = ? WHERE id = ?", (name, int(entry_id)))
        return self.get(entry_id)

    def set_golden(self, entry_id: int, set_name: str, figures: dict) -> None:
        from iunet_gui.app.records import json_ready

        self.log.execute("UPDATE models SET golden_set = ?, golden = ? WHERE id = ?",
                         (set_name, json.dumps(json_ready(figures)), int(entry_id)))

    def delete(self, entry_id: int, delete_files: bool = False) -> list[Path]:
        """Take a model out of the registry; with `delete_files` also its checkpoint and ONNX file
        (returns the files deleted). The model in use can't be deleted."""
        entry = self.get(entry_id)
        if entry.in_use:
            raise IunetError(f"{entry.name} is the model in use: choose another model before deleting it")
        gone = []
        if delete_files:
            for p in (entry.path, entry.onnx_path):
                if p is not None and p.is_file():
                    p.unlink()
                    gone.append(p)
        self.log.execute("UPDATE models SET removed = 1 WHERE id = ?", (int(entry_id),))
        return gone

    # -- gate decisions ---------------------------------------------------------------------------
    def log_gate(self, challenger_id: int, champion_id: int | None, accepted: bool, reasons, *,
                 overridden: bool = False, note: str = "", reviewer: str | None = None,
                 figures: dict | None = None) -> int:
        from iunet_gui.app.records import default_reviewer, json_ready, utc_now

        return self.log.execute(
            "INSERT INTO gate_decisions (challenger_id, champion_id, accepted, overridden, reasons, note, reviewer,"
            " figures, created) VALUES (?,?,?,?,?,?,?,?,?)",
            (int(challenger_id), champion_id, int(bool(accepted)), int(bool(overridden)),
             json.dumps(list(reasons), ensure_ascii=False), str(note or ""), reviewer or default_reviewer(),
             None if figures is None else json.dumps(json_ready(figures)), utc_now()))

    def gate_decisions(self) -> list[dict]:
        rows = self.log.query("SELECT * FROM gate_decisions ORDER BY id")
        for r in rows:
            r["reasons"] = json.loads(r["reasons"] or "[]")
            r["figures"] = json.loads(r["figures"]) if r["figures"] else None
        return rows


def _run_settings(run_dir) -> dict:
    """The settings a run wrote to its config.json ({} when it is missing or unreadable)."""
    try:
        return json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _run_metrics(result) -> dict:
    """How a run ended and its last epoch's figures, for the log's training_runs table."""
    return {"status": result.status, "epochs": result.epochs_done, "best_val_miou": result.best_val_miou,
            "seconds": round(result.seconds, 1), "last_epoch": result.history[-1] if result.history else None,
            "best_checkpoint": str(result.best_checkpoint)}
