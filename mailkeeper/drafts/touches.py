"""The template context of the small touches: a greeting on the customer's holiday (which
carries the check-in's question when one is due too) and the recall of a need they stated.
Kept apart from compose.py, which only calls `touch_context`."""

from __future__ import annotations

from typing import Any

from mailkeeper.store.records import StoredFinding


def touch_context(
    f: StoredFinding, template_language: str, check_in: StoredFinding | None, local_day: Any
) -> dict[str, Any]:
    """The `holiday`, `check_in` and `need` variables of a greeting or need draft.
    `local_day(iso)` gives a stored time as the rep's local date."""
    data = f.data
    if f.kind == "greeting":
        names = data.get("holiday_names") or {}
        english = data.get("holiday") or ""
        return {
            "holiday": {
                "name": names.get(template_language) or english,
                "english": english,
                "date": data.get("holiday_date") or "",
                "country": data.get("country") or "",
            },
            "check_in": _check_in(check_in, local_day),
        }
    if f.kind == "need":
        return {
            "need": {
                "sentence": data.get("sentence") or "",
                "phrase": data.get("phrase") or "",
                "said": local_day(data.get("said_at")),
                "window_start": data.get("window_start") or "",
                "window_end": data.get("window_end") or "",
            }
        }
    return {}


def _check_in(f: StoredFinding | None, local_day: Any) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "days_since_contact": f.data.get("days_since_contact"),
        "last_contact": local_day(f.data.get("last_contact")),
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "greeting": {
        "holiday": {"name": "Spring Festival", "english": "Chinese New Year (Spring Festival)",
                    "date": "2027-02-06", "country": "CN"},
        "check_in": {"days_since_contact": 40, "last_contact": "2026-11-20"},
    },
    "need": {
        "need": {"sentence": "We expect to need around 500 sofas before the autumn.",
                 "phrase": "before the autumn", "said": "2027-03-10",
                 "window_start": "2027-08-01", "window_end": "2027-08-31"},
    },
}  # fmt: skip
