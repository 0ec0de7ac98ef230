"""Reconcile two independent labelling passes of the real-mail set into one labels file.

    python3 bench/labelset/reconcile.py [--decisions FILE] [--out FILE] [--check]

With no arguments it reconciles the **held-out** split: English pass 1 =
labels_heldout_en_pass1a.tsv + labels_heldout_en_pass1b.tsv, pass 2 =
labels_heldout_en_pass2a.tsv + labels_heldout_en_pass2b.tsv; Chinese pass 1 =
labels_heldout_zh_pass1.tsv, pass 2 = labels_heldout_zh_pass2.tsv; decisions =
adjudicated_heldout.tsv; output = labels_heldout.tsv (all in tests/labelled/real/).

Per language it prints Cohen's kappa over yes/no (and over the five categories, `none`
included) and the raw agreement, measured on the two passes **before** adjudication. The
reconciled file (`id label category source`, rows in manifest order) holds:

- where both passes give the same yes/no label: that label, source `agreed`; when they differ
  only in category, pass 1's category (each such id is printed as a note);
- where they disagree: the decision of the decisions file (`id decision category reason`),
  source `adjudicated`.

Every decision must be for a disagreement and every disagreement must have a decision; each
pass must label exactly the split's manifest ids of its language. Anything else is an error
(exit 1, nothing written). The output depends only on its inputs (deterministic).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterable, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "labelled", "real")
MANIFEST = os.path.join(REAL, "manifest.tsv")

LABEL_COLUMNS = ["id", "label", "category", "reason"]
DECISION_COLUMNS = ["id", "decision", "category", "reason"]
OUT_COLUMNS = ["id", "label", "category", "source"]
YES_CATEGORIES = ("question", "request", "complaint", "problem")

# the held-out split: language -> (pass 1 files, pass 2 files)
HELDOUT = {
    "en": (
        ["labels_heldout_en_pass1a.tsv", "labels_heldout_en_pass1b.tsv"],
        ["labels_heldout_en_pass2a.tsv", "labels_heldout_en_pass2b.tsv"],
    ),
    "zh": (["labels_heldout_zh_pass1.tsv"], ["labels_heldout_zh_pass2.tsv"]),
}


class ReconcileError(ValueError):
    pass


def read_tsv(path: str, columns: list[str]) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames != columns:
            raise ReconcileError(f"{path}: header {reader.fieldnames}, expected {columns}")
        return list(reader)


def check_label(where: str, label: str, category: str) -> None:
    if label not in ("yes", "no"):
        raise ReconcileError(f"{where}: label {label!r} is not yes/no")
    allowed = YES_CATEGORIES if label == "yes" else ("none",)
    if category not in allowed:
        raise ReconcileError(f"{where}: category {category!r} not allowed for {label!r}")


def read_pass(paths: Iterable[str]) -> dict[str, dict[str, str]]:
    """One labelling pass, possibly split over several files: id -> row."""
    rows: dict[str, dict[str, str]] = {}
    for path in paths:
        for row in read_tsv(path, LABEL_COLUMNS):
            if row["id"] in rows:
                raise ReconcileError(f"{path}: {row['id']} labelled twice in one pass")
            check_label(f"{path}: {row['id']}", row["label"], row["category"])
            rows[row["id"]] = row
    return rows


def read_decisions(path: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in read_tsv(path, DECISION_COLUMNS):
        if row["id"] in out:
            raise ReconcileError(f"{path}: {row['id']} decided twice")
        check_label(f"{path}: {row['id']}", row["decision"], row["category"])
        if not row["reason"].strip():
            raise ReconcileError(f"{path}: {row['id']} has no reason")
        out[row["id"]] = row
    return out


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e)."""
    if len(first) != len(second) or not first:
        raise ReconcileError("kappa needs two equally long, non-empty lists")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    classes = sorted(set(first) | set(second))
    expected = sum((first.count(c) / n) * (second.count(c) / n) for c in classes)
    if expected == 1.0:  # both raters used one and the same class throughout
        return 1.0
    return (observed - expected) / (1.0 - expected)


