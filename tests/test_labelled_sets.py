"""The labelled evaluation sets in tests/labelled/ are well-formed.

These tests check the files, not any detector: fields and allowed values, unique ids, the
minimum sizes issue 11 asks for, a tune/holdout split near 50/50, and that every corpus
message they reference exists in ../shared/corpus (skipped when the corpus is absent).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

LABELLED = Path(__file__).resolve().parent / "labelled"
from conftest import corpus_dir  # noqa: E402

CORPUS = corpus_dir()

LANGUAGES = {"en", "zh"}
SPLITS = {"tune", "holdout"}
CATEGORIES = {
    "complaint",
    "quality",
    "delay",
    "question",
    "request",
    "payment",
    "cancellation",
    "other",
}
KINDS = {
    "today",
    "tomorrow",
    "weekday",
    "next_weekday",
    "this_week",
    "next_week",
    "end_of_month",
    "end_of_year",
    "date",
    "in_n_days",
    "in_n_hours",
}
MESSAGE_FIELDS = {"id", "source", "language", "needs_answer", "category", "split"}
WRITTEN_FIELDS = {"from", "subject", "body"}
MESSAGE_OPTIONAL = WRITTEN_FIELDS | {"note"}
SENTENCE_FIELDS = {"id", "language", "sentence", "commitment", "time_phrase", "kind", "split"}


def _load(name: str, key: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((LABELLED / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {key}, f"{name}: top level is {{{key}: [...]}}"
    items = data[key]
    assert isinstance(items, list) and all(isinstance(i, dict) for i in items)
    return items


@pytest.fixture(scope="module")
def messages() -> list[dict[str, Any]]:
    return _load("needs_answer.yaml", "messages")


@pytest.fixture(scope="module")
def sentences() -> list[dict[str, Any]]:
    return _load("promises.yaml", "sentences")


def _near_half(items: list[dict[str, Any]], what: str) -> None:
    counts = Counter(i["split"] for i in items)
    n = len(items)
    # within one item of an even split, or 40-60 % for larger groups
    assert abs(counts["tune"] - counts["holdout"]) <= max(2, n // 5), f"{what}: {dict(counts)}"


# ---- needs_answer.yaml -------------------------------------------------------------------


def test_message_fields_and_values(messages: list[dict[str, Any]]) -> None:
    for m in messages:
        ident = m.get("id")
        missing = MESSAGE_FIELDS - set(m)
        assert not missing, f"{ident}: missing {missing}"
        extra = set(m) - MESSAGE_FIELDS - MESSAGE_OPTIONAL
        assert not extra, f"{ident}: unknown fields {extra}"
        assert m["language"] in LANGUAGES, ident
        assert m["split"] in SPLITS, ident
        assert isinstance(m["needs_answer"], bool), ident
        if m["needs_answer"]:
            assert m["category"] in CATEGORIES, f"{ident}: a yes needs a category"
        else:
            assert m["category"] is None or m["category"] in CATEGORIES, ident
        if "note" in m:
            assert isinstance(m["note"], str) and m["note"].strip(), ident


def test_message_ids_unique_and_shaped(messages: list[dict[str, Any]]) -> None:
    ids = [m["id"] for m in messages]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    for m in messages:
        if m["source"] == "written":
            assert re.fullmatch(rf"{m['language']}-\d{{3}}", m["id"]), m["id"]
        else:
            assert re.fullmatch(r"corpus-\d{3}", m["id"]), m["id"]


def test_written_messages_carry_text(messages: list[dict[str, Any]]) -> None:
    for m in messages:
        if m["source"] == "written":
            for field in WRITTEN_FIELDS:
                assert isinstance(m.get(field), str) and m[field].strip(), f"{m['id']}: {field}"
        else:
            # corpus text is referenced, never copied into the project (licences)
            assert not WRITTEN_FIELDS & set(m), f"{m['id']}: corpus entries carry no text"


def test_corpus_sources_are_relative_and_unique(messages: list[dict[str, Any]]) -> None:
    sources = [m["source"] for m in messages if m["source"] != "written"]
    for s in sources:
        p = Path(s)
        assert not p.is_absolute() and ".." not in p.parts, s
        assert len(p.parts) >= 2, f"{s}: path relative to the corpus root, folder first"
    dupes = [s for s, n in Counter(sources).items() if n > 1]
    assert not dupes, f"corpus message labelled twice: {dupes}"


def test_message_counts(messages: list[dict[str, Any]]) -> None:
    assert len(messages) >= 200
    corpus = [m for m in messages if m["source"] != "written"]
    written = [m for m in messages if m["source"] == "written"]
    assert len(corpus) * 2 >= len(messages), "at least half must be real corpus mail"
    assert len(written) >= 100
    langs = Counter(m["language"] for m in written)
    assert min(langs["en"], langs["zh"]) * 3 >= len(written), f"written en/zh too uneven: {langs}"
    for lang in LANGUAGES:
        for label in (True, False):
            n = sum(1 for m in messages if m["language"] == lang and m["needs_answer"] is label)
            assert n >= 20, f"too few {lang} needs_answer={label}: {n}"


def test_message_split_balanced(messages: list[dict[str, Any]]) -> None:
    _near_half(messages, "all")
    for lang in LANGUAGES:
        for label in (True, False):
            group = [m for m in messages if m["language"] == lang and m["needs_answer"] is label]
            _near_half(group, f"{lang} needs_answer={label}")
    _near_half([m for m in messages if m["source"] != "written"], "corpus")
    _near_half([m for m in messages if m["source"] == "written"], "written")


@pytest.mark.corpus
def test_corpus_files_exist(messages: list[dict[str, Any]]) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    missing = [
        m["source"]
        for m in messages
        if m["source"] != "written" and not (CORPUS / m["source"]).is_file()
    ]
    assert not missing, f"referenced corpus files missing: {missing}"


# ---- promises.yaml -----------------------------------------------------------------------


def test_sentence_fields_and_values(sentences: list[dict[str, Any]]) -> None:
    for s in sentences:
        ident = s.get("id")
        missing = SENTENCE_FIELDS - set(s)
        assert not missing, f"{ident}: missing {missing}"
        extra = set(s) - SENTENCE_FIELDS - {"note"}
        assert not extra, f"{ident}: unknown fields {extra}"
        assert s["language"] in LANGUAGES, ident
        assert s["split"] in SPLITS, ident
        assert isinstance(s["sentence"], str) and s["sentence"].strip(), ident
        assert isinstance(s["commitment"], bool), ident
        if s["commitment"]:
            assert isinstance(s["time_phrase"], str) and s["time_phrase"], ident
            assert s["time_phrase"] in s["sentence"], f"{ident}: time_phrase must be as written"
            assert s["kind"] in KINDS, f"{ident}: kind {s['kind']!r}"
        else:
            assert s["time_phrase"] is None and s["kind"] is None, ident


def test_sentence_ids_and_text_unique(sentences: list[dict[str, Any]]) -> None:
    ids = Counter(s["id"] for s in sentences)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    for s in sentences:
        assert re.fullmatch(rf"p-{s['language']}-\d{{3}}", s["id"]), s["id"]
    texts = Counter(s["sentence"] for s in sentences)
    assert not [t for t, n in texts.items() if n > 1], "duplicate sentences"


def test_sentence_counts_and_split(sentences: list[dict[str, Any]]) -> None:
    assert len(sentences) >= 80
    for lang in LANGUAGES:
        for label in (True, False):
            group = [s for s in sentences if s["language"] == lang and s["commitment"] is label]
            assert len(group) >= 15, f"too few {lang} commitment={label}: {len(group)}"
            _near_half(group, f"{lang} commitment={label}")
    _near_half(sentences, "all sentences")
