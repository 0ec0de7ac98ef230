"""The sync engine: bring one account's folders into the store, then link what is new.

Per folder: STATUS tells whether anything is new (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the
message count); new UIDs are fetched in batches (headers + BODYSTRUCTURE + the text part),
parsed in worker processes while the next batch downloads, and each batch is stored together
with the folder cursor in one transaction. Messages the server no longer has lose their
folder entry (the message itself stays: the history is the rep's record). A sync cut at any
point resumes from the last committed batch: nothing lost, nothing duplicated. Then
everything stored since the last linking is linked to customers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailkeeper.config import secrets
from mailkeeper.config.yamlreader import key_lines, locate
from mailkeeper.errors import ConnectionLost, MailboxError, UserError, classify
from mailkeeper.link import Linker, LinkStats, Party, direction_of
from mailkeeper.mailbox.base import Mailbox
from mailkeeper.model import Fetched
from mailkeeper.parse.rows import message_rows
from mailkeeper.store import FolderEntry, MessageRows, Store, now_iso
from mailkeeper.store.links import DRAFT_ROLES

logger = logging.getLogger(__name__)

# Below this many new messages a folder is parsed in-process: starting workers costs more.
# The same line decides bulk mode (longer transactions for a large first sync).
POOL_THRESHOLD = 400
IN_FLIGHT = 4
# Parse workers run at a lower priority: the main process (fetch + store) paces the sync and
# should never wait for a core, the workers take what is left (bench/PROFILE.md), and a sync
# leaves the rep's machine responsive.
WORKER_NICE = 10
# Waits before reconnecting after a dropped connection; the sync resumes from the last batch.
RETRY_DELAYS = (2.0, 5.0, 15.0)

ProgressFn = Callable[[str, int, int], None]  # (label, done, total)
# Every report has each of these (seconds), zero when that stage had nothing to do.
TIMING_KEYS = ("connect", "status", "fetch", "parse_cpu", "store", "folders", "link", "total")


@dataclass
class FolderReport:
    name: str
    role: str
    new: int = 0
    fetched: int = 0
    uidvalidity_reset: bool = False
    flags_updated: int = 0
    removed: int = 0


@dataclass
class SyncReport:
    account: str
    folders: list[FolderReport] = field(default_factory=list)
    new_messages: int = 0
    link: LinkStats | None = None
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIMING_KEYS, 0.0))
    warnings: list[str] = field(default_factory=list)
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
            "warnings": self.warnings,
            "error": self.error,
        }

    def folder(self, name: str, role: str) -> FolderReport:
        fr = next((f for f in self.folders if f.name == name), None)
        if fr is None:
            fr = FolderReport(name, role)
            self.folders.append(fr)
        return fr

    def add_time(self, what: str, seconds: float) -> None:
        self.timings[what] = self.timings.get(what, 0.0) + seconds


# ----------------------------------------------------------------------------- workers
def _init_worker(nice: int, sync_pid: int | None = None) -> None:
    """Each parse worker once, at its start: a lower priority, and a quiet end when the sync
    process is gone (a SIGKILL, the OOM killer). Its parent, the forkserver, outlives the sync
    (every worker holds the forkserver's "alive" pipe, and the task queue's write end), so
    PR_SET_PDEATHSIG would never fire and an orphan would wait for tasks forever: a daemon
    thread waits on the sync process instead (a pidfd on Linux, else a check per second) and
    ends the worker at once, without a traceback. A result written to a pipe nobody reads
    kills the worker by SIGPIPE rather than with a BrokenPipeError traceback. Set once per
    worker: no cost per message."""
    if nice:
        os.nice(nice)
    import signal
    import threading

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if sync_pid is not None:
        threading.Thread(target=_exit_with, args=(sync_pid,), daemon=True).start()


def _exit_with(pid: int) -> None:
    """Return only after process `pid` ended, then end this process at once, quietly."""
    try:
        import select

        fd = os.pidfd_open(pid)  # Linux >= 5.3: readable when the process ends
        select.select([fd], [], [])
    except ProcessLookupError:
        pass  # gone already
    except (AttributeError, OSError):
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
    os._exit(0)


def _quiet_resource_tracker() -> None:
    """After a SIGKILL of the sync process, multiprocessing's resource tracker unlinks the
    pool's semaphores and warns about each as "leaked": expected then, and noise. The tracker
    is a separate interpreter started with this process's -W flags (sys.warnoptions), so the
    filter is added there before the pool (and with it the tracker) is started; warnings in
    this process are not affected (their filters were read at start-up)."""
    import sys

    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)


def _parse_batch(
    batch: list[Fetched], role: str, party: Party
) -> tuple[list[MessageRows | None], float]:
    """Parse a batch and turn it into the rows the store writes: all the CPU work of a
    message, done in a worker process so that the main one only fetches and inserts. A
    message an adapter handed over unread (`Fetched.deferred`: where a Maildir file is) is
    read and split here first; None for one that was gone by then."""
    from mailkeeper.parse.message import (
        parse,  # imported on first use: a no-change sync never parses
    )

    t = time.perf_counter()
    out: list[MessageRows | None] = []
    draft_folder = role in DRAFT_ROLES
    for f in batch:
        if f.deferred is not None:
            got = f.deferred()
            if got is None:
                out.append(None)
                continue
            f = got
        m = parse(f)
        sender = m.sender.email if m.sender else None
        draft = draft_folder or "\\Draft" in f.flags
        out.append(message_rows(m, direction_of(sender, party, draft, role == "sent")))
    return out, time.perf_counter() - t


class Parser:
    """Parses batches in worker processes, at most IN_FLIGHT batches ahead, in order.
    With workers=0 it parses in this process (cheaper for a handful of messages)."""

    def __init__(self, workers: int, party: Party, role: str) -> None:
        self.pool = None
        self.party = party
        self.role = role
        if workers > 0:
            import multiprocessing

            ctx = multiprocessing.get_context("forkserver")
            _quiet_resource_tracker()
            self.pool = ctx.Pool(
                workers, initializer=_init_worker, initargs=(WORKER_NICE, os.getpid())
            )
        self.pending: deque[tuple[list[Fetched], Any]] = deque()
        self.cpu = 0.0

    def run(
        self, batches: Iterator[list[Fetched]]
    ) -> Iterator[tuple[list[Fetched], list[MessageRows | None]]]:
        if self.pool is None:
            for batch in batches:
                rows, cpu = _parse_batch(batch, self.role, self.party)
                self.cpu += cpu
                yield batch, rows
            return
        for batch in batches:
            job = self.pool.apply_async(_parse_batch, (batch, self.role, self.party))
            self.pending.append((batch, job))
            while len(self.pending) >= IN_FLIGHT:
                yield self._next()
        while self.pending:
            yield self._next()

    def _next(self) -> tuple[list[Fetched], list[MessageRows | None]]:
        batch, res = self.pending.popleft()
        rows, cpu = res.get()
        self.cpu += cpu
        return batch, rows

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def cores() -> int:
    """Cores this process may use. One parse worker per core: with the main process only
    fetching and storing, 2 workers on 2 cores beat 1 (bench/PROFILE.md)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- adapters