def reconcile(
    ids: Sequence[str],
    pass1: dict[str, dict[str, str]],
    pass2: dict[str, dict[str, str]],
    decisions: dict[str, dict[str, str]],
) -> tuple[list[dict[str, str]], dict[str, object]]:
    """Reconciled rows for `ids` (in that order) and the figures of the two passes.

    `decisions` may hold ids of other languages; only those in `ids` are used, and each of
    them must be a disagreement."""
    wanted = set(ids)
    for name, labels in (("pass 1", pass1), ("pass 2", pass2)):
        if set(labels) != wanted:
            missing = sorted(wanted - set(labels))[:5]
            extra = sorted(set(labels) - wanted)[:5]
            raise ReconcileError(
                f"{name} does not label the split: missing {missing}, extra {extra}"
            )
    yn1 = [pass1[i]["label"] for i in ids]
    yn2 = [pass2[i]["label"] for i in ids]
    cat1 = [pass1[i]["category"] for i in ids]
    cat2 = [pass2[i]["category"] for i in ids]
    disagree = [i for i in ids if pass1[i]["label"] != pass2[i]["label"]]
    category_only = [
        i
        for i in ids
        if pass1[i]["label"] == pass2[i]["label"] and pass1[i]["category"] != pass2[i]["category"]
    ]
    mine = {i for i in decisions if i in wanted}
    if mine != set(disagree):
        raise ReconcileError(
            f"decisions do not match the disagreements: undecided {sorted(set(disagree) - mine)},"
            f" not a disagreement {sorted(mine - set(disagree))}"
        )
    rows = []
    for i in ids:
        if i in mine:
            d = decisions[i]
            rows.append(
                {
                    "id": i,
                    "label": d["decision"],
                    "category": d["category"],
                    "source": "adjudicated",
                }
            )
        else:
            p = pass1[i]
            rows.append(
                {"id": i, "label": p["label"], "category": p["category"], "source": "agreed"}
            )
    stats: dict[str, object] = {
        "n": len(ids),
        "agreement": (len(ids) - len(disagree)) / len(ids),
        "kappa": cohen_kappa(yn1, yn2),
        "category_agreement": sum(a == b for a, b in zip(cat1, cat2, strict=True)) / len(ids),
        "category_kappa": cohen_kappa(cat1, cat2),
        "disagreements": disagree,
        "category_only": category_only,
        "yes_pass1": yn1.count("yes"),
        "yes_pass2": yn2.count("yes"),
        "yes": sum(r["label"] == "yes" for r in rows),
        "agreed": sum(r["source"] == "agreed" for r in rows),
        "adjudicated": sum(r["source"] == "adjudicated" for r in rows),
    }
    return rows, stats


def write_rows(path: str, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh, OUT_COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)


def split_ids(manifest: str, split: str) -> dict[str, list[str]]:
    """language -> the split's ids, in manifest order."""
    out: dict[str, list[str]] = {}
    with open(manifest, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["split"] == split:
                out.setdefault(row["language"], []).append(row["id"])
    return out


def run(
    real: str = REAL,
    manifest: str = MANIFEST,
    decisions_path: str | None = None,
    out: str | None = None,
    passes: dict[str, tuple[list[str], list[str]]] | None = None,
    split: str = "heldout",
) -> tuple[list[dict[str, str]], dict[str, dict[str, object]]]:
    passes = passes or HELDOUT
    decisions = read_decisions(decisions_path or os.path.join(real, "adjudicated_heldout.tsv"))
    ids_by_lang = split_ids(manifest, split)
    rows: list[dict[str, str]] = []
    stats: dict[str, dict[str, object]] = {}
    for lang in sorted(passes):
        first, second = passes[lang]
        p1 = read_pass(os.path.join(real, f) for f in first)
        p2 = read_pass(os.path.join(real, f) for f in second)
        mine, stats[lang] = reconcile(ids_by_lang.get(lang, []), p1, p2, decisions)
        rows.extend(mine)
    used = {i for s in stats.values() for i in s["disagreements"]}  # type: ignore[attr-defined]
    if set(decisions) - used:
        raise ReconcileError(f"decisions for unknown ids: {sorted(set(decisions) - used)}")
    if out:
        write_rows(out, rows)
    return rows, stats


def report(stats: dict[str, dict[str, object]]) -> str:
    lines = []
    for lang, s in stats.items():
        n = s["n"]
        lines.append(
            f"{lang}: n={n} kappa(yes/no)={s['kappa']:.3f} agreement={s['agreement']:.3f}"
            f" kappa(category)={s['category_kappa']:.3f}"
            f" category agreement={s['category_agreement']:.3f}"
            f" | yes pass1={s['yes_pass1']} pass2={s['yes_pass2']}"
            f" | agreed={s['agreed']} adjudicated={s['adjudicated']}"
            f" | reconciled yes={s['yes']} ({s['yes'] / n:.1%})"  # type: ignore[operator]
        )
        for i in s["category_only"]:  # type: ignore[attr-defined]
            lines.append(f"  note: {i} agreed on the label, categories differ; pass 1's kept")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--decisions", default=os.path.join(REAL, "adjudicated_heldout.tsv"))
    ap.add_argument("--out", default=os.path.join(REAL, "labels_heldout.tsv"))
    ap.add_argument("--manifest", default=MANIFEST)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out differs")
    args = ap.parse_args(argv)
    try:
        rows, stats = run(
            manifest=args.manifest,
            decisions_path=args.decisions,
            out=None if args.check else args.out,
        )
    except ReconcileError as exc:
        print(f"reconcile: {exc}", file=sys.stderr)
        return 1
    print(report(stats))
    if args.check:
        with open(args.out, encoding="utf-8", newline="") as fh:
            on_disk = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        if on_disk != rows:
            print(f"{args.out} is not what the passes and decisions give", file=sys.stderr)
            return 1
    else:
        print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
