"""The MIME tree of a whole message: raw bytes -> Fetched, the way an IMAP adapter sees it.

`fetched_from_bytes` turns a whole message (Maildir file, corpus file, a message fetched whole)
into what an IMAP fetch would have given: the header block, the MIME leaves numbered like IMAP
BODYSTRUCTURE sections, and the encoded bodies of the text sections `choose_text_sections`
picks. The IMAP adapter uses `choose_text_sections` to decide which sections to download.
Shared by the mailbox adapters and `parse`; it knows nothing about either. Never raises on
malformed mail: problems become notes on the Fetched.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from email import errors
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import compat32

from mailkeeper.model import Fetched, Part
from mailkeeper.parse.charsets import decode_header_value, decode_text
from mailkeeper.parse.rawspans import body_spans

logger = logging.getLogger(__name__)

__all__ = [
    "DEPTH_NOTE",
    "EMPTY_TEXT",
    "MAX_DEPTH",
    "NO_ENVELOPE_NOTE",
    "choose_text_sections",
    "content_params",
    "fetched_from_bytes",
    "filename_notes",
    "fix_bare_cr",
    "nul_as_imap",
    "split_header",
]

MAX_DEPTH = 40  # MIME nesting deeper than this is treated as one opaque leaf
DEPTH_NOTE = f"MIME nesting deeper than {MAX_DEPTH} levels: the parts below are not read"
BARE_CR_NOTE = "bare CR in the header (read as a space)"
# An attached message (message/rfc822) none of whose envelope fields (RFC 3501 ENVELOPE) can
# be read: what an IMAP server shows as an all-NIL envelope.
NO_ENVELOPE_NOTE = "attached message without a readable header"
ENVELOPE_FIELDS = (
    "date",
    "subject",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "in-reply-to",
    "message-id",
)
_MAX_TEXT_SECTIONS = MAX_DEPTH  # inline text parts joined into the text, at most
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
# A text part this size (bytes, as BODYSTRUCTURE counts) holds at most a line end.
EMPTY_TEXT = _EMPTY = 2
_PARAM = re.compile(r';\s*([A-Za-z0-9_.*-]{1,80})\s*=\s*("(?:[^"\\]|\\.){0,1000}"|[^;]*)')


def _crlf_size(raw: bytes) -> int:
    """Size as an IMAP server reports it: every bare LF counted as CRLF."""
    return len(raw) + raw.count(b"\n") - raw.count(b"\r\n")


_BARE_CR = re.compile(rb"\r(?!\n)")


def fix_bare_cr(header: bytes) -> bytes | None:
    """The header block with every bare CR (not before LF) read as a space, or None when it has
    none. A header with LF line ends and a CR inside a line ("Subject: a\rb") is one line to an
    IMAP server; the stdlib parser would end the line there and the header block at the next
    line without a colon, losing every field after it. CR-only line ends (old Mac) are kept."""
    if b"\r" not in header or b"\n" not in header:
        return None
    if header.count(b"\r") == header.count(b"\r\n"):
        return None
    return _BARE_CR.sub(b" ", header)


_PERCENT_BROKEN = re.compile(r"%(?![0-9A-Fa-f]{2})")


def filename_notes(charset: str | None, value: str) -> list[str]:
    """What could not be read in an RFC 2231 file name (`charset'lang'value`)."""
    from mailkeeper.parse.charsets import codec_for

    notes = []
    if charset and codec_for(charset) is None:
        notes.append(f"attachment name: unknown charset {charset[:40]!r}")
    if _PERCENT_BROKEN.search(value):
        notes.append("attachment name: broken %-escapes")
    return notes


def nul_as_imap(raw: bytes) -> bytes:
    """The message with each NUL byte read as 0x80, as an IMAP server sends it (RFC 3501
    forbids NUL in a literal; Dovecot sends 0x80): the same text and defects either way."""
    return raw.replace(b"\0", b"\x80") if b"\0" in raw else raw


def split_header(raw: bytes) -> bytes:
    """The header block of a whole message, with the blank line that ends it (the whole
    message when it has no body); a CR-only blank line ends it too."""
    m = _HEADER_END.search(raw)
    return raw[: m.end()] if m else raw


_split_header = split_header


def _payload_bytes(part: EmailMessage) -> bytes:
    """The still transfer-encoded body of a leaf, as in the original bytes."""
    # Not get_payload(): for 8-bit bodies it re-decodes with the charset and replaces bytes.
    payload = getattr(part, "_payload", None)
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    if isinstance(payload, list):
        try:
            return b"".join(p.as_bytes(policy=compat32) for p in payload)
        except Exception:  # noqa: BLE001 - generator may choke on broken sub-messages
            return b""
    return b""


def _charset_param(part: EmailMessage) -> str | None:
    try:
        value = part.get_param("charset")
    except Exception:  # noqa: BLE001 - malformed parameters
        return None
    if isinstance(value, tuple):  # RFC 2231: charset*=ansi-x3.4-1968''us-ascii
        value = value[2]
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def _raw_header(part: EmailMessage, name: str) -> str:
    """The first `name` header as in the bytes (8-bit bytes kept as surrogate escapes)."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


