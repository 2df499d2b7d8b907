"""The embedded SQLite store: state machines, executions and their history (with their attempts
and redrive checkpoints), processing jobs, local images and registered models.

One file, `$SMLIFT_HOME/smlift.db`, in WAL mode. Every write is its own committed transaction, so
what was written before a crash of the process is still there after it (`synchronous=NORMAL`
survives a process crash; only a power loss may drop the last commits). Records are kept as AWS
shapes in JSON columns; the few columns we query on are real columns.

Timestamps are floats (seconds since the epoch, UTC); rendering them is the caller's business.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

from ..errors import ExecutionAlreadyExists, ExecutionDoesNotExist, InputError, StorageError
from .home import smlift_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY, name TEXT NOT NULL, definition TEXT NOT NULL,
    role_arn TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, input TEXT, output TEXT, error TEXT, cause TEXT,
    start_date REAL NOT NULL, stop_date REAL, pid INTEGER,
    UNIQUE (state_machine_arn, name));
CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL, id INTEGER NOT NULL, previous_event_id INTEGER,
    timestamp REAL NOT NULL, type TEXT NOT NULL, details TEXT,
    PRIMARY KEY (execution_arn, id));
CREATE TABLE IF NOT EXISTS attempts (
    execution_arn TEXT NOT NULL, redrive_count INTEGER NOT NULL, date REAL NOT NULL,
    definition TEXT, PRIMARY KEY (execution_arn, redrive_count));
CREATE TABLE IF NOT EXISTS checkpoints (
    execution_arn TEXT NOT NULL, lane TEXT NOT NULL, step INTEGER NOT NULL, state TEXT NOT NULL,
    output TEXT, next TEXT, assigned TEXT, caught INTEGER NOT NULL,
    PRIMARY KEY (execution_arn, lane, step));
CREATE TABLE IF NOT EXISTS processing_jobs (
    name TEXT PRIMARY KEY, arn TEXT NOT NULL, status TEXT NOT NULL,
    description TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    uri TEXT PRIMARY KEY, record TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL,
    record TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (name, version));
"""

_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


_FIX_DAMAGED = "move the file aside (smlift starts a new store), or point SMLIFT_HOME elsewhere"


@contextlib.contextmanager
def _storage_errors(path: Path):
    """SQLite's failures as the user's: a full disk, a damaged file, text that is not UTF-8.
    (IntegrityError, a constraint the caller handles, passes through.)"""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except UnicodeEncodeError as exc:
        raise InputError(f"{exc.object[exc.start:exc.end]!r} is not valid UTF-8 text",
                         where="name", fix="use UTF-8 characters only") from None
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code
        if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _disk_full(path)):
            raise StorageError("the disk holding the store is full", where=str(path),
                               fix="free some space, then run the command again") from None
        if code == sqlite3.SQLITE_IOERR:
            raise StorageError(f"cannot read or write the store ({exc})", where=str(path),
                               fix="check the disk holding SMLIFT_HOME") from None
        raise StorageError(f"the store is damaged or not smlift's ({exc})", where=str(path),
                           fix=_FIX_DAMAGED) from None


def _disk_full(path: Path) -> bool:
    """SQLite reports a full disk as an I/O error when it cannot grow its shared-memory or
    journal file: the free space tells."""
    try:
        return shutil.disk_usage(path.parent).free < 1024 * 1024
    except OSError:
        return False


