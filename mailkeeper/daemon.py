"""`mailkeeper daemon`: the long-running driver that keeps the database, the findings and the
drafts fresh, in the foreground (systemd, launchd, a container or a terminal).

Per account an Inbox watcher (mailbox/watch.py: IMAP IDLE on its own connection, a STATUS
poll where the server has no IDLE; for a local Maildir, the Inbox folder's modification
time) says when new mail came; the Inbox is then synced. Sent and the other folders are
synced every `daemon.folders_every_minutes`. After every sync that brought new mail, scan and
draft run; once a day at `daemon.daily_at` in the rep's time zone, the daily pass (scan and
draft: deadlines crossed overnight, neglect, order milestones).

Time: every timed job is computed here against an injectable clock (now() and wait()), so a
test can run a simulated day in seconds. The `schedule` package was the plan, but it reads
datetime.now() itself (an injected clock would mean patching the module for the whole
process), keeps times as the machine's naive local time, and needs pytz for a time zone; the
two kinds of job here (every N minutes; daily at a local time, DST-correct through zoneinfo)
take a few lines.

Errors: errors.classify, the sync's table. Permanent ones (unknown host, wrong password,
refused certificate, a database that cannot be written) are logged at once with the
mailkeeper.yaml line to fix, and retried slowly (backoff up to an hour); transient ones
(a lost or refused connection after a login, a server restarting) with exponential backoff
and jitter. SIGTERM / SIGINT: the current batch is rolled back (or was committed), the
connections log out, exit 0. SIGHUP: mailkeeper.yaml, the rules and the templates are read
again; a bad edit is logged with file:line and the old ones stay in force.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic as _monotonic
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from mailkeeper.app import App
from mailkeeper.check import template_problems
from mailkeeper.config.yamlreader import locate
from mailkeeper.errors import LockedError, MailkeeperError, classify
from mailkeeper.lock import daemon_lock
from mailkeeper.mailbox import watch
from mailkeeper.mailbox.watch import Backoff, InboxWatcher
from mailkeeper.store.health import PartHealth

logger = logging.getLogger(__name__)

__all__ = ["Daemon", "RealClock", "Tuning", "configure_logging", "next_daily", "unit_files"]


# ----------------------------------------------------------------------------- time
class Clock(Protocol):
    def now(self) -> datetime: ...  # aware, UTC

    def wait(self, events: queue.Queue[Any], seconds: float, woken: Callable[[], bool]) -> Any:
        """The next event, or None after `seconds` or as soon as `woken()` is true."""


class RealClock:
    # A signal handler only sets a flag (putting into the queue from a handler could deadlock
    # on the queue's own lock): the wait looks at it this often.
    TICK = 0.5

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, events: queue.Queue[Any], seconds: float, woken: Callable[[], bool]) -> Any:
        deadline = _monotonic() + max(0.0, seconds)
        while not woken():
            left = deadline - _monotonic()
            if left <= 0:
                return None
            try:
                return events.get(timeout=min(left, self.TICK))
            except queue.Empty:
                continue
        return None


def next_daily(after: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first moment after `after` when the rep's wall clock (zone `tz`) shows `at`, in UTC.
    A time that does not exist that day (a DST gap) runs at the same offset as before the
    change (02:30 becomes 03:30); a time that exists twice runs at its first occurrence."""
    local = after.astimezone(tz)
    day = local.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first occurrence
        utc = candidate.astimezone(UTC)
        if utc > after:
            return utc
        day += timedelta(days=1)
    raise AssertionError("unreachable: a daily time recurs within three days")  # pragma: no cover


@dataclass
class Tuning:
    """What tests shorten; the defaults are the daemon's own."""

    transient: tuple[float, float] = (2.0, 300.0)  # first retry, longest wait (seconds)
    permanent: tuple[float, float] = (60.0, 3600.0)  # "retried slowly: up to an hour"
    busy_retry: float = 10.0  # another process holds the sync lock: try again this soon
    lock_wait: float = 5.0  # ... after waiting this long for it
    idle_seconds: float | None = None  # None: daemon.idle_minutes from mailkeeper.yaml
    team_retry: float = 60.0  # a team database that was away is tried again after this


