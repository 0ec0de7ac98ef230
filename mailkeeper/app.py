"""Wires config + store + mailbox + pipeline steps. The one place that knows them all.

Sync, per folder: STATUS tells whether anything is new (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ);
new UIDs are fetched in batches (headers + BODYSTRUCTURE + the text part), parsed in worker
processes while the next batch downloads, and each batch is stored together with the folder
cursor in one transaction. A sync cut at any point resumes from the last committed batch:
nothing lost, nothing duplicated. Then the new messages are linked to customers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailkeeper import config as config_mod
from mailkeeper import secrets
from mailkeeper.errors import ConnectionLost, LockedError, MailboxError, UserError
from mailkeeper.link import Linker, LinkStats, Party, direction_of, party_from
from mailkeeper.mailbox.base import Mailbox
from mailkeeper.mailbox.imap import ImapMailbox
from mailkeeper.model import Fetched
from mailkeeper.store import FolderEntry, MessageRows, Store, message_rows, now_iso

logger = logging.getLogger(__name__)

# Below this many new messages a folder is parsed in-process: starting workers costs more.
POOL_THRESHOLD = 400
IN_FLIGHT = 4
# Parse workers run at a lower priority: the main process (fetch + store) paces the sync and
# should never wait for a core, the workers take what is left (30k: 8.8 s vs 9.1 s at
# equal priority; 19 starves them), and a sync leaves the rep's machine responsive.
WORKER_NICE = 10
# Waits before reconnecting after a dropped connection; the sync resumes from the last batch.
RETRY_DELAYS = (2.0, 5.0, 15.0)

ProgressFn = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class FolderReport:
    name: str
    role: str
    new: int = 0
    fetched: int = 0
    uidvalidity_reset: bool = False
    flags_updated: int = 0


@dataclass
class SyncReport:
    account: str
    folders: list[FolderReport] = field(default_factory=list)
    new_messages: int = 0
    link: LinkStats | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        link = self.link
        return {
            "account": self.account,
            "new_messages": self.new_messages,
            "folders": [f.__dict__ for f in self.folders],
            "linked": link.linked if link else 0,
            "links": link.links if link else 0,
            "discovered": link.discovered if link else [],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "error": self.error,
        }


# ----------------------------------------------------------------------------- workers
_PARTY: Party | None = None


def _init_worker(party: Party, nice: int = 0) -> None:
    global _PARTY
    _PARTY = party
    if nice:
        os.nice(nice)


def _parse_batch(batch: list[Fetched], role: str) -> tuple[list[MessageRows], float]:
    """Parse a batch and turn it into the rows the store writes: all the CPU work of a
    message, done in a worker process so that the main one only fetches and inserts."""
    from mailkeeper.parse import parse  # imported on first use: a no-change sync never parses

    t = time.perf_counter()
    out = []
    for f in batch:
        m = parse(f)
        sender = m.sender.email if m.sender else None
        out.append(message_rows(m, direction_of(sender, role, _PARTY)))  # type: ignore[arg-type]
    return out, time.perf_counter() - t


class _Parser:
    """Parses batches in worker processes, at most IN_FLIGHT batches ahead, in order.
    With workers=0 it parses in this process (cheaper for a handful of messages)."""

    def __init__(self, workers: int, party: Party, role: str) -> None:
        self.pool = None
        self.party = party
        self.role = role
        if workers > 0:
            import multiprocessing

            ctx = multiprocessing.get_context("forkserver")
            self.pool = ctx.Pool(workers, initializer=_init_worker, initargs=(party, WORKER_NICE))
        self.pending: deque[tuple[list[Fetched], Any]] = deque()
        self.cpu = 0.0

    def run(
        self, batches: Iterator[list[Fetched]]
    ) -> Iterator[tuple[list[Fetched], list[MessageRows]]]:
        if self.pool is None:
            _init_worker(self.party)
            for batch in batches:
                rows, cpu = _parse_batch(batch, self.role)
                self.cpu += cpu
                yield batch, rows
            return
        for batch in batches:
            job = self.pool.apply_async(_parse_batch, (batch, self.role))
            self.pending.append((batch, job))
            while len(self.pending) >= IN_FLIGHT:
                yield self._next()
        while self.pending:
            yield self._next()

    def _next(self) -> tuple[list[Fetched], list[MessageRows]]:
        batch, res = self.pending.popleft()
        rows, cpu = res.get()
        self.cpu += cpu
        return batch, rows

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _cores() -> int:
    """Cores this process may use. One parse worker per core: with the main process only
    fetching and storing, 2 workers on 2 cores beat 1 (30k messages: 9.6 vs 10.2 s)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- lock