def _expected_columns() -> dict[str, list[str]]:
    """table -> its column names, as SCHEMA creates them."""
    memory = sqlite3.connect(":memory:")
    memory.executescript(SCHEMA)
    tables = [row[0] for row in memory.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    columns = {t: [c[1] for c in memory.execute(f"PRAGMA table_info({t})")] for t in tables}
    memory.close()
    return columns


_EXPECTED_COLUMNS = _expected_columns()


class Store:
    """A thread-safe handle on the SQLite store. Open with `Store.open(path)` or `open_store()`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_dir():
            raise StorageError("is a folder, not the store's file", where=str(self.path),
                               fix=_FIX_DAMAGED)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=30)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open the store: {exc}", where=str(self.path),
                               fix=_FIX_DAMAGED) from None
        try:
            with _storage_errors(self.path):
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(SCHEMA)
                self._check_schema()
        except BaseException:
            self._db.close()
            raise
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()

    def _rollback(self) -> None:
        """End a failed transaction (SQLite may already have rolled it back, e.g. on a full
        disk, and then a ROLLBACK is itself an error: the original one is what matters)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _check_schema(self) -> None:
        """A database made by something else (same table names, other columns) is refused here,
        not with a query error later."""
        for table, columns in _EXPECTED_COLUMNS.items():
            found = [c[1] for c in self._db.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise StorageError(f"not an smlift store: table {table!r} has columns "
                                   f"{', '.join(found)}", where=str(self.path), fix=_FIX_DAMAGED)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock, _storage_errors(self.path):
            return self._db.execute(sql, tuple(args))

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, _storage_errors(self.path):
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- state machines -------------------------------------------------------------------
    def put_state_machine(self, arn: str, name: str, definition: str, role_arn: str | None,
                          now: float) -> None:
        self._exec(
            "INSERT INTO state_machines VALUES (?,?,?,?,?,?) ON CONFLICT(arn) DO UPDATE SET "
            "definition=excluded.definition, role_arn=excluded.role_arn, updated=excluded.updated",
            (arn, name, definition, role_arn, now, now))

    def get_state_machine(self, arn: str) -> dict | None:
        rows = self._rows("SELECT * FROM state_machines WHERE arn=?", (arn,))
        return dict(rows[0]) if rows else None

    # -- executions -----------------------------------------------------------------------
    def create_execution(self, arn: str, state_machine_arn: str, name: str, input_: Any,
                         now: float, pid: int | None = None,
                         definition: str | None = None) -> None:
        """A RUNNING record, and its first attempt with the `definition` it runs (a redrive
        runs the same one; without it the execution cannot be redriven)."""
        try:
            self._exec("INSERT INTO executions (arn, state_machine_arn, name, status, input, "
                       "start_date, pid) VALUES (?,?,?,?,?,?,?)",
                       (arn, state_machine_arn, name, "RUNNING", _dump(input_), now, pid))
        except sqlite3.IntegrityError as exc:
            raise ExecutionAlreadyExists(
                f"Execution Already Exists: '{arn}'", where="name",
                fix="choose another --name, or leave it out for a generated one") from exc
        if definition is not None:
            self._exec("INSERT OR REPLACE INTO attempts VALUES (?,?,?,?)",
                       (arn, 0, now, definition))

    def reopen_execution(self, arn: str, redrive_count: int, now: float, pid: int,
                         closed: tuple[str, ...]) -> bool:
        """RUNNING again for redrive `redrive_count`, if its status is still one of `closed`
        (False: another redrive or a writer got there first)."""
        with self._lock, _storage_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                marks = ",".join("?" * len(closed))
                changed = self._db.execute(
                    "UPDATE executions SET status='RUNNING', output=NULL, error=NULL, cause=NULL, "
                    f"stop_date=NULL, pid=? WHERE arn=? AND status IN ({marks})",
                    (pid, arn, *closed)).rowcount
                if changed:
                    self._db.execute("INSERT INTO attempts VALUES (?,?,?,NULL)",
                                     (arn, redrive_count, now))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return bool(changed)

    def get_attempts(self, arn: str) -> list[dict]:
        """The attempts of an execution, oldest first: redrive_count, date, definition (only
        the first holds it)."""
        return [dict(r) for r in self._rows("SELECT redrive_count, date, definition FROM "
                                            "attempts WHERE execution_arn=? ORDER BY "
                                            "redrive_count", (arn,))]

    def append_checkpoint_rows(self, arn: str, rows: list[tuple]) -> None:
        """Redrive checkpoints: (lane, step, state, output, next, assigned, caught) rows
        (journal.py)."""
        with self._lock, _storage_errors(self.path):
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?,?,?,?,?)",
                                     [(arn, *row) for row in rows])
            except BaseException:
                self._rollback()
                raise
            self._db.execute("COMMIT")

    def get_checkpoints(self, arn: str) -> list[tuple]:
        return [tuple(r) for r in self._rows("SELECT lane, step, state, output, next, assigned, "
                                             "caught FROM checkpoints WHERE execution_arn=?", (arn,))]

    def count_events(self, arn: str) -> tuple[int, int]:
        """(how many history events, the id of the last one) of an execution."""
        rows = self._rows("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events "
                          "WHERE execution_arn=?", (arn,))
        return rows[0][0], rows[0][1]

    def finish_execution(self, arn: str, status: str, now: float, output: Any = None,
                         error: str | None = None, cause: str | None = None) -> None:
        if status not in _TERMINAL:
            raise ValueError(f"not a terminal status: {status}")
        self._exec("UPDATE executions SET status=?, output=?, error=?, cause=?, stop_date=? "
                   "WHERE arn=?", (status, _dump(output), error, cause, now, arn))

    def get_execution(self, arn: str) -> dict:
        rows = self._rows("SELECT * FROM executions WHERE arn=? OR name=? "
                          "ORDER BY start_date DESC", (arn, arn))
        if not rows:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'",
                                        fix="see `smlift executions list`")
        record = dict(rows[0])
        record["input"] = _load(record["input"])
        record["output"] = _load(record["output"])
        return record

    def list_executions(self, state_machine_arn: str | None = None,
                        status: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM executions WHERE 1=1", []
        if state_machine_arn:
            sql, args = sql + " AND state_machine_arn=?", args + [state_machine_arn]
        if status:
            sql, args = sql + " AND status=?", args + [status]
        return [dict(r) for r in self._rows(sql + " ORDER BY start_date DESC", args)]

    # -- history --------------------------------------------------------------------------
    def append_events(self, execution_arn: str, events: list[dict]) -> None:
        """Commit a batch of history events: dicts with id, previousEventId, timestamp, type
        and the AWS `...EventDetails` key (if any) carried whole in `details`."""
        if not events:
            return
        rows = [(execution_arn, e["id"], e.get("previousEventId"), e["timestamp"], e["type"],
                 _dump(e.get("details"))) for e in events]
        with self._lock, _storage_errors(self.path):
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", rows)
            except BaseException:
                self._rollback()
                raise
            self._db.execute("COMMIT")

    def append_event_rows(self, execution_arn: str, rows: list[tuple]) -> None:
        """Like `append_events`, for callers that serialize the details themselves: each row is
        (id, previousEventId, timestamp, type, details as JSON text or None)."""
        if not rows:
            return
        with self._lock, _storage_errors(self.path):
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)",
                                     [(execution_arn, *row) for row in rows])
            except BaseException:
                self._rollback()
                raise
            self._db.execute("COMMIT")

    def get_events(self, execution_arn: str) -> list[dict]:
        rows = self._rows("SELECT id, previous_event_id, timestamp, type, details FROM events "
                          "WHERE execution_arn=? ORDER BY id", (execution_arn,))
        return [{"id": r["id"], "previousEventId": r["previous_event_id"],
                 "timestamp": r["timestamp"], "type": r["type"], "details": _load(r["details"])}
                for r in rows]

    # -- processing jobs ------------------------------------------------------------------
    def create_processing_job(self, name: str, arn: str, description: dict, now: float) -> bool:
        """Insert a job; False when the name is taken (SageMaker: ResourceInUse)."""
        try:
            self._exec("INSERT INTO processing_jobs VALUES (?,?,?,?,?,?)",
                       (name, arn, description.get("ProcessingJobStatus", "InProgress"),
                        _dump(description), now, now))
        except sqlite3.IntegrityError:
            return False
        return True

    def update_processing_job(self, name: str, description: dict, now: float) -> None:
        self._exec("UPDATE processing_jobs SET status=?, description=?, updated=? WHERE name=?",
                   (description.get("ProcessingJobStatus"), _dump(description), now, name))

    def get_processing_job(self, name: str) -> dict | None:
        rows = self._rows("SELECT description FROM processing_jobs WHERE name=?", (name,))
        return _load(rows[0]["description"]) if rows else None

    def find_processing_job(self, name: str) -> dict | None:
        """The job named `name` ignoring case (SageMaker job names are unique that way)."""
        rows = self._rows("SELECT description FROM processing_jobs WHERE lower(name)=lower(?)",
                          (name,))
        return _load(rows[0]["description"]) if rows else None

    def list_processing_jobs(self, status: str | None = None) -> list[dict]:
        sql = "SELECT description FROM processing_jobs"
        rows = (self._rows(sql + " WHERE status=? ORDER BY created DESC", (status,)) if status
                else self._rows(sql + " ORDER BY created DESC"))
        return [_load(r["description"]) for r in rows]

    # -- local images ---------------------------------------------------------------------
    def put_image(self, uri: str, record: dict, now: float) -> None:
        self._exec("INSERT INTO images VALUES (?,?,?) ON CONFLICT(uri) DO UPDATE SET "
                   "record=excluded.record, created=excluded.created", (uri, _dump(record), now))

    def get_image(self, uri: str) -> dict | None:
        rows = self._rows("SELECT record FROM images WHERE uri=?", (uri,))
        return _load(rows[0]["record"]) if rows else None

    def list_images(self) -> list[dict]:
        return [_load(r["record"]) for r in self._rows("SELECT record FROM images ORDER BY uri")]

    # -- models ---------------------------------------------------------------------------
    def add_model_version(self, name: str, record: dict, now: float) -> int:
        """Append a version (1, 2, ...) of model `name`; returns the version number."""
        with self._lock, _storage_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (latest,) = self._db.execute("SELECT COALESCE(MAX(version), 0) FROM models "
                                             "WHERE name=?", (name,)).fetchone()
                version = latest + 1
                record = {"ApprovalStatus": "PendingManualApproval", **record,
                          "ModelName": name, "Version": version}
                self._db.execute("INSERT INTO models VALUES (?,?,?,?,?)",
                                 (name, version, record["ApprovalStatus"], _dump(record), now))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return version

    def set_model_status(self, name: str, version: int, status: str) -> None:
        rows = self._rows("SELECT record FROM models WHERE name=? AND version=?", (name, version))
        if not rows:
            return
        record = {**_load(rows[0]["record"]), "ApprovalStatus": status}
        self._exec("UPDATE models SET status=?, record=? WHERE name=? AND version=?",
                   (status, _dump(record), name, version))

    def get_model_versions(self, name: str) -> list[dict]:
        return [_load(r["record"]) for r in
                self._rows("SELECT record FROM models WHERE name=? ORDER BY version", (name,))]

    def list_model_names(self) -> list[str]:
        return [r["name"] for r in self._rows("SELECT DISTINCT name FROM models ORDER BY name")]


def open_store(home: Path | None = None) -> Store:
    """The store of the embedded default under `home` (default: `smlift_home()`)."""
    return Store((home or smlift_home()) / "smlift.db")


def process_alive(pid: int | None) -> bool:
    """Whether the process `pid` (one that recorded a RUNNING execution or an unfinished job
    here) still runs: how readers tell a row a crashed smlift left behind from a live one."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
