"""Reading one Maildir message file in the parse worker: the file read (renames followed,
oversized files cut to their header), and the boundary splitter that finds the MIME parts by
their boundary lines, sized as IMAP would report them; what is unusual goes to the email
package (`mime.fetched_from_bytes`)."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email import errors
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import compat32
from email.utils import unquote
from pathlib import Path
from typing import BinaryIO

from mailkeeper.errors import MailboxError
from mailkeeper.mailbox.maildirlist import split_name
from mailkeeper.model import Fetched, Part
from mailkeeper.parse.mime import (
    fetched_from_bytes,
    leaf_from_header,
    nul_as_imap,
    text_bodies,
)

logger = logging.getLogger(__name__)

HEADER_READ_LIMIT = 1024 * 1024  # the most read of an oversized message to find its header
_DOVECOT_VSIZE = re.compile(r",W=(\d+)")
_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_QUICK_DEPTH = 12  # deeper MIME nesting: the full parser
# a header block the email parser finds no defect in: `Name: value` fields and continuations
_CLEAN_HEADER = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)+\r?\n")
_MIME_FIELD = re.compile(
    rb"^(content-(?:type|transfer-encoding|disposition|id)):[^\n]*\n(?:[ \t][^\n]*\n)*",
    re.IGNORECASE | re.MULTILINE,
)
_LEAF_CACHE: dict[bytes, Part] = {}
_LONE_CR = re.compile(rb"\r(?!\n)").search
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
    goes to `fetched_from_bytes` whole. Runs in the parse worker (`read_and_split`).
    NUL bytes are read as 0x80, as over IMAP (`mime.nul_as_imap`)."""
    raw = nul_as_imap(raw)
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
        if part.content_type.startswith("text/"):  # any: see choose_text_sections
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
        if leaf.content_type.startswith("text/"):
            encoded[section] = buf[end:stop]
    return True


def _plain_leaf(part_header: bytes) -> bool:
    """Whether the email package reads this part header, which mentions "multipart/" or
    "message/" somewhere (a file name, say), as a leaf without a defect."""
    head = BytesParser(policy=compat32).parsebytes(part_header, headersonly=True)
    return not _header_defects(head) and head.get_content_maintype() not in ("multipart", "message")
