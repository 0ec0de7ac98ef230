"""Promises the rep made: a commitment with a time in the rep's own outbound new text.

A sentence is a commitment when the writer binds themselves to act ("I will send", "we'll
ship", "let me check", "我们会安排", "明天把报价单发给您") and a time phrase
(detect/timephrase.py) says by when; requests to the customer ("please send it by
Friday"), hedges ("we will consider it", "I hope to", "尽量"), questions and statements
about the past are not. Each promise is due at its time phrase, resolved against the
message's date in the rep's working time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mailkeeper.clock import WorkingTime
from mailkeeper.detect.timephrase import due_from
from mailkeeper.store.records import Promise

_SENTENCE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；]?")
_EN_COMMIT = re.compile(
    r"\b(?:i|we)\s*(?:will|'ll|’ll|shall|am going to|are going to|'m going to|’m going to|"
    r"will be able to|can|promise to|promise)\b|\blet me\b|\bi'll\b|\bwe'll\b|"
    r"\byou(?:'ll| will) (?:have|receive|get)\b|\bexpect (?:it|them|the \w+) by\b",
    re.I,
)
_EN_HEDGE = re.compile(
    r"\b(?:consider|think about|try to|try and|hope|hoping|might|may|maybe|perhaps|if possible|"
    r"not sure|see if|see whether|cannot|can't|won't|will not|unable|wish|need your|"
    r"need you to|if you|unless you)\b",
    re.I,
)
_EN_REQUEST = re.compile(r"^\s*(?:please|pls|kindly|could you|can you|would you)\b", re.I)
_ZH_ACT = re.compile(
    r"(?:发给|寄给|发您|寄您|给您|回复您|答复您|告诉您|通知您|安排|发货|出货|寄出|发出|提供|报价|"
    r"更新|确认|完成|验货|装柜|订舱|回复|落实|处理|跟进|核实|发送|退还|退回|交货|交付|发过去|"
    r"寄过去|装好|做好|到贵司|拜访|补发|重做|返工)"
)
_ZH_SUBJECT = re.compile(r"(?:我们?|咱们?|本公司|我司|工厂)(?:会|将|就|马上|立即|一定|保证|争取)?")
_ZH_HEDGE = re.compile(
    r"(?:一般|通常|考虑|尽量|希望|可能|也许|或许|看看能否|不一定|无法|不能|没法|请您|麻烦您|请你|麻烦你|是否|吗|？|\?)"
)
_ZH_PAST = re.compile(r"(?:已经|已|上周|昨天|前天)")
_EN_PAST = re.compile(r"\b(?:was|were|shipped|sent|arrived|did|had)\b", re.I)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]


def is_commitment(sentence: str, language: str) -> bool:
    """Does the writer bind themselves to an action? (The time is found apart.)"""
    s = sentence.strip()
    if not s:
        return False
    if language == "zh" or re.search(r"[\u4e00-\u9fff]", s):
        if _ZH_HEDGE.search(s) or not _ZH_ACT.search(s):
            return False
        if _ZH_PAST.search(s) and not _ZH_SUBJECT.search(s):
            return False
        return True
    if (
        _EN_REQUEST.search(s)
        or s.rstrip().endswith("?")
        or re.match(r"\s*(?:if|unless)\b", s, re.I)
    ):
        return False
    m = _EN_COMMIT.search(s)
    if m is None:
        return False
    return not _EN_HEDGE.search(s[m.start() :])


def commitments(
    text: str, language: str | None, sent_at: datetime, wt: WorkingTime
) -> list[Promise]:
    """The promises in `text` (the rep's new text): sentence, time phrase, kind, due (UTC,
    to the second, as stored) and how the due time was worked out."""
    lang = language or ("zh" if re.search(r"[\u4e00-\u9fff]", text or "") else "en")
    out = []
    for s in sentences(text):
        if not is_commitment(s, lang):
            continue
        tp = due_from(s, "zh" if re.search(r"[\u4e00-\u9fff]", s) else lang, sent_at, wt)
        if tp is None:
            continue
        due = tp.due_utc.astimezone(UTC).replace(microsecond=0)
        out.append(Promise(sentence=s, phrase=tp.phrase, kind=tp.kind, due_at=due, why=tp.explain))
    return out
