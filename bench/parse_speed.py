"""Micro-benchmark of the parse step (one core, in-process).

Default: parse cost per message on both generated mail mixes, side by side in one run.
`--count` messages of each `bench/generate.py` profile (`default` and `html`) are rendered in
memory and turned into what the IMAP adapter hands a parse worker (`fetched_from_bytes`:
the header block, the BODYSTRUCTURE-like parts and the chosen text section(s), still
transfer-encoded; setup, not timed). What is timed is the worker's per-message work:
`message_rows(parse(f), "inbound")`, in CPU time (`time.process_time`), best of `--repeat`
passes, in µs per message, over batches of 200 that were pickled and unpickled first (untimed),
as a parse worker gets them. The passes go round the implementations and mixes in turn; each
starts with the parse module's caches empty (what a sync of `--count` messages would see).

`--stages` adds a per-stage breakdown: one parse per message with the stage functions wrapped
records their arguments (only outermost calls: a stage called inside another counts there),
then each stage is replayed alone over all its calls, best of `--repeat`; "other" is the
total minus the stages (the Message object, attachments, defects, glue).

`--compare DIR` loads another copy of the `mailkeeper` package from DIR (for example the
previous version: `cp -r mailkeeper /tmp/mk_old/`) into the same process and times it on the
same messages (from its own `fetched_from_bytes`); it counts the messages whose rows (and
whose message keys) differ between the two.

    python bench/parse_speed.py [--count 2000] [--repeat 5] [--stages] [--compare /tmp/mk_old]

`--synthetic SECONDS` runs the older rates (msg/s) instead:
  * imap path  - `parse` of a Fetched as an IMAP adapter builds it (header block + BODYSTRUCTURE
                 parts + the one chosen text section), on a few synthetic typical messages:
                 ~20 header lines incl. Received/DKIM, one ~5 KB text part;
  * local path - `fetched_from_bytes` + `parse` of the same messages as whole bytes;
  * corpus     - `fetched_from_bytes` + `parse` over every file in ../shared/corpus.
"""

from __future__ import annotations

import argparse
import base64
import gc
import pickle
import quopri
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import mailkeeper.parse.message  # noqa: E402
import mailkeeper.parse.mime  # noqa: E402
import mailkeeper.parse.rows  # noqa: E402
from mailkeeper.parse.message import parse  # noqa: E402
from mailkeeper.parse.mime import fetched_from_bytes  # noqa: E402

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


# ---------------------------------------------------------------------------------------------
# Per-message cost on the generated mixes

MIXES = ("default", "html")

# Stage -> the functions of the parse module (looked up by name; a name an implementation
# does not have is skipped) whose outermost calls make it up. message_rows is the row building.
STAGES: dict[str, tuple[str, ...]] = {
    "header fields (split, map, subject, ids)": (
        "_Headers",
        "_charset_hint",
        "decode_header_value",
        "_first_id",
        "_message_ids",
    ),
    "addresses (from/sender, to, cc, reply-to)": ("_addresses",),
    "date": ("_date",),
    "MIME / text choice": ("choose_text_sections",),
    "transfer + charset decode": ("transfer_decode", "decode_text", "_decode_body"),
    "html_to_text": ("html_to_text",),
    "text clean-up (CR LF, control chars)": ("_clean_text",),
    "strip_reply": ("strip_reply",),
    "guess_language": ("guess_language",),
    "auto / bulk flags": ("_auto_reason", "_bulk_reason"),
    "message key": ("message_key",),
    "attachments, header defects": ("_attachments", "_header_defects"),
}
ROWS_STAGE = "row building (message_rows)"


class Impl:
    """One copy of the mailkeeper package: its parse, rows and mime modules."""

    def __init__(
        self, label: str, parse_mod: ModuleType, rows_mod: ModuleType, mime_mod: ModuleType
    ):
        self.label = label
        self.parse_mod = parse_mod
        self.rows_mod = rows_mod
        self.mime_mod = mime_mod
        self.inputs: dict[str, list[Any]] = {}
        self.model_mod: ModuleType | None = None  # another copy's mailkeeper.model

    def clear_caches(self) -> None:
        """Empty the parse module's caches (functools.lru_cache): each pass starts cold, as a
        sync of that many messages would (values met again within the pass still hit)."""
        for obj in list(vars(self.parse_mod).values()):
            if callable(getattr(obj, "cache_clear", None)):
                obj.cache_clear()

    def fresh(self, batch: list[Any]) -> list[Any]:
        """The batch pickled and unpickled, with this copy's model classes."""
        model = self.model_mod or sys.modules["mailkeeper.model"]
        ours = sys.modules["mailkeeper.model"]
        sys.modules["mailkeeper.model"] = model
        try:
            return pickle.loads(pickle.dumps(batch))
        finally:
            sys.modules["mailkeeper.model"] = ours

    def run(self, f: Any) -> Any:
        return self.rows_mod.message_rows(self.parse_mod.parse(f), "inbound")


