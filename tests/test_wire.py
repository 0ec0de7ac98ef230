"""mailbox.wire reads untagged FETCH responses exactly as imaplib does, errors included."""

from __future__ import annotations

import imaplib
import io
import re
from typing import Any

import pytest

from mailkeeper.mailbox import wire

TAG = b"MKAB1"


def _imap(stream: bytes, buffer_size: int) -> imaplib.IMAP4:
    """An IMAP4 object reading `stream`, set up as imaplib.IMAP4.__init__ would, unconnected."""
    imap = object.__new__(imaplib.IMAP4)
    imap.debug = 0
    imap._cmd_log_len = 10
    imap._cmd_log_idx = 0
    imap._cmd_log = {}
    imap._mode_ascii()  # _encoding, Literal, Untagged_status
    imap.untagged_responses = {}
    imap.continuation_response = ""
    imap.tagged_commands = {TAG: None}
    imap.tagre = re.compile(rb"(?P<tag>MKAB\d+) (?P<type>[A-Z]+) (?P<data>.*)", re.ASCII)
    imap.file = io.BufferedReader(io.BytesIO(stream), buffer_size=buffer_size)
    return imap


def _read_all(imap: imaplib.IMAP4) -> tuple[list[Any], dict[str, list[Any]], Any]:
    """Every response until the tagged one (or the error that stops it)."""
    returned: list[Any] = []
    try:
        while imap.tagged_commands[TAG] is None:
            returned.append(imap._get_response())
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error) as e:
        return returned, imap.untagged_responses, (type(e).__name__, str(e))
    return returned, imap.untagged_responses, imap.tagged_commands[TAG]


HEADER = b"Subject: hi\r\nFrom: a@b.c\r\n\r\n"
STREAMS = {
    "two messages, literals": (
        b"* 1 FETCH (UID 7 RFC822.SIZE 99 BODY[HEADER] {%d}\r\n%s)\r\n"
        b"* 2 FETCH (UID 8 BODY[1] {0}\r\n BODY[2] {5}\r\nhello FLAGS (\\Seen))\r\n"
        % (len(HEADER), HEADER)
    )
    + TAG
    + b" OK Fetch completed.\r\n",
    "no literal": b"* 3 FETCH (UID 9 FLAGS ())\r\n" + TAG + b" OK done\r\n",
    "FETCH with nothing after it": b"* 3 FETCH \r\n" + TAG + b" OK done\r\n",
    "other untagged responses between": (
        b"* 4 EXISTS\r\n* OK [UIDNEXT 12] next\r\n* 3 FETCH (UID 9)\r\n* 5 EXPUNGE\r\n"
        + TAG
        + b" OK done\r\n"
    ),
    "not a literal": b"* 3 FETCH (UID 9 X {abc})\r\n" + TAG + b" OK done\r\n",
    "literal with a brace inside": (
        b"* 3 FETCH (UID 9 BODY[TEXT] {4}\r\n{1}\r\n)\r\n" + TAG + b" NO failed\r\n"
    ),
    "FETCHX is not FETCH": b"* 3 FETCHX (UID 9)\r\n" + TAG + b" OK done\r\n",
    "EOF inside a literal": b"* 1 FETCH (UID 7 BODY[HEADER] {50}\r\nshort",
    "EOF after a literal": b"* 1 FETCH (UID 7 BODY[HEADER] {5}\r\nhello",
    "unterminated line": b"* 1 FETCH (UID 7)",
    "line too long": b"* 1 FETCH (UID 7 X " + b"x" * (imaplib._MAXLINE + 10) + b")\r\n",
    "bye": b"* BYE server shutting down\r\n",
}


@pytest.mark.parametrize("buffer_size", [3, 16, 64, 8192])
@pytest.mark.parametrize("name", STREAMS)
def test_wire_reads_like_imaplib(name: str, buffer_size: int) -> None:
    stream = STREAMS[name]
    want = _read_all(_imap(stream, buffer_size))
    fast = _imap(stream, buffer_size)
    wire.install(fast)
    assert _read_all(fast) == want


def test_wire_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The big FETCH stream is read without imaplib's generic path (it is not just falling
    back every time, which would pass the test above too)."""
    stream = STREAMS["two messages, literals"]
    fast = _imap(stream, 8192)
    calls: list[int] = []
    original = wire._IMAPLIB_GET_RESPONSE

    def counting(self: Any) -> Any:
        calls.append(1)
        return original(self)

    wire.install(fast)
    monkeypatch.setattr(wire, "_IMAPLIB_GET_RESPONSE", counting)
    _read_all(fast)
    assert len(calls) == 1  # only the tagged line
    assert len(fast.untagged_responses["FETCH"]) == 5
