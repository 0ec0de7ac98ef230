"""What a generated mail mix looks like, read back with Python's email parser.

    python bench/mixstats.py MAILDIR                      # every message in a Maildir
    python bench/mixstats.py --generate 2000 --profile html [--seed 1]   # in memory

Prints the share of messages with an HTML part, the HTML-only share, mean characters per
HTML part (decoded), the share with attachments and the median message size. Every
message is parsed with `email.policy.default` and each text part decoded; messages the
parser fails on are counted and named (`--check` makes that an exit status).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path


def from_maildir(root: Path, limit: int = 0) -> Iterator[tuple[str, bytes]]:
    paths = sorted(p for sub in ("cur", "new") for p in root.glob(f"**/{sub}/*") if p.is_file())
    if limit and len(paths) > limit:  # an even sample across folders and dates
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    for p in paths:
        yield str(p), p.read_bytes()


def from_generator(count: int, seed: int, profile: str) -> Iterator[tuple[str, bytes]]:
    import random

    import generate

    world = generate.build_world(seed)
    pool = generate._pool(seed, profile)
    for plan in generate.plan_threads(seed, count):
        _, mails = generate.build_thread(world, seed, plan, profile=profile)
        rng = random.Random(f"render-{seed}-{plan.index}")
        for k, mail in enumerate(mails):
            yield f"thread {plan.index} #{k}", generate.render(mail, rng, pool, profile)


def _charset(part: email.message.Message) -> str:
    cs = (part.get_content_charset() or "us-ascii").lower()
    return "gbk" if cs == "gb2312" else cs


def examine(data: bytes) -> dict[str, object]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    html: list[int] = []
    plain = attachment = inline_images = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disp = part.get_content_disposition()
        if disp == "attachment":
            attachment += 1
            part.get_payload(decode=True)
            continue
        if ctype == "text/html":
            html.append(len(part.get_content()))
        elif ctype == "text/plain":
            plain += 1
            part.get_content()
        elif ctype.startswith("image/") and part.get("Content-ID"):
            inline_images += 1
            part.get_payload(decode=True)
        elif ctype.startswith("text/"):
            part.get_content()
    return {
        "html": html,
        "plain": plain,
        "attachment": attachment,
        "inline_images": inline_images,
        "defects": len(msg.defects) + sum(len(p.defects) for p in msg.walk() if p is not msg),
    }


def stats(messages: Iterator[tuple[str, bytes]]) -> dict[str, object]:
    n = with_html = html_only = with_att = with_img = defects = 0
    html_chars: list[int] = []
    sizes: list[int] = []
    failures: list[str] = []
    for name, data in messages:
        n += 1
        sizes.append(len(data))
        try:
            info = examine(data)
        except Exception as exc:  # noqa: BLE001 - what we are here to count
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        html = info["html"]
        assert isinstance(html, list)
        with_html += bool(html)
        html_only += bool(html) and not info["plain"]
        html_chars += html
        with_att += bool(info["attachment"])
        with_img += bool(info["inline_images"])
        defects += bool(info["defects"])
    pct = 100 / max(n, 1)
    return {
        "messages": n,
        "with an HTML part": f"{with_html * pct:.1f}%",
        "HTML only": f"{html_only * pct:.1f}%",
        "mean HTML characters per HTML part": f"{statistics.mean(html_chars):,.0f}"
        if html_chars
        else "n/a",
        "with inline images (cid:)": f"{with_img * pct:.1f}%",
        "with attachments": f"{with_att * pct:.1f}%",
        "median message size": f"{statistics.median(sizes) / 1024:.1f} KB" if sizes else "n/a",
        "mean message size": f"{statistics.mean(sizes) / 1024:.1f} KB" if sizes else "n/a",
        "parser exceptions": len(failures),
        "messages with parser defects": defects,
        "_failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("maildir", nargs="?", type=Path, help="Maildir root (all folders under it)")
    ap.add_argument("--generate", type=int, default=0, help="generate N messages in memory")
    ap.add_argument("--profile", default="default", help="with --generate: default | html")
    ap.add_argument("--seed", type=int, default=1, help="with --generate (default 1)")
    ap.add_argument(
        "--limit", type=int, default=0, help="read N files evenly spread over the Maildir"
    )
    ap.add_argument("--check", action="store_true", help="exit 1 if any message fails to parse")
    args = ap.parse_args(argv)
    if args.generate:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        messages = from_generator(args.generate, args.seed, args.profile)
        source = f"{args.generate} generated in memory (profile {args.profile}, seed {args.seed})"
    elif args.maildir:
        messages = from_maildir(args.maildir, args.limit)
        source = str(args.maildir)
    else:
        ap.error("give a Maildir or --generate N")
    result = stats(messages)
    if not result["messages"]:
        print(f"mixstats: no messages in {source}", file=sys.stderr)
        return 2
    failures = result.pop("_failures")
    assert isinstance(failures, list)
    print(f"{source}\n\n| | |\n|---|---:|")
    for key, value in result.items():
        print(f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |")
    for line in failures[:20]:
        print(line, file=sys.stderr)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
