"""Message identity keys, computed from stored columns: used by the writer (store.mail) and by
the migration that backfilled them (store.migrations), so neither imports the other."""

from __future__ import annotations

import hashlib
from typing import Any


def loose_key(
    message_id: str | None,
    date_iso: str | None,
    sender: str | None,
    subject: str | None,
    size: int | None,
    attachments: list[dict[str, Any]],
) -> str | None:
    """A message's identity without its text: Message-ID, date, sender, subject, size and
    attachments, as stored. A message stored before a change in how text is extracted (a
    better html-to-text, a charset repair) gets another `key` when it is parsed again (a copy
    in another folder, a UIDVALIDITY resync) but the same loose key, and save_batch maps it to
    the message already stored. Only with a Message-ID: without one, too little is left to
    tell two messages apart."""
    if not message_id:
        return None
    files = [f"{a.get('filename') or ''}\x1f{a.get('size')}" for a in attachments]
    parts = [message_id, date_iso or "", sender or "", subject or "", str(size or 0), *files]
    blob = "\x1e".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()[:32]


def team_key(
    message_id: str | None,
    date_iso: str | None,
    sender: str | None,
    subject: str | None,
    text: str | None,
) -> str:
    """A message's identity in the team record, the same in every rep's mailbox: Message-ID,
    Date, sender, subject and text. Not the size or the trace headers (Received, Delivered-To,
    Return-Path, X-Original-To), which differ between two reps' copies of one mail."""
    parts = [message_id or "", date_iso or "", (sender or "").lower(), subject or "", text or ""]
    blob = "\x1e".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()[:32]