# ----------------------------------------------------------------------------- the daemon
class Stop(BaseException):
    """Raised by SIGTERM / SIGINT inside a sync or a scan: unwinds it (the open batch rolls
    back, the connection logs out). A BaseException, so `except Exception` lets it pass."""


@dataclass
class _Account:
    name: str
    kind: str  # imap | maildir
    next_full: datetime  # Inbox, Sent and the other folders
    inbox_due: bool = False  # the watcher saw a change
    retry_at: datetime | None = None  # after an error: nothing before this
    logged_in: bool = False  # has the daemon ever logged in to it (errors.classify)
    error: str | None = None  # the error that holds now (logged once, until it changes)
    transient: Backoff = field(default_factory=lambda: Backoff(2.0, 300.0))
    permanent: Backoff = field(default_factory=lambda: Backoff(60.0, 3600.0))
    stamp: tuple[Any, ...] = ()  # a Maildir Inbox's change stamp
    next_poll: datetime | None = None
    watch_error: str | None = None  # the watcher's failure that holds now (logged once)
    watch_at: datetime | None = None  # a watcher that died: the next one not before this
    watch_backoff: Backoff = field(default_factory=lambda: Backoff(2.0, 300.0))


class Daemon:
    """The daemon for the configuration at `config_path`. `run()` holds the daemon lock (one
    daemon per database) and returns 0 after stop() or a signal."""

    def __init__(
        self,
        config_path: Path,
        clock: Clock | None = None,
        tuning: Tuning | None = None,
        install_signals: bool = False,
    ) -> None:
        self.config_path = config_path
        self.clock: Clock = clock or RealClock()
        self.tuning = tuning or Tuning()
        self.install_signals = install_signals
        self.app = self._load_app()
        snapshot, problems = self._template_snapshot(self.app)
        for p in problems:  # drafted from as they are; `check` says the same
            logger.error("templates: %s", p)
        self.app.template_snapshot = snapshot
        # how each part last fared, for `status` (store/health.py: a file, not the database)
        self.health = PartHealth(self.app.settings.database)
        self.events: queue.Queue[Any] = queue.Queue()
        self.accounts: dict[str, _Account] = {}
        self.watchers: dict[str, InboxWatcher] = {}
        self.daily_due: datetime | None = None
        self.passes = 0  # scan + draft runs (tests count them)
        self._team_retry_at = datetime.min.replace(tzinfo=UTC)  # team push: after a failure
        self.syncs = 0
        self._stopping = False
        self._busy = False
        self._reload = False

    # ---- lifecycle
    def _load_app(self) -> App:
        app = App.from_config(self.config_path)
        app.retry_delays = ()  # a lost connection comes back here: the daemon's backoff waits
        app.lock_wait = self.tuning.lock_wait
        return app

    def _template_snapshot(self, app: App) -> tuple[Any, list[str]]:
        """The templates read into memory now, and their problems (syntax in any file; each
        kind rendered with its sample context, as `check` does)."""
        from mailkeeper.drafts.compose import TemplateSnapshot

        settings = app.settings
        problems = template_problems(settings.templates_dir)
        try:
            snapshot = TemplateSnapshot(settings.template_search_path)
        except (OSError, UnicodeDecodeError) as e:
            return None, [*problems, f"{settings.templates_dir}: cannot be read ({e})"]
        return snapshot, problems or snapshot.problems()

    def stop(self) -> None:
        """Ask the loop to end (thread-safe); a running sync finishes first."""
        self._stopping = True
        self.events.put(("stop", None, None))

    def reload(self) -> None:
        self._reload = True
        self.events.put(("reload", None, None))

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        self._stopping = True
        if self._busy:  # unwind the sync or scan at once: its open batch rolls back
            self._busy = False
            raise Stop

    def _on_hup(self, signum: int, frame: Any) -> None:
        self._reload = True

    def _take_lock(self) -> Any:
        """The daemon lock; LockedError (naming the running daemon) when another holds it.
        A lock file that cannot be made (a read-only or full disk) is logged and tried again
        slowly, until it can or the daemon is stopped (None)."""
        backoff = Backoff(*self.tuning.permanent)
        while not self._stopping:
            try:
                return daemon_lock(self.app.settings.database).acquire()
            except OSError as e:
                delay = backoff.next()
                logger.error(
                    "cannot write beside the database %s (%s): check `database:` in %s and the "
                    "disk; trying again in %.0fs", self.app.settings.database, e.strerror or e,
                    self.config_path, delay,
                )  # fmt: skip
                self._failed("sync", f"cannot write beside the database: {e.strerror or e}")
                self.clock.wait(self.events, delay, lambda: self._stopping)
        return None

    def run(self) -> int:
        if self.install_signals:
            signal.signal(signal.SIGTERM, self._on_stop_signal)
            signal.signal(signal.SIGINT, self._on_stop_signal)
            if hasattr(signal, "SIGHUP"):
                signal.signal(signal.SIGHUP, self._on_hup)
        lock = self._take_lock()
        if lock is None:
            return 0
        try:
            logger.info(
                "daemon started (pid %d) for %s; accounts: %s", os.getpid(),
                self.app.settings.database, ", ".join(self.app.settings.accounts) or "(none)",
            )  # fmt: skip
            self._setup_accounts()
            self._loop()
        except Stop:
            pass
        finally:
            if self._stopping:
                logger.info("stopping")
            self._stop_watchers()
            self._flush_health()
            self.app.close()
            lock.release()
            logger.info("daemon stopped")
        return 0

    def _setup_accounts(self) -> None:
        now = self.clock.now()
        settings = self.app.settings
        old = self.accounts
        self.accounts = {}
        for name, acct in settings.accounts.items():
            a = old.get(name) or _Account(name, acct.kind, next_full=now)
            a.kind = acct.kind
            a.transient = Backoff(*self.tuning.transient)
            a.watch_backoff = Backoff(*self.tuning.transient)
            a.permanent = Backoff(*self.tuning.permanent)
            self.accounts[name] = a
        self.daily_due = next_daily(now, settings.daemon.daily_at, settings.tz)
        logger.info("next daily pass at %s", _local(self.daily_due, settings.tz))

    # ---- the loop
    def _loop(self) -> None:
        while not self._stopping:
            if self._reload:
                self._reload = False
                self._do_reload()
            now = self.clock.now()
            for a in list(self.accounts.values()):
                if self._stopping:
                    return
                self._run_due(a, now)
            if self.daily_due is not None and self.clock.now() >= self.daily_due:
                self._daily_pass()
            self._start_watchers()
            if self._stopping:
                return
            self._flush_health()
            event = self.clock.wait(
                self.events, self._seconds_to_next(), lambda: self._stopping or self._reload
            )
            while event is not None:
                self._handle(event)
                try:
                    event = self.events.get_nowait()  # a burst of IDLE news: one sync
                except queue.Empty:
                    event = None
            self._flush_health()

    def _seconds_to_next(self) -> float:
        now = self.clock.now()
        times = [t for t in [self.daily_due] if t is not None]
        for a in self.accounts.values():
            if a.retry_at is not None:
                times.append(a.retry_at)
                continue
            times.append(a.next_full)
            if a.inbox_due:
                times.append(now)
            if a.next_poll is not None:
                times.append(a.next_poll)
            if a.watch_at is not None:
                times.append(a.watch_at)
        if not times:
            return 3600.0
        return max(0.0, min((t - now).total_seconds() for t in times))

    def _handle(self, event: tuple[str, str | None, BaseException | None]) -> None:
        kind, name, err = event
        a = self.accounts.get(name or "")
        if kind in (watch.CONNECTED, watch.CHANGED) and a is not None:
            a.logged_in = True
            a.inbox_due = True
            if kind == watch.CONNECTED:
                if a.watch_error is not None:
                    logger.warning("%s: Inbox watcher connected again", a.name,
                                   extra={"account": a.name})  # fmt: skip
                    a.watch_error = None
                a.watch_backoff.reset()
                self.health.ok("watcher", self._at())
        elif kind == watch.DIED and a is not None:
            w = self.watchers.get(a.name)
            if w is not None:
                w.join(1.0)  # it has ended, or ends right after its notice
            self._watcher_died(a, w)
        elif kind == watch.FAILED and a is not None and err is not None:
            text = _one_line(err)
            if text != a.watch_error:  # once per distinct failure; the retries are quiet
                self._report_error(a, err, "Inbox watcher", retry=False)
                a.watch_error = text
            self._failed("watcher", f"{a.name}: Inbox watcher: {text}")

    def _run_due(self, a: _Account, now: datetime) -> None:
        if a.retry_at is not None:
            if now < a.retry_at:
                return
            self._sync(a, None)  # after an error: everything again
            return
        if a.kind == "maildir" and (a.next_poll is None or now >= a.next_poll):
            a.next_poll = now + timedelta(seconds=self.app.settings.daemon.poll_every_seconds)
            stamp = watch.maildir_inbox_stamp(self.app.settings.accounts[a.name])
            if stamp != a.stamp:
                a.inbox_due = a.inbox_due or bool(a.stamp)
                a.stamp = stamp
        if now >= a.next_full:
            self._sync(a, None)
        elif a.inbox_due:
            self._sync(a, frozenset({"inbox"}))

    def _sync(self, a: _Account, roles: frozenset[str] | None) -> None:
        """Sync one account (`roles`: only those folders); scan and draft when mail came."""
        now = self.clock.now()
        if roles is None:
            every = self.app.settings.daemon.folders_every_minutes
            a.next_full = now + timedelta(minutes=every)
        a.inbox_due = False
        reports: list[Any] = []
        self._busy = True
        try:
            self.app.sync(a.name, reports=reports, roles=roles)
        except LockedError as e:
            self._busy = False
            logger.info("%s: %s; trying again in %.0fs", a.name, e.args[0],
                        self.tuning.busy_retry, extra={"account": a.name})  # fmt: skip
            a.retry_at = now + timedelta(seconds=self.tuning.busy_retry)
            return
        except Exception as e:  # noqa: BLE001 - every error is logged and retried
            self._busy = False
            self._report_error(a, e, "sync", retry=True)
            self._failed("sync", f"{a.name}: sync failed: {_one_line(e)}")
            self.app.close()  # the retry opens the database anew (it may be writable again)
            return
        finally:
            self._busy = False
        self.syncs += 1
        self.health.ok("sync", self._at())
        a.logged_in = True
        a.retry_at = None
        a.transient.reset()
        a.permanent.reset()
        if a.error is not None:
            logger.warning("%s: working again", a.name, extra={"account": a.name})
            a.error = None
        new = sum(r.new_messages for r in reports)
        for r in reports:
            if r.new_messages:
                folders = ", ".join(f"{f.name} +{f.new}" for f in r.folders if f.new)
                logger.info("%s: %d new message(s) (%s)", a.name, r.new_messages, folders,
                            extra={"account": a.name})  # fmt: skip
        if new:
            self._scan_and_draft("new mail")
        self._team_push()

    def _team_push(self) -> None:
        """With a team: section, publish what changed (team/push.py). The team database being
        away never stops local work: the outbox keeps everything and a later pass catches up
        (tried again after Tuning.team_retry seconds, not at every sync)."""
        if self.app.settings.team is None or self.clock.now() < self._team_retry_at:
            return
        try:
            r = self.app.team_push()
        except Exception as e:  # noqa: BLE001 - logged; the outbox keeps it for the next push
            retry = self.tuning.team_retry
            self._team_retry_at = self.clock.now() + timedelta(seconds=retry)
            logger.warning("team push failed (tried again in %.0fs): %s", retry, _one_line(e))
            return
        if r["published"]:
            logger.info("team push: %d change(s) published", r["published"])

    def _report_error(self, a: _Account, e: BaseException, what: str, retry: bool) -> None:
        kind = classify(e, a.logged_in)
        text = str(e.args[0]) if isinstance(e, MailkeeperError) and e.args else str(e)
        if not isinstance(e, MailkeeperError):
            text = f"{type(e).__name__}: {e}"
        path = self.app.settings.path
        problems = [locate(path, p) for p in getattr(e, "problems", []) or []]
        if retry:
            backoff = a.permanent if kind == "permanent" else a.transient
            delay = backoff.next()
            a.retry_at = self.clock.now() + timedelta(seconds=delay)
            when = f"; trying again in {delay:.0f}s"
        else:
            when = ""
        level = logging.ERROR if kind == "permanent" else logging.WARNING
        if text != a.error or not retry:
            # A new error: in full, with the mailkeeper.yaml line to fix. The same error
            # again (a retry) is one short line.
            for p in problems:
                logger.log(level, "%s: %s", a.name, p, extra={"account": a.name})
        logger.log(level, "%s: %s failed (%s): %s%s", a.name, what, kind, text, when,
                   extra={"account": a.name})  # fmt: skip
        if retry:
            a.error = text

    def _scan_and_draft(self, why: str) -> None:
        """Scan, then draft: each a part of its own in `status`."""
        now = self.clock.now()
        self._busy = True
        try:
            for part in ("scan", "draft"):
                try:
                    if part == "scan":
                        self.app.scan(now)
                    else:
                        report = self.app.draft(as_of=now, sync_first=False, scan_first=False)
                except LockedError as e:
                    logger.info("scan and draft: %s; next time", e.args[0])
                    return
                except Exception as e:  # noqa: BLE001 - logged; the next pass tries again
                    for p in list(getattr(e, "problems", []) or []):
                        logger.error("%s: %s", part, p)
                    logger.error("%s (%s) failed: %s", part, why, _one_line(e))
                    self._failed(part, f"{part} ({why}) failed: {_one_line(e)}")
                    return
                self.health.ok(part, self._at())
        finally:
            self._busy = False
        self.passes += 1
        added = report.get("added", [])
        logger.info(
            "scan and draft (%s): %d draft(s) added%s", why, len(added),
            "".join(f"; {d['kind']} to {d['to']}" for d in added[:5]),
        )  # fmt: skip
        for p in report.get("problems", []):
            logger.warning("draft: %s", p)

    # ---- status: how each part fared (store/health.py)
    def _at(self) -> str:
        return self.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _failed(self, part: str, text: str) -> None:
        self.health.failed(part, text, self._at())
        self._flush_health()

    def _flush_health(self) -> None:
        """Write the parts' record; where even the spare place cannot be written, the record
        stays in memory and the next flush tries again."""
        before = self.health.where
        where = self.health.flush()
        if where is not None and where != before and before is not None:
            logger.info("status is kept in %s", where)

    def _daily_pass(self) -> None:
        settings = self.app.settings
        logger.info("daily pass")
        self._scan_and_draft("daily pass")
        if settings.report_out is not None:  # report: {out: DIR} in mailkeeper.yaml
            try:
                logger.info("report site: %s", self.app.report(as_of=self.clock.now())["index"])
            except Exception as e:  # noqa: BLE001 - logged; the next daily pass tries again
                logger.error("report site failed: %s", _one_line(e))
        self._team_push()
        self.daily_due = next_daily(self.clock.now(), settings.daemon.daily_at, settings.tz)
        logger.info("next daily pass at %s", _local(self.daily_due, settings.tz))

    # ---- watchers
    def _start_watchers(self) -> None:
        """An Inbox watcher per IMAP account, once it has synced (so a large first sync is not
        slowed, the first connection is the sync's, and a wrong password is reported once)."""
        daemon = self.app.settings.daemon
        idle = self.tuning.idle_seconds or daemon.idle_minutes * 60.0
        for name, acct in self.app.settings.accounts.items():
            a = self.accounts[name]
            old = self.watchers.get(name)
            if old is not None and not old.is_alive() and not old.stopping:
                self._watcher_died(a, old)
            if a.watch_at is not None:
                if self.clock.now() < a.watch_at:
                    continue
                a.watch_at = None
            # after its first good sync: a permanent error is the sync's to report and retry
            if acct.kind != "imap" or name in self.watchers or not a.logged_in:
                continue
            w = InboxWatcher(
                acct, self._notify, idle, daemon.poll_every_seconds,
                transient=self.tuning.transient, permanent=self.tuning.permanent,
            )  # fmt: skip
            self.watchers[name] = w
            w.start()

    def _watcher_died(self, a: _Account, w: InboxWatcher | None) -> None:
        """Log and record a watcher thread that ended; another starts after a backoff."""
        if w is None or w.stopping or self.watchers.get(a.name) is not w:
            return
        delay = a.watch_backoff.next()
        a.watch_at = self.clock.now() + timedelta(seconds=delay)
        reason = w.error or "no reason given"
        logger.error("%s: the Inbox watcher stopped (%s); starting another in %.0fs", a.name,
                     reason, delay, extra={"account": a.name})  # fmt: skip
        self._failed("watcher", f"{a.name}: the Inbox watcher stopped: {reason}")
        del self.watchers[a.name]

    def _notify(self, kind: str, account: str, err: BaseException | None) -> None:
        self.events.put((kind, account, err))

    def _stop_watchers(self) -> None:
        for w in self.watchers.values():
            w.stop()
        for w in self.watchers.values():
            w.join(3.0)
        self.watchers = {}

    # ---- SIGHUP
    def _do_reload(self) -> None:
        """Read mailkeeper.yaml, the rules and the templates again. Anything wrong: every
        problem logged with file:line, and the running configuration stays."""
        try:
            app = self._load_app()
            snapshot, problems = self._template_snapshot(app)
        except MailkeeperError as e:
            for p in getattr(e, "problems", []) or []:
                logger.error("reload: %s", p)
            logger.error("reload refused: %s; the old configuration and rules stay in force",
                         e.args[0] if e.args else e)  # fmt: skip
            return
        if problems:
            app.close()
            for p in problems:
                logger.error("reload: %s", p)
            logger.error("reload refused: the templates have problems; the old ones stay")
            return
        self._stop_watchers()
        self.app.close()
        if app.settings.database != self.app.settings.database:
            self._flush_health()
            self.health = PartHealth(app.settings.database)
        app.template_snapshot = snapshot
        self.app = app
        self._setup_accounts()
        logger.info("reloaded %s, the rules and the templates", self.config_path)