def _unquote(value: str) -> str:
    """A parameter value without its quotes; like email.utils.unquote, only \\\\ and \\" are
    escapes (Windows paths such as "C:\\TEMP\\x.png" keep their backslashes)."""
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
    return value


def _param_text(
    params: list[tuple[str, str]], key: str, hint: str | None, notes: list[str] | None = None
) -> str | None:
    """A parameter's text: RFC 2231 (key*, key*0*, key*1 ...), RFC 2047 words or raw 8-bit."""
    plain: str | None = None
    pieces: list[tuple[int, str, bool]] = []
    for name, value in params:
        if name == key:
            plain = value
        elif name.startswith(key + "*"):
            rest = name[len(key) + 1 :]
            number = rest.rstrip("*")
            pieces.append(
                (int(number) if number.isdigit() else 0, value, rest.endswith("*") or not rest)
            )
    if not pieces:
        return decode_header_value(plain, hint) if plain is not None else None
    pieces.sort(key=lambda piece: piece[0])
    charset, data = hint, b""
    for i, (_n, value, encoded) in enumerate(pieces):
        if encoded and i == 0 and value.count("'") >= 2:
            charset, _lang, value = value.split("'", 2)
            if notes is not None:
                notes.extend(filename_notes(charset, value))
        elif encoded and notes is not None and _PERCENT_BROKEN.search(value):
            notes.append("attachment name: broken %-escapes")
        raw = value.encode("utf-8", "surrogateescape")
        data += urllib.parse.unquote_to_bytes(raw) if encoded else raw
    return decode_text(data, charset or hint)[0]


def _filename(part: EmailMessage, hint: str | None, notes: list[str] | None = None) -> str | None:
    """The decoded file name: Content-Disposition filename, else Content-Type name."""
    for header, key in (("content-disposition", "filename"), ("content-type", "name")):
        value = _raw_header(part, header)
        if key not in value.lower():
            continue
        params = [(m.group(1).lower(), _unquote(m.group(2))) for m in _PARAM.finditer(value)]
        name = _param_text(params, key, hint, notes)
        if name and name.strip():
            return name.strip()
    return None


def _hget(part: EmailMessage, name: str) -> str:
    value = part.get(name)
    return str(value) if value is not None else ""


def _leaf_type(part: EmailMessage) -> str:
    ctype = part.get_content_type()
    if ctype.startswith("multipart/"):
        # No boundary (or no parts): the body is plain text to a reader.
        return "text/plain"
    return ctype


def _part_of(section: str, part: EmailMessage, notes: list[str] | None = None) -> Part:
    if getattr(part, "_mk_too_deep", False):  # the opaque rest below the nesting cap
        return Part(section, "application/octet-stream", size=0)
    body = _payload_bytes(part)
    if notes is not None and part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage):
            if not any(inner[0].get(name) for name in ENVELOPE_FIELDS):
                notes.append(NO_ENVELOPE_NOTE)
    disposition = _hget(part, "content-disposition").split(";", 1)[0].strip().lower()
    content_id = _hget(part, "content-id")
    charset = _charset_param(part)
    return Part(
        section=section,
        content_type=_leaf_type(part),
        charset=charset,
        encoding=(_hget(part, "content-transfer-encoding").strip() or "7bit").lower(),
        size=_crlf_size(body),
        disposition=disposition or None,
        filename=_filename(part, charset, notes),
        content_id=content_id.strip().strip("<>") or None,
    )


# One header field with its continuation lines (in a header with no lone CR).
_FIELD_LINES = re.compile(r"[^ \t\r\n][^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*")


