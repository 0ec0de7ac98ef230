"""The demo world: built into a temp dir, synced through the real App from its Maildir, and the
`mailkeeper demo` command end to end."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mailkeeper.app import App
from mailkeeper.demo.build import build_demo
from mailkeeper.demo.mail import MAILS
from mailkeeper.errors import UserError

# name, tier, status, messages, last inbound, last outbound (ISO 8601 UTC)
EXPECTED = [
    ("Birch & Co", "A", "configured", 20, "2026-10-29T14:25:00Z", "2026-10-30T01:15:00Z"),
    ("Waldhaus Möbel", "A", "configured", 13, "2026-10-12T07:05:00Z", "2026-10-09T03:30:00Z"),
    ("Casa Ipê Móveis", "B", "configured", 5, "2026-04-22T14:45:00Z", "2026-06-30T02:20:00Z"),
    ("Kauri Living", "B", "configured", 6, "2026-10-25T22:15:00Z", "2026-07-22T01:30:00Z"),
    ("华美家居 Huamei Home", "B", "configured", 8, "2026-10-31T07:30:00Z", "2026-10-26T01:45:00Z"),
    ("Hollis Home", "C", "configured", 3, "2026-08-27T22:30:00Z", "2026-08-26T01:10:00Z"),
    ("Fjord Interiors", "B", "discovered", 5, "2026-10-23T08:25:00Z", "2026-10-14T01:30:00Z"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, built and synced once for this module; returns its config."""
    config = build_demo(tmp_path_factory.mktemp("demo") / "world")
    with App.from_config(config) as app:
        [report] = app.sync()
    assert report.error is None
    assert {f.name: f.new for f in report.folders} == {"INBOX": 34, "Sent": 30}
    return config


def _rows(config: Path, sql: str) -> list[tuple[object, ...]]:
    with App.from_config(config) as app:
        return list(app.store.conn.execute(sql))


def _files(config: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((config.parent / "Maildir").rglob("*")) if p.is_file()]


def _header(raw: bytes, name: bytes) -> bytes:
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(name + b": "):
            return line[len(name) + 2 :]
    return b""


def _flags_of(config: Path, msgid_part: bytes) -> str:
    """The Maildir info letters of the one file whose Message-ID contains `msgid_part`."""
    [path] = [
        p
        for p in (config.parent / "Maildir").rglob("*:2,*")
        if msgid_part in _header(p.read_bytes(), b"Message-ID")
    ]
    return path.name.rsplit(":2,", 1)[1]


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_customers_listing(demo: Path) -> None:
    with App.from_config(demo) as app:
        got = [
            (
                c["name"],
                c["tier"],
                c["status"],
                c["messages"],
                c["last_inbound"],
                c["last_outbound"],
            )
            for c in app.customers()
        ]
    assert got == EXPECTED


def test_the_gbk_customer_writes_chinese(demo: Path) -> None:
    subjects = [
        s
        for (s,) in _rows(
            demo, "SELECT subject FROM messages WHERE from_email = 'wanglei@huamei-home.cn'"
        )
    ]
    assert "询价：实木餐桌椅（2027春季）" in subjects
    assert "关于样品颜色的问题" in subjects
    wang = [f for f in _files(demo) if _header(f, b"From").endswith(b"<wanglei@huamei-home.cn>")]
    assert len(wang) == 5
    assert all(b"From: =?gbk?b?" in f and b"Subject: =?gbk?b?" in f for f in wang)
    assert all(b'charset="gbk"' in f and b"Content-Transfer-Encoding: base64" in f for f in wang)


