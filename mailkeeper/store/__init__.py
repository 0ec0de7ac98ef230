"""The SQLite store: the only package that speaks SQL.

`Store` opens one connection (db.py: pragmas, migrations, transactions, bulk mode) and offers
one small class per table family over it, so a call shows which tables it touches:
`store.mail` (messages, addresses, folders, folder_messages, sync_runs, account_warnings),
`store.customers` (customers, customer_domains, customer_addresses), `store.links` (links,
and what linking reads), `store.state` (meta), `store.findings` (findings, finding_events,
snoozes, judgements), `store.activity` (what detection reads of mail and customers),
`store.orders` (orders, order_events, order_problems), `store.needs` (needs). Column names
are plain English so a rep can open the file with sqlite-utils or Datasette.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from mailkeeper.store.activity import ActivityStore
from mailkeeper.store.customers import CustomerStore
from mailkeeper.store.db import Database, ReadOnlyError, iso, now_iso
from mailkeeper.store.drafts import DraftStore
from mailkeeper.store.findings import FindingStore
from mailkeeper.store.links import LinkStore
from mailkeeper.store.mail import MESSAGE_COLUMNS, FolderEntry, FolderState, MailStore, MessageRows
from mailkeeper.store.needs import NeedStore
from mailkeeper.store.orders import OrderStore
from mailkeeper.store.outbox import OutboxStore
from mailkeeper.store.state import StateStore

__all__ = [
    "MESSAGE_COLUMNS",
    "FolderEntry",
    "FolderState",
    "MessageRows",
    "ReadOnlyError",
    "Store",
    "iso",
    "now_iso",
]


class Store:
    """An open mailkeeper database."""

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.conn = self.db.conn  # for tests and read-only tools; code goes through a family
        self.path = self.db.path
        self.mail = MailStore(self.db)
        self.customers = CustomerStore(self.db)
        self.links = LinkStore(self.db)
        self.state = StateStore(self.db)
        self.findings = FindingStore(self.db)
        self.activity = ActivityStore(self.db)
        self.orders = OrderStore(self.db)
        self.drafts = DraftStore(self.db)
        self.needs = NeedStore(self.db)
        self.outbox = OutboxStore(self.db)  # team mode: what is still to publish

    @property
    def readonly(self) -> bool:
        """Opened read-only: this user may not write the file (reads work, writes refused)."""
        return self.db.readonly

    def refuse_writes(self, what: str) -> None:
        self.db.refuse_writes(what)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[None]:
        return self.db.transaction()

    def bulk(self) -> AbstractContextManager[None]:
        return self.db.bulk()

    @property
    def uncommitted(self) -> bool:
        return self.db.uncommitted

    def size_bytes(self) -> int:
        return self.db.size_bytes()

    def columns(self, table: str) -> list[str]:
        return self.db.columns(table)

    def tables(self) -> Iterator[str]:
        return iter(self.db.tables())
