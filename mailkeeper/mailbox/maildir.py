"""Maildir adapter: the Mailbox interface on a local Maildir, read-only to the sync.

Nothing inside the Maildir is ever renamed, moved, written or deleted: message files are only
opened for reading (so a message's flags, which live in its file name, never change). The sync
writes only mailkeeper's own UID map, kept in `state_dir`, outside the Maildir. The one write
into the Maildir is `MaildirDraftBox.append_draft` (`mailkeeper draft`): a new file in the
Drafts folder, never a change to one that is there.

Layouts: Maildir++ (INBOX is the top folder's cur/ and new/, subfolders are `.Sent`,
`.Archive.2024`; Dovecot, Courier) and mbsync's `SubFolders Verbatim` / `Legacy` (subfolders are
`Sent/`, `Archive/2024/` or `Archive/.2024/`, INBOX often `INBOX/`). Nested names are shown
with "/" ("Archive/2024"); a name written with "." ("Archive.2024") is accepted too.

Stable UIDs, per folder, from the first source that applies:
  (a) mbsync: the folder has a `.uidvalidity` file and file names carry `,U=<n>`;
  (b) Dovecot: the folder has a `dovecot-uidlist`;
  (c) mailkeeper's own append-only map in `state_dir`: first line the UIDVALIDITY, then
      "uid basename" lines. New files get the next UIDs in (mtime, name) order; a file a mail
      client renamed to change its flags keeps its UID (the basename before ":2," is the key).
In (a) and (b) a file the owning program has not numbered yet is left alone until it has:
numbering it ourselves could clash with the number it will get.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import unquote
from pathlib import Path
from typing import BinaryIO

from imapclient import imap_utf7

from mailkeeper.errors import MailboxError, UserError
from mailkeeper.files import write_atomic
from mailkeeper.mailbox.base import FolderRoles, FolderStatus, ServerFolder, resolve_roles
from mailkeeper.mailbox.draftbox import keys_in, no_drafts_folder
from mailkeeper.model import Fetched, Part
from mailkeeper.parse.mime import fetched_from_bytes, leaf_from_header, text_bodies

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
HEADER_READ_LIMIT = 1024 * 1024  # the most read of an oversized message to find its header
_SKIP_DIRS = frozenset({"cur", "new", "tmp"})
_INFO_SEPARATORS = (":", ";", "!")  # ":" almost always; mbsync InfoDelimiter can differ
_MBSYNC_UID = re.compile(r",U=(\d+)")
_DOVECOT_VSIZE = re.compile(r",W=(\d+)")
_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_UINT32 = 2**32 - 1
_QUICK_DEPTH = 12  # deeper MIME nesting: the full parser
_TEXT_TYPES = ("text/plain", "text/html")
# a header block the email parser finds no defect in: `Name: value` fields and continuations
_CLEAN_HEADER = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)+\r?\n")
_MIME_FIELD = re.compile(
    rb"^(content-(?:type|transfer-encoding|disposition|id)):[^\n]*\n(?:[ \t][^\n]*\n)*",
    re.IGNORECASE | re.MULTILINE,
)
_LEAF_CACHE: dict[bytes, Part] = {}
_LONE_CR = re.compile(rb"\r(?!\n)").search
_WILLNEED = getattr(os, "POSIX_FADV_WILLNEED", None)  # not on macOS
# The common Content-Type of a multipart node, "multipart/x; boundary=...; type=...", read
# without the email package (`_simple_multipart`); the first line's blanks are already gone.
_MULTIPART_TYPE = re.compile(r"multipart/([A-Za-z0-9][A-Za-z0-9._+-]*)[ \t\r\n]*", re.I)
_SIMPLE_PARAM = re.compile(
    r";[ \t\r\n]*([A-Za-z0-9][A-Za-z0-9-]*)[ \t\r\n]*=[ \t\r\n]*"  # ; name =
    r'("[^"\\\r\n]*"|[^ \t\r\n";\\]+)[ \t\r\n]*'  # "quoted" or a token
)
_PARAMS_END = re.compile(r"(?:;[ \t\r\n]*)?")
_LEAF_CACHE_MAX = 4096
_RENAME_TRIES = 4  # reads of a file that a mail client keeps renaming (read_and_split)


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


# ----------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class _Read:
    raw: bytes  # the whole message, or only its header block when `size` is over the cap
    size: int
    whole: bool


def _open_quietly(path: str | Path) -> int:
    """Open read-only, without touching the access time when the OS lets us."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:  # O_NOATIME needs the file's owner (or root)
            pass
    return os.open(path, flags)