def test_auto_reply_newsletter_and_bounce_are_flagged(demo: Path) -> None:
    rows = {
        subject: (is_auto, is_bulk)
        for subject, is_auto, is_bulk in _rows(
            demo, "SELECT subject, is_auto, is_bulk FROM messages WHERE is_auto OR is_bulk"
        )
    }
    assert rows == {
        "Automatic reply: Production update - PO 4471: 60% complete": (1, 0),
        "Undelivered Mail Returned to Sender": (1, 0),
        "Home Trade Weekly: container rates ease, EUDR deadline moves again": (0, 1),
    }
    unlinked = {
        s
        for (s,) in _rows(
            demo,
            "SELECT subject FROM messages WHERE key NOT IN (SELECT message_key FROM links)",
        )
    }
    assert "Undelivered Mail Returned to Sender" in unlinked
    assert "Home Trade Weekly: container rates ease, EUDR deadline moves again" in unlinked


def test_threads_and_unread_mail(demo: Path) -> None:
    maildir = demo.parent / "Maildir"
    unread = sorted(p.name for p in (maildir / "new").iterdir())
    assert len(unread) == 3  # the three inbound messages of the last days
    [(replies,)] = _rows(demo, "SELECT COUNT(*) FROM messages WHERE in_reply_to IS NOT NULL")
    assert replies == sum(1 for m in MAILS if m.reply_to and m.kind != "bounce") == 38
    # the complaint got an answer; the Kauri question was read and never answered
    assert _flags_of(demo, b".wm-reklamation@") == "RS"
    assert _flags_of(demo, b".kauri-fsc@") == "S"


def test_the_portuguese_subject_keeps_its_accents(demo: Path) -> None:
    subjects = {s for (s,) in _rows(demo, "SELECT subject FROM messages")}
    assert "Cotação: cadeiras de jantar e mesas - pedido inicial" in subjects


def test_the_demo_is_deterministic_and_rebuilds_in_place(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "a")
    second = build_demo(tmp_path / "b")
    assert _tree(first.parent / "Maildir") == _tree(second.parent / "Maildir")
    # + subscriptions and the maildirfolder files of Sent and Drafts
    assert len(_tree(first.parent / "Maildir")) == 64 + 3
    with App.from_config(first) as app:
        app.sync()
    assert build_demo(tmp_path / "a") == first  # an earlier demo is replaced, db and all
    assert not (tmp_path / "a" / "mailkeeper.db").exists()


