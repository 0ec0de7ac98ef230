"""Where the parts of a parsed message lie in its bytes: the spans an IMAP server sizes and
sends them by (Dovecot's reading), found from the boundary lines of the multipart nodes the
email package parsed. `mime` uses them where the email package gives rebuilt text instead of
the bytes (message/* parts, the last part of an unclosed multipart)."""

from __future__ import annotations

import re
from email.message import Message as EmailMessage

_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")  # as mime.split_header finds a header's end


def _line_end_before(buf: bytes, lo: int, stop: int) -> int:
    """`stop` without the line end just before it (it belongs to the boundary line after)."""
    if stop - lo >= 2 and buf[stop - 2 : stop] == b"\r\n":
        return stop - 2
    if stop > lo and buf[stop - 1] in b"\r\n":
        return stop - 1
    return stop


def _boundary_marks(buf: bytes, sep: bytes, lo: int, hi: int) -> list[tuple[int, int, bool]]:
    """(line start, next line's start, is the close boundary) of each boundary line in
    buf[lo:hi] up to the close one, matched as the email parser matches them: at a line
    start, `--boundary`, an optional `--`, spaces or tabs, the line end."""
    marks: list[tuple[int, int, bool]] = []
    pos = lo
    while True:
        at = buf.find(sep, pos, hi)
        if at < 0:
            return marks
        pos = at + len(sep)
        if at > lo and buf[at - 1] not in b"\r\n":
            continue
        eol = _LINE_END.search(buf, pos, hi)
        rest = buf[pos : eol.start() if eol else hi]
        close = rest.startswith(b"--")
        if rest[2 if close else 0 :].strip(b" \t"):
            continue
        marks.append((at, eol.end() if eol else hi, close))
        if close:
            return marks
        pos = eol.end() if eol else hi


_LINE_END = re.compile(rb"\r\n|\r|\n")


_ATTACHED = ("message/rfc822", "message/global")  # parsed as messages by Dovecot too


def _owned_line_end(raw: bytes, begin: int, stop: int, full: int) -> int:
    """The end of an attached message (message/rfc822) as Dovecot sizes it: the line end
    before the next boundary line belongs to that boundary, unless it ends a line of the
    attached message's own structure: its header (no blank line ends it before the boundary,
    or that blank line is the last line), or the close boundary line of a multipart inside
    it. Measured on Dovecot 2.3 over the corpus (tests/test_adapter_parity.py)."""
    if stop == full:
        return stop
    m = _HEADER_END.search(raw, begin, full)
    if m is None or m.end() >= full:
        return full
    last = raw[raw.rfind(b"\n", begin, stop) + 1 : stop].rstrip(b" \t\r")
    if last.startswith(b"--") and last.endswith(b"--") and len(last) > 4:
        return full
    return stop


def body_spans(
    raw: bytes,
    msg: EmailMessage,
    lo: int,
    hi: int,
    out: dict[int, tuple[int, int]],
    max_depth: int,
) -> None:
    """Where each node's body lies in `raw` (id(node) -> (start, end)), found from the
    boundary lines of the multipart nodes above it: the bytes an IMAP server sizes a part by.
    A node whose parts the boundary lines do not match as the email package split them (a
    malformed structure) gets no span, nor do the nodes below it."""
    stack = [(msg, lo, hi, 0)]
    while stack:
        node, lo, hi, depth = stack.pop()
        out[id(node)] = (lo, hi)
        children = getattr(node, "_payload", None)
        if node.get_content_maintype() != "multipart" or not isinstance(children, list):
            continue
        boundary = node.get_boundary()
        if not boundary or depth >= max_depth:
            continue
        sep = b"--" + boundary.encode("ascii", "surrogateescape")
        marks = _boundary_marks(raw, sep, lo, hi)
        if not marks or marks[0][2]:
            continue
        ends = [m[0] for m in marks[1:]]
        if not marks[-1][2]:
            ends.append(hi)  # no close boundary: the last part runs to the end
        if len(ends) != len(children):
            continue
        for (_at, start, _close), full, child in zip(marks, ends, children, strict=False):
            stop = full
            if stop < hi or marks[-1][2]:
                stop = _line_end_before(raw, start, stop)
            if start < stop and raw[start] in b"\r\n":  # no header: the body follows
                body = _LINE_END.match(raw, start)
                begin = body.end() if body else start
            else:
                m = _HEADER_END.search(raw, start, stop)
                begin = m.end() if m else stop
            if isinstance(child, EmailMessage) and child.get_content_type() in _ATTACHED:
                stop = _owned_line_end(raw, begin, stop, full)
            if isinstance(child, EmailMessage):
                stack.append((child, begin, max(begin, stop), depth + 1))