def _read_header(fh: BinaryIO) -> bytes:
    """The header block of an open message file, reading no more than needed."""
    data = b""
    while not _HEADER_END.search(data) and len(data) < HEADER_READ_LIMIT:
        chunk = fh.read(64 * 1024)
        if not chunk:
            break
        data += chunk
    m = _HEADER_END.search(data)
    return data[: m.end()] if m else data[:HEADER_READ_LIMIT]


def read_message(path: str, max_size: int) -> _Read:
    """The bytes of one message file, read once; only the header when it is over `max_size`."""
    with os.fdopen(_open_quietly(path), "rb") as fh:
        st = os.fstat(fh.fileno())
        m = _DOVECOT_VSIZE.search(split_name(os.path.basename(path))[0])
        size = int(m.group(1)) if m else st.st_size
        if size <= max_size:
            return _Read(fh.read(), size, True)
        return _Read(_read_header(fh), size, False)


# ----------------------------------------------------------------------------- splitting
def split_message(
    raw: bytes,
    folder: str,
    uid: int,
    flags: tuple[str, ...],
    internaldate: datetime | None,
    max_text_bytes: int | None,
) -> Fetched:
    """`mime.fetched_from_bytes`, with the same result, faster on a message with a clean
    header (every line a `Name: value` field or its continuation, so the email parser would
    find no defect in it): the parts of a multipart message are found by searching for the
    boundary lines (C-level `bytes.find`) instead of the email package's line-by-line parser,
    and each leaf is described by `fetched_from_bytes` from its MIME fields alone (the parser
    does not look at a leaf's body; the same fields give the same description, so it is
    cached). Anything else (bare CR line ends, a defect in a part header, a missing start or
    close boundary, a part without a header, message/* parts, multipart/digest, deep nesting)
    goes to `fetched_from_bytes` whole. Runs in the parse worker (`read_and_split`)."""
    try:
        quick = _quick_fetched(raw, folder, uid, flags, internaldate, max_text_bytes)
    except Exception:  # noqa: BLE001 - the full parser decides what is wrong
        quick = None
    if quick is not None:
        return quick
    return fetched_from_bytes(
        raw,
        folder=folder,
        uid=uid,
        flags=flags,
        internaldate=internaldate,
        max_text_bytes=max_text_bytes,
    )


def read_and_split(
    path: str,
    account: str,
    folder: str,
    uid: int,
    flags: tuple[str, ...],
    internaldate: datetime | None,
    max_size: int,
    max_text_bytes: int | None,
) -> Fetched | None:
    """One Maildir message as the parse worker makes it: the file read once (only its header
    when it is over `max_size`) and split (`split_message`). A file renamed since the listing
    (a mail client moved it from new/ to cur/ or changed its flags, maybe more than once) is
    found again by its basename; None when no file of that basename is left: the message was
    deleted, and the sync skips it for good, as it would a message expunged on a server."""
    where = path
    try:
        for _ in range(_RENAME_TRIES):
            try:
                got = read_message(where, max_size)
                break
            except FileNotFoundError:
                moved = _renamed(where)
                if moved is None:
                    return None
                where = moved
        else:
            return None  # renamed under us again and again: deleted is the likelier story
    except OSError as e:
        raise MailboxError(f"{account}: cannot read {where}: {e.strerror}") from e
    if got.whole:
        return split_message(got.raw, folder, uid, flags, internaldate, max_text_bytes)
    note = f"larger than max_message_size ({got.size} > {max_size} bytes): headers only"
    return Fetched(
        folder=folder,
        uid=uid,
        size=got.size,
        header=got.raw,
        flags=flags,
        internaldate=internaldate,
        notes=[note],
    )


