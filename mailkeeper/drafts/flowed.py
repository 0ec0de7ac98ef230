"""Text/plain in format=flowed (RFC 3676, DelSp=yes): a draft's paragraphs are sent as
lines of at most 72 columns that a mail client joins again into paragraphs, so the text reads
well at 80 columns and reflows in a wider window or on a phone.

Breaks fall after a space or between two CJK characters (Chinese has no spaces; DelSp=yes
lets the reader remove the break's space again). Lines starting with a space, "From " or ">"
are space-stuffed, so text is never taken for a quote. A word longer than the width (a long
URL) stays whole.
"""

from __future__ import annotations

import unicodedata

WIDTH = 72


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def flow(text: str, width: int = WIDTH) -> str:
    """`text` (paragraphs as long lines, "\\n" between lines) in format=flowed, DelSp=yes."""
    out: list[str] = []
    for line in text.split("\n"):
        if line != "-- ":  # the signature separator keeps its space
            line = line.rstrip(" ")  # a hard break never ends in a space
        out.extend(_wrap(line, width))
    return "\n".join(out)


def _stuff(line: str) -> str:
    return " " + line if line.startswith((" ", ">", "From ")) else line


def _wrap(line: str, width: int) -> list[str]:
    pieces: list[str] = []
    while sum(_width(c) for c in _stuff(line)) > width:
        cut = _break_at(line, width - 1)  # a column for stuffing, one for the soft break
        if cut <= 0:
            break
        pieces.append(_stuff(line[:cut]) + " ")  # the soft break: the reader deletes it
        line = line[cut:]
    pieces.append(_stuff(line))
    return pieces


def _break_at(line: str, width: int) -> int:
    """Where to end the first line of `line`: after the last space, or between two wide
    characters, that keeps it within `width` columns; else after the first space; 0 when
    there is none."""
    used = 0
    best = 0
    for i, ch in enumerate(line):
        used += _width(ch)
        if used > width - 1:  # one column for the soft break's space
            break
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if ch == " " and nxt != " ":
            best = i + 1
        elif nxt and nxt != " " and ch != " " and (_wide(ch) or _wide(nxt)):
            best = i + 1  # between CJK characters (or CJK and a Latin word)
    if best == 0:  # a word longer than the line: it stays whole, the rest still wraps
        space = line.find(" ")
        best = space + 1 if 0 < space < len(line) - 1 else 0
    return best


def unflow(text: str) -> str:
    """The paragraphs of a format=flowed, DelSp=yes text (what a mail client shows)."""
    out: list[str] = []
    joined = ""
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            joined += line[:-1]
            continue
        out.append(joined + line)
        joined = ""
    if joined:
        out.append(joined)
    return "\n".join(out)