def load_package(folder: Path, label: str) -> Impl:
    """The mailkeeper package in `folder` (a copy, not this repo's), loaded beside ours."""
    ours = {
        k: v for k, v in sys.modules.items() if k == "mailkeeper" or k.startswith("mailkeeper.")
    }
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        import mailkeeper as other

        if Path(other.__file__).resolve().parent != (folder / "mailkeeper").resolve():
            raise SystemExit(f"--compare: loaded {other.__file__}, not the copy in {folder}")
        import mailkeeper.model as o_model
        import mailkeeper.parse.message as o_parse
        import mailkeeper.parse.mime as o_mime
        import mailkeeper.parse.rows as o_rows
    finally:
        sys.path.remove(str(folder))
        for name in [k for k in sys.modules if k == "mailkeeper" or k.startswith("mailkeeper.")]:
            del sys.modules[name]
        sys.modules.update(ours)
    impl = Impl(label, o_parse, o_rows, o_mime)
    impl.model_mod = o_model
    return impl


def generated(count: int, seed: int, profile: str) -> Iterator[bytes]:
    """`count` messages of a bench/generate.py profile, rendered in memory (as mixstats.py)."""
    import generate  # bench/generate.py

    world = generate.build_world(seed)
    pool = generate._pool(seed, profile)
    for plan in generate.plan_threads(seed, count):
        _, mails = generate.build_thread(world, seed, plan, profile=profile)
        rng = random.Random(f"render-{seed}-{plan.index}")
        for mail in mails:
            yield generate.render(mail, rng, pool, profile)


def prepare(impls: list[Impl], count: int, seed: int) -> None:
    """Each implementation's Fetched objects for both mixes (the raw bytes are not kept)."""
    for impl in impls:
        impl.inputs = {mix: [] for mix in MIXES}
    for mix in MIXES:
        for raw in generated(count, seed, mix):
            for impl in impls:
                impl.inputs[mix].append(impl.mime_mod.fetched_from_bytes(raw))


BATCH = 200  # messages per batch, as sync.batch_size


def time_pass(impl: Impl, mix: str) -> float:
    """CPU seconds for one pass of parse + rows over a mix. As in a parse worker, the messages
    come in batches that were pickled and unpickled (not timed): fresh objects each pass, and
    the process's heap sees what a worker's does (a large buffer freed before each batch)."""
    run = impl.run
    items = impl.inputs[mix]
    spent = 0.0
    impl.clear_caches()
    for start in range(0, len(items), BATCH):
        batch = impl.fresh(items[start : start + BATCH])
        gc.collect()
        t0 = time.process_time()
        for f in batch:
            run(f)
        spent += time.process_time() - t0
    return spent


def measure(impls: list[Impl], repeat: int) -> dict[tuple[str, str], float]:
    """Best µs per message of each (implementation, mix), passes taken in turns."""
    best: dict[tuple[str, str], float] = {}
    for n in range(repeat):
        for mix in MIXES:
            for impl in impls if n % 2 == 0 else impls[::-1]:  # who goes first alternates
                us = time_pass(impl, mix) / len(impl.inputs[mix]) * 1e6
                key = (impl.label, mix)
                best[key] = min(best.get(key, us), us)
    return best


def differences(a: Impl, b: Impl, mix: str) -> tuple[int, int]:
    """(messages whose rows differ, messages whose key differs) between two implementations."""
    rows = keys = 0
    for fa, fb in zip(a.inputs[mix], b.inputs[mix], strict=True):
        ra, rb = a.run(fa), b.run(fb)
        rows += (ra.key, ra.row, ra.addresses) != (rb.key, rb.row, rb.addresses)
        keys += ra.key != rb.key
    return rows, keys


def record_stages(impl: Impl, mix: str) -> dict[str, list[tuple[Callable[..., Any], tuple]]]:
    """The outermost calls of each stage's functions during one parse of every message."""
    calls: dict[str, list[tuple[Callable[..., Any], tuple]]] = {s: [] for s in STAGES}
    calls[ROWS_STAGE] = []
    mod = impl.parse_mod
    depth = [0]
    saved: dict[str, Any] = {}

    def wrap(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any) -> Any:
            if depth[0] == 0:
                calls[stage].append((fn, tuple(list(a) if type(a) is list else a for a in args)))
            depth[0] += 1
            try:
                return fn(*args)
            finally:
                depth[0] -= 1

        return recorded

    for stage, names in STAGES.items():
        for name in names:
            if hasattr(mod, name):
                saved[name] = getattr(mod, name)
                setattr(mod, name, wrap(stage, saved[name]))
    try:
        for f in impl.inputs[mix]:
            m = mod.parse(f)
            calls[ROWS_STAGE].append((impl.rows_mod.message_rows, (m, "inbound")))
    finally:
        for name, fn in saved.items():
            setattr(mod, name, fn)
    return calls


def time_calls(
    calls: list[tuple[Callable[..., Any], tuple]], repeat: int, impl: Impl | None = None
) -> float:
    """Best CPU seconds of `repeat` replays of the calls (list arguments copied per pass;
    the implementation's caches emptied before each)."""
    best = float("inf")
    for _ in range(repeat):
        fresh = [(fn, tuple(list(a) if type(a) is list else a for a in args)) for fn, args in calls]
        if impl is not None:
            impl.clear_caches()
        gc.collect()
        t0 = time.process_time()
        for fn, args in fresh:
            fn(*args)
        best = min(best, time.process_time() - t0)
    return best