def _renamed(path: str) -> str | None:
    """The file of the same basename in its folder's new/ or cur/, under its new name. new/ is
    looked at first: a file moved from new/ to cur/ meanwhile is then found in cur/."""
    base = split_name(os.path.basename(path))[0]
    folder_dir = os.path.dirname(os.path.dirname(path))
    for sub in ("new", "cur"):
        try:
            with os.scandir(os.path.join(folder_dir, sub)) as entries:
                for entry in entries:
                    if split_name(entry.name)[0] == base:
                        return entry.path
        except FileNotFoundError:
            continue
    return None


def header_end(raw: bytes) -> int:
    """Where the header block ends (after its blank line), as mime's `_split_header` finds
    it; -1 when there is no blank line. Without CRs before the first LF LF, a plain find."""
    i = raw.find(b"\n\n")
    if i >= 0 and b"\r" not in raw[:i]:
        return i + 2
    m = _HEADER_END.search(raw)
    return m.end() if m else -1


def _mime_fields(header: bytes) -> bytes:
    """The first Content-Type, -Transfer-Encoding, -Disposition and -ID fields of a clean
    header block (continuation lines included), as a header block of their own."""
    seen: set[bytes] = set()
    out: list[bytes] = []
    for m in _MIME_FIELD.finditer(header):
        name = m.group(1).lower()
        if name not in seen:
            seen.add(name)
            out.append(m.group(0))
    return b"".join(out) + b"\n"


def _leaf_part(fields: bytes) -> Part | None:
    """How `fetched_from_bytes` describes a leaf with these MIME fields (section "1", size
    0); None when it notes a defect. Cached: most leaves share a few headers."""
    part = _LEAF_CACHE.get(fields)
    if part is None:
        if _CLEAN_HEADER.fullmatch(fields):
            part = leaf_from_header(fields)  # the same, without the email parser
            if part is None:
                return None
        else:
            leaf = fetched_from_bytes(fields)
            if leaf.notes or len(leaf.parts) != 1:
                return None
            part = leaf.parts[0]
        if len(_LEAF_CACHE) >= _LEAF_CACHE_MAX:
            _LEAF_CACHE.clear()
        _LEAF_CACHE[fields] = part
    return part


class _Sizes:
    """Sizes as an IMAP server reports them (every bare LF counted as CRLF) for spans of one
    message, each byte counted once: a message whose line ends are all CRLF (`pure`) needs no
    counting at all; otherwise each part's span is counted when it is met and the rest of the
    message (headers, boundary lines) at the end. `bytes.count` runs byte by byte (~0.3 ms per
    MB), so on mail with attachments counting twice was a large share of the split."""

    def __init__(self, buf: bytes, has_cr: bool, pure: bool) -> None:
        self.buf, self.has_cr, self.pure = buf, has_cr, pure
        self.extra = 0  # line ends added by the spans counted so far
        self.spans: list[tuple[int, int]] = []

    def span(self, lo: int, hi: int) -> int:
        if self.pure:
            return hi - lo
        buf = self.buf
        extra = buf.count(b"\n", lo, hi)
        if self.has_cr:
            extra -= buf.count(b"\r\n", lo, hi)
        self.extra += extra
        self.spans.append((lo, hi))
        return hi - lo + extra

    def whole(self) -> int:
        buf = self.buf
        if self.pure:
            return len(buf)
        extra, at = self.extra, 0
        for lo, hi in (*self.spans, (len(buf), len(buf))):
            if lo > at:
                extra += buf.count(b"\n", at, lo)
                if self.has_cr:
                    extra -= buf.count(b"\r\n", at, lo)
            at = hi
        return len(buf) + extra


