"""Precision and recall of the need extractor (detect/needs.py) on tests/labelled/needs.yaml.

usage: python bench/needs_eval.py [--split holdout|tune] [RAW_DIR]
A sentence is predicted a need when stated_needs() finds one in it, dated at its message's
Date. Chinese (trec06c) sentences are not committed: they are read again from RAW_DIR
(default /work/labelset-raw) by message id and sentence index and checked by sha256.
"""

from __future__ import annotations

import argparse
import email
import email.utils
import hashlib
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from needs_candidates import new_text  # noqa: E402

from mailkeeper.detect.needs import stated_needs  # noqa: E402
from mailkeeper.detect.promises import sentences  # noqa: E402

SET = Path(__file__).resolve().parents[1] / "tests/labelled/needs.yaml"


def _message(raw_dir: Path, msg: str) -> tuple[datetime, list[str]]:
    raw = (raw_dir / f"{msg}.eml").read_bytes()
    date = email.message_from_bytes(raw).get("Date")
    try:
        at = email.utils.parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        at = None
    at = at or datetime(2001, 6, 1, tzinfo=UTC)
    text = re.sub(r"[ \t]+", " ", new_text(raw))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), [s.strip() for s in sentences(text)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="holdout", choices=["holdout", "tune"])
    ap.add_argument("raw_dir", nargs="?", default="/work/labelset-raw")
    args = ap.parse_args()
    entries = [e for e in yaml.safe_load(SET.read_text())["sentences"] if e["split"] == args.split]
    tp = fp = fn = tn = skipped = 0
    for e in entries:
        msg, index = e["id"].split("#")
        try:
            at, found = _message(Path(args.raw_dir), msg)
            sentence = e.get("sentence") or found[int(index)]
        except (OSError, IndexError):
            skipped += 1
            continue
        if hashlib.sha256(sentence.encode()).hexdigest() != e["sha256"]:
            skipped += 1
            continue
        predicted = bool(stated_needs(sentence, at))
        actual = e["need"] == "yes"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
        tn += not predicted and not actual
    p = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a (nothing predicted)"
    r = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a (no need in the set)"
    print(f"{args.split}: {tp + fp + fn + tn} sentences ({tp + fn} needs), skipped {skipped}: "
          f"precision {p}, recall {r} (tp {tp}, fp {fp}, fn {fn}, tn {tn})")  # fmt: skip


if __name__ == "__main__":
    main()
