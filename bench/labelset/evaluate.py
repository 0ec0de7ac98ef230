"""Precision and recall of "needs an answer" on the labelled real mail, cross-validated.

    .venv/bin/python bench/labelset/evaluate.py [--raw /work/labelset-raw] [--seed 20]

Only the **train** split is read (the held-out split has no labels yet and stays unseen).
5 folds grouped by sender (stratified): each fold's messages are judged by a model trained,
tuned (C) and calibrated on the other four folds only. Beside it, on the same messages:
today's rules (detect/judge.py's rules on the stored new text, as before zoning) and the
naive keyword rule (a question mark or a request word in the new text). All three say no to
a message the header filters call automatic or bulk, as the product does. 95% intervals:
percentile bootstrap over messages (2,000 resamples, seeded).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from learn import (
    RAW,
    Example,
    decision,
    fit,
    folds,
    load_examples,
    oof_scores,
    platt,
    rules_judge,
    sigmoid,
)
from train import C_VALUES, log_loss

THRESHOLD = 0.5  # tiers.yaml's default answer_threshold
RULE_FLOOR = 0.2  # detect/issues.py: a rules match is a yes unless p < this
_REQUEST_WORD = re.compile(
    r"\b(please|pls|could you|can you|would you|will you|let me know|need|needs|request|"
    r"kindly|send me|call me)\b|请|麻烦|能否|可否|帮忙|帮我|吗",
    re.IGNORECASE,
)


def naive(e: Example) -> bool:
    return ("?" in e.text or "？" in e.text or bool(_REQUEST_WORD.search(e.text))) and not (
        e.header_gate
    )


def cv_probabilities(examples: list[Example], seed: int) -> list[float]:
    probs = [0.0] * len(examples)
    for train_idx, test_idx in folds(examples, 5, seed):
        train = [examples[i] for i in train_idx]
        y = [e.label for e in train]
        best = None
        for c in C_VALUES:
            s = oof_scores(train, c, seed)
            a, b = platt(s, y)
            loss = log_loss(s, y, a, b)
            if best is None or loss < best[0] - 1e-9:
                best = (loss, c, a, b)
        assert best is not None  # noqa: S101
        _, c, a, b = best
        w, icpt = fit(train, c, seed)
        for i in test_idx:
            probs[i] = sigmoid(a, b, decision(w, icpt, examples[i].feats))
    return probs


def _forced(lang: str) -> frozenset[str]:
    """The categories the shipped rules mark `force: true`."""
    judge = rules_judge()
    return judge._forced(lang)


def pr(pred: list[bool], gold: list[int]) -> tuple[float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def bootstrap(pred: list[bool], gold: list[int], seed: int, n: int = 2000) -> dict[str, list]:
    rng = random.Random(seed)
    ps, rs = [], []
    m = len(gold)
    for _ in range(n):
        idx = [rng.randrange(m) for _ in range(m)]
        p, r = pr([pred[i] for i in idx], [gold[i] for i in idx])
        ps.append(p)
        rs.append(r)
    ps.sort()
    rs.sort()
    lo, hi = int(0.025 * n), int(0.975 * n) - 1
    return {"precision_ci": [ps[lo], ps[hi]], "recall_ci": [rs[lo], rs[hi]]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", type=Path, default=RAW)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    examples = load_examples(args.raw)
    results = {}
    lines = [
        "| language | n (yes) | judge | precision [95% CI] | recall [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for lang in sorted({e.language for e in examples}):
        mine = [e for e in examples if e.language == lang]
        gold = [e.label for e in mine]
        if sum(gold) in (0, len(gold)):
            continue
        probs = cv_probabilities(mine, args.seed)
        forced = _forced(lang)
        systems = {
            "new judge (model + zones + gates)": [
                (
                    p >= THRESHOLD
                    or e.verdict_category in forced
                    or (e.verdict_category is not None and p >= RULE_FLOOR)
                )
                and not e.header_gate
                and not e.gate
                for p, e in zip(probs, mine, strict=True)
            ],
            "today's rules": [e.rule_yes and not e.header_gate for e in mine],
            "naive keyword rule": [naive(e) for e in mine],
        }
        for name, pred in systems.items():
            p, r = pr(pred, gold)
            ci = bootstrap(pred, gold, args.seed)
            results[f"{lang}/{name}"] = {"precision": p, "recall": r, **ci, "n": len(mine),
                                         "yes": sum(gold)}  # fmt: skip
            lines.append(
                f"| {lang} | {len(mine)} ({sum(gold)}) | {name} | {p:.2f} "
                f"[{ci['precision_ci'][0]:.2f}, {ci['precision_ci'][1]:.2f}] | {r:.2f} "
                f"[{ci['recall_ci'][0]:.2f}, {ci['recall_ci'][1]:.2f}] |"
            )
        band = sum(0.2 <= p < THRESHOLD for p in probs)
        results[f"{lang}/maybe_band"] = band
        lines.append(
            f"\n{lang}: {band} messages fall in the 'maybe' band (0.2 <= p < {THRESHOLD})."
        )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
