"""The locks beside the database: one writer at a time (the sync lock), and one daemon per
database (the daemon lock).

The locking is the `filelock` package's (flock on Linux and macOS, the Windows API there);
the process that holds a lock is named in a small JSON file beside it (pid and since),
written once the lock is held and removed on release, so a refusal can say who holds it.
The kernel releases a lock when its process dies, even by kill -9; a holder file left
behind by a dead process is recognised by its pid.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import filelock

from mailkeeper.errors import LockedError
from mailkeeper.files import private_dir, write_atomic


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Lock:
    """An exclusive lock on `<database>.<suffix>`; `what` words the refusal."""

    def __init__(self, db_path: Path | str, suffix: str, what: str, advice: str) -> None:
        db_path = Path(db_path)
        self.db_path = db_path
        self.path = db_path.with_name(f"{db_path.name}.{suffix}")
        self.holder_path = self.path.with_name(self.path.name + ".json")
        self.what = what
        self.advice = advice
        self._lock: filelock.BaseFileLock | None = None

    def acquire(self, wait: float = 0.0) -> Lock:
        """Take the lock, waiting up to `wait` seconds; LockedError names the holder."""
        private_dir(self.path.parent)
        lock = filelock.FileLock(str(self.path), mode=0o600, thread_local=False)
        try:
            lock.acquire(timeout=wait, poll_interval=0.05)
        except filelock.Timeout:
            holder = self.holder(settle=1.0)
            pid = holder["pid"] if holder else "unknown"
            who = f"mailkeeper (pid {pid})"
            daemon = daemon_lock(self.db_path).holder() if self.what != _DAEMON_WHAT else None
            if daemon is not None and daemon["pid"] == pid:
                who = f"the mailkeeper daemon (pid {pid})"
            busy = f"the database is busy: {who} is {self.what}"
            raise LockedError(busy, [self.advice]) from None
        self._lock = lock
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_atomic(self.holder_path, json.dumps({"pid": os.getpid(), "since": since}).encode())
        return self

    def release(self) -> None:
        if self._lock is not None:
            self.holder_path.unlink(missing_ok=True)
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Lock:
        """Takes the lock without waiting, unless acquire(wait=...) has taken it already."""
        return self if self._lock is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def holder(self, settle: float = 0.0) -> dict[str, Any] | None:
        """{pid, since} of the live process that holds the lock, or None. Never takes the
        lock, so it never gets in a writer's way. `settle`: how long to wait for a holder
        that has just taken the lock to write its name."""
        deadline = time.monotonic() + settle
        while True:
            try:
                data = json.loads(self.holder_path.read_text())
                if isinstance(data, dict) and isinstance(data.get("pid"), int):
                    if _alive(data["pid"]):
                        return data
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


def sync_lock(db_path: Path | str) -> Lock:
    """One writer per database: a sync, a relink, a scan."""
    return Lock(
        db_path,
        "lock",
        "already syncing it",
        "wait for it to finish, or stop the daemon (`mailkeeper status` shows it)",
    )


_DAEMON_WHAT = "already running as the daemon for it"


def daemon_lock(db_path: Path | str) -> Lock:
    """One daemon per database."""
    return Lock(
        db_path,
        "daemon.lock",
        _DAEMON_WHAT,
        "stop that daemon first (`mailkeeper status` shows it), or use another database",
    )
