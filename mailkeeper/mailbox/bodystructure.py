"""IMAP BODYSTRUCTURE (as imapclient returns it) -> the MIME leaves as `Part`s."""

from __future__ import annotations

import email.header
import email.utils
import logging
from typing import Any
from urllib.parse import unquote

from mailkeeper.model import Part
from mailkeeper.parse.mime import DEPTH_NOTE, MAX_DEPTH, NO_ENVELOPE_NOTE, filename_notes

logger = logging.getLogger(__name__)

# A multipart without a boundary parameter: the server sees no parts in it (Dovecot reports
# one empty text/plain child), a reader sees its body as plain text. The Maildir path gets
# the stdlib parser's name for it.
NO_BOUNDARY_NOTE = "NoBoundaryInMultipartDefect"


def _s(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _params(raw: Any) -> dict[str, str]:
    """(b'charset', b'utf-8', b'name', b'x') -> {'charset': 'utf-8', 'name': 'x'}"""
    out: dict[str, str] = {}
    if not isinstance(raw, (tuple, list)):
        return out
    items = list(raw)
    for i in range(0, len(items) - 1, 2):
        k, v = _s(items[i]), _s(items[i + 1])
        if k and v is not None:
            out.setdefault(k.lower(), v)
    return out


def decode_filename(params: dict[str, str], notes: list[str] | None = None) -> str | None:
    """filename / filename* (RFC 2231) / name, with RFC 2047 encoded words decoded; what could
    not be read is added to `notes`."""
    for key in ("filename*", "name*"):
        if key in params:
            value = params[key]
            charset, _, rest = value.partition("'")
            if rest:
                _, _, encoded = rest.partition("'")
                if notes is not None:
                    notes.extend(filename_notes(charset, encoded))
                try:
                    return unquote(encoded, encoding=charset or "utf-8", errors="replace")
                except LookupError:
                    return unquote(encoded, errors="replace")
            return unquote(value)
    for key in ("filename", "name"):
        if key in params:
            return _decode_words(params[key])
    return None


def _decode_words(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # noqa: BLE001 - a bad encoded word keeps its raw text
        return value


def _disposition(raw: Any) -> tuple[str | None, dict[str, str]]:
    if isinstance(raw, (tuple, list)) and raw:
        return (_s(raw[0]) or "").lower() or None, _params(raw[1] if len(raw) > 1 else None)
    return None, {}


def parts_from_bodystructure(bs: Any, notes: list[str] | None = None) -> list[Part]:
    """Every leaf, numbered as IMAP sections ("1" for a single-part message). What cannot be
    read (nesting below MAX_DEPTH, a multipart without boundary, a broken file name) is added
    to `notes`, as the Maildir path (mime.fetched_from_bytes) records it."""
    out: list[Part] = []
    found: list[str] = []
    _walk(bs, "", out, 0, found)
    if notes is not None:
        notes.extend(n for n in dict.fromkeys(found) if n not in notes)
    return out


def _walk(bs: Any, prefix: str, out: list[Part], depth: int, notes: list[str]) -> None:
    if not isinstance(bs, (tuple, list)) or not bs:
        return
    if isinstance(bs[0], list):  # multipart: [children], subtype, params, disposition, ...
        if depth >= MAX_DEPTH:
            out.append(Part(prefix or "1", "application/octet-stream", size=0))
            notes.append(DEPTH_NOTE)
            return
        params = _params(bs[2]) if len(bs) > 2 else {}
        if len(bs) > 2 and not any(k.startswith("boundary") for k in params):
            # The whole body is its text: BODY[TEXT] at the top, BODY[n] below. Its size is
            # not in the structure (the adapter fills it in for TEXT).
            out.append(Part(prefix or "TEXT", "text/plain", size=0))
            notes.append(NO_BOUNDARY_NOTE)
            return
        for i, child in enumerate(bs[0], start=1):
            _walk(child, f"{prefix}.{i}" if prefix else str(i), out, depth + 1, notes)
        return
    out.append(_leaf(bs, prefix or "1", notes))


def _leaf(bs: Any, section: str, notes: list[str] | None = None) -> Part:
    maintype = (_s(bs[0]) or "").lower()
    subtype = (_s(bs[1]) or "").lower() if len(bs) > 1 else ""
    if not maintype or not subtype:
        # A Content-Type the server could not read ("text", no subtype): Dovecot sends empty
        # strings. RFC 2045 5.2 reads it as text/plain, as the email package (Maildir) does.
        maintype, subtype = "text", "plain"
    params = _params(bs[2] if len(bs) > 2 else None)
    content_id = _s(bs[3]) if len(bs) > 3 else None
    encoding = (_s(bs[5]) or "7bit").lower() if len(bs) > 5 else "7bit"
    try:
        size = int(bs[6]) if len(bs) > 6 and bs[6] is not None else 0
    except (TypeError, ValueError):
        size = 0
    # Extension data starts after the type-specific fields: md5, disposition, ...
    if maintype == "text":
        ext = 8
    elif maintype == "message" and subtype in ("rfc822", "global"):
        ext = 10
        envelope = bs[7] if len(bs) > 7 else None
        if notes is not None and isinstance(envelope, (tuple, list)) and not any(envelope):
            notes.append(NO_ENVELOPE_NOTE)
    else:
        ext = 7
    disposition, dparams = _disposition(bs[ext + 1] if len(bs) > ext + 1 else None)
    filename = decode_filename({**params, **dparams}, notes)
    return Part(
        section=section,
        content_type=f"{maintype}/{subtype}",
        # Lower case, as the Maildir path (mime._charset_param) gives it: the defect notes
        # name the charset.
        charset=(params.get("charset") or "").strip().lower() or None,
        encoding=encoding,
        size=size,
        disposition=disposition,
        filename=filename,
        content_id=content_id,
    )