def _quick_fetched(
    raw: bytes,
    folder: str,
    uid: int,
    flags: tuple[str, ...],
    internaldate: datetime | None,
    max_text_bytes: int | None,
) -> Fetched | None:
    end = header_end(raw)
    if end <= 0 or not _CLEAN_HEADER.fullmatch(raw, 0, end):
        return None
    has_cr = b"\r" in raw
    pure = False
    if has_cr:
        if _LONE_CR(raw):
            return None  # a bare CR ends a line for the email parser: leave it to that parser
        pure = raw.count(b"\r") == raw.count(b"\n")  # every line end a CRLF
    sizes = _Sizes(raw, has_cr, pure)
    header = raw[:end]
    fields = _mime_fields(header)
    lowered = fields.lower()
    parts: list[Part] = []
    encoded: dict[str, bytes] = {}
    if b"multipart/" in lowered or b"message/" in lowered:
        boundary = _multipart_boundary(fields, True)
        if boundary is None:
            return None
        if not _split_multipart(boundary, raw, end, len(raw), "", 1, sizes, parts, encoded):
            return None
    else:  # one leaf: the body as it is
        part = _leaf_part(fields)
        if part is None:
            return None
        parts.append(_sized(part, part.section, sizes.span(end, len(raw))))
        if part.content_type in _TEXT_TYPES:
            encoded["1"] = raw[end:]
    notes: list[str] = []
    bodies = text_bodies(parts, encoded, max_text_bytes, notes)
    return Fetched(
        folder=folder,
        uid=uid,
        size=sizes.whole(),
        header=header,
        parts=parts,
        bodies=bodies,
        flags=tuple(flags),
        internaldate=internaldate,
        notes=notes,
    )


def _sized(part: Part, section: str, size: int) -> Part:
    """A cached leaf description with this leaf's section and size (`dataclasses.replace`
    without its per-call field introspection)."""
    return Part(
        section=section,
        content_type=part.content_type,
        charset=part.charset,
        encoding=part.encoding,
        size=size,
        disposition=part.disposition,
        filename=part.filename,
        content_id=part.content_id,
    )


def _multipart_boundary(fields: bytes, clean: bool) -> str | None:
    """The boundary of a multipart node the quick path splits, from its header; None for
    anything else (a defect, not a multipart, a digest, an encoded multipart body, no
    boundary). The common form — `multipart/x; boundary=...` with simple parameters, in a
    `clean` header — is read here with the email package's exact results (`get_boundary`:
    unquoted twice, right-stripped); anything else is left to that package's parser."""
    if clean:
        quick = _simple_multipart(fields)
        if quick is not None:
            return quick
    head = BytesParser(policy=compat32).parsebytes(fields, headersonly=True)
    if _header_defects(head) or head.get_content_maintype() != "multipart":
        return None
    return _splittable(
        head.get_content_subtype(), head.get_boundary(), head.get("content-transfer-encoding")
    )


def _splittable(subtype: str, boundary: str | None, cte: object) -> str | None:
    """The boundary, when the quick path can split such a node: not a digest (its parts
    default to message/rfc822) and a body that is not transfer-encoded."""
    cte = "8bit" if cte is None else str(cte).lower()
    if not boundary or subtype == "digest" or cte not in ("7bit", "8bit", "binary"):
        return None
    return boundary


def _field_value(fields: bytes, name: bytes) -> str | None:
    """The first `name` field's value as the email package (compat32) gives it: the first
    line's leading blanks and the last line end removed, continuation lines kept as they are."""
    for m in _MIME_FIELD.finditer(fields):
        if m.group(1).lower() == name:
            value = m.group(0)[len(name) + 1 :].decode("ascii")
            return value.lstrip(" \t").rstrip("\r\n")
    return None


def _simple_multipart(fields: bytes) -> str | None:
    try:
        ctype = _field_value(fields, b"content-type")
        cte = _field_value(fields, b"content-transfer-encoding")
    except UnicodeDecodeError:
        return None
    if ctype is None:
        return None
    m = _MULTIPART_TYPE.match(ctype)
    if m is None:
        return None
    boundary = None
    pos, n = m.end(), len(ctype)
    while pos < n:
        p = _SIMPLE_PARAM.match(ctype, pos)
        if p is None:
            if _PARAMS_END.fullmatch(ctype, pos):
                break
            return None
        if boundary is None and p.group(1).lower() == "boundary":
            boundary = p.group(2)
        pos = p.end()
    if boundary is not None:
        boundary = unquote(unquote(boundary)).rstrip()  # get_param, then collapse_rfc2231_value
    return _splittable(m.group(1).lower(), boundary, cte)


