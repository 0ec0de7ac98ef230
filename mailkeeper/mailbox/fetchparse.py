"""A fast parser for untagged FETCH responses, as imaplib hands them over.

imapclient's own lexer walks the response one character at a time; on a header +
BODYSTRUCTURE fetch it is the sync's largest CPU cost (~150 µs per message for the
BODYSTRUCTURE alone). `parse_fetch` tokenizes each line with one regular expression and
builds the same dict that `imapclient.response_parser.parse_fetch_response(data,
normalise_times=True, uid_is_key=True)` builds: same keys, same value types (int where
imapclient gives int, bytes otherwise, None for NIL, `BodyData` for BODY/BODYSTRUCTURE),
except INTERNALDATE: the same instant as an aware UTC datetime (imapclient gives local
naive time).

Anything it does not understand raises (ValueError, IndexError, ...); the caller then
falls back to imapclient's parser on the same data, so an odd server costs speed, never
a different result.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from imapclient.datetime_util import parse_to_datetime
from imapclient.response_types import BodyData

__all__ = ["FetchParseError", "parse_fetch"]


class FetchParseError(ValueError):
    """The response is not something this parser reproduces exactly."""


# One token: a paren, a quoted string (backslash escapes), an atom (imapclient's word
# characters: anything but controls, space and ( ) % " [, with [...] sections taken
# whole, so BODY[HEADER.FIELDS (A B)]<0> is one atom), or any other single character,
# which the parser rejects (imapclient has its own odd readings for those).
# Tab, CR and LF are whitespace, as in imapclient, and are skipped.
_TOKENS = re.compile(
    rb'[()]|"(?:[^"\\]|\\.)*"|(?:[^\x00-\x20()%"\[]|\[[^\]]*\])+|[^ \t\r\n]',
    re.DOTALL,
).findall
_UNESCAPE = re.compile(rb'\\([\\"])').sub

_OPEN, _CLOSE, _QUOTE, _BRACE, _ZERO = 40, 41, 34, 123, 48
# Single characters that only the catch-all alternative yields alone.
_STRAY = frozenset([b"%", b'"', b"["] + [bytes([c]) for c in range(32) if c not in (9, 10, 13)])


_MONTH_NAMES = b"jan feb mar apr may jun jul aug sep oct nov dec".split()
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DATE_TIME = re.compile(  # RFC 3501 date-time: " 7-Jul-1996 02:44:25 -0700"
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"
).fullmatch


def _internaldate(value: Any) -> datetime | None:
    """INTERNALDATE as an aware UTC datetime: the instant imapclient's
    `_convert_INTERNALDATE` gives, without its round trip through local time."""
    if value is None:
        return None
    m = _DATE_TIME(value) if value.__class__ is bytes else None
    if m is not None:
        day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
        month = _MONTHS.get(mon.lower())
        if month:
            try:
                at = datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
                offset = int(zh) * 60 + int(zm)
                return at - timedelta(minutes=-offset if sign == b"-" else offset)
            except (ValueError, OverflowError):
                pass
    try:
        found = parse_to_datetime(value, normalise=True)  # local naive time
    except ValueError:
        return None
    return found.astimezone(UTC)


def _atoms(data: list[Any]) -> list[Any]:
    """The top-level atoms of the response: ints, bytes, None and nested tuples."""
    top: list[Any] = []
    cur = top
    stack: list[list[Any]] = []
    push = stack.append
    pop = stack.pop
    tokens = _TOKENS
    for item in data:
        if item.__class__ is tuple:
            text, literal = item
        else:
            text, literal = item, None
        if text.__class__ is not bytes:
            raise FetchParseError(f"unexpected response item {type(text).__name__}")
        toks = tokens(text)
        if literal is not None:
            marker = toks.pop() if toks else b""
            if marker[:1] != b"{" or marker[-1:] != b"}" or int(marker[1:-1]) != len(literal):
                raise FetchParseError(f"literal marker {marker!r} for {len(literal)} bytes")
        for t in toks:
            c = t[0]
            if c == _QUOTE:
                if len(t) < 2:
                    raise FetchParseError("unterminated quoted string")
                s = t[1:-1]
                cur.append(_UNESCAPE(rb"\1", s) if b"\\" in s else s)
            elif c == _OPEN:
                push(cur)
                cur = []
            elif c == _CLOSE:
                done = tuple(cur)
                cur = pop()
                cur.append(done)
            elif t == b"NIL":
                cur.append(None)
            elif t.isdigit():
                cur.append(int(t) if c != _ZERO or len(t) == 1 else t)
            elif c == _BRACE or (len(t) == 1 and t in _STRAY):
                raise FetchParseError(f"unexpected token {t!r}")
            else:
                cur.append(t)
        if literal is not None:
            cur.append(literal)
    if stack:
        raise FetchParseError("unclosed parenthesis")
    return top


def parse_fetch(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """Untagged FETCH data (imaplib's list of lines and (line, literal) tuples) -> by UID.

    Equal to imapclient's `parse_fetch_response(data, True, True)` (a dict, not a
    defaultdict); raises on anything it cannot reproduce exactly.
    """
    if data == [None]:
        return {}
    top = _atoms(data)
    if len(top) % 2:
        raise FetchParseError("a message number without its data")
    out: dict[int, dict[bytes, Any]] = {}
    for j in range(0, len(top), 2):
        seq = top[j]
        if seq.__class__ is not int:
            raise FetchParseError(f"invalid message number {seq!r}")
        resp = top[j + 1]
        if resp.__class__ is not tuple or len(resp) % 2:
            raise FetchParseError("bad FETCH data")
        msg_id = seq
        msg: dict[bytes, Any] = {b"SEQ": seq}
        for i in range(0, len(resp), 2):
            word = resp[i].upper()  # AttributeError on a non-atom name: fall back
            value = resp[i + 1]
            if word == b"UID":
                if value.__class__ is not int:
                    raise FetchParseError(f"invalid UID {value!r}")
                msg_id = value
            elif word == b"INTERNALDATE":
                msg[word] = _internaldate(value)
            elif word == b"BODYSTRUCTURE" or word == b"BODY":
                if value.__class__ is not tuple:
                    raise FetchParseError(f"{word!r} is not a list")
                msg[word] = BodyData.create(value)
            elif word == b"ENVELOPE":
                raise FetchParseError("ENVELOPE is left to imapclient")
            else:
                msg[word] = value
        known = out.get(msg_id)
        if known is None:
            out[msg_id] = msg
        else:
            known.update(msg)
    return out