class SyncLock:
    """One writer per database: an flock on <database>.lock, released when the process dies."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self.fd: int | None = None

    def __enter__(self) -> SyncLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockedError(
                f"the database is busy: mailkeeper (pid {holder}) is already syncing it",
                ["wait for it to finish, or stop the daemon (`mailkeeper status` shows it)"],
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# ----------------------------------------------------------------------------- app
class App:
    def __init__(self, settings: Any, rules: Any) -> None:
        self.settings = settings
        self.rules = rules
        self.party: Party = party_from(settings, rules)
        self._store: Store | None = None
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS

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

    def mailbox(self, account: Any) -> Mailbox:
        if account.kind == "maildir":
            from mailkeeper.mailbox.maildir import MaildirMailbox  # only Maildir users pay for it

            return MaildirMailbox(
                account.maildir,
                account.name,
                folders=dict(account.folders),
                extra_folders=account.extra_folders,
                state_dir=Path(self.settings.database).parent / "maildir-state",
                max_message_size=self.settings.sync.max_message_size,
                max_text_bytes=self.settings.sync.max_text_bytes,
            )
        oauth = account.oauth2_token_command is not None
        return ImapMailbox(
            account,
            password=None if oauth else (lambda: secrets.get_password(account)),
            oauth2_token=(lambda: secrets.get_oauth2_token(account)) if oauth else None,
            max_message_size=self.settings.sync.max_message_size,
            max_text_bytes=self.settings.sync.max_text_bytes,
        )

    # ------------------------------------------------------------------ sync
    def sync(
        self, account: str | None = None, progress: ProgressFn | None = None
    ) -> list[SyncReport]:
        reports = []
        with SyncLock(Path(self.settings.database)):
            for acct in self.accounts(account):
                reports.append(self._sync_account(acct, progress))
        return reports

    def _sync_account(self, acct: Any, progress: ProgressFn | None) -> SyncReport:
        report = SyncReport(account=acct.name)
        started = now_iso()
        t0 = time.perf_counter()
        new_keys: list[str] = []
        attempt = 0
        forgot_roles = False
        while True:
            try:
                with self.mailbox(acct) as mb:
                    report.timings["connect"] = time.perf_counter() - t0
                    try:
                        folders = self._folders(mb, acct)
                        for folder, role in folders:
                            self._sync_folder(
                                mb, acct.name, folder, role, report, progress, new_keys
                            )
                    except MailboxError as e:
                        if isinstance(e, ConnectionLost) or forgot_roles:
                            raise
                        # A remembered folder may have been renamed: look again, once.
                        logger.info("%s; listing the folders again", e)
                        self.store.set_meta(f"folder_roles:{acct.name}", "{}")
                        forgot_roles = True
                        continue
                break
            except ConnectionLost as e:
                if attempt >= len(self.retry_delays):
                    report.error = str(e)
                    self.link_unlinked()  # what was committed before the cut is linked all the same
                    self.store.record_sync_run(acct.name, started, len(new_keys), str(e))
                    raise
                wait = self.retry_delays[attempt]
                attempt += 1
                logger.warning(
                    "%s; reconnecting in %ss (try %d of %d)",
                    e,
                    wait,
                    attempt,
                    len(self.retry_delays),
                )
                time.sleep(wait)
        t1 = time.perf_counter()
        report.new_messages = len(new_keys)
        report.link = self.link_unlinked()
        report.timings["link"] = time.perf_counter() - t1
        report.timings["total"] = time.perf_counter() - t0
        self.store.record_sync_run(acct.name, started, len(new_keys), None)
        return report

    def _folders(self, mb: Mailbox, acct: Any) -> list[tuple[str, str]]:
        """(folder, role) to sync. The roles found by LIST are remembered, so that a sync with
        nothing new costs one STATUS per folder; a changed config or a vanished folder
        (see _sync_account) forgets them."""
        key = f"folder_roles:{acct.name}"
        sig = json.dumps([acct.folders, list(acct.extra_folders)], sort_keys=True)
        cached = json.loads(self.store.get_meta(key) or "{}")
        if cached.get("sig") == sig:
            roles = cached["roles"]
        else:
            roles = mb.folder_roles()
            self.store.set_meta(key, json.dumps({"sig": sig, "roles": roles}))
        out = [(roles["inbox"], "inbox")]
        if "sent" in roles:
            out.append((roles["sent"], "sent"))
        else:
            logger.warning("%s: no Sent folder found; outbound mail will be missing", acct.name)
        out += [(f, "extra") for f in acct.extra_folders if f not in {n for n, _ in out}]
        return out

    def _sync_folder(
        self,
        mb: Mailbox,
        account: str,
        folder: str,
        role: str,
        report: SyncReport,
        progress: ProgressFn | None,
        new_keys: list[str],
    ) -> None:
        """Bring one folder up to date; the keys of newly stored messages go into new_keys."""
        store = self.store
        fr = next((f for f in report.folders if f.name == folder), None)
        if fr is None:
            fr = FolderReport(folder, role)
            report.folders.append(fr)
        t = time.perf_counter()
        st = mb.status(folder)
        state = store.folder_state(account, folder)
        if state is None or state.uidvalidity != st.uidvalidity:
            if state is not None:
                logger.warning(
                    "%s/%s: UIDVALIDITY changed (%s -> %s): the server renumbered the folder; "
                    "resyncing it",
                    account,
                    folder,
                    state.uidvalidity,
                    st.uidvalidity,
                )
                fr.uidvalidity_reset = True
            store.reset_folder(account, folder, role, st.uidvalidity)
            state = store.folder_state(account, folder)
        if state is None:  # pragma: no cover - reset_folder has just written it
            raise MailboxError(f"{account}/{folder}: folder state missing after reset")
        report.timings["status"] = report.timings.get("status", 0.0) + time.perf_counter() - t
        nothing_new = st.uidnext is not None and state.uidnext == st.uidnext
        if nothing_new:
            if st.highestmodseq is not None and state.highestmodseq not in (None, st.highestmodseq):
                flags = mb.changed_flags(folder, state.highestmodseq)
                store.update_flags(account, folder, st.uidvalidity, flags)
                fr.flags_updated += len(flags)
            store.mark_folder_synced(account, folder, st.uidnext, st.highestmodseq)
            return
        self._fetch_folder(
            mb,
            account,
            folder,
            role,
            st.uidvalidity,
            state.last_uid,
            fr,
            report,
            progress,
            new_keys,
        )
        store.mark_folder_synced(account, folder, st.uidnext, st.highestmodseq)

    def _fetch_folder(
        self,
        mb: Mailbox,
        account: str,
        folder: str,
        role: str,
        uidvalidity: int,
        last_uid: int,
        fr: FolderReport,
        report: SyncReport,
        progress: ProgressFn | None,
        new_keys: list[str],
    ) -> None:
        sync = self.settings.sync
        t = time.perf_counter()
        uids = mb.new_uids(folder, last_uid)
        total = len(uids)
        workers = sync.workers or _cores()
        parser = _Parser(workers if total >= POOL_THRESHOLD else 0, self.party, role)
        before = len(new_keys)
        fetch_time = 0.0
        store_time = 0.0

        def batches() -> Iterator[list[Fetched]]:
            nonlocal fetch_time
            for i in range(0, total, sync.batch_size):
                tb = time.perf_counter()
                step = sync.batch_size
                batch = mb.fetch_batch(folder, uids[i : i + step], uids[i + step : i + 2 * step])
                fetch_time += time.perf_counter() - tb
                if batch:
                    yield batch

        bulk = self.store.bulk() if total >= POOL_THRESHOLD else contextlib.nullcontext()
        committed = len(new_keys)  # new_keys beyond this are in batches not yet committed
        try:
            with bulk:
                if progress:
                    progress(f"{account}/{folder}", 0, total)
                for batch, rows in parser.run(batches()):
                    ts = time.perf_counter()
                    entries = [
                        FolderEntry(f.uid, r.key, f.flags, f.internaldate)
                        for f, r in zip(batch, rows, strict=True)
                    ]
                    new_keys += self.store.save_batch(
                        account, folder, uidvalidity, rows, entries, max(f.uid for f in batch)
                    )
                    if not self.store.uncommitted:
                        committed = len(new_keys)
                    store_time += time.perf_counter() - ts
                    fr.fetched += len(batch)
                    if progress:
                        progress(f"{account}/{folder}", fr.fetched, total)
            committed = len(new_keys)
        finally:
            parser.close()
            del new_keys[committed:]  # rolled back: the retry (or next sync) stores them again
        fr.new += len(new_keys) - before
        tm = report.timings
        tm["fetch"] = tm.get("fetch", 0.0) + fetch_time
        tm["parse_cpu"] = tm.get("parse_cpu", 0.0) + parser.cpu
        tm["store"] = tm.get("store", 0.0) + store_time
        tm["folders"] = tm.get("folders", 0.0) + time.perf_counter() - t

    # ------------------------------------------------------------------ linking
    def link_unlinked(self) -> LinkStats:
        """Link every message stored since the last linking: this sync's, and those a killed
        or failed sync committed but never got to link."""
        since = int(self.store.get_meta("linked_rowid") or 0)
        keys, last = self.store.keys_after(since)
        stats = self.link(keys)
        self.store.set_meta("linked_rowid", str(last))
        return stats

    def link(self, keys: list[str] | None) -> LinkStats:
        """Link `keys` (None: a full relink). A changed customers.yaml forces a full relink."""
        linker = Linker(self.store, self.settings, self.rules)
        if keys == [] and not linker.rules_changed():
            return LinkStats()
        return linker.link(keys)

    # ------------------------------------------------------------------ reports
    def customers(self) -> list[dict[str, Any]]:
        self._refresh_rules()
        return self.store.customers_report()

    def _refresh_rules(self) -> None:
        linker = Linker(self.store, self.settings, self.rules)
        if linker.rules_changed():
            linker.link(None)

    def customer(self, name: str, limit: int | None = 50) -> dict[str, Any]:
        self._refresh_rules()
        c = self.store.find_customer(name)
        if c is None:
            names = self.store.customer_names()
            import difflib

            close = difflib.get_close_matches(name, names, n=3)
            hint = f"did you mean: {', '.join(close)}?" if close else "see `mailkeeper customers`"
            raise UserError(f"no customer named '{name}'", [hint])
        cid = c.pop("id")
        [report] = self.store.customers_report(cid)
        c.update(report)
        c["domains"] = self.store.customer_domains(cid)
        c["contacts"] = self.store.customer_contacts(cid, sorted(self.party.own))
        c["timeline"] = self.store.customer_timeline(cid, limit)
        return c

    def status(self) -> dict[str, Any]:
        store = self.store
        last_sync_at, last_error = store.last_sync()
        lock = SyncLock(Path(self.settings.database))
        running_pid = _lock_holder(lock.path)
        return {
            "accounts": [
                {
                    "name": name,
                    "host": a.host,
                    "username": a.username,
                    "folders": store.folders_report(name),
                }
                for name, a in self.settings.accounts.items()
            ],
            "messages": store.message_count(),
            "last_sync_at": last_sync_at,
            "database": str(self.settings.database),
            "database_bytes": store.size_bytes(),
            "daemon": {"running": running_pid is not None, "pid": running_pid},
            "last_error": last_error,
        }


def _lock_holder(path: Path) -> int | None:
    """The pid holding the sync lock, or None."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
