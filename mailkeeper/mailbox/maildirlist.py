"""A Maildir's folders, its message files and their flags, and the stable UIDs (mbsync's,
Dovecot's, or mailkeeper's own map); see maildir.py for the rules. No message is read here."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from imapclient import imap_utf7

from mailkeeper.errors import MailboxError
from mailkeeper.files import write_atomic

logger = logging.getLogger(__name__)

INBOX = "INBOX"
# Maildir info letters -> IMAP flags, in the order Dovecot reports them.
INFO_FLAGS = (
    ("R", "\\Answered"),
    ("F", "\\Flagged"),
    ("T", "\\Deleted"),
    ("S", "\\Seen"),
    ("D", "\\Draft"),
)
MAX_DEPTH = 8  # how deep folders are looked for below the root
_SKIP_DIRS = frozenset({"cur", "new", "tmp"})
_INFO_SEPARATORS = (":", ";", "!")  # ":" almost always; mbsync InfoDelimiter can differ
_MBSYNC_UID = re.compile(r",U=(\d+)")
_UINT32 = 2**32 - 1


# ----------------------------------------------------------------------------- file names
def split_name(name: str) -> tuple[str, str]:
    """(basename, info letters) of a Maildir file name: "123.M1.host:2,RS" -> ("123.M1.host",
    "RS"). The basename is what stays the same when a mail client changes the flags."""
    at = max(name.rfind(":2,"), name.rfind(";2,"), name.rfind("!2,"))  # _INFO_SEPARATORS
    if at >= 0:
        return name[:at], name[at + 3 :]
    if ":" in name:
        return name.split(":", 1)[0], ""
    return name, ""


def flags_of(letters: str) -> tuple[str, ...]:
    """IMAP flags from Maildir info letters (lower-case keyword letters are ignored)."""
    return tuple(flag for letter, flag in INFO_FLAGS if letter in letters)


def list_messages(folder_dir: Path) -> dict[str, str]:
    """basename -> path of every message file in cur/ and new/ (cur/ wins a duplicate).

    Paths are kept as strings: a folder of 100,000 files held as `Path` objects costs ~50 MB
    more (each keeps its parsed parts and, once used, its string)."""
    out: dict[str, str] = {}
    for sub in ("cur", "new"):
        try:
            entries = list(os.scandir(folder_dir / sub))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or "\n" in entry.name:
                continue
            try:
                if not entry.is_file():
                    continue
            except OSError:
                continue
            out.setdefault(split_name(entry.name)[0], entry.path)
    return out


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _decode_utf7(name: str) -> str:
    """Dovecot stores non-ASCII folder names in modified UTF-7 (`.&XfJT0ZAB-` = 已发送)."""
    if "&" not in name:
        return name
    try:
        return str(imap_utf7.decode(name.encode("ascii")))
    except (UnicodeError, ValueError):
        return name


def find_folders(root: Path) -> dict[str, Path]:
    """Folder name -> folder path for every Maildir at or below `root` (not following links
    deeper than MAX_DEPTH). The root itself is INBOX (Maildir++)."""
    found: dict[str, Path] = {}
    if _is_maildir(root):
        found[INBOX] = root
    stack: list[tuple[Path, tuple[str, ...], int]] = [(root, (), 0)]
    while stack:
        folder_dir, parts, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder_dir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name in _SKIP_DIRS or name.startswith(".notmuch") or not _is_dir(entry):
                continue
            if name.startswith("."):
                if len(name) == 1 or name == "..":
                    continue
                if depth == 0:  # Maildir++: .Archive.2024
                    comps = tuple(_decode_utf7(p) for p in name[1:].split(".") if p)
                else:  # mbsync Legacy: Archive/.2024
                    comps = (*parts, name[1:])
            else:  # mbsync Verbatim: Archive/2024
                comps = (*parts, name)
            path = Path(entry.path)
            if comps and _is_maildir(path):
                found.setdefault("/".join(comps), path)
            if depth + 1 < MAX_DEPTH:
                stack.append((path, comps, depth + 1))
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


# ----------------------------------------------------------------------------- numbering
class _Numbering:
    """How one folder's files get their UIDs."""

    source = ""
    uidvalidity = 0

    def numbered(self, listing: dict[str, str]) -> dict[int, str]:
        """uid -> path of every file that has a UID now."""
        raise NotImplementedError

    def uidnext(self, listing: dict[str, str]) -> int:
        """The UIDNEXT after every numberable file in `listing` has been numbered."""
        raise NotImplementedError

    def assign(self, listing: dict[str, str]) -> None:
        """Number what is not numbered yet (only mailkeeper's own map does)."""


class _MbsyncNumbering(_Numbering):
    """mbsync: `.uidvalidity` holds "UIDVALIDITY\\nMAXUID\\n"; names carry ",U=<uid>"."""

    source = "mbsync"

    def __init__(self, uidvalidity: int, max_uid: int) -> None:
        self.uidvalidity = uidvalidity
        self.max_uid = max_uid

    @classmethod
    def read(cls, folder_dir: Path) -> _MbsyncNumbering | None:
        try:
            lines = (folder_dir / ".uidvalidity").read_text("ascii").split()
            return cls(int(lines[0]), int(lines[1]) if len(lines) > 1 else 0)
        except (OSError, ValueError, IndexError, UnicodeError):
            return None

    def numbered(self, listing: dict[str, str]) -> dict[int, str]:
        out: dict[int, str] = {}
        for base, path in listing.items():
            m = _MBSYNC_UID.search(base)
            if m:
                out.setdefault(int(m.group(1)), path)
        return out

    def uidnext(self, listing: dict[str, str]) -> int:
        return max([self.max_uid, *self.numbered(listing)]) + 1


