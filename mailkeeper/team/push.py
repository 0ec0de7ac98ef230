"""Publishing: what the outbox holds goes to the team record, batch by batch.

A batch is published in one PostgreSQL transaction, then forgotten by the outbox. Killed
between the two, the next push publishes the batch again; every write is an upsert keyed by
a natural key, so the record ends as an uninterrupted push leaves it. The local product never
waits for this: a push that cannot reach the team database raises TeamUnavailable and the
outbox keeps everything for the next one.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mailkeeper import __version__
from mailkeeper.config.secrets import run_secret_command
from mailkeeper.errors import AuthError, UserError
from mailkeeper.store import Store
from mailkeeper.store.team import Params, TeamConnection, connect

logger = logging.getLogger(__name__)

BATCH = 500  # outbox rows per transaction
SECRET_TIMEOUT = 30.0  # seconds for team.password_command


@dataclass(frozen=True)
class PushReport:
    rep: str
    queued: int  # queued by this push when team mode was first turned on
    published: int  # outbox rows published
    batches: int
    pending: int  # left in the outbox (0 unless stopped early)

    def as_dict(self) -> dict[str, Any]:
        return {"rep": self.rep, "queued": self.queued, "published": self.published,
                "batches": self.batches, "pending": self.pending}  # fmt: skip


def team_settings(settings: Any) -> Any:
    if settings.team is None:
        raise UserError(
            f"{settings.path} has no team: section",
            ["add team: with rep, host, database (see the README, section Team)"],
        )
    return settings.team


def team_password(t: Any) -> str | None:
    """The password from team.password_command or team.password_env; None: libpq finds it
    (~/.pgpass, a client certificate). Never stored anywhere by mailkeeper."""
    if t.password_command:
        try:
            return run_secret_command(t.password_command, "team", "password_command",
                                      SECRET_TIMEOUT)  # fmt: skip
        except AuthError as e:  # its advice names accounts.team: say team.password_command
            raise UserError(
                "team.password_command failed",
                [p.replace("accounts.team.", "team.") for p in e.problems],
            ) from None
    if t.password_env:
        value = os.environ.get(t.password_env, "")
        if not value:
            raise UserError(
                f"team: environment variable {t.password_env} is not set",
                [f"team.password_env: set {t.password_env} before running mailkeeper"],
            )
        return value
    return None


def open_team(settings: Any) -> TeamConnection:
    """A connection to the team record as this config's role, schema version checked."""
    t = team_settings(settings)
    return connect(Params(t.host, t.port, t.database, t.user, team_password(t), t.sslmode,
                          t.sslrootcert))  # fmt: skip


def push(store: Store, settings: Any, rules: Any, batch: int = BATCH) -> PushReport:
    """Publish what the outbox holds, `batch` changes per transaction."""
    t = team_settings(settings)
    # queued before connecting: with the team database away, changes from now on are kept
    queued = store.outbox.enable()
    with open_team(settings) as team:
        if team.role != t.rep:
            raise UserError(
                f"team.rep is '{t.rep}' but the team database knows this login as '{team.role}'",
                ["team.rep and team.user name the rep's own PostgreSQL role"],
            )
        writer = team.writer()
        intervals = {name: tier.contact_interval_days for name, tier in rules.tiers.items()}
        published = batches = 0
        while True:
            items = store.outbox.next_batch(batch)
            if not items:
                break
            writer.publish(**_rows(store, items, intervals, t.share == "full"))
            store.outbox.done(i.id for i in items)
            published += len(items)
            batches += 1
            logger.debug("team push: batch %d, %d rows", batches, len(items))
        pending = store.outbox.pending()
        writer.mark_push(datetime.now(UTC), pending, __version__)
    return PushReport(t.rep, queued, published, batches, pending)


# What a finding's data quotes from the mail: kept local with share: headers.
QUOTED = ("sentence", "phrase", "text")


def _rows(store: Store, items: list[Any], intervals: dict[str, int], text: bool) -> dict[str, Any]:
    """One batch's records for TeamWriter.publish, by kind."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for i in items:
        by_kind[i.kind].append(i.key)
    ob = store.outbox
    pairs = []
    for key in by_kind["link"]:
        cid, _, message_key = key.partition(":")
        pairs.append((int(cid), message_key))
    pairs += ob.links_of_messages(by_kind["message"])
    customers = [
        replace(c, interval_days=intervals.get(c.tier or ""))
        for c in ob.customers([int(k) for k in by_kind["customer"]])
        if c.status != "ignored"
    ]
    links = ob.links(list(dict.fromkeys(pairs)), text)
    # every message touched: its links now, so that the team record retires this rep's links
    # of it to any other name (an unlink, a move, a renamed customer) instead of keeping both
    now = ob.linked_names(sorted({lk.local_key for lk in links}))
    keys = {lk.local_key: lk.message.key for lk in links}
    findings = ob.findings([int(k) for k in by_kind["finding"]])
    if not text:
        findings = [replace(f, data={k: v for k, v in f.data.items() if k not in QUOTED})
                    for f in findings]  # fmt: skip
    return {
        "customers": customers,
        "links": links,
        "linked": [(keys[k], names) for k, names in now.items()],
        "findings": findings,
        "orders": ob.orders([int(k) for k in by_kind["order"]]),
        "drafts": ob.drafts([int(k) for k in by_kind["draft"]]),
    }
