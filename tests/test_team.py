"""Team mode end to end (issue 23): two reps sync their own Dovecot mailboxes and push to one
real PostgreSQL; a mail both hold (both in Cc) is one team message with two reps' links; the
team commands read it back; the manager hands a customer over; a rep's mailkeeper meets a team
schema of another version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from conftest import BIRCH, _user_counter, make_mail, write_config  # noqa: E402
from teamkit import login, manager_config, snapshot, team_database, team_section  # noqa: E402

pytest.importorskip("psycopg", reason="team mode needs psycopg (the team extra)")

AMY = "amy@lumen-furniture.com"
BOB = "bob@lumen-furniture.com"
TOM = "tom@birch.co.uk"


def run(cfg: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)
    return r.exit_code, r.output


def put(server: Any, user: str, folder: str, raw: bytes, trace: str) -> None:
    """Deliver `raw` as `user`'s server did: with its own trace headers in front."""
    server.deliver(folder, f"Received: from mx.{trace} by {trace}\r\n"
                           f"Delivered-To: {user}\r\n".encode() + raw, user=user)  # fmt: skip


def rep_config(tmp_path: Path, server: Any, user: str, rep: str, address: str, pg: Any,
               db: str, share: str = "full") -> Path:  # fmt: skip
    cfg = write_config(tmp_path / rep, server, user, BIRCH)
    cfg.write_text(cfg.read_text().replace(AMY, address) + team_section(pg, db, rep, share))
    return cfg


@pytest.fixture
def two_reps(dovecot_server: Any, postgres_server: Any, tmp_path: Path) -> dict[str, Any]:
    users = [f"user{next(_user_counter)}" for _ in range(2)]
    db = team_database(postgres_server, tmp_path)
    amy = rep_config(tmp_path, dovecot_server, users[0], "amy", AMY, postgres_server, db)
    bob = rep_config(tmp_path, dovecot_server, users[1], "bob", BOB, postgres_server, db)
    return {"server": dovecot_server, "users": users, "db": db, "amy": amy, "bob": bob,
            "pg": postgres_server}  # fmt: skip


def deliver_story(t: dict[str, Any]) -> None:
    amy_user, bob_user = t["users"]
    s = t["server"]
    both = make_mail(TOM, AMY, "Order 2291: delivery date?", "Hello,\n\nwhen will it ship?\n",
                     msgid="<q1@birch.co.uk>", cc=[BOB],
                     date=datetime(2026, 10, 1, 9, 0, tzinfo=UTC))  # fmt: skip
    put(s, amy_user, "INBOX", both, "mx1.lumen")
    put(s, bob_user, "INBOX", both, "mx2.lumen")  # the same mail, other trace headers
    answer = make_mail(AMY, TOM, "Re: Order 2291: delivery date?", "It ships on the 20th.\n",
                       msgid="<a1@lumen-furniture.com>", in_reply_to="<q1@birch.co.uk>",
                       date=datetime(2026, 10, 2, 9, 0, tzinfo=UTC))  # fmt: skip
    s.deliver("Sent", answer, user=amy_user)
    to_bob = make_mail(
        TOM,
        BOB,
        "Samples",
        "Please send the oak samples.\n",
        msgid="<s1@birch.co.uk>",
        date=datetime(2026, 10, 3, 9, 0, tzinfo=UTC),
    )
    put(s, bob_user, "INBOX", to_bob, "mx2.lumen")


def sync_and_push(cfg: Path) -> dict[str, Any]:
    with App.from_config(cfg) as app:
        app.sync()
    code, out = run(cfg, "team", "push", "--json")
    assert code == 0, out
    return json.loads(out)