def leaf_from_header(header: bytes) -> Part | None:
    """How `fetched_from_bytes` describes a leaf part with this header (section "1", size 0),
    without the email package's feed parser: each field goes into the message object as the
    parser would put it there (`compat32.header_source_parse`). Only for a clean header block
    (every line a `Name: value` field or its continuation, no lone CR, ending in a blank line),
    where the parser would record no defect; None when the description would carry a note or
    the header is not a leaf's."""
    text = header.decode("ascii", "surrogateescape")
    msg = EmailMessage()
    parse = compat32.header_source_parse
    for m in _FIELD_LINES.finditer(text):
        msg.set_raw(*parse(m.group(0).splitlines(keepends=True)))
    if msg.get_content_maintype() in ("multipart", "message"):
        return None
    notes: list[str] = []
    part = _part_of("1", msg, notes)
    return None if notes else part


def _leaves(msg: EmailMessage) -> Iterator[tuple[str, EmailMessage]]:
    """(section, leaf) in IMAP BODYSTRUCTURE order, without recursion."""
    stack: list[tuple[str, EmailMessage, int]] = [("", msg, 0)]
    while stack:
        prefix, node, depth = stack.pop()
        children = getattr(node, "_payload", None)
        is_container = node.get_content_maintype() == "multipart" and isinstance(children, list)
        if is_container and children and depth >= MAX_DEPTH:
            node._mk_too_deep = True  # type: ignore[attr-defined]
            yield (prefix or "1"), node
            continue
        if not is_container or not children:
            yield (prefix or "1"), node
            continue
        for i in range(len(children), 0, -1):
            child = children[i - 1]
            if isinstance(child, EmailMessage):
                stack.append((f"{prefix}.{i}" if prefix else str(i), child, depth + 1))


def _nodes(msg: EmailMessage) -> Iterator[EmailMessage]:
    """Every node down to the nesting cap, without recursion."""
    stack: list[tuple[EmailMessage, int]] = [(msg, 0)]
    while stack:
        node, depth = stack.pop()
        yield node
        children = getattr(node, "_payload", None)
        if depth < MAX_DEPTH and isinstance(children, list):
            stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, EmailMessage))


# Defects the email package finds only by reading the bodies of the whole message: an IMAP
# adapter reads the header, the structure as the server describes it and the text sections,
# never the other parts' bytes, so it cannot see them. They are not stored (README, promise
# 4): the same message gets the same defects whichever adapter read it. One exception: a
# multipart in which no boundary line starts a part, whose whole body is its text; the IMAP
# adapter reads that body too (ImapMailbox._reread) and finds them as well.
_BODY_SCAN_DEFECTS = frozenset(
    {
        "CloseBoundaryNotFoundDefect",
        "StartBoundaryNotFoundDefect",
        "MultipartInvariantViolationDefect",
        "InvalidMultipartContentTransferEncodingDefect",
    }
)


def _defect_names(msg: EmailMessage, too_deep: bool = False, body_size: int = 0) -> list[str]:
    names: list[str] = []
    if too_deep:  # walk() would go below the cap: every node above it
        walked: Iterator[EmailMessage] = _nodes(msg)
    else:
        walked = msg.walk() if msg.is_multipart() else iter([msg])
    # No part found and more than a line end in the body: the whole body is its text (the
    # IMAP adapter's condition for reading it, imap._only_empty_text).
    body_is_text = not msg.is_multipart() and body_size > _EMPTY
    for part in walked:
        for defect in getattr(part, "defects", ()):
            name = type(defect).__name__
            if part is not msg and name == "MissingHeaderBodySeparatorDefect":
                continue  # in a part header: only the message header is read over IMAP
            if name in _BODY_SCAN_DEFECTS and not (part is msg and body_is_text):
                continue
            if name not in names:
                names.append(name)
    return names


_FOLD = re.compile(r"\r?\n(?=[ \t])")


class _Unfolded(EmailMessage):
    """A node whose boundary parameter is read unfolded (RFC 5322 2.2.3: a line end before a
    blank is removed), as an IMAP server reads it: `boundary="foo<CRLF> bar"` is "foo bar".
    The compat32 parser keeps the line end and then finds no boundary line."""

    def get_boundary(self, failobj=None):  # type: ignore[no-untyped-def]
        boundary = super().get_boundary(failobj)
        return _FOLD.sub("", boundary) if isinstance(boundary, str) else boundary


def _parse_message(raw: bytes, header: bytes) -> EmailMessage:
    """The compat32 parse of the whole message. A clean single-part message takes a short cut:
    only its header block goes through the parser and the body is sliced off as it is, which
    is what the parser would have produced, without its line-by-line scan of the body."""
    parser = BytesParser(_class=_Unfolded, policy=compat32)
    if len(header) < len(raw):
        head = parser.parsebytes(header, headersonly=True)
        if head.defects:
            fixed = _obs_header(header)
            if fixed is not None:  # read as an IMAP server reads it: the body after the blank
                return parser.parsebytes(fixed + raw[len(header) :])
        elif head.get_content_maintype() not in ("multipart", "message"):
            head.set_payload(raw[len(header) :].decode("ascii", "surrogateescape"))
            return head
    return parser.parsebytes(raw)


