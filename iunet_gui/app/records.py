"""The inspection log: one SQLite file per project, `<project>/iunet_inspections.sqlite`.

Every inspection of an image (which model, threshold, verdict and reasons, its measured defects), every
review decision (who, when, what, a note) and every training run is a row; re-inspecting adds rows and
nothing is ever overwritten. The file is in WAL mode with synchronous=FULL (a committed record survives
the process being killed, and the machine losing power); every write is one transaction (BEGIN
IMMEDIATE ... COMMIT) with a busy timeout and retries, so two processes (two windows on one project, the
window and a line PC's `iunet-gui inspect`) can write at once. Values always go in as parameters.

The schema is versioned with `PRAGMA user_version` and upgraded by the forward MIGRATIONS below when an
older file is opened; a file from a newer version is refused (never changed). Schema (docs: any SQLite
tool reads it):

    inspections(id, image_path, content_hash, model_id, threshold, created UTC ISO 8601, status
                ["OK"|"NG"|"check"|"uncalibrated"], reasons JSON list, mm_per_px, specification JSON,
                scores JSON [the image's figures against its labels, core.metrics.Evaluator record])
    defects(id, inspection_id, idx [position in the image's list], class, length_px, width_px, area_px,
            length_mm, width_mm, area_mm2, angle_deg, cx, cy, box JSON [4 corners], probability,
            judged ["ng"|"check"|"ok"])
    decisions(id, inspection_id, defect_index [NULL: the whole image], decision, note, reviewer, created)
    training_runs(id, model_id, data_size, settings JSON, metrics JSON, created)
    models, registry_state, golden_images, gate_decisions: the model registry (app.registry)
"""
from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from iunet_gui.core.errors import IunetError