def _one_line(e: BaseException) -> str:
    if isinstance(e, MailkeeperError) and e.args:
        return str(e.args[0])
    return f"{type(e).__name__}: {e}"


def _local(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


# ----------------------------------------------------------------------------- logging
class _Formatter(logging.Formatter):
    """One line per event: level, the rep's local time, the account, what happened; or one
    JSON object per line (`--log-format json`: level, time (ISO, local with its offset),
    account, logger, message)."""

    def __init__(self, tz: ZoneInfo, as_json: bool, now: Callable[[], datetime] | None) -> None:
        super().__init__()
        self.tz = tz
        self.as_json = as_json
        self.now = now

    def format(self, record: logging.LogRecord) -> str:
        when = self.now() if self.now else datetime.fromtimestamp(record.created, UTC)
        local = when.astimezone(self.tz)
        account = getattr(record, "account", None)
        message = record.getMessage()
        if account and message.startswith(f"{account}: "):
            message = message[len(account) + 2 :]
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        if self.as_json:
            return json.dumps(
                {"level": record.levelname, "time": local.isoformat(timespec="seconds"),
                 "account": account, "logger": record.name, "message": message},
                ensure_ascii=False,
            )  # fmt: skip
        return (f"{record.levelname:<7} {local.strftime('%Y-%m-%d %H:%M:%S%z')} "
                f"{account or '-'} {message.replace(chr(10), ' ')}")  # fmt: skip


def configure_logging(
    tz: ZoneInfo, log_format: str = "text", verbose: int = 0,
    now: Callable[[], datetime] | None = None, stream: Any = None,
) -> logging.Handler:  # fmt: skip
    """The daemon's log: stderr, one line per event: the daemon's own at INFO, the other
    modules' warnings and errors (-v: their INFO too, -vv: DEBUG). imapclient's own log stays
    at WARNING unless -vv (it redacts LOGIN, but says little of use)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter(tz, log_format == "json", now))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    # The daemon's own events at INFO; the steps' chatter (each connection, each folder) at -v.
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING)
    for name in (__name__, watch.__name__):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    logging.getLogger("imapclient").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger("filelock").setLevel(logging.WARNING)
    return handler


# ----------------------------------------------------------------------------- service files
SYSTEMD_UNIT = """\
[Unit]
Description=mailkeeper: keeps the mail database, findings and drafts fresh
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# systemd passes no login environment: a password_env variable is set here (mode 0600)
EnvironmentFile=-{env_file}
ExecStart={exe} -m mailkeeper --config {config} daemon
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=30
TimeoutStopSec=10

[Install]
WantedBy=default.target
"""

LAUNCHD_PLIST = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>com.mailkeeper.daemon</string>
  <key>ProgramArguments</key>
  <array>
    <string>{exe}</string><string>-m</string><string>mailkeeper</string>
    <string>--config</string><string>{config}</string><string>daemon</string>
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>StandardErrorPath</key><string>{log}</string>
</dict>
</plist>
"""


def unit_files(config: Path, platform: str | None = None) -> list[tuple[Path, str, str]]:
    """(path, content, how to start it) of the service file for this platform: a systemd user
    unit on Linux, a launchd agent on macOS."""
    from xml.sax.saxutils import escape

    platform = platform or sys.platform
    exe, home = sys.executable, Path.home()
    if platform == "darwin":
        path = home / "Library" / "LaunchAgents" / "com.mailkeeper.daemon.plist"
        log = home / "Library" / "Logs" / "mailkeeper.log"
        text = LAUNCHD_PLIST.format(
            exe=escape(exe), config=escape(str(config)), log=escape(str(log))
        )
        return [(path, text, f"launchctl load -w {path}")]
    config_dir = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    path = config_dir / "systemd" / "user" / "mailkeeper.service"
    quoted = '"' + str(config).replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = SYSTEMD_UNIT.format(exe=exe, config=quoted, env_file=env_file(config))
    how = "systemctl --user daemon-reload && systemctl --user enable --now mailkeeper"
    return [(path, text, how)]


def env_file(config: Path) -> Path:
    """Where the systemd unit reads the environment variables a `password_env` names."""
    return Path(config).absolute().parent / "mailkeeper.env"


def secret_env_names(settings: Any) -> dict[str, str]:
    """account -> the environment variable its password comes from (`password_env`)."""
    return {
        name: a.password_env
        for name, a in settings.accounts.items()
        if getattr(a, "password_env", None)
    }


def install_unit(
    config: Path, platform: str | None = None, settings: Any = None
) -> list[tuple[Path, str]]:
    """Write the service file(s); returns (path, how to start it). With `settings` whose
    accounts use `password_env`, also the systemd unit's environment file (mode 0600, never
    overwritten: it holds the secret), with a commented line per variable for the rep to fill."""
    from mailkeeper.files import write_atomic

    out = []
    for path, text, how in unit_files(config, platform):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode(), mode=0o644)
        out.append((path, how))
    names = secret_env_names(settings) if settings is not None else {}
    env = env_file(config)
    if names and (platform or sys.platform) != "darwin" and not env.exists():
        lines = ["# mailkeeper daemon (systemd): one NAME=value per line; keep this file 0600"]
        lines += [f"# {var}=the password of account {acct}" for acct, var in names.items()]
        write_atomic(env, ("\n".join(lines) + "\n").encode(), mode=0o600)
        out.append((env, f"put the password in it: {', '.join(sorted(set(names.values())))}"))
    return out


def unit_warnings(settings: Any, config: Path, platform: str | None = None) -> list[str]:
    """What the rep must do so the service gets its secrets: a service does not see the
    variables set in a login shell."""
    out = []
    for acct, var in secret_env_names(settings).items():
        if (platform or sys.platform) == "darwin":
            out.append(
                f"account {acct} reads its password from ${var}, which a launchd agent does not "
                "see: use `keyring: true` or a password_command in mailkeeper.yaml"
            )
        else:
            out.append(
                f"account {acct} reads its password from ${var}, which systemd does not pass "
                f"on: set `{var}=...` in {env_file(config)} (mode 0600; the unit reads it)"
            )
    return out