# A header field line as a lenient reader sees it: a name (blanks allowed), then a colon.
_FIELDISH = re.compile(rb"((?:\xef\xbb\xbf)?[\x21-\x39\x3b-\x7e][^:\r\n]*?)[ \t]*:")
_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")


def _obs_header(header: bytes) -> bytes | None:
    """A header block (ending in its blank line) whose lines are all fields or continuations
    as an IMAP server reads them, but some of which the email package takes for the start of
    the body: a blank before the colon (obsolete syntax, RFC 5322 4.5: `To  : x`), a name
    with a blank in it (`quite Delivered-To: x`) or a byte order mark before it (a file saved
    by a Windows editor), a line without a colon after the first field. Returned with the
    first fixed and the others left out, so that the parse finds the body after the blank
    line, as Dovecot does; None when the first line is no field (then it may be a message
    without a header: text)."""
    lines = header.splitlines(keepends=True)
    if len(lines) < 2 or lines[-1].strip() or lines[0][:1] in b" \t":
        return None
    out: list[bytes] = []
    dropping = False
    for line in lines[:-1]:
        if line[:1] in b" \t":
            if not dropping:
                out.append(line)
            continue
        m = _FIELDISH.match(line)
        if m is None and not out:
            return None  # not even the first line is a field: maybe text without a header
        dropping = m is None or _FIELD_NAME.fullmatch(m.group(1)) is None
        if m is not None and not dropping:
            out.append(m.group(1) + b":" + line[m.end() :])
    return b"".join(out) + lines[-1]


def _parse_tree(raw: bytes, header: bytes) -> tuple[list[Part], dict[str, bytes], list[str]]:
    msg = _parse_message(raw, header)
    parts: list[Part] = []
    encoded: dict[str, bytes] = {}
    notes: list[str] = []
    too_deep = False
    leaves = list(_leaves(msg))
    spans: dict[int, tuple[int, int]] = {}
    if (
        msg.is_multipart()
        and any(isinstance(getattr(leaf, "_payload", None), list) for _s, leaf in leaves)
    ) or any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for d in msg.defects):
        # message/* parts: the email package parsed their body, and what it would give back
        # is rebuilt text, a few bytes off; a multipart without its close boundary: the
        # package drops the last line end of its last part. IMAP sizes the bytes as they are.
        body_spans(raw, msg, len(header), len(raw), spans, MAX_DEPTH)
    for section, leaf in leaves:
        part = _part_of(section, leaf, notes)
        span = spans.get(id(leaf))
        if span is not None and not getattr(leaf, "_mk_too_deep", False):
            part = dataclasses.replace(part, size=_crlf_size(raw[span[0] : span[1]]))
        too_deep = too_deep or getattr(leaf, "_mk_too_deep", False)
        parts.append(part)
        if part.content_type.startswith("text/"):  # choose_text_sections may take any
            if span is not None and span[1] == len(raw) and msg.is_multipart():
                # The last part of an unclosed multipart: its bytes to the end, as IMAP
                # sends them (the email package drops the last line end).
                encoded[section] = raw[span[0] : span[1]]
            else:
                encoded[section] = _payload_bytes(leaf)
    # Sized only as far as the threshold needs (3 bytes are more than EMPTY_TEXT anyway).
    defects = _defect_names(msg, too_deep, _crlf_size(raw[len(header) : len(header) + 3]))
    if too_deep:
        defects.append(DEPTH_NOTE)
    return parts, encoded, [*defects, *dict.fromkeys(notes)]


def _fallback_tree(raw: bytes, header: bytes) -> tuple[list[Part], dict[str, bytes]]:
    """When the MIME tree cannot be built: the whole body as one plain-text leaf."""
    body = raw[len(header) :]
    return [Part("1", "text/plain", size=_crlf_size(body))], {"1": body}


