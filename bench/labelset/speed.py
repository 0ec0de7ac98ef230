"""Judging speed: ms per message of Judge.assess (zones, gates, rules, model) on one core.

    python bench/labelset/speed.py [--raw /work/labelset-raw] [--n 300]

Reads train-split messages only (the same ones the labels cover); without the raw files it
judges synthetic texts. Prints the median and 95th percentile and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mailkeeper.config.issues import read_issue_rules  # noqa: E402
from mailkeeper.detect.judge import Judge  # noqa: E402
from mailkeeper.detect.needmodel import load_models  # noqa: E402
from mailkeeper.parse.message import parse  # noqa: E402
from mailkeeper.parse.mime import fetched_from_bytes  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", type=Path, default=Path("/work/labelset-raw"))
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    texts = []
    manifest = (ROOT / "tests/labelled/real/manifest.tsv").read_text().splitlines()[1:]
    for line in manifest:
        f = line.split("\t")
        if f[-1] != "train" or not (args.raw / f"{f[0]}.eml").exists():
            continue
        m = parse(fetched_from_bytes((args.raw / f"{f[0]}.eml").read_bytes()))
        texts.append((m.subject, m.reply_text or m.text, f[1]))
        if len(texts) >= args.n:
            break
    if not texts:
        texts = [("Samples", "Please send samples of the oak finish.\n\nThanks,\nJo", "en")] * 100
    judge = Judge(read_issue_rules(ROOT / "rules", []), load_models())
    for s, t, lang in texts[:20]:  # build the spaCy pipelines first
        judge.assess(s, t, lang)
    times = []
    for s, t, lang in texts:
        t0 = time.perf_counter()
        judge.assess(s, t, lang)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(times)} messages: median {statistics.median(times):.2f} ms, "
          f"p95 {p95:.2f} ms, mean {statistics.mean(times):.2f} ms; "
          f"peak RSS {rss:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
