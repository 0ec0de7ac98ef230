"""The detection rules measured on the labelled sets (tests/labelled/, see its README).

The rules were tuned on the `tune` half only; the `holdout` half measures them. These tests
hold the rules to what was measured when they were written (README "Figures measured"), so a
rule change that makes them worse fails here. The figures themselves are printed by
`python bench/detect_eval.py --split holdout`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import detect_eval  # noqa: E402
from conftest import corpus_dir  # noqa: E402

from mailkeeper.clock import WorkingTime  # noqa: E402
from mailkeeper.detect.promises import commitments  # noqa: E402

CORPUS = corpus_dir()


def _needs_answer(split: str, source: str) -> tuple[float, float, int]:
    entries = [
        e
        for e in detect_eval.load_messages()
        if e["split"] == split and (e["source"] == "written") == (source == "written")
    ]
    return detect_eval.report(detect_eval.judge_all(entries))["all"]


def test_written_messages_tune_and_holdout() -> None:
    p, r, n = _needs_answer("tune", "written")
    assert n >= 60 and p >= 0.95 and r >= 0.95, (p, r)
    p, r, n = _needs_answer("holdout", "written")
    assert n >= 60 and p >= 0.9 and r >= 0.8, (p, r)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_real_messages_tune_and_holdout() -> None:
    p, r, n = _needs_answer("tune", "corpus")
    assert n >= 100 and p >= 0.85 and r >= 0.9, (p, r)
    p, r, n = _needs_answer("holdout", "corpus")
    assert n >= 100 and p >= 0.8 and r >= 0.85, (p, r)


@pytest.mark.parametrize("split,floor", [("tune", 0.95), ("holdout", 0.85)])
def test_promises(split: str, floor: float) -> None:
    wt = WorkingTime("Asia/Shanghai", holidays="CN")
    sent = datetime(2026, 10, 14, 10, tzinfo=UTC)
    tp = fp = fn = 0
    for e in detect_eval.load_promises():
        if e["split"] != split:
            continue
        got = bool(commitments(e["sentence"], e["language"], sent, wt))
        tp += got and e["commitment"]
        fp += got and not e["commitment"]
        fn += (not got) and e["commitment"]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= floor and recall >= floor, (precision, recall)
