"""`mailkeeper daemon` (issue 13): the timed jobs against an injected clock, the Inbox
watcher against the real Dovecot, and the faults it must survive.

In-process daemons run in a thread with short backoffs (Tuning) and a config of one-minute
folder syncs; a simulated day runs in seconds on a FakeClock. Signals are tested on a real
`python -m mailkeeper daemon` process.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import BIRCH, ME, MaildirBox, make_mail, write_config
from cutproxy import CutProxy
from imapclient import IMAPClient

from mailkeeper.app import App
from mailkeeper.config import settings as config_mod
from mailkeeper.daemon import Daemon, Tuning, configure_logging, next_daily, unit_files
from mailkeeper.errors import LockedError
from mailkeeper.lock import daemon_lock, sync_lock
from mailkeeper.mailbox.watch import Backoff

FAST = Tuning(transient=(0.2, 1.0), permanent=(0.5, 2.0), busy_retry=0.5, lock_wait=1.0,
              idle_seconds=3.0)  # fmt: skip
DAEMON_FAST = "daemon:\n  folders_every_minutes: 1\n  poll_every_seconds: 1\n"
ISSUE = "Two chairs arrived broken. Could you send replacements this week?"


# ----------------------------------------------------------------------------- helpers
class FakeClock:
    """Simulated time: wait() jumps to the next due time at once (after a real glance at the
    queue, for the IMAP watcher's news), running `actions` (time, fn) on the way, and stops
    the daemon at `end`."""

    def __init__(self, start: datetime, end: datetime, real_glance: float = 0.0) -> None:
        self.t = start
        self.end = end
        self.real_glance = real_glance
        self.actions: list[tuple[datetime, Callable[[], None]]] = []
        self.daemon: Daemon | None = None

    def now(self) -> datetime:
        return self.t

    def wait(self, events: queue.Queue[Any], seconds: float, woken: Callable[[], bool]) -> Any:
        try:
            return events.get(timeout=self.real_glance) if self.real_glance else events.get_nowait()
        except queue.Empty:
            pass
        target = self.t + timedelta(seconds=seconds)
        self.actions.sort(key=lambda a: a[0])
        if self.actions and self.actions[0][0] <= target:
            when, fn = self.actions.pop(0)
            self.t = max(self.t, when)
            fn()
            return None
        if target >= self.end:
            self.t = self.end
            assert self.daemon is not None
            self.daemon.stop()
            return None
        self.t = target
        return None


@contextlib.contextmanager
def running(cfg: Path, clock: Any = None, tuning: Tuning = FAST) -> Iterator[Daemon]:
    """A daemon in a thread for the duration; it must stop cleanly and not have crashed."""
    d = Daemon(cfg, clock=clock, tuning=tuning)
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(d.run())
        except BaseException as e:  # noqa: BLE001 - reported below
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield d
    finally:
        if clock is None:
            d.stop()
        t.join(40)
        assert not t.is_alive(), "the daemon did not stop"
        assert result == [0], result


def wait_until(pred: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    assert pred(), "timed out"


def q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def subjects(db: Path) -> list[str]:
    return sorted(r[0] for r in q(db, "SELECT subject FROM messages"))


def entries(db: Path, folder: str = "INBOX") -> list[tuple[Any, ...]]:
    return q(db, f"SELECT uid, message_key FROM folder_messages WHERE folder = '{folder}'")


def put(imap: Any, folder: str, raw: bytes, flags: str = "") -> None:
    """Deliver as a mail server does while the daemon reads: written into tmp/, then renamed
    into cur/ (a file written in place can be read half-written: a NULL Message-ID)."""
    import uuid

    from dovecot import MAIL_GID, MAIL_UID

    d = imap.folder_dir(folder, user=imap.user)
    if not (d / "cur").exists():
        imap.create_folder(folder, user=imap.user)
    name = f"{time.time():.6f}.{uuid.uuid4().hex}.mk"
    tmp = d / "tmp" / name
    tmp.write_bytes(raw)
    os.chown(tmp, MAIL_UID, MAIL_GID)
    os.rename(tmp, d / "cur" / f"{name}:2,{''.join(sorted(flags))}")


def deliver(imap: Any, n: int, start: int = 0, folder: str = "INBOX", tag: str = "m") -> None:
    for i in range(start, start + n):
        put(imap, folder, make_mail(f"buyer{i % 5}@birch.co.uk", ME, f"{tag} {i}",
                                       f"Line {i}\n" + "On schedule. " * 30,
                                       msgid=f"<{tag}{i}@birch.co.uk>"))  # fmt: skip


def imap_config(tmp_path: Path, imap: Any, port: int | None = None, extra: str = "") -> Path:
    cfg = write_config(tmp_path / "cfg", imap, imap.user, BIRCH, extra_account=extra + DAEMON_FAST)
    if port is not None:
        cfg.write_text(cfg.read_text().replace(f"port: {imap.port}", f"port: {port}"))
    return cfg


def server_flags(imap: Any) -> dict[tuple[str, int], tuple[bytes, ...]]:
    """Every message's flags on the server, folder by folder, read with EXAMINE."""
    c = IMAPClient("127.0.0.1", port=imap.port, ssl=False)
    c.login(imap.user, "secret")
    out = {}
    try:
        for _, _, name in c.list_folders():
            c.select_folder(name, readonly=True)
            for uid, data in c.fetch(c.search(["ALL"]) or [], ["FLAGS"]).items():
                out[(name, uid)] = tuple(sorted(data[b"FLAGS"]))
    finally:
        c.logout()
    return out


# ----------------------------------------------------------------------------- time
def test_next_daily_is_the_reps_local_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 07:30 in Berlin is 06:30 UTC in winter, 05:30 UTC in summer
    assert next_daily(datetime(2027, 1, 5, 7, 0, tzinfo=UTC), dtime(7, 30), berlin) == datetime(
        2027, 1, 6, 6, 30, tzinfo=UTC
    )
    before = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # DST starts in the night to 28 March
    assert next_daily(before, dtime(7, 30), berlin) == datetime(2027, 3, 28, 5, 30, tzinfo=UTC)
    # 02:30 does not exist on 28 March in Berlin: it runs at 03:30 local
    gap = next_daily(before, dtime(2, 30), berlin)
    assert gap.astimezone(berlin).hour == 3 and gap.astimezone(berlin).day == 28
    shanghai = ZoneInfo("Asia/Shanghai")
    assert next_daily(datetime(2026, 12, 1, 0, 0, tzinfo=UTC), dtime(7, 30), shanghai) == (
        datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    )


def test_backoff_grows_with_jitter_up_to_its_limit() -> None:
    b = Backoff(2.0, 60.0)
    waits = [b.next() for _ in range(10)]
    assert 1.0 <= waits[0] <= 2.0 and 2.0 <= waits[1] <= 4.0
    assert all(30.0 <= w <= 60.0 for w in waits[6:])
    b.reset()
    assert b.next() <= 2.0


def test_daemon_keys_are_checked_with_their_line_and_listed_in_init(tmp_path: Path) -> None:
    cfg = MaildirBox(tmp_path / "Mail").config(tmp_path / "cfg", BIRCH)
    template = (tmp_path / "cfg" / "mailkeeper.yaml").read_text()
    text = cfg.read_text() + 'daemon:\n  daily_at: "7h"\n  poll_every_seconds: 0\n  idle: 5\n'
    cfg.write_text(text)
    problems = config_mod.check(cfg)
    assert any(":5" in p or "daily_at" in p for p in problems)
    assert any(p.endswith('expected HH:MM, e.g. "09:00" or "18:30"') for p in problems)
    assert any("poll_every_seconds is 0" in p for p in problems)
    assert any("unknown key 'idle'" in p for p in problems)
    assert all(p.startswith(f"{cfg}:") for p in problems)
    from mailkeeper.config.defaults import CONFIG_TEMPLATE

    for key in ("daily_at", "folders_every_minutes", "poll_every_seconds", "idle_minutes"):
        assert f"#   {key}:" in CONFIG_TEMPLATE
    del template


def test_install_unit_writes_systemd_and_launchd_files(tmp_path: Path) -> None:
    cfg = MaildirBox(tmp_path / "Mail").config(tmp_path / "cfg", BIRCH)
    r = subprocess.run([sys.executable, "-m", "mailkeeper", "--config", str(cfg), "daemon",
                        "--install-unit"], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / "mailkeeper.service"
    text = unit.read_text()
    assert f'--config "{cfg}" daemon' in text and "ExecReload=/bin/kill -HUP" in text
    assert "systemctl --user enable --now mailkeeper" in r.stdout
    [(plist, content, how)] = unit_files(cfg, platform="darwin")
    assert plist.name == "com.mailkeeper.daemon.plist" and "<string>daemon</string>" in content
    assert how.startswith("launchctl load")


# ----------------------------------------------------------------------------- a simulated day
def test_a_simulated_day_on_a_maildir_runs_each_job_when_due(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Mail")
    day = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Broken chairs", ISSUE, date=day))
    box.folder_dir("Sent")
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", BIRCH)
    cfg.write_text(cfg.read_text() + 'daemon:\n  daily_at: "07:30"\n')
    before = {p: p.read_bytes() for p in (tmp_path / "Mail").rglob("*") if p.is_file()}
    clock = FakeClock(day, day + timedelta(days=1, hours=1))
    late = day + timedelta(hours=3, minutes=5)  # between two full syncs: the Inbox poll sees it

    def arrive() -> None:
        raw = make_mail("tom@birch.co.uk", ME, "Quotation?", "Could you send it?", date=late)
        before[box.deliver("INBOX", raw)] = raw

    clock.actions.append((late, arrive))
    t0 = time.monotonic()
    d = Daemon(cfg, clock=clock, tuning=FAST)
    clock.daemon = d
    assert d.run() == 0
    assert time.monotonic() - t0 < 30
    # every 15 minutes a full sync (100 in 25 hours), plus the Inbox sync of the 11:05 mail
    assert d.syncs == 101
    # scan + draft after each sync with new mail (2), and the daily pass at 07:30 local (1)
    assert d.passes == 3
    db = tmp_path / "cfg" / "mailkeeper.db"
    assert subjects(db) == ["Broken chairs", "Quotation?"]
    assert {r[0] for r in q(db, "SELECT kind FROM drafts")} == {"issue_ack"}
    # the Maildir is exactly as it was, apart from the drafts added to Drafts
    after = {p: p.read_bytes() for p in (tmp_path / "Mail").rglob("*") if p.is_file()}
    added = set(after) - set(before)
    # one answer per contact: the 11:05 question from tom waits behind the answer to him
    # already in Drafts (the rep's reply to tom acknowledges both)
    assert all(".Drafts" in str(p) for p in added) and len(added) == 1
    assert all(after.get(p) == before[p] for p in before)


def test_the_log_is_one_line_per_event_with_local_time_account_and_json(tmp_path: Path) -> None:
    import io

    box = MaildirBox(tmp_path / "Mail")
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Hello", "Fine, thanks."))
    cfg = box.config(tmp_path / "cfg", BIRCH)
    day = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    clock = FakeClock(day, day + timedelta(hours=1))
    d = Daemon(cfg, clock=clock, tuning=FAST)
    clock.daemon = d
    out = io.StringIO()
    handler = configure_logging(d.app.settings.tz, "json", now=clock.now, stream=out)
    try:
        assert d.run() == 0
    finally:
        import logging

        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines and all(set(x) == {"level", "time", "account", "logger", "message"} for x in lines)
    assert lines[0]["time"] == "2026-12-01T08:00:00+08:00"  # the rep's zone, Asia/Shanghai
    synced = [x for x in lines if x["message"].startswith("1 new message")]
    assert synced and synced[0]["account"] == "work"


# ----------------------------------------------------------------------------- IMAP
@pytest.mark.imap
def test_idle_brings_new_mail_in_within_seconds_and_status_shows_the_daemon(
    tmp_path: Path, imap: Any
) -> None:
    deliver(imap, 3)
    imap.index(imap.user)
    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"
    with running(cfg) as d:
        wait_until(lambda: len(subjects(db)) == 3)
        wait_until(lambda: "work" in d.watchers and d.watchers["work"].idle)
        time.sleep(0.3)  # the watcher is in IDLE
        t = time.monotonic()
        put(imap, "INBOX", make_mail("tom@birch.co.uk", ME, "Broken chairs", ISSUE))
        wait_until(lambda: "Broken chairs" in subjects(db), 10)
        assert time.monotonic() - t < 5  # IDLE, not the one-minute folder sync
        wait_until(lambda: q(db, "SELECT COUNT(*) FROM drafts")[0][0] == 1, 20)
        with App.from_config(cfg) as app:
            s = app.status()
        assert s["daemon"] == {"running": True, "pid": os.getpid(), "since": s["daemon"]["since"]}
        assert s["open_findings"] >= 1 and s["pending_drafts"] == 1
        inbox = next(f for f in s["accounts"][0]["folders"] if f["role"] == "inbox")
        assert inbox["last_sync_at"] and inbox["messages"] == 4
        # one daemon per database: the refusal names this one
        with pytest.raises(LockedError, match=f"pid {os.getpid()}"):
            Daemon(cfg, tuning=FAST).run()
    with App.from_config(cfg) as app:
        assert app.status()["daemon"]["running"] is False


@pytest.mark.imap
def test_idle_is_reissued_and_without_idle_the_inbox_is_polled(
    tmp_path: Path, imap: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"
    short = Tuning(**{**FAST.__dict__, "idle_seconds": 0.5})
    with running(cfg, tuning=short):
        time.sleep(1.5)  # IDLE re-issued twice or more
        deliver(imap, 1, tag="after-reissue")
        wait_until(lambda: subjects(db) == ["after-reissue 0"], 10)
    # a server without IDLE: STATUS every poll_every_seconds
    orig = IMAPClient.has_capability
    monkeypatch.setattr(
        IMAPClient,
        "has_capability",
        lambda self, cap: False if cap.upper() == "IDLE" else orig(self, cap),
    )
    with running(cfg) as d:
        wait_until(lambda: "work" in d.watchers and d.watchers["work"].logged_in)
        time.sleep(0.3)
        deliver(imap, 1, tag="polled")
        wait_until(lambda: "polled 0" in subjects(db), 10)
        assert d.watchers["work"].idle is False


@pytest.mark.imap
def test_connection_cut_during_idle_and_mid_fetch_loses_and_doubles_nothing(
    tmp_path: Path, imap: Any
) -> None:
    deliver(imap, 600)
    imap.index(imap.user)
    # the first connection (the first sync's) is cut after 200 KB: in the middle of a FETCH
    with CutProxy(imap.port, cut_after=200_000) as proxy:
        cfg = imap_config(tmp_path, imap, port=proxy.port)
        db = tmp_path / "cfg" / "mailkeeper.db"
        with running(cfg) as d:
            # the cut sync reconnects after its retry wait: allow for a busy machine
            wait_until(lambda: len(entries(db)) == 600, 90)
            assert proxy.cuts >= 1
            wait_until(lambda: "work" in d.watchers and d.watchers["work"].idle)
            time.sleep(0.3)
            assert proxy.cut_all() >= 1  # the IDLE connection drops
            deliver(imap, 5, start=600)
            wait_until(lambda: len(entries(db)) == 605, 20)
            proxy.cut_all()
            deliver(imap, 5, start=605)
            wait_until(lambda: len(entries(db)) == 610, 20)
    assert q(db, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [(610, 610)]
    rows = entries(db)
    assert len({uid for uid, _ in rows}) == len(rows) == 610


@pytest.mark.imap
def test_server_restart_uidvalidity_change_and_a_deleted_folder(tmp_path: Path, imap: Any) -> None:
    deliver(imap, 4)
    deliver(imap, 2, folder="Archive", tag="arch")
    imap.index(imap.user)
    cfg = imap_config(tmp_path, imap, extra="    extra_folders: [Archive]\n")
    db = tmp_path / "cfg" / "mailkeeper.db"
    with running(cfg) as d:
        wait_until(lambda: len(subjects(db)) == 6)
        wait_until(lambda: "work" in d.watchers and d.watchers["work"].idle)
        imap.restart()
        deliver(imap, 2, start=4)
        wait_until(lambda: len(subjects(db)) == 8, 30)
        # UIDVALIDITY changes under the running daemon: the folder is resynced, no duplicate
        imap.reset_uidvalidity("INBOX", user=imap.user)
        deliver(imap, 1, start=6)
        wait_until(lambda: len(entries(db)) == 7 and len(subjects(db)) == 9, 90)
        # the watched extra folder is deleted: a warning, the rest goes on
        import shutil

        shutil.rmtree(imap.folder_dir("Archive", user=imap.user))
        deliver(imap, 1, start=7)
        wait_until(lambda: len(entries(db)) == 8, 30)
        warned = lambda: q(db, "SELECT warning FROM account_warnings")  # noqa: E731
        wait_until(lambda: any("Archive" in w for (w,) in warned()), 90)
    assert q(db, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [(10, 10)]


@pytest.mark.imap
def test_a_simulated_day_against_dovecot_changes_no_flag(tmp_path: Path, imap: Any) -> None:
    day = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    for i, flags in enumerate(["", "S", "SF", "R", "S"]):
        imap.deliver("INBOX", make_mail("tom@birch.co.uk", ME, f"Mail {i}", ISSUE, date=day),
                     user=imap.user, flags=flags)  # fmt: skip
    imap.deliver("Sent", make_mail(ME, "tom@birch.co.uk", "Re: Mail 0", "Here you are."),
                 user=imap.user, flags="S")  # fmt: skip
    imap.index(imap.user)
    before = server_flags(imap)
    cfg = imap_config(tmp_path, imap)
    cfg.write_text(cfg.read_text().replace("folders_every_minutes: 1", "folders_every_minutes: 30"))
    clock = FakeClock(day, day + timedelta(days=1), real_glance=0.002)
    noon = day + timedelta(hours=4)
    clock.actions.append(
        (
            noon,
            lambda: put(imap, "INBOX", make_mail("tom@birch.co.uk", ME, "Noon", ISSUE, date=noon)),
        )
    )
    d = Daemon(cfg, clock=clock, tuning=FAST)
    clock.daemon = d
    t0 = time.monotonic()
    assert d.run() == 0
    assert time.monotonic() - t0 < 60
    after = server_flags(imap)
    assert d.passes >= 2 and len(subjects(tmp_path / "cfg" / "mailkeeper.db")) == 7
    assert {k: v for k, v in after.items() if k in before} == before
    added = sorted(folder for folder, _ in after if (folder, _) not in before)
    assert added == ["Drafts"] * (len(added) - 1) + ["INBOX"]  # the drafts, and the noon mail


@pytest.mark.imap
def test_mail_arriving_while_scan_and_draft_run_is_all_stored_once(
    tmp_path: Path, imap: Any
) -> None:
    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"
    with running(cfg) as d:
        wait_until(lambda: "work" in d.watchers and d.watchers["work"].idle)
        for i in range(40):  # each arrival starts a sync, then scan and draft
            put(imap, "INBOX", make_mail(f"buyer{i}@birch.co.uk", ME, f"Complaint {i}", ISSUE,
                                         msgid=f"<c{i}@birch.co.uk>"))  # fmt: skip
            time.sleep(0.05)
        wait_until(lambda: len(entries(db)) == 40, 30)
        wait_until(lambda: d.passes >= 2)
    rows = q(db, "SELECT message_id, subject, key, direction FROM messages ORDER BY subject")
    assert q(db, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [(40, 40)], rows


# ----------------------------------------------------------------------------- errors
@pytest.mark.imap
def test_permanent_errors_are_logged_with_their_line_retried_and_shown_in_status(
    tmp_path: Path, imap: Any, caplog: pytest.LogCaptureFixture
) -> None:
    deliver(imap, 2)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, BIRCH,
                       extra_account=DAEMON_FAST, password="wrong")  # fmt: skip
    cfg.write_text(cfg.read_text().replace("printf '%s' 'wrong'", "false"))
    db = tmp_path / "cfg" / "mailkeeper.db"
    caplog.set_level("INFO")
    with running(cfg):
        wait_until(lambda: "password_command" in caplog.text and "trying again" in caplog.text)
        wait_until(lambda: caplog.text.count("sync failed (permanent)") >= 2, 10)  # retried
        with App.from_config(cfg) as app:
            s = app.status()
        assert s["last_error"] and "password" in s["last_error"] and s["last_error_at"]
    assert f"{cfg}:" in caplog.text  # the line to fix
    # connection refused before any login: permanent, with the port's line
    caplog.clear()
    cfg.write_text(cfg.read_text().replace("false", "printf '%s' 'secret'")
                   .replace(f"port: {imap.port}", "port: 1"))  # fmt: skip
    with running(cfg):
        wait_until(lambda: "refused the connection" in caplog.text and "port" in caplog.text)
    # an untrusted certificate: the ca_file / host line
    caplog.clear()
    cfg.write_text(
        cfg.read_text()
        .replace("port: 1", f"port: {imap.ssl_port}")
        .replace("tls: none", "tls: implicit")
        .replace("127.0.0.1", "localhost")
    )
    with running(cfg):
        wait_until(lambda: "certificate" in caplog.text and "ca_file" in caplog.text)
    # fixed: it syncs, and nothing was lost
    cfg.write_text(
        cfg.read_text()
        .replace(f"port: {imap.ssl_port}", f"port: {imap.port}")
        .replace("tls: implicit", "tls: none")
        .replace("localhost", "127.0.0.1")
    )
    with running(cfg):
        wait_until(lambda: len(subjects(db)) == 2)
    assert "secret" not in caplog.text.replace("printf", "")


def _mount(path: Path, opts: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                       capture_output=True)  # fmt: skip
    return r.returncode == 0


@pytest.mark.imap
@pytest.mark.parametrize("fault", ["read-only", "disk full"])
def test_a_database_it_cannot_write_is_logged_retried_and_nothing_is_lost(
    tmp_path: Path, imap: Any, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mnt = tmp_path / "small"
    if not _mount(mnt, "size=8m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        deliver(imap, 3)
        cfg = imap_config(tmp_path, imap)
        cfg.write_text(
            cfg.read_text().replace("database: ./mailkeeper.db", f"database: {mnt}/m.db")
        )
        db = mnt / "m.db"
        caplog.set_level("INFO")
        if fault == "read-only":  # a file system can only go read-only with no file open
            with running(cfg):
                wait_until(lambda: len(subjects(db)) == 3)
            subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
            deliver(imap, 20, start=3)
        with running(cfg) as d:
            if fault == "disk full":
                wait_until(lambda: len(subjects(db)) == 3)
                wait_until(lambda: "work" in d.watchers and d.watchers["work"].idle)
                filler = mnt / "filler"
                with contextlib.suppress(OSError), open(filler, "wb", buffering=0) as f:
                    while True:
                        f.write(b"\0" * 65536)
                deliver(imap, 20, start=3)
            said = ("sync failed", "cannot write beside the database")
            wait_until(
                lambda: sum(caplog.text.count(w) for w in said) >= 2, 20
            )  # logged, and tried again
            # status says so (issue 19.3), though the database's folder cannot be written
            with App.from_config(cfg) as app:
                s = app.status()
            assert s["last_error"] and s["last_error_at"], s
            assert s["parts"]["sync"]["last_error"] == s["last_error"]
            assert any(w in s["last_error"] for w in ("readonly", "read-only", "Read-only",
                                                      "disk is full", "No space left"))  # fmt: skip
            if fault == "read-only":
                subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
            else:
                filler.unlink()
            wait_until(lambda: len(subjects(db)) == 23, 30)

            def cleared() -> bool:
                # The daemon records the sync's success after the sync (and its linking)
                # returns, a moment after the messages are visible in the database.
                with App.from_config(cfg) as app:
                    s = app.status()
                return s["last_error"] is None and s["parts"]["sync"]["last_error"] is None

            wait_until(cleared, 30)  # a sync that works clears it
        assert q(db, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [(23, 23)]
        text = caplog.text
        said = ("readonly", "Read-only file system", "disk is full", "No space left on device")
        assert any(w in text for w in said)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# ----------------------------------------------------------------------------- processes
def _start(cfg: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "daemon", *args],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.imap
def test_sigterm_mid_first_sync_exits_0_quickly_and_sigkill_resumes_to_a_clean_sync(
    tmp_path: Path, imap: Any
) -> None:
    from test_resume import canonical

    deliver(imap, 4000)
    imap.index(imap.user)
    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"

    def n() -> int:
        rows = q(db, "SELECT COUNT(*) FROM folder_messages")
        return rows[0][0] if rows else 0

    # SIGKILL in the middle of the first sync
    p = _start(cfg)
    wait_until(lambda: (n() or 0) > 0, 30)
    p.kill()
    p.wait(10)
    first = n()
    assert 0 < first < 4000
    # started again; SIGTERM in the middle: exit 0 within 5 s, the open batch rolled back
    p = _start(cfg)
    wait_until(lambda: n() > first, 30)
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert time.monotonic() - t < 5
    assert "stopped" in err
    # and again to the end
    p = _start(cfg)
    wait_until(lambda: n() == 4000 and q(db, "SELECT COUNT(*) FROM links")[0][0] >= 4000, 60)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    clean = tmp_path / "clean"
    ccfg = write_config(clean, imap, imap.user, BIRCH)
    with App.from_config(ccfg) as app:
        app.sync()
    assert canonical(db) == canonical(clean / "mailkeeper.db")


@pytest.mark.imap
def test_sighup_reloads_and_a_bad_edit_keeps_the_old_rules(tmp_path: Path, imap: Any) -> None:
    cfg = imap_config(tmp_path, imap)
    p = _start(cfg)
    try:
        wait_until(lambda: daemon_lock(tmp_path / "cfg" / "mailkeeper.db").holder() is not None)
        time.sleep(1.0)
        rules = tmp_path / "cfg" / "rules" / "customers.yaml"
        rules.write_text(BIRCH + "    tier: Z\n  - name: [broken\n")
        p.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert p.poll() is None  # still running
        rules.write_text(BIRCH + "  - name: Kauri Living\n    domains: [kauri.co.nz]\n")
        p.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    refused = [line for line in err.splitlines() if "reload" in line]
    assert any(f"{rules}:" in line for line in refused), err  # file:line
    assert any("old configuration and rules stay" in line for line in refused)
    assert any("reloaded" in line for line in refused)
    assert "secret" not in err


@pytest.mark.imap
def test_a_one_off_sync_beside_the_daemon_waits_then_names_it(tmp_path: Path, imap: Any) -> None:
    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"
    with App.from_config(cfg) as app:
        app.sync()
    # this process plays the daemon in the middle of a sync
    with daemon_lock(db), sync_lock(db):
        t = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "mailkeeper", "--config", str(cfg), "sync"],
                           capture_output=True, text=True)  # fmt: skip
        waited = time.monotonic() - t
        assert r.returncode == 1
        assert f"the mailkeeper daemon (pid {os.getpid()}) is already syncing" in r.stderr
        assert waited >= 4.5
        # read-only commands never wait; a rules edit shows a note that a relink is pending
        (tmp_path / "cfg" / "rules" / "customers.yaml").write_text(
            BIRCH + "  - name: Kauri Living\n    domains: [kauri.co.nz]\n"
        )
        t = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "mailkeeper", "--config", str(cfg),
                            "customers"], capture_output=True, text=True)  # fmt: skip
        assert r.returncode == 0 and "relink is pending" in r.stderr
        assert time.monotonic() - t < 4
        r = subprocess.run([sys.executable, "-m", "mailkeeper", "--config", str(cfg), "status"],
                           capture_output=True, text=True)  # fmt: skip
        assert r.returncode == 0 and f"daemon: running (pid {os.getpid()})" in r.stdout
    # a second daemon is refused, naming the first one's pid
    with daemon_lock(db):
        r = subprocess.run([sys.executable, "-m", "mailkeeper", "--config", str(cfg), "daemon"],
                           capture_output=True, text=True, timeout=30)  # fmt: skip
        assert r.returncode == 1 and f"pid {os.getpid()}" in r.stderr
