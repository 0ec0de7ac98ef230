"""What customers said they will need: a statement of the writer's own future need or plan
("we expect to need around 500 sofas before the autumn", "next year we plan to add an
outdoor line", "下半年还要订一批餐桌", "明年可能会扩大采购") with the period it refers to
(periods.py), resolved against the message's date in the customer's hemisphere.

Pure, own regular expressions (English and Chinese). A sentence counts when the writer (we,
I, our company; 我们, 我司, or no subject, as Chinese often has) binds a plan or need word
(plan, expect, intend, will need, 计划, 打算, 还要, 可能会) to a business action (order, buy,
add, expand; 订, 采购, 扩大) and names a period; questions, requests to the reader,
conditions and statements about the past do not. tests/labelled/needs.yaml measures it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from mailkeeper.detect.periods import Period, period_in
from mailkeeper.detect.promises import sentences

_EN_SUBJECT = (
    r"(?:\bwe\b|\bi\b|\bour\s+(?:company|client|customer|stores?|shops?|team|group|firm|"
    r"plan|plans|budget|forecast|requirements?|needs?|demand|purchasing|buyers?)\b)"
)
_EN_PLAN = re.compile(
    r"\b(?:plan(?:s|ning)?\s+to|plan\s+on|are\s+planning|intend(?:s|ing)?\s+to|expect(?:s|ing)?"
    r"\s+to|anticipate|(?:will|'ll|’ll|shall|would|should|may|might|could)\s+(?:probably\s+|"
    r"likely\s+|also\s+|definitely\s+)?(?:need|require|want|order|buy|purchase|place|add|"
    r"expand|increase|launch|open|stock|restock|source|import|be\s+(?:needing|ordering|"
    r"looking|launching|opening|expanding|adding|buying))|are\s+(?:going|looking|hoping)\s+to|"
    r"'re\s+(?:going|looking|hoping)\s+to|hope\s+to|would\s+like\s+to|want\s+to|aim\s+to|"
    r"budget(?:ed)?\s+for|forecast|is\s+to|will\s+be)\b",
    re.I,
)
_EN_ACTION = re.compile(
    r"\b(?:need|needs|needing|require|order|orders|ordering|buy|buying|purchase|purchasing|"
    r"place|add|adding|expand|expanding|increase|launch|launching|open|opening|stock|restock|"
    r"source|import|introduce|replace|refurbish|furnish|renovate|develop|extend|carry|"
    r"reorder|re-order|volume|quantities|quantity|units|pieces|pcs|containers?|range|line|"
    r"collection|project|requirement|demand)\b",
    re.I,
)
_EN_NOT = re.compile(
    r"^\s*(?:please|pls|kindly|could\s+you|can\s+you|would\s+you|will\s+you|do\s+you|if|unless|"
    r"when\s+you)\b|\b(?:you\s+(?:will|'ll|plan|need|should)|if\s+(?:you|we)|unless|"
    r"did\s+not|didn't|last\s+year|last\s+(?:spring|summer|autumn|fall|winter|quarter|month)|"
    r"we\s+(?:ordered|bought|purchased|had|were|needed|planned))\b",
    re.I,
)
_ZH_PLAN = re.compile(
    r"(?:计划|打算|准备|预计|预期|可能会?|估计|将会?|会|还要|还会|还需要?|要|想|希望|考虑|争取|"
    r"拟|需要|需求)"
)
_ZH_ACTION = re.compile(
    r"(?:订购?|采购|下单|进货|补货|备货|购买|买|扩大|增加|开发|推出|上新|新开|开[设家个]|引进|"
    r"添置|更换|装修|需要|需求|用量|订单|货|批|柜)"
)
_ZH_NOT = re.compile(
    r"(?:吗|？|\?|是否|请您|请你|麻烦|如果|假如|要是|已经|已|去年|上个?月|上半年已)"
)
_ZH_SUBJECT_OTHER = re.compile(r"^(?:您|你|贵司|贵公司)")


@dataclass(frozen=True)
class StatedNeed:
    index: int  # the sentence's number in the text
    sentence: str
    period: Period


def is_need(sentence: str) -> bool:
    """Does the writer state a plan or need of their own? (The period is found apart.)"""
    s = sentence.strip()
    if not s or len(s) > 400:
        return False
    if re.search(r"[\u4e00-\u9fff]", s):
        if _ZH_NOT.search(s) or _ZH_SUBJECT_OTHER.search(s):
            return False
        plan = _ZH_PLAN.search(s)
        return plan is not None and _ZH_ACTION.search(s, plan.start()) is not None
    if s.endswith("?") or _EN_NOT.search(s):
        return False
    if not re.search(_EN_SUBJECT, s, re.I):
        return False
    plan = _EN_PLAN.search(s)
    return plan is not None and _EN_ACTION.search(s, plan.start()) is not None


def stated_needs(text: str, sent_at: datetime, south: bool = False) -> list[StatedNeed]:
    """The needs stated in `text` (the customer's new text), each with its period."""
    out = []
    day = sent_at.date()
    for i, s in enumerate(sentences(text)):
        if not is_need(s):
            continue
        period = period_in(s, day, south)
        if period is None or period.last < day:
            continue
        out.append(StatedNeed(i, s, period))
    return out
