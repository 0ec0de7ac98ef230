"""Micro-benchmark of the parse step (one core).

Measures, in messages per second:
  * imap path  - `parse` of a Fetched as an IMAP adapter builds it (header block + BODYSTRUCTURE
                 parts + the one chosen text section), on a few synthetic typical messages:
                 ~20 header lines incl. Received/DKIM, one ~5 KB text part;
  * local path - `fetched_from_bytes` + `parse` of the same messages as whole bytes;
  * corpus     - `fetched_from_bytes` + `parse` over every file in ../shared/corpus.

Run:  python bench/parse_speed.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import base64
import quopri
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mailkeeper.mime import fetched_from_bytes  # noqa: E402
from mailkeeper.parse import parse  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"

_HEADER = """\
Return-Path: <tom.birch@birch.co.uk>
Delivered-To: amy@lumen-furniture.com
Received: from mx1.lumen-furniture.com (mx1.lumen-furniture.com [10.0.0.5])
\tby imap.lumen-furniture.com with LMTP id 8Hc2Jq3fZWU; Tue, 02 Jan 2024 10:11:14 +0800
Received: from mail-wr1-f45.google.com (mail-wr1-f45.google.com [209.85.221.45])
\tby mx1.lumen-furniture.com (Postfix) with ESMTPS id 4T3xQb0Yxz9sRk
\tfor <amy@lumen-furniture.com>; Tue,  2 Jan 2024 10:11:13 +0800 (CST)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=birch.co.uk; s=s1;
\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgYXMgbG9uZyBhcyBvbmU=
From: {from_}
To: Amy Chen <amy@lumen-furniture.com>
Cc: "Sales Team" <sales@lumen-furniture.com>
Subject: {subject}
Date: Tue, 2 Jan 2024 03:11:12 +0100
Message-ID: <CAF{n}x9+abc@mail.gmail.com>
In-Reply-To: <20231228.1234.amy@lumen-furniture.com>
References: <20231220.0001.tom@birch.co.uk> <20231228.1234.amy@lumen-furniture.com>
MIME-Version: 1.0
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQHaPNJ0kKx2s7mHuUeF0+4zYd0C7w==
"""

_EN = (
    "Hi Amy,\n\nThanks for the samples of the oak dining chairs. Our customer liked the "
    "finish, but two of the legs arrived scratched. Could you check the packing before the "
    "main shipment? We would also like to confirm the delivery date for PO 4471.\n\n"
)
_ZH = (
    "陈小姐您好，\n\n样品已经收到，客户对橡木餐椅的表面处理很满意，但有两把椅子的腿有划痕。"
    "请在大货出运前检查包装，并确认订单4471的交货日期。\n\n"
)
_QUOTE = "\n".join(
    f"> line {i} of the earlier message about the order and the samples" for i in range(40)
)


def _text(base: str) -> str:
    body = base * (5000 // len(base.encode("utf-8")) + 1)
    return body + "Best regards\nTom\n\nOn Thu, 28 Dec 2023 at 09:00, Amy Chen wrote:\n" + _QUOTE


def _plain_qp(n: int) -> bytes:
    body = quopri.encodestring(_text(_EN).encode("utf-8"))
    head = _HEADER.format(from_="Tom Birch <tom.birch@birch.co.uk>", subject="Re: PO 4471", n=n)
    head += (
        'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n'
    )
    return (head + "\n").encode() + body


def _alternative_gbk(n: int) -> bytes:
    text = _text(_ZH)
    plain = base64.encodebytes(text.encode("gb18030"))
    html = base64.encodebytes(
        ("<html><body><p>" + text.replace("\n", "<br>") + "</p></body></html>").encode("gb18030")
    )
    subject = (
        "=?gb2312?B?" + base64.b64encode("回复: 订单 4471 样品".encode("gb18030")).decode() + "?="
    )
    from_ = "=?gb2312?B?" + base64.b64encode("王伟".encode("gb18030")).decode() + "?= <wei@qq.com>"
    head = _HEADER.format(from_=from_, subject=subject, n=n)
    head += 'Content-Type: multipart/alternative; boundary="b1"\n'
    return (
        (
            head + "\n--b1\nContent-Type: text/plain; charset=gb2312\n"
            "Content-Transfer-Encoding: base64\n\n"
        ).encode()
        + plain
        + b"\n--b1\nContent-Type: text/html; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
        + html
        + b"\n--b1--\n"
    )


def _html_only(n: int) -> bytes:
    text = _text(_EN).replace("\n", "<br>\n")
    html = f"<html><head><style>p {{margin:0}}</style></head><body><div>{text}</div></body></html>"
    head = _HEADER.format(from_="tom.birch@birch.co.uk", subject="PO 4471", n=n)
    head += 'Content-Type: text/html; charset="iso-8859-1"\nContent-Transfer-Encoding: 8bit\n'
    return (head + "\n" + html).encode("latin-1", "replace")


def synthetic() -> list[bytes]:
    return [make(i) for i in range(3) for make in (_plain_qp, _alternative_gbk, _html_only)]


def _rate(label: str, items: list, run: Callable[[object], object], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            run(item)
        done += len(items)
    rate = done / (time.perf_counter() - start)
    print(f"{label:58s} {rate:9,.0f} msg/s")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = ap.parse_args()

    raws = synthetic()
    fetched = [fetched_from_bytes(r) for r in raws]
    _rate("imap path: parse(Fetched header + 1 text section)", fetched, parse, args.seconds)
    for make in (_plain_qp, _alternative_gbk, _html_only):
        one = [fetched_from_bytes(make(i)) for i in range(3)]
        _rate(f"  {make.__name__.strip('_')} only", one, parse, args.seconds / 2)
    _rate(
        "local path: parse(fetched_from_bytes(raw))",
        raws,
        lambda r: parse(fetched_from_bytes(r)),
        args.seconds,
    )
    _rate("  fetched_from_bytes only", raws, fetched_from_bytes, args.seconds)

    if CORPUS.is_dir():
        files = [
            p.read_bytes()
            for p in sorted(CORPUS.rglob("*"))
            if p.is_file() and p.name not in ("MANIFEST.tsv", "SOURCES.md")
        ]
        mb = sum(map(len, files)) / 1e6
        _rate(
            f"corpus ({len(files)} files, {mb:.1f} MB): local path",
            files,
            lambda r: parse(fetched_from_bytes(r)),
            args.seconds,
        )
    else:
        print(f"corpus not found at {CORPUS}: skipped")


if __name__ == "__main__":
    main()
