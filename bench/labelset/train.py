"""Train the needs-answer model of each labelled language and ship it in the package.

    .venv/bin/python bench/labelset/train.py [--raw /work/labelset-raw] [--seed 20]

Reads tests/labelled/real/labels.tsv (bench/labelset/agreement.py --write makes it) and the
raw messages of its **train** rows (bench/labelset/fetch.py rebuilds them from the manifest),
and writes mailkeeper/detect/models/needs_answer.<lang>.json + index.json: weights, intercept,
Platt calibration fitted on out-of-fold scores (5 folds grouped by sender), the manifest's and
labels' sha256, this script's version and sha256, the seed. Deterministic: the same labels
give byte-identical files. A language with fewer than MIN_LABELS labels, or one class only,
gets no model (its mail is judged by the rules alone, and `explain` says so).

More labels: run agreement.py --write, then this script again; nothing else changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from learn import LABELS, RAW, ROOT, Example, fit, load_examples, oof_scores, platt, sha256

SCRIPT_VERSION = "1"
SEED = 20
C_VALUES = (0.1, 0.3, 1.0, 3.0)
MIN_LABELS = 60
# Languages whose model is not shipped, and why: a decision made on the train split's grouped
# cross-validation (evaluate.py), never on the held-out split. With 36 "yes" labels the Chinese
# model scored precision 0.18 / recall 0.14 against the rules' 0.07 / 0.58 there: as the judge
# it would leave most real Chinese asks unanswered, so Chinese mail is judged by its rules
# alone until there are more Chinese labels.
NOT_SHIPPED = {"zh": "train-split CV recall 0.14 against the rules' 0.58 (36 yes labels)"}
MAX_BYTES = 10_000_000
OUT = ROOT / "mailkeeper" / "detect" / "models"


def log_loss(scores: list[float], y: list[int], a: float, b: float) -> float:
    import math

    from learn import sigmoid

    eps = 1e-9
    return -sum(
        math.log(max(eps, p if t else 1 - p))
        for p, t in ((sigmoid(a, b, s), t) for s, t in zip(scores, y, strict=True))
    ) / len(y)


def train_language(examples: list[Example], seed: int) -> dict:
    y = [e.label for e in examples]
    best = None
    for c in C_VALUES:  # chosen by out-of-fold log loss on the train split only
        scores = oof_scores(examples, c, seed)
        a, b = platt(scores, y)
        loss = log_loss(scores, y, a, b)
        if best is None or loss < best[0] - 1e-9:
            best = (loss, c, a, b)
    assert best is not None  # noqa: S101 - C_VALUES is not empty
    loss, c, a, b = best
    weights, intercept = fit(examples, c, seed)
    return {
        "C": c,
        "cv_log_loss": round(loss, 4),
        "calibration": [round(a, 6), round(b, 6)],
        "intercept": round(intercept, 6),
        "weights": {f: round(w, 5) for f, w in sorted(weights.items())},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", type=Path, default=RAW)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from learn import CONFIG

    examples = load_examples(args.raw)
    args.out.mkdir(parents=True, exist_ok=True)
    index: dict = {"format": "mailkeeper-needs-answer-index/1", "models": {}}
    script = Path(__file__).resolve()
    for lang in sorted({e.language for e in examples}):
        mine = [e for e in examples if e.language == lang]
        yes = sum(e.label for e in mine)
        if len(mine) < MIN_LABELS or yes in (0, len(mine)):
            print(f"{lang}: {len(mine)} labels ({yes} yes): too few, no model")
            continue
        if lang in NOT_SHIPPED:
            print(f"{lang}: no model shipped: {NOT_SHIPPED[lang]}")
            continue
        model = {
            "format": "mailkeeper-needs-answer/1",
            "language": lang,
            "manifest_sha256": sha256(LABELS / "manifest.tsv"),
            "labels_sha256": sha256(LABELS / "labels.tsv"),
            "script_version": SCRIPT_VERSION,
            "script_sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
            "seed": args.seed,
            "trained_on": len(mine),
            "trained_yes": yes,
            "floor": 0.2,
            "config": CONFIG,
            **train_language(mine, args.seed),
        }
        raw = (json.dumps(model, ensure_ascii=False, indent=0, sort_keys=True) + "\n").encode()
        if len(raw) > MAX_BYTES:
            raise SystemExit(f"{lang}: model of {len(raw)} bytes is over {MAX_BYTES}")
        name = f"needs_answer.{lang}.json"
        (args.out / name).write_bytes(raw)
        index["models"][lang] = {"file": name, "sha256": hashlib.sha256(raw).hexdigest()}
        print(f"{lang}: {len(mine)} labels ({yes} yes), C={model['C']}, "
              f"{len(model['weights'])} weights, {len(raw)} bytes -> {name}")  # fmt: skip
    (args.out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
