"""Publishing is resumable (DESIGN promise 10, issue 23): a `team push` killed with SIGKILL
at random moments and resumed leaves the team record equal to an uninterrupted push; with the
team database stopped, local work goes on (sync, customers) and the daemon's push catches up
once it is back."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.daemon import Daemon, Tuning
from mailkeeper.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BIRCH, ME, _user_counter, make_mail, write_config  # noqa: E402
from teamkit import snapshot, team_database, team_section  # noqa: E402

pytest.importorskip("psycopg", reason="team mode needs psycopg (the team extra)")

N = 400  # messages: enough for a push of batches of 10 to be cut many times


def fill(server: Any, user: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        who = ("tom@birch.co.uk", ME) if i % 3 else (ME, "tom@birch.co.uk")
        server.deliver("INBOX" if i % 3 else "Sent", make_mail(
            who[0], who[1], f"Order {i}", f"Line {i}. Could you confirm the date?\n",
            msgid=f"<m{i}@birch.co.uk>", date=datetime(2026, 9, 1, tzinfo=UTC).replace(
                day=1 + i % 28, hour=i % 24)), user=user)  # fmt: skip


def push_cli(cfg: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "team", "push", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def pending(db: Path) -> int:
    with Store(db) as s:
        return s.outbox.pending() if s.outbox.enabled() else -1


def test_a_push_killed_at_random_moments_ends_as_an_uninterrupted_one(
    dovecot_server: Any, postgres_server: Any, tmp_path: Path
) -> None:
    pg = postgres_server
    user = f"user{next(_user_counter)}"
    fill(dovecot_server, user, N)
    dovecot_server.index(user)
    cut_db, whole_db = team_database(pg, tmp_path / "a"), team_database(pg, tmp_path / "b")
    cfg = write_config(tmp_path / "cut", dovecot_server, user, BIRCH)
    base = cfg.read_text()
    with App.from_config(cfg) as app:
        app.sync()
        app.scan(datetime(2026, 11, 1, tzinfo=UTC))
        app.order_add("Birch & Co", "LF-2291", datetime(2026, 9, 1, tzinfo=UTC).date())
        app.order_event(
            "LF-2291", "deposit_received", datetime(2026, 9, 3, tzinfo=UTC).date(), "paid"
        )
    # the same local record, twice: one pushed whole, one pushed in pieces
    whole = tmp_path / "whole"
    shutil.copytree(tmp_path / "cut", whole)
    (whole / "mailkeeper.yaml").write_text(base + team_section(pg, whole_db, "amy"))
    cfg.write_text(base + team_section(pg, cut_db, "amy"))

    r = CliRunner().invoke(cli, ["--config", str(whole / "mailkeeper.yaml"), "team", "push"])
    assert r.exit_code == 0, r.output

    # Each round kills the push after a random number of batches went out: the kill can land
    # between PostgreSQL's commit and the outbox forgetting the batch, or inside either.
    rng = random.Random(23)
    db_file = cfg.parent / "mailkeeper.db"
    cuts = []
    for _ in range(6):
        start = pending(db_file)
        p = push_cli(cfg, "--batch", "5")
        want = rng.randint(1, 60)
        while p.poll() is None:
            now = pending(db_file)
            if now >= 0 and (start < 0 or start - now >= want):
                time.sleep(rng.uniform(0, 0.02))
                break
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait()
        cuts.append(pending(db_file))
    assert sum(1 for c in cuts if c > 0) >= 4, cuts
    p = push_cli(cfg, "--json")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert json.loads(out)["pending"] == 0

    cut, uninterrupted = snapshot(pg, cut_db), snapshot(pg, whole_db)
    assert len(uninterrupted["messages"]) == N
    assert uninterrupted["findings"] and uninterrupted["orders"] and uninterrupted["order_events"]
    assert cut == uninterrupted


def test_with_the_team_database_down_local_work_goes_on_and_the_daemon_catches_up(
    dovecot_server: Any, postgres_server: Any, tmp_path: Path
) -> None:
    pg = postgres_server
    user = f"user{next(_user_counter)}"
    db = team_database(pg, tmp_path)
    cfg = write_config(tmp_path / "cfg", dovecot_server, user, BIRCH,
                       extra_account="daemon:\n  folders_every_minutes: 1\n")  # fmt: skip
    cfg.write_text(cfg.read_text() + team_section(pg, db, "amy"))
    fill(dovecot_server, user, 5)
    dovecot_server.index(user)

    def team_messages() -> int:
        return len(snapshot(pg, db)["messages"])

    tuning = Tuning(transient=(0.2, 1.0), permanent=(0.5, 2.0), busy_retry=0.5, lock_wait=1.0,
                    idle_seconds=3.0, team_retry=0.5)  # fmt: skip
    pg.stop()
    try:
        d = Daemon(cfg, tuning=tuning)
        import threading

        t = threading.Thread(target=d.run, daemon=True)
        t.start()
        try:
            deadline = time.monotonic() + 30
            while d.syncs < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert d.syncs >= 1  # the sync went on without the team database
            with App.from_config(cfg) as app:
                assert app.customers()[0]["messages"] == 5  # and so does the local product
            r = CliRunner().invoke(cli, ["--config", str(cfg), "team", "push"])
            assert r.exit_code == 1 and "cannot be reached" in r.output
            assert pending(cfg.parent / "mailkeeper.db") > 0
        finally:
            pg.restart()
        # new mail: the daemon syncs it (IDLE) and its push publishes everything queued
        fill(dovecot_server, user, 1, start=5)
        deadline = time.monotonic() + 40
        while team_messages() < 6 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert team_messages() == 6
        assert pending(cfg.parent / "mailkeeper.db") == 0
    finally:
        d.stop()
        t.join(30)
        if not (pg.data / "postmaster.pid").exists():
            pg.restart()