def fetched_from_bytes(
    raw: bytes,
    folder: str = "",
    uid: int = 0,
    flags: tuple[str, ...] = (),
    internaldate: datetime | None = None,
    max_text_bytes: int | None = None,
) -> Fetched:
    """What an IMAP fetch of the header, BODYSTRUCTURE and the chosen text sections would
    give for this message; never raises."""
    raw = nul_as_imap(bytes(raw or b""))
    header = _split_header(raw)
    notes: list[str] = []
    fixed = fix_bare_cr(header)
    if fixed is not None:  # read as an IMAP server reads it (see fix_bare_cr)
        raw, header = fixed + raw[len(header) :], fixed
        notes.append(BARE_CR_NOTE)
    if raw.startswith(_OLE2_MAGIC):
        notes.append("not a MIME message: OLE2 compound file (Outlook .msg?)")
        size = _crlf_size(raw)
        part = Part("1", "application/vnd.ms-outlook", encoding="binary", size=size)
        return Fetched(folder, uid, size, b"", [part], {}, tuple(flags), internaldate, notes)
    try:
        parts, encoded, defects = _parse_tree(raw, header)
        notes.extend(defects)
    except RecursionError:
        parts, encoded = _fallback_tree(raw, header)
        notes.append("MIME structure too deeply nested")
    except Exception as exc:  # noqa: BLE001 - never let one message stop a sync
        logger.warning("MIME parse failed (%s); keeping the body as text", exc)
        parts, encoded = _fallback_tree(raw, header)
        notes.append(f"MIME parse failed: {type(exc).__name__}")
    bodies = text_bodies(parts, encoded, max_text_bytes, notes)
    return Fetched(
        folder=folder,
        uid=uid,
        size=_crlf_size(raw),
        header=header,
        parts=parts,
        bodies=bodies,
        flags=tuple(flags),
        internaldate=internaldate,
        notes=notes,
    )


def text_bodies(
    parts: list[Part], encoded: dict[str, bytes], max_text_bytes: int | None, notes: list[str]
) -> dict[str, bytes]:
    """The chosen text sections' bytes (choose_text_sections), each cut to max_text_bytes;
    a cut is noted."""
    bodies: dict[str, bytes] = {}
    for section in choose_text_sections(parts):
        body = encoded.get(section, b"")
        if max_text_bytes is not None and len(body) > max_text_bytes:
            body = body[:max_text_bytes]
            notes.append(f"text section {section} cut to {max_text_bytes} bytes")
        bodies[section] = body
    return bodies


def choose_text_sections(parts: list[Part]) -> list[str]:
    """Sections to download for the text: the first text/plain leaf that is not an attachment
    (and not empty), else the first such text/html leaf, else an inline text part that merely
    has a filename, else the first inline text part of another type (text/x-*, text/enriched;
    not a file, calendar or card), else an empty text/plain one. After a text/plain leaf, the
    further inline text/plain leaves that are not alternatives of an html one (a
    multipart/mixed of several text parts, nested ones) are text too: they follow, in order."""
    for wanted in ("text/plain", "text/html"):
        for i, part in enumerate(parts):
            if part.content_type == wanted and not part.is_attachment and part.size > _EMPTY:
                if wanted == "text/plain" and i + 1 < len(parts):
                    return _more_plain(parts, i)
                return [part.section]
    inline = [p for p in parts if p.disposition != "attachment"]
    for part in inline:
        if part.content_type in ("text/plain", "text/html") and part.size > _EMPTY:
            return [part.section]
    for part in inline:
        # Only other text types (text/x-whatever, text/enriched): the first inline one that is
        # not a file nor a bounce's copy of headers is the text, read as plain text.
        if (
            part.content_type.startswith("text/")
            and part.content_type not in _NOT_TEXT
            and not part.filename
            and part.size > _EMPTY
        ):
            return [part.section]
    for part in inline:
        if part.content_type in ("text/plain", "text/html"):
            return [part.section]
    return []


_NOT_TEXT = ("text/rfc822-headers", "text/calendar", "text/x-vcard", "text/vcard")


def _more_plain(parts: list[Part], first: int) -> list[str]:
    """parts[first] and the inline text/plain leaves after it whose parent has no text/html
    leaf (those are alternatives, not more text)."""
    sections = [parts[first].section]
    rest = parts[first + 1 :]
    if not any(p.content_type == "text/plain" for p in rest):
        return sections
    html_parents = {p.section.rpartition(".")[0] for p in parts if p.content_type == "text/html"}
    for part in rest:
        if (
            part.content_type == "text/plain"
            and not part.is_attachment
            and part.size > _EMPTY
            and part.section.rpartition(".")[0] not in html_parents
        ):
            sections.append(part.section)
            if len(sections) >= _MAX_TEXT_SECTIONS:
                break
    return sections


def content_params(value: str) -> dict[str, str]:
    """The simple parameters of a Content-Type value (lower-case names, unquoted values)."""
    return {m.group(1).lower(): _unquote(m.group(2)) for m in _PARAM.finditer(value)}
