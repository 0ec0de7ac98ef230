"""Does a message need an answer? Rule matching with spaCy on a blank pipeline per language.

The rules are the rep's: rules/issues.<lang>.yaml (adding a language is adding a file). Each
names categories (complaint, quality, delay, payment, cancellation, request, question, ...)
with a severity, plain phrases (spaCy PhraseMatcher, case-insensitive) and token patterns
(spaCy Matcher); `ignore` phrases mark sentences that ask nothing however they are punctuated
("How are you?", "Hope you had a good weekend?"), and `closing` phrases mark sentences that
ask for nothing ("Thanks", "收到"). A sentence needs an answer when a category matches it, or
when it is a question (a question mark, or a `question` phrase) that no ignore phrase covers.
Nothing is downloaded: spacy.blank(lang) plus a rule-based sentencizer; a trained pipeline is
used instead when one is installed (spacy.load("<lang>_core_web_sm") etc. is not attempted
unless configured). spaCy is imported only here, and only by the commands that scan.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from mailkeeper.config.issues import LanguageRules
from mailkeeper.detect.needmodel import Model, describe, features
from mailkeeper.detect.zones import flat, zone

logger = logging.getLogger(__name__)

SEVERITIES = ("low", "normal", "high", "critical")
_QUESTION_MARK = re.compile(r"[?？]\s*[\"'”’)）]*\s*$")
# Lines a sentencizer should not join: quoted lines and blank-line paragraphs are split first.
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Verdict:
    """The judgement on one message: does it need an answer, and why."""

    needs_answer: bool
    category: str | None = None
    severity: str | None = None
    phrase: str | None = None  # the matched words (or "?" for a bare question)
    sentence: str | None = None  # the sentence they stood in
    rule: str | None = None  # which rule: "complaint: phrase 'not acceptable'" ...
    # the model's calibrated probability that the message needs an answer (assess()); None
    # when only the rules judged (judge(), or a language without a trained model: 1.0 / 0.0)
    probability: float | None = None
    weighed: tuple[tuple[str, float], ...] = ()  # (feature as the rep reads it, weight)
    forced: bool = False  # a rule decided (a `force: true` category, a content gate)


_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|回复|答复|转发)\s*[:：]\s*)+", re.I)


def judged_text(subject: str | None, new_text: str) -> str:
    """What is judged of a message: its new text, and its subject only when it opens a
    conversation (a reply's subject repeats what was asked before) and reads as a question.
    A subject alone is a label ("Quotation", "样品"), not a request."""
    subject = (subject or "").strip()
    if subject and not _REPLY_PREFIX.match(subject) and _QUESTION_MARK.search(subject):
        return f"{subject}\n\n{new_text}"
    return new_text


class Judge:
    """Judges texts with the rules of every language found in the rules folder, and (assess)
    with the shipped model of the message's language (detect/needmodel.py)."""

    def __init__(
        self, rules: dict[str, LanguageRules], models: dict[str, Model] | None = None
    ) -> None:
        self.rules = rules
        # the shipped models, or none at all when the caller only wants the rules (judge())
        self.models = models if models is not None else {}
        self._nlp: dict[str, Any] = {}
        self._matchers: dict[str, tuple[Any, Any]] = {}
        digest = hashlib.sha256()
        for lang in sorted(rules):
            digest.update(rules[lang].source.read_bytes())
        self.fingerprint = digest.hexdigest()[:16]

    def assess(
        self, subject: str | None, text: str, language: str | None = None, recipients: int = 0
    ) -> Verdict:
        """The judgement the scan acts on: zoning, content gates, the rules, then the model.

        A content gate (a newsletter's view-in-browser line, an unsubscribe line with a
        templated footer, a text of links) says no; a rules category marked `force: true`
        says yes; otherwise the model's probability decides (detect/issues.py compares it
        with the tier's threshold), and the rules name the category. A language without a
        trained model is judged by its rules alone, probability 1.0 or 0.0."""
        z = zone(text)
        gate = z.automatic()
        if gate:
            return Verdict(False, rule=f"content gate: {gate}", probability=0.0, forced=True)
        body = flat(z.body)
        v = self.judge(judged_text(subject, body), language)
        lang = self.language_of(language, body)
        model = self.models.get(lang)
        forced = v.needs_answer and v.category in self._forced(lang)
        if model is None or forced or (v.rule or "").startswith("marketing"):
            p = 1.0 if v.needs_answer else 0.0
            return replace(v, probability=p, forced=forced or v.rule is not None)
        feats = features(z.body, subject or "", z, v.category, recipients, model.config)
        scored = model.score(feats)
        weighed = tuple((describe(f), round(w, 3)) for f, w in scored.weighed)
        if v.needs_answer:
            return replace(v, probability=scored.probability, weighed=weighed)
        category = "question" if _QUESTION_MARK.search(subject or "") else "request"
        return Verdict(
            scored.probability >= model.floor,
            category,
            "normal",
            weighed[0][0] if weighed else None,
            _first_sentence(body),
            f"model ({lang}): no rule matched",
            scored.probability,
            weighed,
        )

    def _forced(self, lang: str) -> frozenset[str]:
        rules = self.rules.get(lang)
        return frozenset(c.name for c in rules.categories if c.force) if rules else frozenset()

    def _pipeline(self, lang: str) -> tuple[Any, Any, Any]:
        if lang not in self._nlp:
            import spacy
            from spacy.matcher import Matcher, PhraseMatcher

            nlp = spacy.blank(lang)
            nlp.add_pipe("sentencizer")
            rules = self.rules[lang]
            phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
            tokens = Matcher(nlp.vocab, validate=True)
            for cat in rules.categories:
                if cat.phrases:
                    phrases.add(f"cat:{cat.name}", [nlp.make_doc(p) for p in cat.phrases])
                if cat.patterns:
                    tokens.add(f"cat:{cat.name}", [list(p) for p in cat.patterns])
            for label, plain, pats in (
                ("question", rules.question, rules.question_patterns),
                ("ignore", rules.ignore, rules.ignore_patterns),
                ("marketing", rules.marketing, ()),
            ):
                if plain:
                    phrases.add(label, [nlp.make_doc(p) for p in plain])
                if pats:
                    tokens.add(label, [list(p) for p in pats])
            self._nlp[lang] = nlp
            self._matchers[lang] = (phrases, tokens)
        phrases, tokens = self._matchers[lang]
        return self._nlp[lang], phrases, tokens

    def language_of(self, language: str | None, text: str) -> str:
        if language in self.rules:
            return language  # type: ignore[return-value]
        if re.search(r"[\u4e00-\u9fff]", text) and "zh" in self.rules:
            return "zh"
        return "en" if "en" in self.rules else next(iter(self.rules))

    def judge(self, text: str, language: str | None = None) -> Verdict:
        """Whether `text` (the new text of a message: quotes and signature stripped) asks,
        requests or complains; the strongest reason wins."""
        text = (text or "").strip()
        if not text:
            return Verdict(False)
        lang = self.language_of(language, text)
        nlp, phrases, tokens = self._pipeline(lang)
        rules = self.rules[lang]
        severity_of = {c.name: c.severity for c in rules.categories}
        best: Verdict | None = None
        for paragraph in _PARAGRAPH.split(text[:20000]):
            doc = nlp(paragraph.strip())
            found: dict[int, list[tuple[str, int, int]]] = {}
            for match_id, start, end in [*phrases(doc), *(tokens(doc) if len(tokens) else [])]:
                label = nlp.vocab.strings[match_id]
                if label == "marketing":
                    return Verdict(False, rule=f"marketing: '{doc[start:end].text}'")
                sent = doc[start].sent.start
                found.setdefault(sent, []).append((label, start, end))
            for sent in doc.sents:
                hits = found.get(sent.start, [])
                verdict = _sentence_verdict(sent, hits, doc, severity_of)
                if verdict is not None and (best is None or _stronger(verdict, best)):
                    best = verdict
        return best or Verdict(False)


def _sentence_verdict(
    sent: Any, hits: list[tuple[str, int, int]], doc: Any, severity_of: dict[str, str]
) -> Verdict | None:
    """An `ignore` phrase ("sorry for the delay", "收到，谢谢") takes away the category matches
    it overlaps, and in a sentence it stands in, the mild asks (a request or a question)."""
    text = sent.text.strip()
    ignored = [(s, e) for label, s, e in hits if label == "ignore"]

    def covered(s: int, e: int) -> bool:
        return any(s < ie and is_ < e for is_, ie in ignored)

    cats = [
        (label[4:], s, e)
        for label, s, e in hits
        if label.startswith("cat:")
        and not covered(s, e)
        and not (ignored and severity_of[label[4:]] in ("low", "normal"))
    ]
    if cats:
        name, s, e = max(cats, key=lambda c: SEVERITIES.index(severity_of[c[0]]))
        return Verdict(
            True, name, severity_of[name], doc[s:e].text, text, f"{name}: '{doc[s:e].text}'"
        )
    if ignored:
        return None
    asks = [(s, e) for label, s, e in hits if label == "question"]
    if asks:
        s, e = asks[0]
        return Verdict(
            True, "question", "normal", doc[s:e].text, text, f"question: '{doc[s:e].text}'"
        )
    if _QUESTION_MARK.search(text):
        return Verdict(True, "question", "normal", "?", text, "question: ends with a question mark")
    return None


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?。！？])\s", text.strip(), maxsplit=1)[0][:200]


def _stronger(a: Verdict, b: Verdict) -> bool:
    rank = SEVERITIES.index
    return rank(a.severity or "low") > rank(b.severity or "low")