def open_mailbox(settings: Any, account: Any, credential: Any = None) -> Mailbox:
    """The adapter for `account` (not yet connected: use it as a context manager).
    `credential`: a secrets.Credential already fetched (by `check`), so that the password
    command is not run twice; by default it is fetched when the connection logs in."""
    adapter = adapter_class(account)
    if account.kind == "maildir":
        return adapter(
            account.maildir,
            account.name,
            folders=dict(account.folders),
            extra_folders=account.extra_folders,
            state_dir=Path(settings.database).parent / "maildir-state",
            max_message_size=settings.sync.max_message_size,
            max_text_bytes=settings.sync.max_text_bytes,
        )
    return adapter(
        account,
        **secrets.login_callables(account, credential),
        max_message_size=settings.sync.max_message_size,
        max_text_bytes=settings.sync.max_text_bytes,
    )


def adapter_class(account: Any) -> Any:
    """The account's adapter class, imported on first use (imapclient and the MIME helpers:
    ~50 ms in a fresh process; only Maildir users skip imapclient). The sync calls it before
    its clock starts, so that `timings` is the sync's own work, what the daemon pays at every
    sync; a one-off CLI run pays the import all the same."""
    if account.kind == "maildir":
        from mailkeeper.mailbox.maildir import MaildirMailbox

        return MaildirMailbox
    from mailkeeper.mailbox.imap import ImapMailbox

    return ImapMailbox