def stage_table(impls: list[Impl], totals: dict[tuple[str, str], float], repeat: int) -> None:
    cols = [(impl, mix) for mix in MIXES for impl in impls]
    stage_us: dict[tuple[str, str], dict[str, float]] = {}
    html_parts: dict[tuple[str, str], int] = {}
    for impl, mix in cols:
        calls = record_stages(impl, mix)
        n = len(impl.inputs[mix])
        stage_us[(impl.label, mix)] = {
            s: time_calls(c, repeat, impl) / n * 1e6 if c else 0.0 for s, c in calls.items()
        }
        html_parts[(impl.label, mix)] = len(calls["html_to_text"])
    heads = [f"{impl.label} {mix}" for impl, mix in cols]
    print(f"\nper stage, µs per message (best of {repeat})")
    print(f"  {'stage':<44}" + "".join(f"{h:>16}" for h in heads))
    for stage in [*STAGES, ROWS_STAGE]:
        row = "".join(f"{stage_us[(i.label, m)][stage]:>16.1f}" for i, m in cols)
        print(f"  {stage:<44}{row}")
    other = "".join(
        f"{totals[(i.label, m)] - sum(stage_us[(i.label, m)].values()):>16.1f}" for i, m in cols
    )
    print(f"  {'other (Message object, glue; total - stages)':<44}{other}")
    print(
        f"  {'total (parse + rows)':<44}"
        + "".join(f"{totals[(i.label, m)]:>16.1f}" for i, m in cols)
    )
    per_part = "".join(
        f"{stage_us[k]['html_to_text'] * len(i.inputs[m]) / max(1, html_parts[k]):>16.1f}"
        for i, m in cols
        for k in [(i.label, m)]
    )
    print(f"  {'  html_to_text per HTML part converted':<44}{per_part}")
    share = "".join(f"{100 * html_parts[(i.label, m)] / len(i.inputs[m]):>15.1f}%" for i, m in cols)
    print(f"  {'  messages whose text comes from HTML':<44}{share}")


def mixes_report(args: argparse.Namespace) -> None:
    impls = [Impl("this", mailkeeper.parse.message, mailkeeper.parse.rows, mailkeeper.parse.mime)]
    if args.compare:
        impls.append(load_package(args.compare, "compare"))
    print(f"this:    {Path(mailkeeper.parse.message.__file__).parent}")
    if args.compare:
        print(f"compare: {Path(impls[1].parse_mod.__file__).parent}")
    t = time.perf_counter()
    prepare(impls, args.count, args.seed)
    print(
        f"{args.count} messages per mix (seed {args.seed}), rendered and split in "
        f"{time.perf_counter() - t:.1f} s; timing parse + message_rows, CPU time, "
        f"best of {args.repeat} passes"
    )
    totals = measure(impls, args.repeat)
    print(f"\n  {'µs per message':<24}{'default':>10}{'html':>10}{'html/default':>14}")
    for impl in impls:
        d, h = totals[(impl.label, "default")], totals[(impl.label, "html")]
        print(f"  {impl.label:<24}{d:>10.1f}{h:>10.1f}{h / d:>13.2f}x")
    if len(impls) > 1:
        this, other = impls
        for mix in MIXES:
            ratio = totals[(other.label, mix)] / totals[(this.label, mix)]
            rows, keys = differences(this, other, mix)
            print(
                f"  {mix}: compare/this {ratio:.2f}x; rows differ on {rows}, "
                f"message keys on {keys} of {len(this.inputs[mix])} messages"
            )
    if args.stages:
        stage_table(impls, totals, args.repeat)


def synthetic_rates(seconds: float) -> None:
    raws = synthetic()
    fetched = [fetched_from_bytes(r) for r in raws]
    _rate("imap path: parse(Fetched header + 1 text section)", fetched, parse, seconds)
    for make in (_plain_qp, _alternative_gbk, _html_only):
        one = [fetched_from_bytes(make(i)) for i in range(3)]
        _rate(f"  {make.__name__.strip('_')} only", one, parse, seconds / 2)
    _rate(
        "local path: parse(fetched_from_bytes(raw))",
        raws,
        lambda r: parse(fetched_from_bytes(r)),
        seconds,
    )
    _rate("  fetched_from_bytes only", raws, fetched_from_bytes, seconds)

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
            seconds,
        )
    else:
        print(f"corpus not found at {CORPUS}: skipped")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="generated messages per mix")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="passes; the best is kept")
    ap.add_argument("--stages", action="store_true", help="per-stage breakdown too")
    ap.add_argument("--compare", type=Path, help="a folder holding another mailkeeper package")
    ap.add_argument(
        "--synthetic", type=float, metavar="SECONDS", help="the older msg/s rates instead"
    )
    args = ap.parse_args()
    if args.synthetic:
        synthetic_rates(args.synthetic)
    else:
        mixes_report(args)


if __name__ == "__main__":
    main()
