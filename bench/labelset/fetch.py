"""Rebuild the raw folder of the real-mail labelled set from its manifest.

    python3 bench/labelset/fetch.py [--out /work/labelset-raw] [--mirrors /work/.mirror]
                                    [--split train|heldout] [--language en|zh]

For every manifest row it reads `commit:path` from the source's git mirror
(MIRRORS/OWNER+NAME/repo, as `fetch github:OWNER/NAME` leaves it), checks the bytes against the
row's sha256 and writes <id>.eml into --out. A missing mirror, a missing blob or a changed blob
is named; the command then exits 1 after writing everything else (nothing is silently skipped).
A training script calls rebuild(); CI has no mirrors and never calls it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gitblobs import read_blobs  # noqa: E402
from sources import MIRRORS  # noqa: E402

MANIFEST = os.path.join(
    os.path.dirname(os.path.dirname(HERE)), "tests", "labelled", "real", "manifest.tsv"
)


def read_manifest(path: str = MANIFEST) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def rebuild(rows: list[dict[str, str]], out: str, mirrors: str = MIRRORS) -> tuple[int, list[str]]:
    """Write each row's message to out/<id>.eml; return (messages written, one line per
    problem: empty when all is well)."""
    os.makedirs(out, exist_ok=True)
    problems, written = [], 0
    by_source: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["mbox_index"] != "-":
            problems.append(f"{row['id']}: mbox messages are not supported yet")
            continue
        by_source[(row["repo"], row["commit"])].append(row)
    for (repo, commit), mine in sorted(by_source.items()):
        git_dir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
        if not os.path.isdir(git_dir):
            problems.append(
                f"{repo}: no mirror at {git_dir} ({len(mine)} messages); fetch github:{repo} first"
            )
            continue
        rows_by_path = {r["path"]: r for r in mine}
        for path, raw in read_blobs(git_dir, commit, list(rows_by_path)):
            row = rows_by_path[path]
            if raw is None:
                problems.append(f"{row['id']}: {repo}@{commit[:12]}:{path} is missing")
                continue
            if hashlib.sha256(raw).hexdigest() != row["sha256"]:
                problems.append(f"{row['id']}: {repo}:{path} does not match its sha256")
                continue
            with open(os.path.join(out, row["id"] + ".eml"), "wb") as fh:
                fh.write(raw)
            written += 1
    return written, problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/work/labelset-raw")
    ap.add_argument("--mirrors", default=MIRRORS)
    ap.add_argument("--manifest", default=MANIFEST)
    ap.add_argument("--split", choices=("train", "heldout"))
    ap.add_argument("--language", choices=("en", "zh"))
    args = ap.parse_args(argv)
    rows = [
        r
        for r in read_manifest(args.manifest)
        if (args.split is None or r["split"] == args.split)
        and (args.language is None or r["language"] == args.language)
    ]
    written, problems = rebuild(rows, args.out, args.mirrors)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{written} of {len(rows)} messages in {args.out}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