def _boundary_lines(buf: bytes, sep: bytes, lo: int, hi: int) -> list[tuple[int, int, bool]] | None:
    """(line start, next line's start, is the close boundary) of every boundary line in
    buf[lo:hi] up to the close boundary, as the email parser matches them: at a line start,
    `--boundary`, an optional `--`, spaces or tabs, the line end. None when there is no close
    boundary."""
    marks: list[tuple[int, int, bool]] = []
    pos, n = lo, len(sep)
    while True:
        at = buf.find(sep, pos, hi)
        if at < 0:
            return None
        pos = at + n
        if at > lo and buf[at - 1] != 0x0A:
            continue
        eol = buf.find(b"\n", pos, hi)
        stop = hi if eol < 0 else eol
        rest = buf[pos:stop].removesuffix(b"\r")
        close = rest.startswith(b"--")
        if close:
            rest = rest[2:]
        if rest.strip(b" \t"):
            continue
        next_line = hi if eol < 0 else eol + 1
        marks.append((at, next_line, close))
        if close:
            return marks
        pos = next_line


def _part_header_end(buf: bytes, lo: int, hi: int, has_cr: bool) -> int:
    """`header_end` of buf[lo:hi], without copying the part."""
    if not has_cr:
        i = buf.find(b"\n\n", lo, hi)
        return i + 2 if i >= 0 else -1
    m = _HEADER_END.search(buf, lo, hi)
    return m.end() if m else -1


def _header_defects(head: EmailMessage) -> list[Exception]:
    """The defects of a header parsed alone. Python before 3.11.4 (Debian 12 has 3.11.2) flags
    every header-only multipart as one without parts: that says nothing about the message."""
    return [d for d in head.defects if not isinstance(d, errors.MultipartInvariantViolationDefect)]


def _split_multipart(
    boundary: str,
    buf: bytes,
    lo: int,
    hi: int,
    prefix: str,
    depth: int,
    sizes: _Sizes,
    parts: list[Part],
    encoded: dict[str, bytes],
) -> bool:
    """Append the leaves of one multipart node (`_multipart_boundary`), whose body (what
    follows its header) is buf[lo:hi], in IMAP section order; False when the full parser must
    decide."""
    if depth > _QUICK_DEPTH:
        return False
    has_cr = sizes.has_cr
    marks = _boundary_lines(buf, b"--" + boundary.encode("ascii", "surrogateescape"), lo, hi)
    if marks is None or len(marks) < 2 or marks[0][2]:
        return False
    for i in range(len(marks) - 1):
        start, stop = marks[i][1], marks[i + 1][0]
        if start >= stop or buf[start] in b"\r\n":
            return False  # two boundary lines in a row, or a part without a header
        section = f"{prefix}.{i + 1}" if prefix else str(i + 1)
        end = _part_header_end(buf, start, stop, has_cr)
        if end < 0:
            return False
        part_header = buf[start:end]
        lowered = part_header.lower()
        if b"multipart/" in lowered or b"message/" in lowered:
            clean = _CLEAN_HEADER.fullmatch(part_header) is not None
            inner = _multipart_boundary(part_header, clean)
            if inner is not None:
                if not _split_multipart(
                    inner, buf, end, stop, section, depth + 1, sizes, parts, encoded
                ):
                    return False
                continue
            if not _plain_leaf(part_header):  # message/*, a defect, or a multipart not split
                return False
        # the line end before the next boundary line belongs to that line
        if stop - end >= 2 and buf[stop - 2 : stop] == b"\r\n":
            stop -= 2
        elif stop > end and buf[stop - 1] == 0x0A:
            stop -= 1
        leaf = _leaf_part(part_header)
        if leaf is None:
            return False
        parts.append(_sized(leaf, section, sizes.span(end, stop)))
        if leaf.content_type in _TEXT_TYPES:
            encoded[section] = buf[end:stop]
    return True


def _plain_leaf(part_header: bytes) -> bool:
    """Whether the email package reads this part header, which mentions "multipart/" or
    "message/" somewhere (a file name, say), as a leaf without a defect."""
    head = BytesParser(policy=compat32).parsebytes(part_header, headersonly=True)
    return not _header_defects(head) and head.get_content_maintype() not in ("multipart", "message")


