"""Agreement of the two labelling passes (Cohen's kappa) and the reconciled label file.

    python3 bench/labelset/agreement.py            # prints kappa, yes/no and categories
    python3 bench/labelset/agreement.py --write    # also writes tests/labelled/real/labels.tsv

labels.tsv = the label both passes gave where they agree; where they disagree (on yes/no, or
on the category of a yes), the decision of decisions.tsv, taken against GUIDELINE.md with its
reason. A disagreement without a decision is an error: nothing is silently picked. Pass 1 of a
language is the union of its pass-1 files (labels_pass1*.tsv, labels_zh_pass1*.tsv), pass 2
the union of its pass-2 files; kappa is reported per language. A language with only its
first pass so far gives its labels marked `one pass`; rows of a first pass that its second
pass does not have yet are left out until it has them.
No mail text is read here: only the label files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[2] / "tests" / "labelled" / "real"
FIELDS = ("id", "label", "category", "reason", "source")


def read(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two raters over the same items."""
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two equally long, non-empty label lists")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


# Each language's train labels come in batches (labels_pass1.tsv, labels_pass1b.tsv, ...):
# pass 1 is the union of a language's pass-1 files, pass 2 the union of its pass-2 files.
# The held-out files (labels_heldout*) are reconciled by reconcile.py and never read here.
PASSES = {"en": ("labels_pass1*.tsv", "labels_pass2*.tsv"),
          "zh": ("labels_zh_pass1*.tsv", "labels_zh_pass2*.tsv")}  # fmt: skip


def read_union(files: list[Path]) -> dict[str, dict[str, str]]:
    """The rows of several files of one pass; an id in two files of the same pass is an
    error (a batch labelled twice by the same pass would hide a disagreement)."""
    out: dict[str, dict[str, str]] = {}
    for f in files:
        for k, r in read(f).items():
            if k in out:
                raise ValueError(f"{f.name}: {k} is already in another file of the same pass")
            out[k] = r
    return out


def pass_pairs(folder: Path) -> list[tuple[str, list[Path], list[Path]]]:
    """(language, its pass-1 files, its pass-2 files: empty while the second pass is to do)."""
    out = []
    for lang, (g1, g2) in PASSES.items():
        f1, f2 = sorted(folder.glob(g1)), sorted(folder.glob(g2))
        if f1:
            out.append((lang, f1, f2))
    return out


def reconcile(folder: Path = HERE) -> tuple[list[dict[str, str]], list[str], dict[str, float]]:
    """The reconciled rows, the disagreements left without a decision, and the figures."""
    decisions = read(folder / "decisions.tsv") if (folder / "decisions.tsv").exists() else {}
    rows: list[dict[str, str]] = []
    undecided: list[str] = []
    figures: dict[str, float] = {}
    for name, f1, f2 in pass_pairs(folder):
        p1 = read_union(f1)
        if not f2:  # one pass so far: its labels train, marked as such
            rows.extend(
                {"id": k, "label": r["label"], "category": r["category"],
                 "reason": r["reason"], "source": "one pass"}
                for k, r in p1.items()
            )  # fmt: skip
            figures[f"{name}.n"] = len(p1)
            continue
        p2 = read_union(f2)
        both = [k for k in p1 if k in p2]
        figures[f"{name}.n"] = len(both)
        figures[f"{name}.kappa"] = kappa(
            [p1[k]["label"] for k in both], [p2[k]["label"] for k in both]
        )
        figures[f"{name}.kappa_category"] = kappa(
            [p1[k]["category"] for k in both], [p2[k]["category"] for k in both]
        )
        figures[f"{name}.disagree"] = sum(p1[k]["label"] != p2[k]["label"] for k in both)
        for k in both:
            a, b = p1[k], p2[k]
            if (a["label"], a["category"]) == (b["label"], b["category"]):
                rows.append({"id": k, "label": a["label"], "category": a["category"],
                             "reason": a["reason"], "source": "agreed"})  # fmt: skip
            elif k in decisions:
                d = decisions[k]
                if d["label"] not in ("yes", "no"):
                    raise ValueError(f"decisions.tsv: {k}: label {d['label']!r}")
                rows.append({"id": k, "label": d["label"], "category": d["category"],
                             "reason": d["reason"], "source": "decided"})  # fmt: skip
            else:
                undecided.append(k)
    return rows, undecided, figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="write labels.tsv")
    ap.add_argument("--folder", type=Path, default=HERE)
    args = ap.parse_args(argv)
    rows, undecided, figures = reconcile(args.folder)
    for k, v in figures.items():
        print(f"{k}\t{v:.3f}" if isinstance(v, float) else f"{k}\t{v}")
    yes = sum(r["label"] == "yes" for r in rows)
    print(f"reconciled\t{len(rows)} ({yes} yes)")
    if undecided:
        print("disagreements without a decision in decisions.tsv: " + " ".join(undecided),
              file=sys.stderr)  # fmt: skip
        return 1
    if args.write:
        with (args.folder / "labels.tsv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, FIELDS, delimiter="\t", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
