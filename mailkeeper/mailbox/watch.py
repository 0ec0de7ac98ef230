"""Watching an Inbox for new mail, for the daemon: IMAP IDLE on a connection of its own (or a
poll where the server has no IDLE), and a cheap change stamp of a local Maildir's Inbox.

The IDLE connection is a plain one from `imapconn.connect`, never the sync's pipelined one;
the folder is opened read-only (EXAMINE), and the only commands sent are SELECT/EXAMINE,
IDLE/DONE, NOOP and LOGOUT: watching changes nothing in the mailbox. The watcher
only says *that* something changed; the sync engine then fetches it.
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mailkeeper.config import secrets
from mailkeeper.errors import ConnectionLost, classify
from mailkeeper.mailbox import imapconn
from mailkeeper.mailbox.imapconn import NETWORK_ERRORS

logger = logging.getLogger(__name__)

__all__ = ["Backoff", "InboxWatcher", "maildir_inbox_stamp"]

# What an IDLE answer means for us: mail came or went (flag changes wait for the timed sync).
_CHANGES = {b"EXISTS", b"EXPUNGE"}
# How often a waiting watcher looks at its stop flag: a stop takes at most this long.
_TICK = 1.0
# imapclient's idle_check swallows an EOF and returns nothing at once: a socket that polls
# readable yet gives nothing this many times in a row is closed (else the loop spins at full
# CPU on a CLOSE-WAIT socket and never notices). Linux says so directly (POLLRDHUP).
_EMPTY_READS = 3
_HUNG_UP = (
    select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)
    if hasattr(select, "poll")
    else 0
)


class Backoff:
    """Exponential backoff with jitter: first, 2*first, 4*first ... up to `maximum`, each
    drawn between half and the whole of that step (so many daemons do not retry in step)."""

    def __init__(self, first: float, maximum: float, rng: random.Random | None = None) -> None:
        self.first = first
        self.maximum = maximum
        self.tries = 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        step = min(self.maximum, self.first * (2 ** min(self.tries, 30)))
        self.tries += 1
        return step * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.tries = 0


# Event kinds an InboxWatcher reports: (kind, account name, error or None).
CONNECTED = "connected"  # logged in (again): anything may have come while it was away
CHANGED = "changed"  # the Inbox gained or lost messages
FAILED = "failed"  # the connection failed; the watcher retries by itself
DIED = "died"  # the watcher thread ended by an unexpected error: nothing watches any more
Notify = Callable[[str, str, BaseException | None], None]


class InboxWatcher(threading.Thread):
    """Waits for changes of one IMAP account's Inbox on its own connection and reports them.

    With IDLE (RFC 2177) the wait is re-issued every `idle_seconds` (servers may end an IDLE
    after 30 minutes); without it a NOOP every `poll_seconds` asks. A lost
    connection is reported and retried with backoff: soon for a transient error, slowly for a
    permanent one (errors.classify, the same table as the sync's). `stop()` ends it within
    about a second, with a LOGOUT."""

    def __init__(
        self,
        account: Any,  # config.AccountConfig
        notify: Notify,
        idle_seconds: float,
        poll_seconds: float,
        transient: tuple[float, float] = (2.0, 300.0),
        permanent: tuple[float, float] = (60.0, 3600.0),
    ) -> None:
        super().__init__(name=f"watch-{account.name}", daemon=True)
        self.account = account
        self.notify = notify
        self.idle_seconds = idle_seconds
        self.poll_seconds = poll_seconds
        self.inbox = account.folders.get("inbox", "INBOX")
        self.transient = Backoff(*transient)
        self.permanent = Backoff(*permanent)
        self.logged_in = False  # has this watcher ever logged in (errors.classify)
        self.idle = False  # whether the server offered IDLE at the last login
        self.sockname: tuple[str, int] | None = None  # the watching connection's local end
        self.error: str | None = None  # the failure that holds now (logged once)
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    @property
    def stopping(self) -> bool:
        return self._halt.is_set()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as e:  # noqa: BLE001 - the thread ends here either way
            # A watcher that dies says so (the daemon records it and starts another).
            self.error = f"{type(e).__name__}: {e}"
            self.notify(DIED, self.account.name, e)

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                self._watch()
            except Exception as e:  # noqa: BLE001 - reported, then retried
                if self._halt.is_set():
                    break
                err = (
                    e
                    if not isinstance(e, NETWORK_ERRORS)
                    else ConnectionLost(
                        f"{self.account.name}: the watching connection was lost: {e}"
                    )
                )
                kind = classify(err, self.logged_in)
                delay = (self.permanent if kind == "permanent" else self.transient).next()
                # The daemon logs each distinct failure once (and records it for `status`);
                # here only the retries' detail.
                self.error = f"{type(e).__name__}: {e}"
                self.notify(FAILED, self.account.name, err)
                logger.debug(
                    "%s: Inbox watcher: %s (%s); reconnecting in %.0fs", self.account.name,
                    self.error, kind, delay, extra={"account": self.account.name},
                )  # fmt: skip
                self._halt.wait(delay)

    def _connect(self) -> Any:
        return imapconn.connect(self.account, **secrets.login_callables(self.account))

    def _watch(self) -> None:
        client = self._connect()
        try:
            self.logged_in = True
            client.select_folder(self.inbox, readonly=True)  # EXAMINE
            self.idle = client.has_capability("IDLE")
            self.sockname = client.socket().getsockname()[:2]
            self.transient.reset()
            self.permanent.reset()
            self.error = None
            self.notify(CONNECTED, self.account.name, None)
            if self.idle:
                self._idle_loop(client)
            else:
                self._poll_loop(client)
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - a dead connection needs no goodbye
                try:
                    client.shutdown()
                except Exception:  # noqa: BLE001
                    pass

    def _idle_loop(self, client: Any) -> None:
        while not self._halt.is_set():
            client.idle()
            started = time.monotonic()
            changed = False
            empty = 0
            while not self._halt.is_set() and time.monotonic() - started < self.idle_seconds:
                left = self.idle_seconds - (time.monotonic() - started)
                wait = max(0.05, min(_TICK, left))
                began = time.monotonic()
                responses = client.idle_check(timeout=wait)
                if any(len(r) > 1 and r[1] in _CHANGES for r in responses):
                    changed = True
                    break
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ConnectionLost(f"{self.account.name}: the server said goodbye")
                # nothing read although the wait ended early: the socket was readable
                quick = not responses and time.monotonic() - began < wait / 2
                empty = empty + 1 if quick else 0
                if empty >= _EMPTY_READS or _hung_up(client):
                    raise ConnectionLost(f"{self.account.name}: the server closed the connection")
            # News that came with DONE's answer is news too (else it waits for the timed sync).
            _, responses = client.idle_done()
            changed = changed or any(len(r) > 1 and r[1] in _CHANGES for r in responses)
            if changed:
                self.notify(CHANGED, self.account.name, None)

    def _poll_loop(self, client: Any) -> None:
        """Without IDLE: a NOOP every poll_seconds, which answers with what changed."""
        next_at = time.monotonic() + self.poll_seconds
        while not self._halt.is_set():
            if time.monotonic() < next_at:
                self._halt.wait(min(_TICK, next_at - time.monotonic()))
                continue
            next_at = time.monotonic() + self.poll_seconds
            _, responses = client.noop()
            if any(len(r) > 1 and r[1] in _CHANGES for r in responses):
                self.notify(CHANGED, self.account.name, None)


def _hung_up(client: Any) -> bool:
    """Whether the peer closed the connection (Linux: POLLRDHUP; elsewhere: False, and the
    empty-read count notices)."""
    if not _HUNG_UP:
        return False
    try:
        poller = select.poll()
        poller.register(client.socket().fileno(), _HUNG_UP)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def maildir_inbox_stamp(account: Any) -> tuple[tuple[str, int], ...]:
    """What changes when mail arrives in a local Maildir's Inbox: the modification times of
    its new/ and cur/ folders (a file added, renamed or removed changes its folder's). Covers
    Maildir++ (the root is the Inbox) and mbsync's Verbatim layout (INBOX/ below the root),
    and a configured `folders: {inbox: ...}`. Reads directory metadata only."""
    root = Path(account.maildir).expanduser()
    names = {"INBOX", "Inbox", "inbox"}
    if account.folders.get("inbox"):
        name = account.folders["inbox"]
        names |= {name, "." + name.replace("/", ".")}
    stamp = []
    for base in [root, *(root / n for n in sorted(names))]:
        for sub in ("new", "cur"):
            try:
                stamp.append((str(base / sub), os.stat(base / sub).st_mtime_ns))
            except OSError:
                continue
    return tuple(stamp)
