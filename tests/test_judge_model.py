"""Issue 20: zoning, content gates, the shipped needs-answer model, and the 'maybe' state."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import ME, MaildirBox, make_mail
from test_detect import AS_OF, _app, ago

from mailkeeper.config.issues import read_issue_rules
from mailkeeper.config.rules import read_rules
from mailkeeper.detect.judge import Judge
from mailkeeper.detect.needmodel import MODELS, ModelError, load_models
from mailkeeper.detect.zones import flat, zone
from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "labelled" / "real"


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge(read_issue_rules(ROOT / "rules", []), load_models())


# ------------------------------------------------------------------------- zones
def test_colon_and_bar_prefixed_quotes_are_not_the_new_text() -> None:
    z = zone("Here it is, attached.\n\n: Can you send the file?\n: Thanks\n| and the price?")
    assert z.body == "Here it is, attached."
    assert len(z.quoted) == 3


def test_bbs_and_forward_openers_end_the_new_text() -> None:
    z = zone("好文转给你看看\n【 在 xiaoli 的大作中提到: 】\n你们什么时候发货？")
    assert z.body == "好文转给你看看"
    z = zone("FYI\n---------------------- Forwarded by Jo Smith/HOU/ECT\nCan you call me?")
    assert z.body == "FYI"


def test_signature_and_legal_footer_are_cut() -> None:
    text = (
        "The forms are signed.\n\nRegards,\nJo Smith\nSales Manager\n+1 713 555 0100\n\n"
        "This e-mail is confidential. If you are not the intended recipient, call us?"
    )
    z = zone(text)
    assert z.body == "The forms are signed."
    assert z.footer and z.signature


def test_courtesy_closing_is_named_and_hard_wraps_are_flattened() -> None:
    z = zone("Attached is the schedule.\n\nLet me know if you\nhave any questions.")
    assert z.closing.startswith("Let me know")
    assert flat("let me know if you\nhave any questions\n\n收到\n谢谢") == (
        "let me know if you have any questions\n\n收到谢谢"
    )


def test_a_wrapped_ignore_phrase_still_matches(judge: Judge) -> None:
    """spaCy makes a newline a token: unflattened, the ignore phrase is cut in two."""
    v = judge.assess(
        "Schedule", "Attached is the schedule. Let me know if you\nhave any questions?"
    )
    assert v.rule is None or "question" not in v.rule


# ------------------------------------------------------------------- content gates
NEWSLETTER = (
    "Spring offers on oak!\nView this email in your browser\n"
    "Shop now http://oak.example/a\nNew in http://oak.example/b\n"
    "Why wait? Order today!\nUnsubscribe http://oak.example/u\n"
    "© 2026 Oak Ltd. All rights reserved."
)


def test_a_newsletter_without_list_headers_is_gated_by_its_content(judge: Judge) -> None:
    v = judge.assess("Spring offers", NEWSLETTER, "en")
    assert not v.needs_answer
    assert v.rule is not None and v.rule.startswith("content gate")


def test_a_persons_mail_with_a_privacy_link_is_not_gated(judge: Judge) -> None:
    z = zone("Can you send the price list?\n\nJo\nPrivacy policy: http://oak.example/p")
    assert z.automatic() is None


def _parsed(headers: str, body: str):
    raw = (headers + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse(fetched_from_bytes(raw))


def test_feedback_id_alone_is_not_bulk() -> None:
    m = _parsed(
        "From: li@qq.com\nTo: me@x.com\nSubject: hi\nFeedback-ID: 12345:qq.com\n",
        "你们什么时候发货？",
    )
    assert not m.is_bulk, m.bulk_reason


def test_an_out_of_office_subject_alone_is_not_automatic() -> None:
    m = _parsed(
        "From: jo@birch.co.uk\nTo: me@x.com\nSubject: Out of office next week\n",
        "Can we meet on Monday before I leave? I need the quote signed.",
    )
    assert not m.is_auto, m.auto_reason
    m = _parsed(
        "From: jo@birch.co.uk\nTo: me@x.com\nSubject: Out of office\n",
        "I am out of the office until 12 May with limited access to e-mail.",
    )
    assert m.is_auto


# ------------------------------------------------------------------- the model
def test_the_shipped_model_was_trained_on_the_committed_manifest() -> None:
    index = json.loads((MODELS / "index.json").read_text())
    manifest = hashlib.sha256((LABELS / "manifest.tsv").read_bytes()).hexdigest()
    assert "en" in index["models"]
    for entry in index["models"].values():
        raw = (MODELS / entry["file"]).read_bytes()
        assert len(raw) <= 10_000_000
        model = json.loads(raw)
        assert model["manifest_sha256"] == manifest, "retrain: bench/labelset/train.py"
        assert model["script_version"]


def test_a_missing_model_file_is_an_error_naming_it(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "m")
    (tmp_path / "m" / "needs_answer.en.json").unlink()
    with pytest.raises(ModelError, match="needs_answer.en.json"):
        load_models(tmp_path / "m")


def test_a_corrupt_model_file_is_an_error_naming_it(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "m")
    path = tmp_path / "m" / "needs_answer.en.json"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ModelError, match="needs_answer.en.json.*corrupt"):
        load_models(tmp_path / "m")
    (tmp_path / "m" / "index.json").write_text("{")
    with pytest.raises(ModelError, match="index.json"):
        load_models(tmp_path / "m")


def test_the_model_gives_a_probability_and_the_words_that_weighed(judge: Judge) -> None:
    v = judge.assess("Samples", "Please send samples of the oak finish.", "en")
    assert v.probability is not None and 0.0 < v.probability < 1.0
    assert v.weighed and all(isinstance(w, float) for _, w in v.weighed)
    assert v.rule and v.rule.startswith("request")


def test_answer_threshold_out_of_range_is_a_problem(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "tiers.yaml"
    path.write_text(path.read_text().replace("answer_threshold: 0.4", "answer_threshold: 1.5"))
    problems: list[str] = []
    read_rules(rules, None, problems)
    assert any("answer_threshold" in p for p in problems)


# ------------------------------------------------------------------- maybe
# an FYI with a courtesy closing the model trained on the full train split is unsure of
FYI = (
    "Hi Amy, the revised schedule is attached; order quantities and prices are unchanged.\n"
    "Let me know if you have any questions."
)


def test_an_unsure_mail_is_a_maybe_never_open_never_drafted(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("jo@kauri.com.au", ME, "Schedule", FYI, date=ago(3)))
    box.deliver(
        "INBOX",
        make_mail("ann@kauri.com.au", ME, "Samples", "Please send samples of oak.", date=ago(3)),
    )
    with _app(tmp_path, box) as app:
        assert [i["subject"] for i in app.issues("open", AS_OF)] == ["Samples"]
        every = {i["subject"]: i for i in app.issues("all", AS_OF)}
        maybe = every["Schedule"]
        assert maybe["state"] == "maybe"
        assert 0.2 <= maybe["probability"] < 0.5
        shown = app.explain(maybe["id"])
        steps = shown["steps"]
        assert shown["data"]["probability"] == maybe["probability"]
        assert any("probability it needs an answer" in s for s in steps)
        assert any("weighed most" in s for s in steps)
        assert every["Samples"]["probability"] is not None
