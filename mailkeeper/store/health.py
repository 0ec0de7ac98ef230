"""How each part of the daemon last fared, for `status`: `sync`, `scan`, `draft`, `watcher`,
each {last_ok_at, last_error, last_error_at}.

Kept in a small JSON file, not in SQLite: the failures that matter most (a full disk, a
read-only database) are the ones that stop the database from being written. The file is
`<database>.status.json` (written atomically, mode 0600); when it cannot be written there, it
goes to a private folder on another file system (`$XDG_RUNTIME_DIR/mailkeeper/`, else
`<tmp>/mailkeeper-<uid>/`, mode 0700), and the writer tries beside the database again at its
next change. A reader takes whichever of the two was written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from mailkeeper.files import write_atomic

__all__ = ["PARTS", "PartHealth", "read_health"]

PARTS = ("sync", "scan", "draft", "watcher")


def _empty() -> dict[str, dict[str, str | None]]:
    return {p: {"last_ok_at": None, "last_error": None, "last_error_at": None} for p in PARTS}


def _primary(database: Path) -> Path:
    return database.with_name(database.name + ".status.json")


def _fallback(database: Path) -> Path | None:
    """The private spare place, or None when there is none this user can trust."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "mailkeeper" if runtime else None
    if base is None or not Path(runtime or "").is_dir():
        base = Path(tempfile.gettempdir()) / f"mailkeeper-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = base.lstat()
    except OSError:
        return None
    # a folder someone else made (or a symlink) in a shared /tmp is not ours to write into
    if not base.is_dir() or base.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    digest = hashlib.sha256(str(Path(database).absolute()).encode()).hexdigest()[:16]
    return base / f"{digest}.status.json"


def _read(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), dict):
        return None
    return data


def read_health(database: Path) -> dict[str, dict[str, str | None]]:
    """The parts as last written (never None: an empty record when no daemon wrote one)."""
    found = [d for d in (_read(_primary(database)), _read(_fallback(database))) if d]
    parts = _empty()
    if found:
        newest = max(found, key=lambda d: float(d.get("written", 0) or 0))
        for p in PARTS:
            entry = newest["parts"].get(p)
            if isinstance(entry, dict):
                parts[p].update({k: entry.get(k) for k in parts[p]})
    return parts


class PartHealth:
    """The daemon's record: `ok(part, at)` and `failed(part, text, at)` change it in memory;
    `flush()` writes it (beside the database, else the spare place) and says where."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.parts = read_health(self.database)  # a restarted daemon keeps what still holds
        self.dirty = False
        self.where: Path | None = None  # where the last flush went

    def ok(self, part: str, at: str) -> None:
        entry = self.parts[part]
        entry["last_ok_at"] = at
        entry["last_error"] = entry["last_error_at"] = None
        self.dirty = True

    def failed(self, part: str, text: str, at: str) -> None:
        self.parts[part].update(last_error=text, last_error_at=at)
        self.dirty = True

    def flush(self) -> Path | None:
        """Write when changed (or when the last write missed the database's folder)."""
        primary = _primary(self.database)
        if not self.dirty and self.where == primary:
            return self.where
        data = json.dumps({"written": time.time(), "parts": self.parts}, indent=1).encode()
        spare = _fallback(self.database)
        for path in (primary, spare):
            if path is None:
                continue
            try:
                write_atomic(path, data, mode=0o600)
            except OSError:
                continue
            self.dirty = False
            self.where = path
            if path == primary and spare is not None:
                spare.unlink(missing_ok=True)  # the database's folder holds the truth again
            return path
        return None
