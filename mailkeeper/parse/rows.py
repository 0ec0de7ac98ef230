"""A parsed Message as the rows the store writes. Pure (no SQL), so the parse workers build
the rows and the process that stores them only inserts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mailkeeper.domains import org_domain
from mailkeeper.model import Address, Message
from mailkeeper.store import MessageRows, iso
from mailkeeper.store.keys import loose_key

_dumps = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps minus its per-call set-up


def _json(value: list[Any]) -> str:
    return _dumps(value) if value else "[]"


def _addr_json(addrs: Sequence[Address]) -> str:
    return _dumps([[a.name, a.email] for a in addrs]) if addrs else "[]"


def _domain(email: str) -> str | None:
    _, _, dom = email.rpartition("@")
    return dom or None


def message_rows(m: Message, direction: str) -> MessageRows:
    """`direction` is a first guess from the folder the message was first seen in; linking
    decides it for good (link.direction_of) and corrects the row when it differs."""
    attachments = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in m.attachments
    ]
    date_iso = iso(m.date)
    sender = m.sender.email if m.sender else None
    loose = loose_key(m.message_id, date_iso, sender, m.subject, m.size, attachments)
    row = (
        m.key, m.message_id, m.in_reply_to, _json(m.references), m.thread_key, date_iso,
        m.date_offset_minutes, sender, m.sender.name if m.sender else None,
        _addr_json(m.to), _addr_json(m.cc),
        _addr_json(m.reply_to), m.subject, direction, m.language, m.text, m.reply_text,
        int(m.is_auto), m.auto_reason, int(m.is_bulk), m.bulk_reason, int(m.has_html_only),
        _json(attachments), _json(m.defects), m.size, loose,
    )  # fmt: skip
    addresses = []
    for role, addrs in (
        ("from", [m.sender] if m.sender else []),
        ("to", m.to),
        ("cc", m.cc),
        ("reply_to", m.reply_to),
    ):
        for a in addrs:
            if a.email:
                dom = _domain(a.email)
                addresses.append((m.key, role, a.email, a.name, dom, org_domain(dom)))
    return MessageRows(m.key, row, tuple(addresses))
