"""The facade: one method per command, wiring config + store + the pipeline steps.

The CLI (and later the daemon) call these methods; the work itself is done by the steps
(sync.py, link.py, ...) and the store. Nothing here speaks SQL or IMAP.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mailkeeper import config as config_mod
from mailkeeper.errors import LockedError, UserError
from mailkeeper.link import Linker, LinkStats, Party, party_from
from mailkeeper.lock import daemon_lock, sync_lock
from mailkeeper.store import Store
from mailkeeper.sync import RETRY_DELAYS, ProgressFn, SyncReport, Syncer
from mailkeeper.sync import link as link_keys

logger = logging.getLogger(__name__)

__all__ = ["App", "SyncReport"]


# ----------------------------------------------------------------------------- app
class App:
    def __init__(self, settings: Any, rules: Any) -> None:
        self.settings = settings
        self.rules = rules
        self.party: Party = party_from(settings, rules)
        self._store: Store | None = None
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.relink_pending = False

    @classmethod
    def from_config(cls, path: Path | None) -> App:
        cfg = config_mod.find_config_path(path)
        settings = config_mod.load_settings(cfg)
        return cls(settings, config_mod.load_rules(settings))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.database)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ accounts
    def accounts(self, name: str | None) -> list[Any]:
        accounts = self.settings.accounts
        if name is None:
            return list(accounts.values())
        if name not in accounts:
            raise UserError(
                f"no account named '{name}' in {self.settings.path}",
                [f"accounts are: {', '.join(sorted(accounts)) or '(none)'}"],
            )
        return [accounts[name]]

    # ------------------------------------------------------------------ sync
    def sync(
        self, account: str | None = None, progress: ProgressFn | None = None
    ) -> list[SyncReport]:
        reports = []
        with sync_lock(self.settings.database):
            syncer = Syncer(
                self.store,
                self.settings,
                self.rules,
                self.party,
                progress=progress,
                retry_delays=self.retry_delays,
            )
            for acct in self.accounts(account):
                reports.append(syncer.sync_account(acct))
        return reports

    # ------------------------------------------------------------------ linking
    def link(self, keys: list[str] | None) -> LinkStats:
        """Link `keys` (None: a full relink). A changed customers.yaml forces a full relink."""
        return link_keys(self.store, self.settings, self.rules, keys)

    def relink(self) -> LinkStats:
        """Link every stored message again, under the sync lock."""
        with sync_lock(self.settings.database).acquire(wait=5.0):
            return self.link(None)

    # ------------------------------------------------------------------ reports
    def customers(self) -> list[dict[str, Any]]:
        self._refresh_rules()
        return self.store.customers.report()

    def _refresh_rules(self) -> None:
        """After a rules edit, relink before reporting, under the sync lock. When another
        process holds the lock the data is shown as it is and `relink_pending` says so."""
        self.relink_pending = False
        if not Linker(self.store, self.settings, self.rules).rules_changed():
            return
        lock = sync_lock(self.settings.database)
        try:
            lock.acquire(wait=2.0)
        except LockedError:
            self.relink_pending = True
            return
        try:
            self.link(None)
        finally:
            lock.release()

    def customer(self, name: str, limit: int | None = 50) -> dict[str, Any]:
        self._refresh_rules()
        customers = self.store.customers
        c = customers.find(name)
        if c is None:
            import difflib

            close = difflib.get_close_matches(name, customers.names(), n=3)
            hint = f"did you mean: {', '.join(close)}?" if close else "see `mailkeeper customers`"
            raise UserError(f"no customer named '{name}'", [hint])
        cid = c.pop("id")
        [report] = customers.report(cid)
        c.update(report)
        c["domains"] = customers.domains(cid)
        c["contacts"] = customers.contacts(cid, sorted(self.party.own))
        c["timeline"] = customers.timeline(cid, limit)
        return c

    def status(self) -> dict[str, Any]:
        mail = self.store.mail
        last_sync_at, last_error, last_error_at = mail.last_sync()
        daemon = daemon_lock(self.settings.database).holder()
        return {
            "accounts": [
                {
                    "name": name,
                    "host": a.host,
                    "username": a.username,
                    "folders": mail.folders_report(name),
                    "warnings": mail.warnings(name),
                }
                for name, a in self.settings.accounts.items()
            ],
            "messages": mail.message_count(),
            "last_sync_at": last_sync_at,
            "database": str(self.settings.database),
            "database_bytes": self.store.size_bytes(),
            "daemon": {
                "running": daemon is not None,
                "pid": daemon["pid"] if daemon else None,
                "since": daemon["since"] if daemon else None,
            },
            "last_error": last_error,
            "last_error_at": last_error_at,
        }
