"""A finding: one situation the rep should act on, as detection judged it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Finding:
    key: str  # the same situation has the same key in every scan
    kind: str  # neglect | issue | promise
    customer_id: int | None
    state: str
    opened_at: str  # ISO UTC
    due_at: str | None = None
    closed_at: str | None = None
    message_key: str | None = None
    thread_key: str | None = None
    rank: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    explain: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)  # shallow: the store serialises data and explain


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def ts(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_between(a: datetime, b: datetime) -> int:
    return int((b - a).total_seconds() // 86400)
