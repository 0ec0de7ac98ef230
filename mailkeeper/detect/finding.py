"""A finding: one situation the rep should act on, as detection judged it (the record is
store.records.Finding, so the store can take it without importing detection)."""

from __future__ import annotations

from datetime import datetime

from mailkeeper.store.records import Explain, Finding, FindingData
from mailkeeper.store.records import from_iso as parse_ts
from mailkeeper.store.records import to_iso as ts

__all__ = ["Explain", "Finding", "FindingData", "days_between", "parse_ts", "ts"]


def days_between(a: datetime, b: datetime) -> int:
    return int((b - a).total_seconds() // 86400)
