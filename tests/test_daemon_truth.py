"""The daemon tells the truth (issues 18 and 19): a dropped Inbox watcher connection is
noticed within seconds and reconnected; `status` shows every failure the daemon logs at
ERROR, per part, until that part works again; a refused template reload changes nothing;
mail dated in the future is judged when it arrives; the systemd unit carries the secret.

Against the real Dovecot (tests/dovecot.py); helpers from test_daemon."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ME, make_mail
from test_daemon import FAST, deliver, imap_config, put, q, running, subjects, wait_until

from mailkeeper.app import App
from mailkeeper.daemon import Tuning

# IDLE renewed only every 10 minutes, as in real use (the default is 29): a dead connection
# must be noticed by itself, not by the renewal
LONG_IDLE = Tuning(**{**FAST.__dict__, "idle_seconds": 600.0})


# ----------------------------------------------------------------------------- helpers
def server_pid(server_port: int, client_port: int) -> int:
    """The Dovecot imap process serving the connection from 127.0.0.1:`client_port`: the
    owner of the server-side socket (found in /proc/net/tcp by its ports, then by inode)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        local, remote = f[1].split(":"), f[2].split(":")
        if int(local[1], 16) == server_port and int(remote[1], 16) == client_port:
            inodes.add(f[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no process serves 127.0.0.1:{client_port}")


def watching(d: Any) -> bool:
    w = d.watchers.get("work")
    return bool(w and w.idle and w.sockname and w.error is None)


def cpu_seconds(tid_name: str) -> float:
    """CPU seconds used so far by this process's thread named `tid_name` (Linux /proc)."""
    import threading

    [t] = [t for t in threading.enumerate() if t.name == tid_name]
    stat = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- 19.2 the watcher
@pytest.mark.imap
def test_a_killed_idle_connection_is_noticed_logged_once_and_mail_comes_in_seconds(
    tmp_path: Path, imap: Any, caplog: pytest.LogCaptureFixture
) -> None:
    deliver(imap, 2)
    cfg = imap_config(tmp_path, imap)
    cfg.write_text(cfg.read_text().replace("folders_every_minutes: 1", "folders_every_minutes: 30"))
    db = tmp_path / "cfg" / "mailkeeper.db"
    caplog.set_level("INFO")
    with running(cfg, tuning=LONG_IDLE) as d:
        wait_until(lambda: len(subjects(db)) == 2)
        wait_until(lambda: watching(d))
        time.sleep(0.3)  # in IDLE
        w = d.watchers["work"]
        port = w.sockname[1]
        os.kill(server_pid(imap.port, port), signal.SIGKILL)
        put(imap, "INBOX", make_mail("tom@birch.co.uk", ME, "After the kill", "Hello again."))
        t = time.monotonic()
        wait_until(lambda: "After the kill" in subjects(db), 15)
        assert time.monotonic() - t < 10  # not the 30-minute folder sync
        wait_until(lambda: watching(d) and d.watchers["work"].sockname[1] != port)
        # connected again, and not spinning: the watcher thread uses little CPU from here
        before = cpu_seconds("watch-work")
        time.sleep(2.0)
        assert cpu_seconds("watch-work") - before < 0.5
    said = [r.getMessage() for r in caplog.records if "Inbox watcher" in r.getMessage()]
    assert len([m for m in said if "Inbox watcher failed" in m]) == 1, said  # logged once
    assert any("connected again" in m for m in said)


@pytest.mark.imap
def test_a_server_restart_mid_run_is_noticed_and_mail_comes_in_seconds(
    tmp_path: Path, imap: Any
) -> None:
    deliver(imap, 2)
    cfg = imap_config(tmp_path, imap)
    cfg.write_text(cfg.read_text().replace("folders_every_minutes: 1", "folders_every_minutes: 30"))
    db = tmp_path / "cfg" / "mailkeeper.db"
    with running(cfg, tuning=LONG_IDLE) as d:
        wait_until(lambda: len(subjects(db)) == 2)
        wait_until(lambda: watching(d))
        time.sleep(0.3)
        imap.restart()
        put(imap, "INBOX", make_mail("tom@birch.co.uk", ME, "After the restart", "Hello."))
        t = time.monotonic()
        wait_until(lambda: "After the restart" in subjects(db), 20)
        assert time.monotonic() - t < 10
        wait_until(lambda: watching(d))
        with App.from_config(cfg) as app:
            s = app.status()
        assert s["parts"]["watcher"]["last_error"] is None  # cleared by the reconnect
        assert s["parts"]["watcher"]["last_ok_at"]


# ----------------------------------------------------------------------------- 19.3 status
def _status(cfg: Path) -> dict[str, Any]:
    with App.from_config(cfg) as app:
        return app.status()


def test_a_failed_scan_is_in_status_until_a_scan_works(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from conftest import BIRCH, MaildirBox
    from test_daemon import ISSUE, FakeClock

    from mailkeeper.daemon import Daemon

    box = MaildirBox(tmp_path / "Mail")
    day = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Broken chairs", ISSUE, date=day))
    box.folder_dir("Sent")
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", BIRCH)
    rules = tmp_path / "cfg" / "rules" / "issues.en.yaml"
    good = rules.read_text() if rules.exists() else None
    rules.write_text("phrases: [unclosed\n")
    clock = FakeClock(day, day + timedelta(hours=2))
    seen: list[dict[str, Any]] = []

    def fix() -> None:
        seen.append(_status(cfg))
        if good is None:
            rules.unlink()
        else:
            rules.write_text(good)
        box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Again", ISSUE,
                                       date=day + timedelta(hours=1)))  # fmt: skip

    clock.actions.append((day + timedelta(hours=1), fix))
    d = Daemon(cfg, clock=clock, tuning=FAST)
    clock.daemon = d
    assert d.run() == 0
    [during] = seen
    scan = during["parts"]["scan"]
    assert scan["last_error"] and "issue rules" in scan["last_error"], during["parts"]
    assert scan["last_error_at"] == "2026-12-01T00:00:00Z" and scan["last_ok_at"] is None
    assert during["last_error"] == scan["last_error"]
    assert during["last_error_at"] == scan["last_error_at"]
    assert during["parts"]["sync"]["last_ok_at"] and during["parts"]["sync"]["last_error"] is None
    after = _status(cfg)
    assert after["parts"]["scan"]["last_error"] is None and after["last_error"] is None
    assert after["parts"]["scan"]["last_ok_at"] >= "2026-12-01T01:00:00Z"
    assert after["parts"]["draft"]["last_ok_at"]
    # the record is private
    record = tmp_path / "cfg" / "mailkeeper.db.status.json"
    assert record.stat().st_mode & 0o777 == 0o600


class _Killed(BaseException):
    """What kills a watcher thread (an `except Exception` lets it through)."""


@pytest.mark.imap
def test_a_dead_watcher_is_in_status_restarted_and_cleared(
    tmp_path: Path, imap: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailkeeper.mailbox.watch import InboxWatcher

    cfg = imap_config(tmp_path, imap)
    db = tmp_path / "cfg" / "mailkeeper.db"
    dying = [True]
    real = InboxWatcher._connect

    def connect(self: InboxWatcher) -> Any:
        if dying[0]:
            raise _Killed("simulated death")
        return real(self)

    monkeypatch.setattr(InboxWatcher, "_connect", connect)
    with running(cfg, tuning=LONG_IDLE) as d:
        wait_until(lambda: q(db, "SELECT COUNT(*) FROM sync_runs") != [])
        wait_until(lambda: (_status(cfg)["parts"]["watcher"]["last_error"] or "").find(
            "stopped") >= 0)  # fmt: skip
        s = _status(cfg)
        assert "simulated death" in s["last_error"]
        dying[0] = False
        wait_until(lambda: watching(d))  # another watcher, with backoff
        wait_until(lambda: _status(cfg)["parts"]["watcher"]["last_error"] is None)
        put(imap, "INBOX", make_mail("tom@birch.co.uk", ME, "Watched", "Hello."))
        wait_until(lambda: "Watched" in subjects(db), 10)
    assert _status(cfg)["last_error"] is None


# ----------------------------------------------------------------------------- templates
@pytest.mark.parametrize(
    "broken",
    ["{{ customer.nmae }}\n", "{% if %}\n"],  # an undefined name (18B); a syntax error (19.3)
    ids=["undefined", "syntax"],
)
def test_a_refused_template_reload_leaves_the_old_templates_in_force(
    tmp_path: Path, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import UTC, datetime, timedelta

    from conftest import BIRCH, MaildirBox
    from test_daemon import ISSUE, FakeClock

    from mailkeeper.config import defaults
    from mailkeeper.daemon import Daemon

    box = MaildirBox(tmp_path / "Mail")
    day = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Hello", "All fine.", date=day))
    box.folder_dir("Sent")
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", BIRCH)
    mine = tmp_path / "cfg" / "templates" / "issue_ack.en.txt.j2"
    mine.parent.mkdir(exist_ok=True)
    shipped = Path(defaults.templates_dir()) / "issue_ack.en.txt.j2"
    good = shipped.read_text().replace("Subject: ", "Subject: [kept] ", 1)
    mine.write_text(good)
    clock = FakeClock(day, day + timedelta(hours=3))
    d = Daemon(cfg, clock=clock, tuning=FAST)
    clock.daemon = d

    def spoil() -> None:
        mine.write_text(good + broken)
        d.reload()

    def complain() -> None:
        box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Broken chairs", ISSUE,
                                       date=day + timedelta(hours=2)))  # fmt: skip

    clock.actions += [(day + timedelta(hours=1), spoil), (day + timedelta(hours=2), complain)]
    caplog.set_level("INFO")
    assert d.run() == 0
    refused = [r.getMessage() for r in caplog.records if "reload" in r.getMessage()]
    assert any("reload refused: the templates have problems" in m for m in refused), refused
    assert any(f"{mine}:" in m for m in refused), refused  # FILE:LINE
    db = tmp_path / "cfg" / "mailkeeper.db"
    drafts = q(db, "SELECT kind, subject FROM drafts")
    assert ("issue_ack", "[kept] Re: Broken chairs") in drafts or any(
        k == "issue_ack" and s.startswith("[kept]") for k, s in drafts
    ), drafts


# ----------------------------------------------------------------------------- the unit (18C)
def test_install_unit_warns_about_password_env_and_gives_the_unit_an_environment_file(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from conftest import BIRCH, MaildirBox

    cfg = MaildirBox(tmp_path / "Mail").config(tmp_path / "cfg", BIRCH)
    text = cfg.read_text()
    # the Maildir account reads no password: give the config an IMAP account that does
    cfg.write_text(text + "  office:\n    host: 127.0.0.1\n    port: 1\n    tls: none\n"
                   "    username: amy\n    password_env: MK_OFFICE_PW\n")  # fmt: skip

    def install() -> subprocess.CompletedProcess[str]:
        args = ["-m", "mailkeeper", "--config", str(cfg), "daemon", "--install-unit"]
        return subprocess.run([sys.executable, *args], capture_output=True, text=True)

    r = install()
    assert r.returncode == 0, r.stderr
    env = tmp_path / "cfg" / "mailkeeper.env"
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / "mailkeeper.service"
    assert f"EnvironmentFile=-{env}\n" in unit.read_text()
    assert "warning: account office reads its password from $MK_OFFICE_PW" in r.stderr
    assert str(env) in r.stderr
    assert env.stat().st_mode & 0o777 == 0o600
    assert "# MK_OFFICE_PW=" in env.read_text()
    # the rep fills it; installing again never overwrites the secret
    env.write_text("MK_OFFICE_PW=hunter2\n")
    assert install().returncode == 0
    assert env.read_text() == "MK_OFFICE_PW=hunter2\n"


# ----------------------------------------------------------------------------- future dates (18C)
def test_mail_dated_a_little_in_the_future_is_judged_on_arrival(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from conftest import BIRCH, MaildirBox
    from test_daemon import DAEMON_FAST, ISSUE

    box = MaildirBox(tmp_path / "Mail")
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Hello", "All fine, thanks."))
    box.folder_dir("Sent")
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", BIRCH)
    cfg.write_text(cfg.read_text() + DAEMON_FAST)
    db = tmp_path / "cfg" / "mailkeeper.db"
    with running(cfg) as d:
        wait_until(lambda: subjects(db) == ["Hello"])
        ahead = datetime.now(UTC) + timedelta(minutes=3)  # the sender's clock runs fast
        box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "Broken chairs", ISSUE, date=ahead))
        wait_until(lambda: "Broken chairs" in subjects(db), 15)
        passes = d.passes
        wait_until(lambda: d.passes > passes or q(db, "SELECT COUNT(*) FROM drafts")[0][0], 15)
        # judged now, not in 3 minutes: the issue is open and its acknowledgement drafted
        wait_until(lambda: ("issue_ack",) in q(db, "SELECT kind FROM drafts"), 15)
    [(received,)] = q(db, "SELECT json_extract(data, '$.received_at') FROM findings "
                          "WHERE kind = 'issue'")  # fmt: skip
    assert received is None or received < ahead.strftime("%Y-%m-%dT%H:%M:%SZ")