LOG_FILE = "iunet_inspections.sqlite"
DECISIONS = ("confirm", "false_alarm", "confirm_verdict", "override_ok", "override_ng", "missed")
IMAGE_DECISIONS = ("confirm_verdict", "override_ok", "override_ng")  # a decision on the whole image
BUSY_TIMEOUT_S = 10.0
RETRIES = 8

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the tables
        """CREATE TABLE inspections (
            id INTEGER PRIMARY KEY, image_path TEXT NOT NULL, content_hash TEXT, model_id TEXT,
            threshold REAL, created TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT NOT NULL DEFAULT '[]',
            mm_per_px REAL, specification TEXT, scores TEXT)""",
        """CREATE TABLE defects (
            id INTEGER PRIMARY KEY, inspection_id INTEGER NOT NULL REFERENCES inspections(id), idx INTEGER NOT NULL,
            class TEXT, length_px REAL, width_px REAL, area_px REAL, length_mm REAL, width_mm REAL,
            area_mm2 REAL, angle_deg REAL, cx REAL, cy REAL, box TEXT, probability REAL, judged TEXT)""",
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY, inspection_id INTEGER NOT NULL REFERENCES inspections(id),
            defect_index INTEGER, decision TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', reviewer TEXT,
            created TEXT NOT NULL)""",
        """CREATE TABLE training_runs (
            id INTEGER PRIMARY KEY, model_id TEXT, data_size INTEGER, settings TEXT, metrics TEXT,
            created TEXT NOT NULL)""",
    ),
    (  # 2: look-ups by image and by inspection
        "CREATE INDEX inspections_image ON inspections(image_path, id)",
        "CREATE INDEX defects_inspection ON defects(inspection_id)",
        "CREATE INDEX decisions_inspection ON decisions(inspection_id, id)",
    ),
    (  # 3: the model registry, golden sets and gate decisions (app.registry, app.golden, app.gate)
        """CREATE TABLE IF NOT EXISTS models (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL, arch TEXT, preset TEXT,
            parameters INTEGER, classes TEXT NOT NULL DEFAULT '[]', input_scale REAL, threshold REAL,
            train_images INTEGER, labels_hash TEXT, parent_id INTEGER REFERENCES models(id), created TEXT NOT NULL,
            path TEXT NOT NULL, onnx_path TEXT, run_dir TEXT, golden_set TEXT, golden TEXT,
            removed INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX IF NOT EXISTS models_path ON models(path)",
        "CREATE TABLE IF NOT EXISTS registry_state (key TEXT PRIMARY KEY, value TEXT)",
        """CREATE TABLE IF NOT EXISTS golden_images (
            id INTEGER PRIMARY KEY, set_name TEXT NOT NULL, image TEXT NOT NULL, labels_hash TEXT,
            added TEXT NOT NULL, UNIQUE(set_name, image))""",
        """CREATE TABLE IF NOT EXISTS gate_decisions (
            id INTEGER PRIMARY KEY, challenger_id INTEGER NOT NULL, champion_id INTEGER, accepted INTEGER NOT NULL,
            overridden INTEGER NOT NULL DEFAULT 0, reasons TEXT NOT NULL DEFAULT '[]', note TEXT NOT NULL DEFAULT '',
            reviewer TEXT, figures TEXT, created TEXT NOT NULL)""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class LogError(IunetError):
    """The inspection log cannot be opened or written (a newer schema, a broken or locked file)."""


def content_hash(path) -> str:
    """SHA-1 of a file's bytes (the same photo under another name is recognised)."""
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (a service account): still a record
        return "unknown"


def utc_now() -> str:
    """The time now, UTC, ISO 8601 to the millisecond (the log's `created` values)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _num(v):
    return None if v is None else float(v)


class InspectionLog:
    """The log of a project folder (or of a .sqlite path). Safe to share between threads; close() it
    (or use it as a context manager)."""

    def __init__(self, where):
        where = Path(where)
        if not where.is_dir() and not where.is_file() and where.suffix.lower() not in (".sqlite", ".sqlite3", ".db"):
            raise LogError(f"{where}: no such project folder")
        self.path = where / LOG_FILE if where.is_dir() else where
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise LogError(f"{self.path}: cannot open the inspection log ({exc})") from None
        self._db.row_factory = sqlite3.Row
        try:
            self._retry(self._setup)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LogError(f"{self.path}: not a usable inspection log ({exc})") from None
        except LogError:
            self._db.close()
            raise

    def _setup(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    def migrate(self) -> int:
        """Bring the schema up to SCHEMA_VERSION (each step in its own transaction); returns the version."""
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LogError(f"{self.path}: written by a newer iunet-gui (schema {version}, this one knows "
                               f"{SCHEMA_VERSION}); not changed")
            for step in range(version, SCHEMA_VERSION):
                with self._transaction() as db:
                    if db.execute("PRAGMA user_version").fetchone()[0] != step:
                        continue  # another process ran this step meanwhile
                    for statement in MIGRATIONS[step]:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {step + 1:d}")  # PRAGMA takes no parameters
            return SCHEMA_VERSION

    @property
    def version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    # -- plumbing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _retry(self, work):
        """Run `work` again while another process holds the database (beyond the busy timeout)."""
        for attempt in range(RETRIES + 1):
            try:
                return work()
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or attempt == RETRIES:
                    raise LogError(f"{self.path}: {exc}") from None
                time.sleep(min(0.05 * 2 ** attempt, 1.0) * (0.5 + random.random()))
        return None  # not reached

    def _write(self, work):
        def once():
            with self._transaction() as db:
                return work(db)
        return self._retry(once)

    def _read(self, sql: str, params=()) -> list[dict]:
        def once():
            with self._lock:
                return [dict(r) for r in self._db.execute(sql, params).fetchall()]
        return self._retry(once)

    def query(self, sql: str, params=()) -> list[dict]:
        """The rows of one SELECT (values as parameters), as dicts; retried while the file is busy."""
        return self._read(sql, params)

    def execute(self, sql: str, params=()) -> int:
        """One writing statement (values as parameters) in a transaction of its own; returns the row id
        it inserted (SQLite's lastrowid)."""
        return self._write(lambda db: db.execute(sql, params).lastrowid)

    def execute_many(self, sql: str, rows) -> int:
        """One writing statement for each row of parameters, all in one transaction; returns the rows changed."""
        rows = list(rows)
        return self._write(lambda db: db.executemany(sql, rows).rowcount)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> InspectionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------------
    def log_inspection(self, image_path, content_hash: str | None, model_id: str | None, threshold: float | None,
                       verdict, defects, *, mm_per_px: float | None = None, specification: dict | None = None,
                       scores: dict | None = None, created: str | None = None) -> int:
        """Add one image's inspection and its defects (core.measure Defects, optionally with a
        `probability`); returns the inspection's id."""
        from iunet_gui.core.spec import defect_class, defect_probability

        ng, check = set(verdict.ng), set(verdict.check)
        rows = []
        for i, d in enumerate(defects):
            mm = mm_per_px if mm_per_px else None
            rows.append((i, defect_class(d), _num(d.length_px), _num(d.width_px), _num(d.area_px),
                         _num(d.length_mm) if d.length_mm is not None else (d.length_px * mm if mm else None),
                         _num(d.width_mm) if d.width_mm is not None else (d.width_px * mm if mm else None),
                         d.area_px * mm * mm if mm else None, _num(d.angle_deg), _num(d.centroid[0]),
                         _num(d.centroid[1]), json.dumps([[float(x), float(y)] for x, y in d.box]),
                         defect_probability(d), "ng" if i in ng else "check" if i in check else "ok"))

        def work(db):
            cur = db.execute(
                "INSERT INTO inspections (image_path, content_hash, model_id, threshold, created, status, reasons,"
                " mm_per_px, specification, scores) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (str(image_path), content_hash, model_id, _num(threshold), created or utc_now(), verdict.status,
                 json.dumps(list(verdict.reasons), ensure_ascii=False), _num(mm_per_px),
                 None if specification is None else json.dumps(specification),
                 None if scores is None else json.dumps(json_ready(scores))))
            iid = cur.lastrowid
            db.executemany(
                "INSERT INTO defects (inspection_id, idx, class, length_px, width_px, area_px, length_mm, width_mm,"
                " area_mm2, angle_deg, cx, cy, box, probability, judged)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(iid, *r) for r in rows])
            return iid
        return self._write(work)

    def log_decision(self, inspection_id: int, defect_index: int | None, decision: str, note: str = "",
                     reviewer: str | None = None) -> int:
        """Add a review decision (DECISIONS) on one defect (`defect_index`) or the whole image (None)."""
        if decision not in DECISIONS:
            raise IunetError(f"unknown review decision {decision!r}; one of {', '.join(DECISIONS)}")
        if (decision in IMAGE_DECISIONS) != (defect_index is None) and decision != "missed":
            raise IunetError(f"decision {decision!r} is made on "
                             + ("the whole image (no defect index)" if decision in IMAGE_DECISIONS else "one defect"))

        def work(db):
            if db.execute("SELECT 1 FROM inspections WHERE id = ?", (int(inspection_id),)).fetchone() is None:
                raise IunetError(f"no inspection {inspection_id} in {self.path}")
            return db.execute(
                "INSERT INTO decisions (inspection_id, defect_index, decision, note, reviewer, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (int(inspection_id), None if defect_index is None else int(defect_index), decision, str(note or ""),
                 reviewer or default_reviewer(), utc_now())).lastrowid
        return self._write(work)

    def log_training_run(self, model_id: str, data_size: int, settings: dict, metrics: dict) -> int:
        def work(db):
            return db.execute(
                "INSERT INTO training_runs (model_id, data_size, settings, metrics, created) VALUES (?, ?, ?, ?, ?)",
                (str(model_id), int(data_size), json.dumps(json_ready(settings)), json.dumps(json_ready(metrics)),
                 utc_now())).lastrowid
        return self._write(work)

    # -- reading ----------------------------------------------------------------------------------
    def latest_inspections(self) -> list[dict]:
        """The latest inspection of each image (by image path), oldest image first; `reasons`,
        `specification` and `scores` decoded."""
        rows = self._read("SELECT * FROM inspections WHERE id IN (SELECT MAX(id) FROM inspections"
                          " GROUP BY image_path) ORDER BY id")
        return [_decode(r) for r in rows]

    def inspection(self, inspection_id: int) -> dict | None:
        rows = self._read("SELECT * FROM inspections WHERE id = ?", (int(inspection_id),))
        return _decode(rows[0]) if rows else None

    def inspections_of(self, image_path) -> list[dict]:
        """Every inspection of one image, oldest first."""
        return [_decode(r) for r in self._read("SELECT * FROM inspections WHERE image_path = ? ORDER BY id",
                                               (str(image_path),))]

    def defects(self, inspection_id: int) -> list[dict]:
        rows = self._read("SELECT * FROM defects WHERE inspection_id = ? ORDER BY idx", (int(inspection_id),))
        for r in rows:
            r["box"] = json.loads(r["box"]) if r["box"] else []
        return rows

    def decisions(self, inspection_id: int) -> list[dict]:
        return self._read("SELECT * FROM decisions WHERE inspection_id = ? ORDER BY id", (int(inspection_id),))

    def training_runs(self) -> list[dict]:
        rows = self._read("SELECT * FROM training_runs ORDER BY id")
        for r in rows:
            r["settings"], r["metrics"] = json.loads(r["settings"] or "{}"), json.loads(r["metrics"] or "{}")
        return rows

    def count(self, table: str) -> int:
        if table not in ("inspections", "defects", "decisions", "training_runs"):
            raise ValueError(table)
        return self._read(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]  # one of the fixed table names above

    def integrity(self) -> str:
        """`PRAGMA integrity_check`'s answer: "ok" for a sound file."""
        return "; ".join(r["integrity_check"] for r in self._read("PRAGMA integrity_check"))


def _decode(row: dict) -> dict:
    row["reasons"] = json.loads(row["reasons"] or "[]")
    for key in ("specification", "scores"):
        row[key] = json.loads(row[key]) if row.get(key) else None
    return row


def json_ready(obj):
    """JSON-ready: numpy scalars as numbers, tuples as lists, paths as text."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)
