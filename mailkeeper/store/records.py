"""The records the store hands to detection and drafting, and takes back: plain frozen data.

Every time here is an aware `datetime` in UTC. The store turns the database's ISO text into
datetimes when it reads a row and back into text when it writes one (`from_iso`, `iso`), so
nothing past the store parses or compares time as text: two ISO strings order like their
times only while both have the same offset and precision. A finding's `data` is the payload
its draft and the listings read, stored as JSON: its times are the ISO text of the listings.

No I/O and no SQL here: detect/ and drafts/ import these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NotRequired, TypedDict

# A value as JSON holds it: what a finding keeps of figures it only passes on (a report card).
JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def from_iso(value: str | None) -> datetime | None:
    """A stored time (ISO 8601; `Z` or an offset; no offset means UTC) as an aware UTC datetime."""
    if not value:
        return None
    dt = datetime.fromisoformat(value)  # Python 3.11 reads the Z the store writes
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt if dt.tzinfo is UTC else dt.astimezone(UTC)


def to_iso(dt: datetime | None) -> str | None:
    """The one text form of a time in the database and in --json: UTC, whole seconds, Z."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- activity
@dataclass(frozen=True)
class ContactFacts:
    """One customer as detection sees it (store.activity.contact)."""

    id: int
    name: str
    tier: str | None
    status: str
    language: str | None
    last_outbound: datetime | None  # the rep's last real mail to them
    last_inbound: datetime | None  # their last real mail to the rep
    first_message: datetime | None
    messages: int
    messages_year: int  # messages since a year before `as_of`
    contacts_year: int  # distinct senders of theirs in that year


@dataclass(frozen=True)
class LinkedMessage:
    """A message linked to one customer (store.activity.recent, store.orders.customer_mail):
    one record per message and customer."""

    key: str
    customer_id: int
    date: datetime
    direction: str  # inbound | outbound | internal
    is_auto: bool
    is_bulk: bool
    thread_key: str | None
    message_id: str | None
    sender: str | None  # the From address
    sender_name: str
    to: tuple[str, ...]
    subject: str
    text: str  # the new text (reply body), else the whole body
    cc: tuple[str, ...] = ()
    in_reply_to: str | None = None
    language: str | None = None
    rowid: int = 0

    @property
    def real_inbound(self) -> bool:
        return self.direction == "inbound" and not self.is_auto and not self.is_bulk

    @property
    def real_outbound(self) -> bool:
        return self.direction == "outbound" and not self.is_auto


@dataclass(frozen=True)
class ParentMessage:
    """What a reply needs of the message it answers, and the account that holds it."""

    message_id: str | None
    references: tuple[str, ...]
    subject: str
    sender: str | None
    sender_name: str
    to: tuple[tuple[str, str], ...]  # (name, address)
    thread_key: str | None
    language: str | None
    account: str | None


@dataclass(frozen=True)
class SentMail:
    key: str
    subject: str
    thread_key: str | None


# ----------------------------------------------------------------------------- judgements
@dataclass(frozen=True)
class Promise:
    """A commitment with a time in the rep's own text (detect/promises.py)."""

    sentence: str
    phrase: str
    kind: str
    due_at: datetime  # whole seconds, UTC
    why: str


@dataclass(frozen=True)
class Judgement:
    """What a message's text says (detect/judge.py), cached per message and rules version."""

    needs_answer: bool
    category: str | None = None
    severity: str | None = None
    phrase: str | None = None
    sentence: str | None = None
    promises: tuple[Promise, ...] = ()
    rule: str | None = None  # which rule or gate decided ("question: ...", "model (en): ...")
    # the needs-answer model's calibrated probability (None: judged before there was one)
    probability: float | None = None
    weighed: tuple[tuple[str, float], ...] = ()  # the features that weighed most, with weight
    forced: bool = False  # a rule or content gate decided, whatever the probability


@dataclass(frozen=True)
class Need:
    """A future need or plan a customer stated (detect/needs.py), with the days it refers
    to (in the customer's calendar: dates, not times)."""

    customer_id: int
    message_key: str
    index: int  # the sentence's number in the message's new text
    sentence: str
    phrase: str
    window_start: date
    window_end: date
    said_at: datetime
    message_id: str | None = None
    why: str = ""
    id: int = 0
    state: str = "open"  # open | acted (the rep acted: closed by itself) | past
    closed_at: datetime | None = None
    note: str | None = None