def test_the_demo_will_not_overwrite_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        build_demo(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_demo_command_end_to_end(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    r = subprocess.run(
        [sys.executable, "-m", "mailkeeper", "demo", "--dir", str(dest), "--as-of", "2026-11-01"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},  # a wide table: no name is wrapped
    )
    assert r.returncode == 0, r.stderr
    customers, _, story = r.stdout.partition("Neglected accounts")
    rows = [line for line in customers.splitlines() if "configured" in line or "discovered" in line]
    assert len(rows) == len(EXPECTED)
    for line, (name, tier, status, messages, inbound, outbound) in zip(rows, EXPECTED, strict=True):
        cells = [c.strip() for c in line.replace("│", "|").split("|")]
        assert cells[:4] == [name, tier, status, str(messages)]
        # Tables show the rep's local dates (the demo's timezone: Asia/Shanghai); JSON is UTC.
        assert _local_day(inbound) in line and _local_day(outbound) in line
    assert (dest / "mailkeeper.yaml").is_file()
    # the story: neglect, an unanswered complaint, a question answered in time, a promise,
    # and the drafts, written into the demo's Drafts folder
    neglected, _, rest = story.partition("waiting for an answer")
    assert "Casa Ipê Móveis" in neglected and "Birch & Co" not in neglected
    issues, _, rest = rest.partition("Your promises")
    assert any("样品椅子有问题" in line and "overdue" in line for line in issues.splitlines())
    assert any("RFQ: Oxford bedroom range" in line and "acknowledged" in line
               for line in issues.splitlines())  # fmt: skip
    promises, _, drafts = rest.partition("Drafts written into")
    promises, _, card = promises.partition("The yearly report card")
    assert "by Wednesday" in promises
    # Birch & Co's report card of the year before (orders declared in the demo's orders.yaml)
    assert "orders confirmed: 4, 650 pieces, GBP 6,200, USD 42,700.50" in card
    assert "shipped on time: 3 of 4 (75 %)" in card
    assert (
        "added report_card to jane.oak@birch.co.uk: Birch & Co in 2025: what we did together"
        in card
    )
    added = [line for line in (card + drafts).splitlines() if line.startswith("added ")]
    assert "added issue_ack to wanglei@huamei-home.cn: 回复：样品椅子有问题" in added
    # the small touches (issue 22): a holiday greeting whatever the demo's day (it carries the
    # check-in Casa Ipê is due), and a need Kauri Living stated, recalled with its draft
    assert any(a.startswith("added greeting to rafael.souza@casaipe.com.br: Happy ") for a in added)
    assert not any(a.startswith("added check_in to rafael.souza@") for a in added)
    assert "added need to sophie@kauri.com.au: Your plans for next month" in added
    needs = drafts.partition("What customers said they will need")[2]
    assert "Kauri Living" in needs and "open" in needs
    files = sorted((dest / "Maildir" / ".Drafts" / "cur").iterdir())
    assert len(files) == len(added) and all(f.name.endswith(":2,DS") for f in files)
    import email
    import email.policy

    for f in files:
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.strict)
        assert not msg.defects and msg["X-Mailkeeper-Key"]


def _local_day(iso: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return when.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")


def test_the_demo_reuses_its_folder_and_clears_old_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run left a 2.2 MB folder under /tmp: now one per user, replaced by each run, and
    earlier demos of the old random names removed; anything else is left alone."""
    from mailkeeper.demo.build import MARKER, default_demo_dir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / "mailkeeper-demo-k2x9abcd"
    (old / "Maildir").mkdir(parents=True)
    (old / MARKER).write_text("old demo\n")
    stranger = tmp_path / "mailkeeper-demo-notes"
    stranger.mkdir()
    (stranger / "mine.txt").write_text("keep me")
    home = default_demo_dir()
    assert home.parent == tmp_path and home.name.startswith("mailkeeper-demo-")
    assert not old.exists() and (stranger / "mine.txt").read_text() == "keep me"
    build_demo(home)
    assert default_demo_dir() == home  # the second run reuses it
    build_demo(home)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([home.name, stranger.name])
    # A folder of that name that is no demo is never written into.
    shutil.rmtree(home)
    home.mkdir()
    (home / "x.txt").write_text("someone's")
    other = default_demo_dir()
    assert other != home and (home / "x.txt").exists()


def test_the_demo_shows_a_maybe_issue_that_is_never_drafted(tmp_path: Path) -> None:
    """issue 20: Kauri's FYI with a courtesy closing scores below the answer threshold: it is
    listed by `issues --all` as `maybe`, not counted as open, and planning drafts gives no
    acknowledgement for it (while the open Kauri question still gets one)."""
    from mailkeeper.demo.build import DEMO_NOW

    config = build_demo(tmp_path / "world")
    with App.from_config(config) as app:
        app.sync()
        every = {i["subject"]: i for i in app.issues("all", DEMO_NOW)}
        fyi = every["Revised schedule"]
        assert fyi["state"] == "maybe" and fyi["probability"] < 0.5
        assert "Revised schedule" not in {i["subject"] for i in app.issues("open", DEMO_NOW)}
        maybes = {i["id"] for i in every.values() if i["state"] == "maybe"}
        plan = app.draft(dry_run=True, as_of=DEMO_NOW)
        acks = [d for d in plan["added"] if d["kind"] == "issue_ack"]
        assert any(d["subject"].endswith("FSC certificate and 2027 lead times?") for d in acks)
        assert not any(d.get("finding_id") in maybes for d in acks)
        assert not any(d["subject"].endswith("Revised schedule") for d in plan["added"])