# ----------------------------------------------------------------------------- the engine
class Syncer:
    """Syncs accounts into `store` and links what is new. The caller holds the sync lock."""

    def __init__(
        self,
        store: Store,
        settings: Any,
        rules: Any,
        party: Party,
        progress: ProgressFn | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.rules = rules
        self.party = party
        self.progress = progress
        self.retry_delays = retry_delays

    def sync_account(
        self, acct: Any, report: SyncReport | None = None, roles: frozenset[str] | None = None
    ) -> SyncReport:
        """Sync every folder of `acct`, retrying a dropped connection, then link. An error
        that waiting will not heal (errors.classify: unknown host, wrong password, refused
        certificate ...) ends the sync at once, naming its line in mailkeeper.yaml. On an
        error, what was committed is linked all the same, the run is recorded with its error,
        and the error is raised with report.error filled (`report`: the caller's, to keep).
        `roles`: only the folders of these roles (the daemon's Inbox watcher: {"inbox"})."""
        report = report if report is not None else SyncReport(account=acct.name)
        started = now_iso()
        adapter_class(acct)  # its import is not the sync's time
        t0 = time.perf_counter()
        attempt = 0
        logged_in = False
        while True:
            try:
                with open_mailbox(self.settings, acct) as mb:
                    logged_in = True
                    report.timings["connect"] = time.perf_counter() - t0
                    for folder, role in self._folders(mb, acct, report):
                        if roles is not None and role not in roles:
                            continue
                        self._sync_folder(mb, acct.name, folder, role, report)
                break
            except ConnectionLost as e:
                if classify(e, logged_in) == "permanent" or attempt >= len(self.retry_delays):
                    self._locate(e)
                    self._finish(report, started, t0, str(e))
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
            except Exception as e:
                self._locate(e)
                self._finish(report, started, t0, str(e))
                raise
        self._finish(report, started, t0, None)
        return report

    def _locate(self, e: BaseException) -> None:
        """Put mailkeeper.yaml's FILE:LINE in front of the problems that name a key."""
        problems = getattr(e, "problems", None)
        if problems:
            lines = key_lines(self.settings.path)
            e.problems = [locate(self.settings.path, p, lines) for p in problems]  # type: ignore[attr-defined]

    def _finish(self, report: SyncReport, started: str, t0: float, error: str | None) -> None:
        report.error = error
        t1 = time.perf_counter()
        report.link = self.link_unlinked()  # what was committed before a failure too
        report.timings["link"] = time.perf_counter() - t1
        report.timings["total"] = time.perf_counter() - t0
        self.store.mail.set_warnings(report.account, report.warnings)
        self.store.mail.record_sync_run(report.account, started, report.new_messages, error)

    def _folders(self, mb: Mailbox, acct: Any, report: SyncReport) -> list[tuple[str, str]]:
        """(folder, role) to sync, found anew each time from the server's folder list (LIST
        is cheap), so a Sent folder created or re-created later is picked up. A configured
        extra folder the server does not have is a warning (shown by `status` until it is
        back or no longer configured): the other folders sync as usual."""
        found = mb.resolve_folders()
        missing_extra = [p for p in found.problems if p.startswith("extra folder ")]
        problems = [p for p in found.problems if p not in missing_extra]
        if problems:
            raise UserError(
                "folders in mailkeeper.yaml do not match the server",
                [f"account '{acct.name}': {p}" for p in problems],
            )
        for text in (*found.warnings, *missing_extra):
            report.warnings.append(text)
            logger.warning("%s: %s", acct.name, text)
        roles = found.roles
        out = [(roles["inbox"], "inbox")]
        if "sent" in roles:
            out.append((roles["sent"], "sent"))
        by_name = {name: role for role, name in roles.items() if role not in ("inbox", "sent")}
        seen = {n for n, _ in out}
        out += [(f, by_name.get(f, "extra")) for f in found.extra_folders if f not in seen]
        # A folder the configuration no longer names (an extra folder dropped, Sent renamed)
        # is no longer shown as if current; its entries stay, so the history is kept.
        self.store.mail.forget_folders(acct.name, [f for f, _ in out])
        # A folder the server no longer has (deleted or renamed in the rep's mail client)
        # holds none of its messages any more: its entries go, the messages stay. Only from a
        # listing that has the Inbox, so a failed or partial LIST never empties the record.
        if any(f.upper() == "INBOX" for f in found.folders):
            for folder in self.store.mail.drop_vanished_folders(acct.name, found.folders):
                logger.info("%s/%s: the folder is gone from the server", acct.name, folder)
        return out

    def _sync_folder(
        self, mb: Mailbox, account: str, folder: str, role: str, report: SyncReport
    ) -> None:
        """Bring one folder up to date."""
        mail = self.store.mail
        fr = report.folder(folder, role)
        t = time.perf_counter()
        st = mb.status(folder)
        state = mail.folder_state(account, folder)
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
            mail.reset_folder(account, folder, role, st.uidvalidity)
            state = mail.folder_state(account, folder)
        if state is None:  # pragma: no cover - reset_folder has just written it
            raise MailboxError(f"{account}/{folder}: folder state missing after reset")
        if state.role != role:
            mail.set_folder_role(account, folder, role)
        report.add_time("status", time.perf_counter() - t)
        nothing_new = st.uidnext is not None and state.uidnext == st.uidnext
        fetched_before = fr.fetched
        if nothing_new:
            if st.highestmodseq is not None and state.highestmodseq not in (None, st.highestmodseq):
                flags = mb.changed_flags(folder, state.highestmodseq)
                mail.update_flags(account, folder, st.uidvalidity, flags)
                fr.flags_updated += len(flags)
        else:
            self._fetch_folder(
                mb, account, folder, role, st.uidvalidity, state.last_uid, fr, report
            )
        fetched = fr.fetched - fetched_before
        expected = None if state.server_messages is None else state.server_messages + fetched
        if expected is None or st.messages < expected:  # something may have been deleted
            self._drop_vanished(mb, account, folder, st.uidvalidity, st.messages, fr)
        self._reread(mb, account, folder, role, st.uidvalidity)
        mail.mark_folder_synced(account, folder, st.uidnext, st.highestmodseq, st.messages)

    def _drop_vanished(
        self,
        mb: Mailbox,
        account: str,
        folder: str,
        uidvalidity: int,
        server: int,
        fr: FolderReport,
    ) -> None:
        """When the folder holds fewer messages on the server than entries here, ask for its
        UIDs (one UID SEARCH) and drop the entries of the messages that are gone. Called only
        when STATUS says the folder may have lost messages since the last sync."""
        mail = self.store.mail
        if mail.entry_count(account, folder, uidvalidity) <= server:
            return
        present = set(mb.all_uids(folder))
        gone = mail.entry_uids(account, folder, uidvalidity) - present
        if gone:
            mail.remove_entries(account, folder, uidvalidity, gone)
            fr.removed += len(gone)
            logger.info("%s/%s: %d message(s) no longer on the server", account, folder, len(gone))

    def _reread(self, mb: Mailbox, account: str, folder: str, role: str, uidvalidity: int) -> None:
        """Read again, once, the messages of this folder marked for it (stored with an empty
        text by an older version: see migrations.M011_REREAD_EMPTY_TEXT) and update their
        text in place."""
        mail = self.store.mail
        todo = mail.reread_uids(account, folder, uidvalidity)
        if not todo:
            return
        uids = sorted(todo)
        parser = Parser(0, self.party, role)
        step = self.settings.sync.batch_size
        batches = (mb.fetch_batch(folder, uids[i : i + step]) for i in range(0, len(uids), step))
        read = {}
        for batch, parsed in parser.run(batches):
            read.update({todo[f.uid]: r for f, r in zip(batch, parsed, strict=True) if r})
        mail.reread_done(read, todo.values())
        logger.info("%s/%s: %d message(s) read again for their text", account, folder, len(read))

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
    ) -> None:
        sync = self.settings.sync
        store = self.store
        t = time.perf_counter()
        uids = mb.new_uids(folder, last_uid)
        total = len(uids)
        large = total >= POOL_THRESHOLD
        parser = Parser((sync.workers or cores()) if large else 0, self.party, role)
        fetch_time = 0.0
        store_time = 0.0
        label = f"{account}/{folder}"

        def batches() -> Iterator[list[Fetched]]:
            nonlocal fetch_time
            step = sync.batch_size
            for i in range(0, total, step):
                tb = time.perf_counter()
                batch = mb.fetch_batch(folder, uids[i : i + step], uids[i + step : i + 2 * step])
                fetch_time += time.perf_counter() - tb
                if batch:
                    yield batch

        new = 0  # new messages in committed transactions
        pending = 0  # ... and in bulk mode's open one
        try:
            with store.bulk() if large else contextlib.nullcontext():
                if self.progress:
                    self.progress(label, 0, total)
                for batch, parsed in parser.run(batches()):
                    ts = time.perf_counter()
                    pairs = [(f, r) for f, r in zip(batch, parsed, strict=True) if r is not None]
                    rows = [r for _, r in pairs]
                    entries = [FolderEntry(f.uid, r.key, f.flags, f.internaldate) for f, r in pairs]
                    pending += len(
                        store.mail.save_batch(
                            account, folder, uidvalidity, rows, entries, max(f.uid for f in batch)
                        )
                    )
                    if not store.uncommitted:
                        new, pending = new + pending, 0
                    store_time += time.perf_counter() - ts
                    fr.fetched += len(rows)
                    if self.progress:
                        self.progress(label, fr.fetched, total)
            new, pending = new + pending, 0
        finally:
            parser.close()
            # what a rollback undid is not counted: the retry (or next sync) stores it again
            fr.new += new
            report.new_messages += new
            report.add_time("fetch", fetch_time)
            report.add_time("parse_cpu", parser.cpu)
            report.add_time("store", store_time)
            report.add_time("folders", time.perf_counter() - t)

    # ------------------------------------------------------------------ linking
    def link_unlinked(self) -> LinkStats:
        """Link every message stored since the last linking: this sync's, and those a killed
        or failed sync committed but never got to link."""
        state = self.store.state
        keys, last = self.store.mail.keys_after(state.linked_rowid())
        stats = link(self.store, self.settings, self.rules, keys)
        state.set_linked_rowid(last)
        return stats


def link(store: Store, settings: Any, rules: Any, keys: list[str] | None) -> LinkStats:
    """Link `keys` (None: a full relink). A changed customers.yaml forces a full relink."""
    linker = Linker(store, settings, rules)
    if keys is not None:
        keys = [*keys, *linker.newly_sent()]  # its copy in Sent shows the rep sent it
    if keys == [] and not linker.rules_changed():
        return LinkStats()
    return linker.link(keys)
