"""Writing files so that a crash never leaves a half-written one, and so that files holding
mail or findings are private (0600, folders 0700) whatever the umask."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a temp file in the same folder (fsynced), then rename over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def private_file(path: Path) -> None:
    """Make `path` (and its missing folders, 0700) as an empty 0600 file unless it exists,
    whatever the umask: SQLite then creates the -wal and -shm files with the same mode,
    so mail text is never readable by other users, not even for a moment."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away
    finally:
        os.close(fd)


def private_dir(path: Path) -> None:
    """Make `path` and its missing parents with mode 0700 (an existing folder is left as
    the rep made it)."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        d.chmod(0o700)  # mkdir's mode is filtered by the umask
