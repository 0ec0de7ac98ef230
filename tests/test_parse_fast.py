"""The parse step's fast paths give what the stdlib slow paths they replace give.

* `_header_fields` (one pass over the lines) == compat32 `BytesParser(...headersonly=True)`:
  the same fields, raw values and defects, on odd line ends, envelope lines, stray lines,
  8-bit bytes and missing separators;
* `_simple_addresses` == the stdlib's non-strict address parser whenever it answers (the
  strict one, gh-102988, is on in some patch levels and not others: Debian 12's 3.11.2 has it,
  3.11.7 has not; the non-strict one is the same code on every version);
* the `looks_*` charset sniffers on a few known texts.
"""

from __future__ import annotations

from email._parseaddr import AddressList
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkeeper.parse.addresses import _addresses, _simple_addresses
from mailkeeper.parse.charsets import looks_big5, looks_chinese, looks_japanese
from mailkeeper.parse.message import (
    _date,
    _date_by_parsers,
    _field_value,
    _header_fields,
    _Headers,
)


def _stdlib(block: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    msg = BytesParser(policy=compat32).parsebytes(block, headersonly=True)
    return [(k, str(v)) for k, v in msg.raw_items()], [type(d).__name__ for d in msg.defects]


def _ours(block: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    fields, defects = _header_fields(block)
    return [(k, _field_value(src)) for k, src in fields], defects


BLOCKS = [
    b"Subject: hi\r\nTo: a@b.c\r\n\r\nbody",
    b"Subject: hi\nTo: a@b.c\n\nbody\n",
    b"Subject: hi\rTo: a@b.c\r\rbody",  # CR-only line ends
    b"Subject: hi\r\n folded\r\n\tagain\r\nTo:  \t  a@b.c  \r\n\r\n",
    b"Subject:\r\n folded only\r\n\r\n",
    b"From amy@x Tue Jan  2 10:11:12 2024\nSubject: envelope\n\n",
    b"Subject: a\nFrom misplaced line\nTo: b\n\n",
    b"Subject: a\nFrom last-line\n\nbody",
    b" leading continuation\nSubject: a\n\n",
    b":no name\nSubject: a\n\n",
    b"Subject: a\nno colon here\nTo: b\n\n",  # separator missing
    b"Subject: a\nTo: b",  # no separator, no body
    b"Subject: 8-bit \xe4\xbd\xa0\xe5\xa5\xbd \xe9\r\nX-Bad: \xff\xfe\r\n\r\n",
    b"Subject: a\x0bb\x0cc\x1cd\x85e\r\n\r\n",  # not line ends for the parser
    b"Subject: a\r\n \r\n\t\r\nTo: b\r\n\r\n",  # blank continuation lines
    b"Subject: a\n\r\nTo: b\n",
    b"Subject: a\r\r\nTo: b\r\n",
    b"X-Long: " + b"x" * 200_000 + b"\r\n\r\n",
    b"Received: from a\r\n\tby b\r\n" * 50 + b"Subject: many\r\n\r\n" + b"x" * 1000,
]


@pytest.mark.parametrize("block", BLOCKS)
def test_header_fields_match_the_stdlib_parser(block: bytes) -> None:
    assert _ours(block) == _stdlib(block)


PIECES = [
    b"Subject: hi",
    b"From: a@b",
    b"From x y",
    b"From ",
    b" cont",
    b"\tcont",
    b":bad",
    b"noline",
    b"X-8: \xe9\xff",
    b"",
    b" ",
    b"Name:",
    b"Na me: v",
    b"To:  \t v  ",
    b"\xe9: v",
    b"A:\r",
    b"X: a\x0bb\x1cc\x85d",
    b"\x0c: v",
]
ENDS = [b"\r\n", b"\n", b"\r", b"\n\r", b""]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(ENDS)), min_size=1, max_size=9))
def test_header_fields_match_on_random_blocks(lines: list[tuple[bytes, bytes]]) -> None:
    block = b"".join(a + b for a, b in lines)
    if block:
        assert _ours(block) == _stdlib(block)


def test_headers_decode_lazily_and_keep_the_first() -> None:
    defects: list[str] = []
    h = _Headers(b"Subject: one\r\nsubject: two\r\nX-A: \xe9\r\n\r\n", defects)
    assert h.get("subject") == "one" and h.get("x-a") == "\udce9"
    assert h.has("x-a") and not h.has("to") and h.get("to") is None
    assert defects == []
    bad: list[str] = []
    _Headers(None, bad)  # type: ignore[arg-type]
    assert bad == ["header parse failed: AttributeError"]


def _reference(value: str) -> list[tuple[str, str]]:
    """The stdlib's non-strict parse, minus its empty pairs: what getaddresses([value]) gives
    with strict=False, or on a Python without strict parsing."""
    return [p for p in AddressList(value).addresslist if p != ("", "")]


