"""Shared by train.py and evaluate.py: the labelled messages as the product sees them, and
the fit of one language's logistic regression (scikit-learn, only here: the product scores
the exported weights in plain Python, mailkeeper/detect/needmodel.py).

Only rows of the manifest's **train** split are ever read: the held-out split stays unseen.
"""

from __future__ import annotations

import csv
import hashlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mailkeeper.config.issues import read_issue_rules  # noqa: E402
from mailkeeper.detect.judge import Judge, judged_text  # noqa: E402
from mailkeeper.detect.needmodel import features  # noqa: E402
from mailkeeper.detect.zones import flat, zone  # noqa: E402
from mailkeeper.parse.message import parse  # noqa: E402
from mailkeeper.parse.mime import fetched_from_bytes  # noqa: E402

LABELS = ROOT / "tests" / "labelled" / "real"
RAW = Path("/work/labelset-raw")
# Latin character n-grams measured worse on 300 English labels (grouped-CV AUC 0.79 for
# 3-5, 0.82 for 4, 0.85 without): off for Latin script; CJK runs always give 1-3 grams.
CONFIG = {"char_ngrams": [0, 0]}
MIN_DF = 2


@dataclass
class Example:
    id: str
    language: str
    group: str
    label: int
    licence_ok: bool
    subject: str
    text: str  # what the store keeps: the new text, else the whole body
    recipients: int
    header_gate: str | None  # is_auto / is_bulk reason: never judged by the product
    rule_yes: bool  # today's rules on today's text (no zoning, no flattening)
    verdict_category: str | None  # the rules on the zoned, flattened body
    gate: str | None  # content gate
    feats: set[str]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest() -> dict[str, dict[str, str]]:
    with (LABELS / "manifest.tsv").open(encoding="utf-8", newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}


def labels() -> dict[str, dict[str, str]]:
    with (LABELS / "labels.tsv").open(encoding="utf-8", newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}


def rules_judge() -> Judge:
    problems: list[str] = []
    rules = read_issue_rules(ROOT / "rules", problems)
    if problems:
        raise SystemExit("rules: " + "; ".join(problems))
    return Judge(rules)


def load_examples(raw: Path = RAW, config: dict | None = None) -> list[Example]:
    """Every labelled message of the train split, read from `raw`/<id>.eml (sha256 checked)."""
    config = config or CONFIG
    man, lab = manifest(), labels()
    judge = rules_judge()
    out = []
    for mid, row in lab.items():
        m = man.get(mid)
        if m is None:
            raise SystemExit(f"labels.tsv: {mid} is not in the manifest")
        if m["split"] != "train":
            continue  # the held-out split is never read here
        path = raw / f"{mid}.eml"
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != m["sha256"]:
            raise SystemExit(f"{path}: sha256 differs from the manifest")
        msg = parse(fetched_from_bytes(data))
        text = msg.reply_text or msg.text
        lang = m["language"]
        gate_h = msg.auto_reason or msg.bulk_reason
        today = judge.judge(judged_text(msg.subject, text), lang).needs_answer
        z = zone(text)
        v = judge.judge(judged_text(msg.subject, flat(z.body)), lang)
        cat = v.category if v.needs_answer else None
        rcpt = len(msg.to) + len(msg.cc)
        out.append(
            Example(
                mid,
                lang,
                m["group"],
                int(row["label"] == "yes"),
                m["licence_ok"] == "yes",
                msg.subject,
                text,
                rcpt,
                gate_h,
                today,
                cat,
                z.automatic(),
                features(z.body, msg.subject, z, cat, rcpt, config),
            )  # fmt: skip
        )
    out.sort(key=lambda e: e.id)
    return out


def fit(examples: list[Example], c: float, seed: int) -> tuple[dict[str, float], float]:
    """Logistic regression on the binary features seen in at least MIN_DF messages."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df: dict[str, int] = {}
    for e in examples:
        for f in e.feats:
            df[f] = df.get(f, 0) + 1
    vocab = sorted(f for f, n in df.items() if n >= MIN_DF)
    index = {f: i for i, f in enumerate(vocab)}
    rows, cols = [], []
    for r, e in enumerate(examples):
        for f in e.feats:
            if f in index:
                rows.append(r)
                cols.append(index[f])
    x = csr_matrix(([1.0] * len(rows), (rows, cols)), shape=(len(examples), len(vocab)))
    y = [e.label for e in examples]
    clf = LogisticRegression(C=c, solver="liblinear", random_state=seed, max_iter=1000)
    clf.fit(x, y)
    weights = {f: float(w) for f, w in zip(vocab, clf.coef_[0], strict=True) if abs(w) > 1e-4}
    return weights, float(clf.intercept_[0])


def decision(weights: dict[str, float], intercept: float, feats: set[str]) -> float:
    return intercept + sum(weights.get(f, 0.0) for f in feats)


def platt(scores: list[float], y: list[int]) -> tuple[float, float]:
    """Sigmoid calibration p = 1/(1+exp(-(a*z+b))) fitted on out-of-fold scores."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    clf.fit([[s] for s in scores], y)
    return float(clf.coef_[0][0]), float(clf.intercept_[0])


def sigmoid(a: float, b: float, z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, a * z + b))))


def folds(examples: list[Example], k: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Stratified k folds grouped by sender: one sender's mail is never on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    y = [e.label for e in examples]
    g = [e.group for e in examples]
    return [(list(a), list(b)) for a, b in cv.split(examples, y, g)]


def oof_scores(examples: list[Example], c: float, seed: int, k: int = 5) -> list[float]:
    """Out-of-fold decision values (each message scored by a model that never saw its sender)."""
    out = [0.0] * len(examples)
    for train, test in folds(examples, k, seed):
        w, b = fit([examples[i] for i in train], c, seed)
        for i in test:
            out[i] = decision(w, b, examples[i].feats)
    return out