# ----------------------------------------------------------------------------- the adapter
class MaildirMailbox:
    """One local Maildir, read-only. Use as a context manager."""

    def __init__(
        self,
        root: Path,
        account_name: str,
        folders: dict[str, str] | None = None,
        extra_folders: Iterable[str] = (),
        *,
        state_dir: Path,
        max_message_size: int = 25 * 1024 * 1024,
        max_text_bytes: int = 256 * 1024,
    ) -> None:
        self.root = Path(root).expanduser()
        self.account_name = account_name
        self.folder_overrides = dict(folders or {})
        self.extra_folders = tuple(extra_folders)
        self.state_dir = Path(state_dir).expanduser()
        self.max_message_size = max_message_size
        self.max_text_bytes = max_text_bytes
        self._folders: dict[str, Path] = {}
        self._own: dict[Path, _OwnNumbering] = {}
        self._uidlists: dict[Path, tuple[tuple[int, int, int], _DovecotNumbering | None]] = {}
        self._index: dict[str, dict[int, str]] = {}
        self._resolved: FolderRoles | None = None

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> MaildirMailbox:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Check that the root is a Maildir and find its folders; UserError when it is not."""
        self._check_root()
        self._check_state_dir()
        self._folders = find_folders(self.root)
        if not self._folders:
            raise UserError(
                f"{self.account_name}: {self.root} is not a Maildir",
                [
                    f"no cur/ and new/ folders were found in {self.root} or below it",
                    f"point accounts.{self.account_name}.maildir at the folder that holds "
                    "cur/ and new/ (Maildir++), or the one that holds INBOX/, Sent/, ... "
                    "(mbsync SubFolders Verbatim)",
                ],
            )
        logger.info("%s: Maildir %s, folders: %s", self.account_name, self.root, self._names())

    def _check_root(self) -> None:
        where = f"accounts.{self.account_name}.maildir"
        if not self.root.exists():
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} does not exist",
                [f"fix {where} in mailkeeper.yaml, or fetch your mail into it first (mbsync -a)"],
            )
        if not self.root.is_dir():
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} is not a folder",
                [f"point {where} in mailkeeper.yaml at a Maildir folder"],
            )
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise UserError(
                f"{self.account_name}: the Maildir {self.root} cannot be read",
                [f"let this user read it (ls -ld {self.root})"],
            )

    def _check_state_dir(self) -> None:
        """The UID maps must never land inside the Maildir (it is read-only to us)."""
        root, state = self.root.resolve(), self.state_dir.resolve()
        if state == root or root in state.parents:
            raise UserError(
                f"{self.account_name}: mailkeeper's state folder {state} is inside the "
                f"Maildir {root}, which mailkeeper never writes to",
                ["put `database:` in mailkeeper.yaml outside the Maildir folder"],
            )

    def close(self) -> None:
        self._own.clear()
        self._index.clear()
        self._uidlists.clear()

    def _names(self) -> str:
        return ", ".join(sorted(self._folders)) or "(none)"

    # ------------------------------------------------------------------ folders
    def _lookup(self, name: str) -> str | None:
        """The folder's name as found on disk: exact, INBOX in any case, or "a.b" as "a/b"."""
        if name in self._folders:
            return name
        if name.upper() == INBOX:
            return next((n for n in sorted(self._folders) if n.upper() == INBOX), None)
        slashed = name.replace(".", "/")
        return slashed if slashed in self._folders else None

    def _folder_dir(self, name: str) -> Path:
        found = self._lookup(name)
        if found is None or not _is_maildir(self._folders[found]):
            # created, renamed or removed since open(): look once more
            self._folders = find_folders(self.root)
            found = self._lookup(name)
        if found is None:
            raise MailboxError(
                f"{self.account_name}: folder '{name}' is not in the Maildir {self.root}; "
                f"it has: {self._names()}"
            )
        return self._folders[found]

    def resolve_folders(self) -> FolderRoles:
        """`base.resolve_roles` over the folders found at open() (no SPECIAL-USE flags in
        a Maildir: names only; "Archive.2024" finds "Archive/2024"); see base.Mailbox."""
        if self._resolved is None:
            self._resolved = resolve_roles(
                [ServerFolder(name, (), "/") for name in sorted(self._folders)],
                self.folder_overrides,
                self.extra_folders,
                where=f"the Maildir {self.root}",
                dotted_names=True,
            )
        return self._resolved

    def folder_roles(self) -> dict[str, str]:
        found = self.resolve_folders()
        if found.problems:
            raise UserError(
                "folders in mailkeeper.yaml do not match the Maildir",
                [f"account '{self.account_name}': {p}" for p in found.problems],
            )
        return dict(found.roles)

    # ------------------------------------------------------------------ numbering
    def _numbering(self, name: str, folder_dir: Path) -> _Numbering:
        found: _Numbering | None = _MbsyncNumbering.read(folder_dir)
        if found is None:
            found = self._dovecot(folder_dir)
        if found is not None:
            return found
        map_path = self._map_path(name, folder_dir)
        own = self._own.get(map_path)
        if own is None:
            for d in (self.state_dir, map_path.parent):
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
            own = self._own[map_path] = _OwnNumbering.open(map_path)
        return own

    def _dovecot(self, folder_dir: Path) -> _DovecotNumbering | None:
        """The folder's dovecot-uidlist, parsed again only when the file has changed."""
        path = folder_dir / "dovecot-uidlist"
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._uidlists.get(path)
        if cached is None or cached[0] != key:
            cached = self._uidlists[path] = (key, _DovecotNumbering.read(folder_dir))
        return cached[1]

    def _map_path(self, name: str, folder_dir: Path) -> Path:
        """One map per folder *path*: pointing the account at another Maildir starts afresh."""
        digest = hashlib.sha256(os.fsencode(str(folder_dir.resolve()))).hexdigest()[:10]
        label = _safe(self._lookup(name) or name)  # "Archive.2024" and "Archive/2024": one map
        return self.state_dir / _safe(self.account_name) / f"{label}.{digest}.uids"

    # ------------------------------------------------------------------ the protocol
    def status(self, folder: str) -> FolderStatus:
        """Directory listings only (plus the small UID files): no message is read."""
        folder_dir = self._folder_dir(folder)
        listing = list_messages(folder_dir)
        numbering = self._numbering(folder, folder_dir)
        return FolderStatus(
            uidvalidity=numbering.uidvalidity,
            uidnext=numbering.uidnext(listing),
            messages=len(listing),
            highestmodseq=None,
        )

    def new_uids(self, folder: str, after_uid: int) -> list[int]:
        index = self._refresh_index(folder)
        return sorted(u for u in index if u > after_uid)

    def all_uids(self, folder: str) -> list[int]:
        return sorted(self._refresh_index(folder))

    def _refresh_index(self, folder: str) -> dict[int, str]:
        folder_dir = self._folder_dir(folder)
        listing = list_messages(folder_dir)
        numbering = self._numbering(folder, folder_dir)
        numbering.assign(listing)
        index = numbering.numbered(listing)
        left = len(listing) - len(index)
        if left:
            logger.info(
                "%s/%s: %d file(s) not numbered by %s yet; read once it has",
                self.account_name,
                folder,
                left,
                numbering.source,
            )
        self._index[folder] = index
        return index

    def fetch_batch(
        self, folder: str, uids: list[int], next_uids: list[int] | None = None
    ) -> list[Fetched]:
        """Each file is only looked at here (`stat`: that it is there, and its time); the parse
        worker reads and splits it (`Fetched.deferred` → `read_and_split`), so the file's bytes
        never pass through this process, which paces the sync, nor through the pipe to the
        worker. A file gone since the listing is looked up again by its basename (a flag change
        renames it) and skipped when it is really gone. (`next_uids` is for network adapters;
        a local read has nothing to start early.)"""
        index = self._index.get(folder)
        if index is None or any(u not in index for u in uids):
            index = self._refresh_index(folder)
        out: list[Fetched] = []
        relisted = False
        for uid in uids:
            path = index.get(uid)
            if path is None:
                continue
            mtime = self._mtime(path)
            if mtime is None and not relisted:
                index, relisted = self._refresh_index(folder), True
                path = index.get(uid)
                mtime = self._mtime(path) if path is not None else None
            if mtime is None or path is None:
                logger.info(
                    "%s/%s: uid %s vanished before it was read", self.account_name, folder, uid
                )
                continue
            out.append(self._fetched(folder, uid, path, mtime))
        return out

    def _mtime(self, path: str) -> float | None:
        """The file's time, and a hint to the kernel to start reading it (the worker reads it
        a few batches later; on a cold cache that read would otherwise wait for the disk)."""
        try:
            fd = _open_quietly(path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise MailboxError(f"{self.account_name}: cannot read {path}: {e.strerror}") from e
        try:
            st = os.fstat(fd)
            if _WILLNEED is not None:
                os.posix_fadvise(fd, 0, min(st.st_size, self.max_message_size), _WILLNEED)
            return st.st_mtime
        finally:
            os.close(fd)

    def _fetched(self, folder: str, uid: int, path: str, mtime: float) -> Fetched:
        """The message as the parse worker gets it: where the file is, nothing read yet."""
        flags = flags_of(split_name(os.path.basename(path))[1])
        internaldate = datetime.fromtimestamp(mtime, UTC)
        return Fetched(
            folder=folder,
            uid=uid,
            size=0,  # the worker reads it
            header=b"",
            flags=flags,
            internaldate=internaldate,
            deferred=functools.partial(
                read_and_split,
                path,
                self.account_name,
                folder,
                uid,
                flags,
                internaldate,
                self.max_message_size,
                self.max_text_bytes,
            ),
        )

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]:
        """Always {}: a Maildir has no modification sequence, so `status` reports no
        HIGHESTMODSEQ and the sync never asks. Flags are recorded when a message is first
        fetched; a later flag change made by a mail client is not picked up."""
        return {}


