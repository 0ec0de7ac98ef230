"""The FETCH pipeline: the next batch's header FETCH is sent ahead and read on the next call.

Against a real Dovecot: pipelined batches equal unpipelined ones, and any other command
in between (STATUS, EXAMINE of another folder, a different next batch) first reads the
answer sent ahead, so nothing is confused. One unit test with a scripted connection covers
a server that interleaves the answers to two pipelined FETCHes (Dovecot does not do it on
demand, so only a white-box test can make it happen).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ME, make_mail

from mailkeeper.config.settings import AccountConfig
from mailkeeper.mailbox.imap import ImapMailbox


def _mailbox(imap) -> ImapMailbox:
    account = AccountConfig(
        name="work", host="127.0.0.1", port=imap.port, tls="none", username=imap.user
    )
    return ImapMailbox(account, password=lambda: "secret")


def _fill(imap, n: int) -> None:
    for i in range(n):
        body = f"Line {i}\n" + "Shipment is on its way. " * (5 + i % 7)
        imap.deliver(
            "INBOX", make_mail(f"b{i}@birch.co.uk", ME, f"Order {i}", body), user=imap.user
        )
    imap.index(imap.user)


def _key(fetched: list[Any]) -> list[tuple[Any, ...]]:
    return [(f.uid, f.size, f.header, f.parts, f.bodies, f.flags, f.internaldate) for f in fetched]


@pytest.mark.imap
def test_pipelined_batches_equal_unpipelined_ones(imap, tmp_path: Path) -> None:
    _fill(imap, 60)
    with _mailbox(imap) as mb:
        uids = mb.new_uids("INBOX", 0)
        plain = _key(mb.fetch_batch("INBOX", uids))
        got: list[Any] = []
        chunks = [uids[i : i + 7] for i in range(0, len(uids), 7)]
        for i, chunk in enumerate(chunks):
            following = chunks[i + 1] if i + 1 < len(chunks) else None
            got += mb.fetch_batch("INBOX", chunk, following)
    assert _key(got) == plain and len(plain) == 60


@pytest.mark.imap
def test_other_commands_read_the_answer_sent_ahead_first(imap, tmp_path: Path) -> None:
    _fill(imap, 30)
    with _mailbox(imap) as mb:
        uids = mb.new_uids("INBOX", 0)
        first = mb.fetch_batch("INBOX", uids[:10], uids[10:20])
        assert mb.status("INBOX").messages == 30  # drains the FETCH sent ahead
        # A different batch than the one sent ahead: that answer is read and dropped.
        mb.fetch_batch("INBOX", uids[:5], uids[5:10])
        other = mb.fetch_batch("INBOX", uids[20:30])
        assert [f.uid for f in other] == uids[20:30]
        # Another folder: EXAMINE comes only after the answer sent ahead was read.
        mb.fetch_batch("INBOX", uids[:10], uids[10:20])
        assert mb.fetch_batch("Sent", []) == []
        again = mb.fetch_batch("INBOX", uids[:10])
    assert _key(again) == _key(first)


class _ScriptedImap:
    """Answers to FETCH tags as scripted: lists of imaplib-style untagged FETCH data."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.read: list[str] = []

    def _command_complete(self, name: str, tag: str) -> tuple[str, list[bytes]]:
        self.read.append(tag)
        return "OK", [b"done"]

    def _untagged_response(self, typ: str, data: Any, name: str) -> tuple[str, list[Any]]:
        return typ, self.answers[self.read[-1]]


class _ScriptedClient:
    def __init__(self, imap: _ScriptedImap) -> None:
        self._imap = imap

    def _checkok(self, *args: Any) -> None:
        return None


def test_interleaved_answers_are_kept_for_the_batch_sent_ahead() -> None:
    account = AccountConfig(name="work", host="127.0.0.1", port=1, tls="none", username="u")
    mb = ImapMailbox(account, password=lambda: "x")
    scripted = _ScriptedImap(
        {
            # The text FETCH of batch 1-2, with part of the header answer for 3 mixed in,
            # and an unsolicited FLAGS update for a message of neither batch.
            "T1": [
                (b"1 (UID 1 BODY[1]<0> {2}", b"hi"),
                b")",
                b'3 (UID 3 RFC822.SIZE 10 INTERNALDATE "01-Jan-2024 10:00:00 +0000")',
                (b"2 (UID 2 BODY[1]<0> {2}", b"yo"),
                b")",
                b"9 (UID 9 FLAGS (\\Seen))",
            ],
            # The header FETCH of batch 3-4 sent ahead: the rest of 3, and 4.
            "H2": [b"3 (UID 3 FLAGS ())", b"4 (UID 4 RFC822.SIZE 20 FLAGS ())"],
        }
    )
    mb.client = _ScriptedClient(scripted)  # type: ignore[assignment]
    mb._pending = ("H2", [3, 4])
    mb._outstanding = {"T1": {1, 2}, "H2": {3, 4}}
    texts = mb._complete_fetch("T1", [1, 2])
    assert sorted(texts) == [1, 2] and texts[1][b"BODY[1]<0>"] == b"hi"
    ahead = mb._take_prefetched([3, 4])
    assert ahead is not None and sorted(ahead) == [3, 4]
    assert ahead[3][b"RFC822.SIZE"] == 10 and ahead[3][b"FLAGS"] == ()
    assert ahead[4][b"RFC822.SIZE"] == 20
    assert 9 not in ahead and mb._pending is None and mb._early == {} and not mb._outstanding
    assert scripted.read == ["T1", "H2"]