class _DovecotNumbering(_Numbering):
    """Dovecot: dovecot-uidlist, "3 V<uidvalidity> N<uidnext> ..." then "<uid> [ext] :<base>"."""

    source = "dovecot"

    def __init__(self, uidvalidity: int, next_uid: int, by_base: dict[str, int]) -> None:
        self.uidvalidity = uidvalidity
        self.next_uid = next_uid
        self.by_base = by_base

    @classmethod
    def read(cls, folder_dir: Path) -> _DovecotNumbering | None:
        try:
            data = (folder_dir / "dovecot-uidlist").read_bytes()
        except OSError:
            return None
        lines = os.fsdecode(data).split("\n")
        head = lines[0].split()
        try:
            if head and head[0] == "1":  # version 1: "1 <uidvalidity> <nextuid>"
                uidvalidity, next_uid = int(head[1]), int(head[2])
            else:
                fields = {f[:1]: f[1:] for f in head[1:]}
                uidvalidity, next_uid = int(fields["V"]), int(fields.get("N", "1"))
        except (ValueError, IndexError, KeyError):
            logger.warning("%s: unreadable dovecot-uidlist header; ignoring it", folder_dir)
            return None
        by_base: dict[str, int] = {}
        for line in lines[1:]:
            uid, _, rest = line.partition(" ")
            if not uid.isdigit() or not rest:
                continue
            if rest.startswith(":"):  # version 3, no extension fields
                base = rest[1:]
            elif " :" in rest:  # version 3: "<uid> G<guid> W<vsize> :<base>"
                base = rest.split(" :", 1)[1]
            else:  # version 1: "<uid> <base>"
                base = rest
            by_base[split_name(base)[0]] = int(uid)
        return cls(uidvalidity, next_uid, by_base)

    def numbered(self, listing: dict[str, str]) -> dict[int, str]:
        return {self.by_base[b]: p for b, p in listing.items() if b in self.by_base}

    def uidnext(self, listing: dict[str, str]) -> int:
        # The header's N is only rewritten when Dovecot recreates the file; lines are appended.
        return max([self.next_uid - 1, *self.by_base.values()]) + 1


class _OwnNumbering(_Numbering):
    """mailkeeper's own append-only map file (see the module docstring)."""

    source = "mailkeeper"

    def __init__(self, path: Path, uidvalidity: int, by_base: dict[str, int]) -> None:
        self.path = path
        self.uidvalidity = uidvalidity
        self.by_base = by_base
        self.next_uid = max(by_base.values(), default=0) + 1

    @classmethod
    def open(cls, path: Path) -> _OwnNumbering:
        """Load the map, or start one (with a fresh UIDVALIDITY) when there is none."""
        loaded = cls._load(path)
        if loaded is not None:
            return loaded
        uidvalidity = min(max(int(time.time()), 1), _UINT32)
        write_atomic(path, f"{uidvalidity}\n".encode())
        logger.info("new UID map %s (UIDVALIDITY %s)", path, uidvalidity)
        return cls(path, uidvalidity, {})

    @classmethod
    def _load(cls, path: Path) -> _OwnNumbering | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise MailboxError(f"cannot read the UID map {path}: {e.strerror}") from e
        if data and not data.endswith(b"\n"):
            # A line cut by a crash: its UID was never handed out (lines are synced first).
            data = data[: data.rfind(b"\n") + 1]
            write_atomic(path, data)
        lines = data.split(b"\n")
        try:
            uidvalidity = int(lines[0])
        except ValueError:
            logger.warning("%s: unreadable UID map; starting a new one (full resync)", path)
            return None
        by_base: dict[str, int] = {}
        for line in lines[1:]:
            uid, _, base = line.partition(b" ")
            if uid.isdigit() and base:
                by_base[os.fsdecode(base)] = int(uid)
        return cls(path, uidvalidity, by_base)

    def pending(self, listing: dict[str, str]) -> list[str]:
        return [b for b in listing if b not in self.by_base]

    def numbered(self, listing: dict[str, str]) -> dict[int, str]:
        return {self.by_base[b]: p for b, p in listing.items() if b in self.by_base}

    def uidnext(self, listing: dict[str, str]) -> int:
        return self.next_uid + len(self.pending(listing))

    def assign(self, listing: dict[str, str]) -> None:
        new = _by_arrival((b, listing[b]) for b in self.pending(listing))
        if not new:
            return
        lines = []
        for base in new:
            self.by_base[base] = self.next_uid
            lines.append(f"{self.next_uid} {base}\n")
            self.next_uid += 1
        with self.path.open("ab") as fh:
            fh.write(os.fsencode("".join(lines)))
            fh.flush()
            os.fsync(fh.fileno())
        logger.debug("%s: numbered %d new file(s)", self.path, len(new))


def _by_arrival(files: Iterable[tuple[str, str]]) -> list[str]:
    """Basenames in (mtime, name) order; a file that vanished meanwhile is left out."""
    stamped = []
    for base, path in files:
        try:
            stamped.append((os.stat(path).st_mtime_ns, base))
        except FileNotFoundError:
            continue
    return [base for _, base in sorted(stamped)]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:60] or "folder"