ADDRESS_CASES = [
    "Amy Chen <amy@lumen-furniture.com>",
    '"Sales Team" <sales@x.com>, tom@birch.co.uk',
    '"Chen, Amy" <a.chen@x.com>,, ,  "" <b@y.org>,',
    "J. R.  Smith <j.smith@x.com>",
    "Amy\xa0Chen <a@b.c>",  # U+00A0 is part of a word for getaddresses
    "=?utf-8?B?5byg5LiJ?= <zhang@x.cn>",
    "<a@b.c>",
    "a@b.c d@e.f",
    "a@b.c.",
    "Amy (work) <a@b.c>",
    "group: a@b.c, d@e.f;",
    '"a\\"b" <a@b.c>',
    "a..b@c.d",
    "Name <a@b.c> trailing",
    "MAILER-DAEMON <>",
    "\t, a@b.c",
    "",
    " ",
    ",",
    "a@b.c,",  # the strict parser gives up on a trailing comma
]


@pytest.mark.parametrize("value", ADDRESS_CASES)
def test_simple_addresses_agree_with_the_stdlib_parser(value: str) -> None:
    fast = _simple_addresses(value)
    if fast is not None:
        assert fast == _reference(value)


def test_simple_addresses_take_the_common_shapes() -> None:
    for value in ADDRESS_CASES[:7]:
        assert _simple_addresses(value) is not None, value


ADDRESS_ALPHABET = list("aB1.@<>\"\\(), ;:[]\t-_'=?\xa0é\udce9\x0bz") + [
    "a@b.c",
    "<a@b.c>",
    '"N, M"',
    "Name ",
    "=?utf-8?q?x?=",
    "a.b@c.d",
    ", ",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(ADDRESS_ALPHABET), max_size=12))
def test_simple_addresses_agree_on_random_values(pieces: list[str]) -> None:
    value = "".join(pieces)
    fast = _simple_addresses(value)
    if fast is not None:
        assert fast == _reference(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Headers the strict parser (Debian 12's 3.11.2, 3.13) answers [('', '')] for: the
        # display names must survive whichever Python parses them.
        (
            '"Chen, Amy" <a.chen@x.com>, Tom Li (sales) <tom@x.com>,',
            [("Chen, Amy", "a.chen@x.com"), ("Tom Li (sales)", "tom@x.com")],
        ),
        (
            "=?utf-8?B?5byg5LiJ?= (sales) <zhang@x.cn>, tom@x.com (Tom),",
            [("张三 (sales)", "zhang@x.cn"), ("Tom", "tom@x.com")],
        ),
        ("Amy Chen <amy@x.com> stray", [("Amy Chen", "amy@x.com")]),
        # What the non-strict parser makes of two bare addresses is ('', '@e.f'): not an address.
        ("a@b.c d@e.f", [("", "a@b.c"), ("", "d@e.f")]),
        ("<@x.com>, b@c.d", [("", "b@c.d")]),
    ],
)
def test_addresses_do_not_depend_on_the_stdlib_patch_level(
    value: str, expected: list[tuple[str, str]]
) -> None:
    assert [(a.name, a.email) for a in _addresses(value, None)] == expected


def test_charset_sniffers() -> None:
    zh = "陈小姐您好，样品已经收到，客户对橡木餐椅的表面处理很满意。"
    assert looks_chinese(zh) and not looks_chinese("plain ascii") and not looks_japanese(zh)
    assert looks_japanese("ありがとうございます。明日の会議について") and not looks_big5("abc")
    assert looks_big5("謝謝您的來信，我們會盡快處理訂單。")
    assert not looks_chinese(b"caf\xe9 cr\xe8me br\xfbl\xe9e".decode("gb18030", "replace"))


# ----------------------------------------------------------------------------- Date fast path
def _date_by_mailparser(value: str) -> tuple[Any, Any, Any]:
    """What _date gave before its fast path (the same cleaning, then the full parsers)."""
    return _date_by_parsers(" ".join(value[:200].split()))


DATES = [
    "Mon, 2 Jan 2006 15:04:05 +0800",
    "2 Jan 2006 15:04:05 -0000",
    "Tue, 2 Jan 2006 15:04:05 +0800",  # wrong weekday: the date still counts
    "Mon, 31 Feb 2006 15:04:05 +0800",  # no such day
    "Mon, 2 Jan 1899 15:04:05 +0800",
    "Mon, 2 Jan 2006 23:59:59 -1259",
    "Mon, 2 Jan 2006 15:04:05 +0875",  # zone minutes out of range
    "Fri, 31 Dec 9999 23:59:59 -1200",  # past datetime.max in UTC
    "Mon,  2 Jan 2006  15:04:05  +0800 (CST)",
    "mon, 02 JAN 2006 15:04:05 +0800",
]


@pytest.mark.parametrize("value", DATES)
def test_date_fast_path_matches_mail_parser(value: str) -> None:
    assert _date(value) == _date_by_mailparser(value)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["", "Mon, ", "Sun, "]),
    st.integers(0, 40),
    st.sampled_from(["Jan", "feb", "Dec", "Foo"]),
    st.integers(1890, 10000),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["+", "-"]),
    st.integers(0, 99),
    st.integers(0, 99),
)
def test_date_fast_path_matches_mail_parser_on_random_dates(
    wd: str, d: int, mon: str, y: int, h: int, mi: int, s: int, sign: str, zh: int, zm: int
) -> None:
    value = f"{wd}{d} {mon} {y} {h:02d}:{mi:02d}:{s:02d} {sign}{zh:02d}{zm:02d}"
    assert _date(value) == _date_by_mailparser(value)