def test_two_reps_push_one_record_with_a_shared_mail_stored_once(two_reps: dict[str, Any]) -> None:
    t = two_reps
    deliver_story(t)
    first = sync_and_push(t["amy"])
    assert first["rep"] == "amy" and first["published"] > 0 and first["pending"] == 0
    sync_and_push(t["bob"])
    again = sync_and_push(t["amy"])  # nothing changed: nothing to publish
    assert again["published"] == 0

    record = snapshot(t["pg"], t["db"])
    assert len(record["messages"]) == 3  # q1 once, though both mailboxes hold it
    assert len(record["message_texts"]) == 3
    q1 = next(m for m in record["messages"] if m[1] == "q1@birch.co.uk")
    links = sorted((lk[1], lk[2]) for lk in record["links"] if lk[0] == q1[0])
    assert links == [("amy", "Birch & Co"), ("bob", "Birch & Co")]
    assert record["customers"] == [("Birch & Co", "amy", "amy")]  # amy published it first

    code, out = run(t["bob"], "team", "customer", "birch & co", "--json")
    assert code == 0, out
    c = json.loads(out)
    assert set(c) >= {"name", "owner", "contacts", "messages"}
    assert c["name"] == "Birch & Co" and c["owner"] == "amy" and TOM in c["contacts"]
    assert [(m["message_id"], m["direction"], m["reps"]) for m in c["messages"]] == [
        ("s1@birch.co.uk", "inbound", ["bob"]),
        ("a1@lumen-furniture.com", "outbound", ["amy"]),
        ("q1@birch.co.uk", "inbound", ["amy", "bob"]),
    ]
    assert all(set(m) >= {"message_id", "date", "direction", "subject", "reps"}
               for m in c["messages"])  # fmt: skip

    code, out = run(t["amy"], "team", "customers", "--json", "--as-of", "2026-10-10")
    rows = json.loads(out)
    assert [(r["name"], r["owner"], r["tier"], r["last_inbound"], r["last_outbound"],
             r["health"]) for r in rows] == [
        ("Birch & Co", "amy", "A", "2026-10-03T09:00:00Z", "2026-10-02T09:00:00Z", "ok")
    ]  # fmt: skip
    code, out = run(t["amy"], "team", "status", "--json")
    status = json.loads(out)
    assert [r["rep"] for r in status["reps"]] == ["amy", "bob"]
    assert status["counts"]["messages"] == 3 and status["conflicts"] == []


def test_headers_only_keeps_the_text_local(two_reps: dict[str, Any]) -> None:
    t = two_reps
    t["amy"].write_text(t["amy"].read_text().replace("share: full", "share: headers"))
    deliver_story(t)
    with App.from_config(t["bob"]) as app:  # bob's open question from Tom: an issue finding
        app.sync()
        app.scan(datetime(2026, 10, 6, tzinfo=UTC))
    t["bob"].write_text(t["bob"].read_text().replace("share: full", "share: headers"))
    sync_and_push(t["amy"])
    sync_and_push(t["bob"])
    record = snapshot(t["pg"], t["db"])
    assert record["messages"] and record["message_texts"] == []
    import psycopg

    with psycopg.connect(t["pg"].superuser_dsn(t["db"])) as c:
        data = [r[0] for r in c.execute("SELECT data FROM team.findings WHERE kind = 'issue'")]
    assert data and all(not {"sentence", "phrase", "text"} & set(d) for d in data)
    assert all(d.get("category") for d in data)  # what is not quoted from the mail is shared


def test_the_manager_hands_over_and_the_new_owner_counts_from_that_day(
    two_reps: dict[str, Any], tmp_path: Path
) -> None:
    t = two_reps
    deliver_story(t)
    sync_and_push(t["amy"])
    sync_and_push(t["bob"])
    boss = manager_config(tmp_path / "lee", t["pg"], t["db"])  # me and team, no accounts

    # long after amy's last mail: neglected, whoever owns it
    code, out = run(boss, "team", "neglected", "--json", "--as-of", "2026-12-01")
    assert code == 0, out
    rows = json.loads(out)
    assert [(r["customer"], r["owner"], r["interval_days"]) for r in rows] == [
        ("Birch & Co", "amy", 14)
    ]
    assert rows[0]["last_contact"] == "2026-10-02T09:00:00Z"

    code, out = run(t["bob"], "team", "handover", "amy", "--to", "bob")  # a rep may not
    assert code == 1 and "manager" in out
    code, out = run(boss, "team", "handover", "amy", "--to", "bob", "--customer", "Birch & Co",
                    "--json")  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["customers"] == ["Birch & Co"]

    code, out = run(boss, "team", "customer", "Birch & Co", "--json")
    c = json.loads(out)
    assert c["owner"] == "bob" and len(c["messages"]) == 3  # the whole history moves along
    code, out = run(boss, "team", "neglected", "--json", "--as-of", "2026-12-01")
    # the handover happened now (after 2026-12-01 in this replay): still neglected then ...
    assert [r["owner"] for r in json.loads(out)] == ["bob"]
    now = datetime.now(UTC)
    code, out = run(boss, "team", "neglected", "--json", "--as-of", now.isoformat())
    assert json.loads(out) == []  # ... and from the handover on, bob's interval runs
    code, out = run(boss, "team", "handover", "amy", "--to", "bob")
    assert code == 1 and "nothing was handed over" in out