# ----------------------------------------------------------------------------- orders
@dataclass(frozen=True)
class Order:
    id: int
    ref: str
    ref_key: str
    customer_id: int
    customer: str | None  # the customer's name
    confirmed_at: datetime
    plan: str
    ship_by: datetime | None
    closed_at: datetime | None
    source: str  # rules | command
    source_line: int | None
    quantity: int | None = None
    amount: Decimal | None = None  # in `currency`; both or neither
    currency: str | None = None


@dataclass(frozen=True)
class OrderEvent:
    """A milestone reached."""

    id: int
    milestone: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class OrderProblem:
    id: int
    at: datetime
    note: str


# ----------------------------------------------------------------------------- findings
class Explain(TypedDict):
    rule: str
    steps: list[str]
    rank: NotRequired[str]


class TimelineEntry(TypedDict):
    milestone: str
    label: str
    labels: dict[str, str]
    planned_at: str | None
    actual_at: str | None
    late_days: int | None
    note: str | None
    reported_at: str | None
    every_days: int | None
    state: str


class ProblemEntry(TypedDict):
    at: str
    note: str
    reported_at: str | None


class FindingData(TypedDict, total=False):
    """A finding's payload (JSON in the store): what its listing and its draft show. Which
    keys a finding has depends on its kind; times are the ISO text of the listings."""

    # neglect (progress and problem: customer too)
    customer: str | None
    tier: str
    status: str
    last_contact: str | None
    last_inbound: str | None
    last_outbound: str | None
    days_since_contact: int
    interval_days: int
    overdue_days: int
    snoozed_until: str | None
    # issue (and promise: message_id, due_at, subject; order findings: contact, subject)
    category: str
    severity: str
    message_id: str | None
    received_at: str
    due_at: str | None
    acknowledged_at: str | None
    phrase: str | None
    sentence: str | None
    contact: str | None
    contact_name: str
    subject: str
    messages: list[str]
    probability: float | None  # the needs-answer model's (issue 20)
    rule: str | None  # the rule, content gate or model that decided
    # promise
    text: str
    made_at: str
    kept_at: str | None
    # progress and problem: the order and its timeline ...
    ref: str
    plan: str
    confirmed_at: str
    ship_by: str | None
    order_state: str
    last_milestone: str | None
    last_milestone_at: str | None
    next_milestone: str | None
    next_due_at: str | None
    days_late: int
    last_report_at: str | None
    timeline: list[TimelineEntry]
    problems: list[ProblemEntry]
    # ... and why this finding: reason milestone | report_due | late | problem
    reason: str
    milestone: str
    milestone_label: str
    milestone_labels: dict[str, str]
    # report_card: the period's name and its figures (report/card.py); reason january |
    # anniversary | command
    period: str
    card: dict[str, JSONValue]
    milestone_at: str
    note: str | None
    planned_at: str | None
    late_days: int | None
    reported_at: str | None
    index: int
    every_days: int
    production_since: str | None
    until: str | None
    problem_at: str
    # greeting (touches.yaml) ...
    country: str
    holiday: str
    holiday_date: str  # the customer's local date
    holiday_names: dict[str, str]  # the holiday by language code, as the package names it
    # ... and need (its sentence is `sentence`, its time `phrase`)
    need_id: int
    window_start: str
    window_end: str
    said_at: str


@dataclass(frozen=True)
class Finding:
    """One situation the rep should act on, as detection judged it."""

    key: str  # the same situation has the same key in every scan
    kind: str  # neglect | issue | promise | progress | problem | greeting | need
    customer_id: int
    state: str
    opened_at: datetime
    due_at: datetime | None = None
    closed_at: datetime | None = None
    message_key: str | None = None
    thread_key: str | None = None
    rank: float = 0.0
    data: FindingData = field(default_factory=lambda: FindingData())
    explain: Explain = field(default_factory=lambda: Explain(rule="", steps=[]))


@dataclass(frozen=True)
class StoredFinding(Finding):
    """A finding as the store holds it."""

    id: int = 0
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class FindingEvent:
    at: datetime
    state: str
    note: str | None


# ----------------------------------------------------------------------------- drafts
@dataclass(frozen=True)
class NewDraft:
    """A draft about to be added to a Drafts folder."""

    key: str
    finding_id: int
    kind: str
    customer_id: int
    account: str
    folder: str
    to_addr: str
    subject: str
    message_id: str
    in_reply_to: str | None
    thread_key: str | None
    template: str
    language: str | None
    created_at: datetime


@dataclass(frozen=True)
class DraftRecord(NewDraft):
    """A draft mailkeeper added, and what became of it."""

    id: int = 0
    state: str = "pending"
    state_at: datetime | None = None
    cooldown_until: datetime | None = None
    appended: bool = False
