"""The only code that writes to a mailbox: it adds new drafts, and sees what became of the
earlier ones.

Before anything is added, each pending draft is looked for: still in the Drafts folder (by
its key header, so an edited draft, which comes back under a new UID, is still the rep's)
means nothing is done; in the Sent folder (its key header, or the rep's mail to the same
address in the same thread, or with the same subject, after the draft was made) means sent;
gone from Drafts and not sent means the rep dismissed it: no new draft for that finding until
its cool-down ends. A draft whose finding ended by itself (the customer wrote back, the rep
answered from elsewhere) is marked obsolete and left for the rep to delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailkeeper.config import secrets
from mailkeeper.detect.finding import parse_ts
from mailkeeper.drafts.compose import PlannedDraft
from mailkeeper.mailbox.draftbox import DraftBox, ImapDraftBox
from mailkeeper.store import Store
from mailkeeper.store.records import DraftRecord, NewDraft

logger = logging.getLogger(__name__)

LIVE_STATES = ("neglected", "open", "overdue", "due", "late")


def open_draftbox(account: Any) -> DraftBox:
    if account.kind == "maildir":
        from mailkeeper.mailbox.maildir import MaildirDraftBox

        return MaildirDraftBox(account.maildir, account.name, dict(account.folders))
    return ImapDraftBox(account, **secrets.login_callables(account))


@dataclass
class PublishReport:
    added: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    dismissed: int = 0
    obsolete: int = 0
    still_there: int = 0
    waiting: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # kind -> its template's problem
    limited: int = 0  # findings that wait for the next run: the limits were reached

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Publisher:
    def __init__(self, store: Store, settings: Any) -> None:
        self.store = store
        self.settings = settings

    def reconcile(self, now: datetime, report: PublishReport) -> None:
        """What became of the pending drafts (run after Sent was synced)."""
        pending = self.store.drafts.listing(("pending",))
        if not pending:
            return
        at = now
        by_account: dict[str, list[DraftRecord]] = {}
        for d in pending:
            by_account.setdefault(d.account, []).append(d)
        for name, drafts in by_account.items():
            account = self.settings.accounts.get(name)
            if account is None:
                continue
            with open_draftbox(account) as box:
                present = box.draft_keys()
                sent_keys = box.sent_keys(d.key for d in drafts)
                # recorded but never added (a run killed in between): add it now
                for d in drafts:
                    if not d.appended:
                        if d.key not in present:
                            box.append_draft(self.store.drafts.raw(d.id))
                            present.add(d.key)
                        with self.store.transaction():
                            self.store.drafts.set_appended(d.id)
            with self.store.transaction():
                for d in drafts:
                    self._reconcile_one(d, present, sent_keys, now, at, report)

    def _reconcile_one(
        self,
        d: DraftRecord,
        present: set[str],
        sent_keys: set[str],
        now: datetime,
        at: datetime,
        report: PublishReport,
    ) -> None:
        finding = self.store.findings.get(d.finding_id)
        if d.key in sent_keys or self._sent_by_mail(d):
            self.store.drafts.set_state(d.id, "sent", at)
            report.sent += 1
        elif d.key in present:
            if finding is not None and finding.state not in LIVE_STATES:
                self.store.drafts.set_state(d.id, "obsolete", at)
                report.obsolete += 1
            else:
                report.still_there += 1
        else:
            days = self.settings.drafts.cooldown(d.kind)
            until = now + timedelta(days=days)
            self.store.drafts.set_state(d.id, "dismissed", at, until)
            report.dismissed += 1

    def _sent_by_mail(self, d: DraftRecord) -> bool:
        """The rep's real mail to the draft's address after it was made, in its thread (a
        reply) or with its subject (a new message): the draft went out, edited or not."""
        for m in self.store.activity.sent_after(d.created_at, d.to_addr):
            if d.thread_key and m.thread_key == d.thread_key:
                return True
            if m.subject.strip().lower() == d.subject.strip().lower():
                return True
        return False

    def publish(self, planned: list[PlannedDraft], now: datetime, report: PublishReport) -> None:
        """Add each draft to its account's Drafts folder and record it. A Drafts folder that
        does not exist is reported, never created."""
        at = now
        by_account: dict[str, list[PlannedDraft]] = {}
        for d in planned:
            by_account.setdefault(d.account, []).append(d)
        for name, drafts in by_account.items():
            account = self.settings.accounts[name]
            with open_draftbox(account) as box:
                try:
                    folder = box.drafts_folder()
                except Exception as e:  # noqa: BLE001 - a missing Drafts folder is reported
                    report.problems.append(str(e))
                    continue
                for d in drafts:
                    # recorded first, then added: a run killed in between adds it next time
                    # (reconcile) instead of making a second draft for the finding
                    with self.store.transaction():
                        did = self.store.drafts.add(
                            NewDraft(
                                key=d.key,
                                finding_id=d.finding.id,
                                kind=d.kind,
                                customer_id=d.finding.customer_id,
                                account=name,
                                folder=folder,
                                to_addr=d.to_addr,
                                subject=d.subject,
                                message_id=d.message_id.strip("<>"),
                                in_reply_to=d.in_reply_to,
                                thread_key=d.thread_key,
                                template=d.template,
                                language=d.language,
                                created_at=at,
                            ),  # fmt: skip
                            d.raw,
                        )
                    box.append_draft(d.raw)
                    with self.store.transaction():
                        self.store.drafts.set_appended(did)
                    report.added.append({"id": did, "kind": d.kind, "to": d.to_addr,
                                         "subject": d.subject, "folder": folder})  # fmt: skip


def day_start(now: datetime, tz: Any) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


__all__ = ["PublishReport", "Publisher", "day_start", "open_draftbox", "parse_ts"]
