"""The final figures of issue 20: precision and recall on the HELD-OUT split, run once.

    PYTHONPATH=. .venv/bin/python bench/labelset/heldout_eval.py [--raw /work/labelset-raw]

Reads tests/labelled/real/labels_heldout.tsv (reconciled and adjudicated by reconcile.py)
and the raw held-out messages (sha256 checked against the manifest). Nothing here trains,
tunes or chooses: the shipped judge (zones, content gates, the rules, the shipped model of
each language, tiers.yaml's default answer_threshold 0.5 and the rule floor of
detect/issues.py), today's rules alone (detect/judge.py's rules on the stored new text, no
zoning) and the naive keyword rule (evaluate.py) are scored as they are, English and Chinese
apart, with 95% percentile-bootstrap intervals (2,000 resamples, seeded). All three say no
to a message the header filters call automatic or bulk, as the product does.
Writes bench/labelset/RESULTS-heldout.md and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

from evaluate import bootstrap, naive, pr
from learn import LABELS, RAW, Example, rules_judge

from mailkeeper.detect.issues import RULE_FLOOR
from mailkeeper.detect.judge import Judge, judged_text
from mailkeeper.detect.needmodel import load_models
from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes

THRESHOLD = 0.5  # tiers.yaml's default answer_threshold
OUT = Path(__file__).resolve().parent / "RESULTS-heldout.md"


def heldout() -> list[tuple[str, str, int, bytes]]:
    """(id, language, gold 0/1, raw bytes path) of every held-out label."""
    with (LABELS / "manifest.tsv").open(encoding="utf-8", newline="") as f:
        man = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    with (LABELS / "labels_heldout.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        m = man.get(r["id"])
        if m is None or m["split"] != "heldout":
            raise SystemExit(f"labels_heldout.tsv: {r['id']} is not a held-out manifest message")
        if r["label"] not in ("yes", "no"):
            raise SystemExit(f"labels_heldout.tsv: {r['id']}: label {r['label']!r}")
        out.append((r["id"], m["language"], int(r["label"] == "yes"), m["sha256"]))
    return out


def judge_all(raw: Path) -> dict[str, list[tuple[int, bool, bool, bool]]]:
    """Per language: (gold, shipped judge, today's rules, naive rule) for each message."""
    rules = rules_judge()
    shipped = Judge(rules.rules, load_models())
    out: dict[str, list[tuple[int, bool, bool, bool]]] = {}
    for mid, lang, gold, digest in heldout():
        data = (raw / f"{mid}.eml").read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise SystemExit(f"{raw / mid}.eml: sha256 differs from the manifest")
        msg = parse(fetched_from_bytes(data))
        text = msg.reply_text or msg.text
        header_gate = msg.auto_reason or msg.bulk_reason
        v = shipped.assess(msg.subject, text, lang, len(msg.to) + len(msg.cc))
        ruled = bool(v.rule) and not (v.rule or "").startswith("model")
        bar = min(RULE_FLOOR, THRESHOLD) if ruled else THRESHOLD
        p = v.probability if v.probability is not None else 1.0
        judge_yes = v.needs_answer and (v.forced or p >= bar) and not header_gate
        today = rules.judge(judged_text(msg.subject, text), lang).needs_answer
        e = Example(mid, lang, "", gold, False, msg.subject, text, 0, header_gate, today,
                    None, None, set())  # fmt: skip
        out.setdefault(lang, []).append(
            (gold, bool(judge_yes), bool(today and not header_gate), naive(e))
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", type=Path, default=RAW)
    ap.add_argument("--seed", type=int, default=20)
    args = ap.parse_args(argv)
    results = judge_all(args.raw)
    lines = [
        "# Held-out figures (issue 20), run once",
        "",
        "`PYTHONPATH=. .venv/bin/python bench/labelset/heldout_eval.py` "
        f"(models: {sorted(load_models())}; target: precision >= 0.9 and recall >= 0.9)",
        "",
        "| language | n (yes) | judge | precision [95% CI] | recall [95% CI] | target met |",
        "|---|---|---|---|---|---|",
    ]
    names = ("shipped judge (model + zones + gates)", "today's rules", "naive keyword rule")
    for lang in sorted(results):
        rows = results[lang]
        gold = [r[0] for r in rows]
        for k, name in enumerate(names, start=1):
            pred = [r[k] for r in rows]
            p, r = pr(pred, gold)
            ci = bootstrap(pred, gold, args.seed)
            met = "yes" if p >= 0.9 and r >= 0.9 else "no"
            lines.append(
                f"| {lang} | {len(gold)} ({sum(gold)}) | {name} | {p:.2f} "
                f"[{ci['precision_ci'][0]:.2f}, {ci['precision_ci'][1]:.2f}] | {r:.2f} "
                f"[{ci['recall_ci'][0]:.2f}, {ci['recall_ci'][1]:.2f}] | {met} |"
            )
    text = "\n".join(lines) + "\n"
    OUT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