# ----------------------------------------------------------------------------- drafts
class MaildirDraftBox:
    """The Drafts folder of a local Maildir (mailbox/draftbox.py: the one write we make)."""

    def __init__(self, root: Path, account_name: str, folders: dict[str, str]) -> None:
        self.root = Path(root).expanduser()
        self.account_name = account_name
        self.overrides = folders
        self._found: FolderRoles | None = None
        self._dirs: dict[str, Path] = {}

    def __enter__(self) -> MaildirDraftBox:
        self._dirs = find_folders(self.root)
        self._found = resolve_roles(
            [ServerFolder(n, (), "/") for n in sorted(self._dirs)],
            self.overrides,
            where=f"the Maildir {self.root}",
            dotted_names=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def drafts_folder(self) -> str:
        if self._found is None:
            raise RuntimeError("MaildirDraftBox is used as a context manager")
        if "drafts" not in self._found.roles:
            raise no_drafts_folder(self.account_name, self._found, f"the Maildir {self.root}")
        return self._found.roles["drafts"]

    def _keys_of(self, folder: str, wanted: set[str] | None) -> set[str]:
        found: set[str] = set()
        for sub in ("cur", "new"):
            d = self._dirs[folder] / sub
            if not d.is_dir():
                continue
            for entry in os.scandir(d):
                try:
                    with open(entry.path, "rb") as fh:
                        keys = keys_in(_read_header(fh))
                except OSError:
                    continue
                found |= keys if wanted is None else keys & wanted
        return found

    def draft_keys(self) -> set[str]:
        return self._keys_of(self.drafts_folder(), None)

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        if self._found is None:
            raise RuntimeError("MaildirDraftBox is used as a context manager")
        sent = self._found.roles.get("sent")
        wanted = set(keys)
        return self._keys_of(sent, wanted) if sent and wanted else set()

    def append_draft(self, raw: bytes) -> None:
        """A new file in Drafts: written in tmp/, then renamed into cur/ with the D and S flags
        (the Maildir way: a reader never sees half a file)."""
        folder = self._dirs[self.drafts_folder()]
        name = f"{time.time():.6f}.M{os.getpid()}P{os.urandom(4).hex()}.{socket.gethostname()}"
        tmp = folder / "tmp" / name
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, folder / "cur" / f"{name}:2,DS")  # draft, seen: as clients save
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise MailboxError(f"{self.account_name}: cannot add a draft to {folder}: {e}") from e