@pytest.mark.parametrize(("version", "says"), [(0, "older"), (2, "newer")])
def test_a_team_schema_of_another_version_is_refused_with_advice(
    two_reps: dict[str, Any], version: int, says: str
) -> None:
    t = two_reps
    t["pg"].psql(t["db"], f"UPDATE team.schema_version SET version = {version}")
    code, out = run(t["amy"], "team", "push")
    assert code == 1
    assert f"schema is version {version}, {says} than this mailkeeper's (1)" in out
    assert ("admin-sql --upgrade-from 0" in out) == (says == "older")


def test_a_domain_two_reps_name_differently_is_listed_not_guessed(
    two_reps: dict[str, Any],
) -> None:
    t = two_reps
    rules = t["bob"].parent / "rules" / "customers.yaml"
    rules.write_text(BIRCH.replace("Birch & Co", "Birch and Company"))
    deliver_story(t)
    sync_and_push(t["amy"])
    sync_and_push(t["bob"])
    code, out = run(t["amy"], "team", "status", "--json")
    assert json.loads(out)["conflicts"] == [
        {"domain": "birch.co.uk", "customers": ["Birch & Co", "Birch and Company"],
         "reps": ["amy", "bob"]}
    ]  # fmt: skip
    code, out = run(t["amy"], "team", "status")
    assert "conflict: birch.co.uk is Birch & Co / Birch and Company (amy, bob)" in out
    code, out = run(t["amy"], "team", "customers", "--json")
    assert [r["name"] for r in json.loads(out)] == ["Birch & Co", "Birch and Company"]


def test_tls_with_verify_full_and_the_ca_file(two_reps: dict[str, Any], tmp_path: Path) -> None:
    t = two_reps
    ca = t["amy"].parent / "team-ca.pem"
    shutil.copy(t["pg"].cert_path, ca)
    text = (
        t["amy"]
        .read_text()
        .replace("sslmode: disable", "sslmode: verify-full\n  sslrootcert: ./team-ca.pem")
    )
    t["amy"].write_text(text)
    deliver_story(t)
    assert sync_and_push(t["amy"])["published"] > 0
    with login(t["pg"], t["db"], "amy") as c:  # the server speaks TLS on this port
        assert c.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
    # a server whose certificate the CA file did not sign is refused, with the reason
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=other", "-keyout", str(tmp_path / "k.pem"), "-out",
                    str(other)], check=True, capture_output=True)  # fmt: skip
    shutil.copy(other, ca)
    code, out = run(t["amy"], "team", "push")
    assert code == 1 and "certificate" in out


def test_publishing_everything_again_changes_nothing(two_reps: dict[str, Any]) -> None:
    """What a push cut between PostgreSQL's commit and the outbox's forgetting does: the same
    rows published twice. Every write is an upsert on a natural key: the record is the same."""
    t = two_reps
    deliver_story(t)
    sync_and_push(t["amy"])
    before = snapshot(t["pg"], t["db"])
    with Store(t["amy"].parent / "mailkeeper.db") as s:
        s.conn.execute("DELETE FROM meta WHERE key = 'team_outbox'")
        assert s.outbox.enable() > 0  # everything queued again
    assert sync_and_push(t["amy"])["published"] > 0
    assert snapshot(t["pg"], t["db"]) == before


def test_a_link_undone_locally_is_marked_inactive_not_deleted(two_reps: dict[str, Any]) -> None:
    t = two_reps
    deliver_story(t)
    sync_and_push(t["amy"])
    rules = t["amy"].parent / "rules" / "customers.yaml"
    rules.write_text(BIRCH.replace("Birch & Co", "Birch Holdings"))  # the rep renames it
    with App.from_config(t["amy"]) as app:
        app.relink()
    sync_and_push(t["amy"])
    code, out = run(t["amy"], "team", "customer", "Birch & Co", "--json")
    assert json.loads(out)["messages"] == []  # no longer linked there ...
    links = snapshot(t["pg"], t["db"])["links"]
    assert {(lk[2], lk[-1]) for lk in links} == {("Birch & Co", False), ("Birch Holdings", True)}
    code, out = run(t["amy"], "team", "customer", "Birch Holdings", "--json")
    assert len(json.loads(out)["messages"]) == 2  # ... but kept, and the history moved along
