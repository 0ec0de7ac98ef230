"""Detection end to end: neglected accounts, unanswered issues with their SLA in working hours,
promises, snooze, resolve, explain. Every scenario runs over a local Maildir (no root, no
server) and over the real Dovecot test server (marked imap).

Dates are relative to AS_OF and passed as --as-of, so the scenarios replay exactly."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail, write_config

from mailkeeper.app import App
from mailkeeper.cli import cli

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)  # Wed 18:00 in Shanghai

CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
  - name: Kauri Imports
    domains: [kauri.com.au]
    tier: B
  - name: 华美家居
    domains: [huamei-home.cn]
    tier: A
    language: zh
  - name: Old Friend Ltd
    domains: [oldfriend.example]
    tier: C
"""

HOURS = (
    "working_hours: {days: [mon, tue, wed, thu, fri], start: '09:00', end: '18:00', holidays: CN}\n"
)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def shanghai(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return (
        datetime(y, m, d, h - 8, mi, tzinfo=UTC)
        if h >= 8
        else datetime(y, m, d - 1, h + 16, mi, tzinfo=UTC)
    )


class DovecotBox:
    """The test Dovecot behind the same two calls as MaildirBox."""

    def __init__(self, imap) -> None:
        self.imap = imap

    def deliver(self, folder: str, raw: bytes, flags: str = "") -> None:
        self.imap.deliver(folder, raw, user=self.imap.user, flags=flags)

    def config(self, dest: Path, customers: str, extra: str = "") -> Path:
        self.imap.index(self.imap.user)
        return write_config(dest, self.imap, self.imap.user, customers, extra_account=extra)


@pytest.fixture(params=["maildir", pytest.param("imap", marks=pytest.mark.imap)])
def box(request: pytest.FixtureRequest, tmp_path: Path) -> MaildirBox | DovecotBox:
    if request.param == "imap":
        return DovecotBox(request.getfixturevalue("imap"))
    return MaildirBox(tmp_path / "Maildir")


def _app(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS, tiers: str = "") -> App:
    cfg = box.config(tmp_path / "cfg", customers, extra="    extra_folders: [Drafts]\n")
    text = cfg.read_text().replace("timezone: Asia/Shanghai\n", "timezone: Asia/Shanghai\n" + HOURS)
    cfg.write_text(text)
    if tiers:
        path = tmp_path / "cfg" / "rules" / "tiers.yaml"
        path.write_text(path.read_text() + tiers)
    app = App.from_config(cfg)
    app.sync()
    return app


def _by(rows: list[dict], key: str = "customer") -> dict:
    return {r[key]: r for r in rows}


# ----------------------------------------------------------------------------- neglect
def test_neglected_a_account_fresh_b_account_dormant_and_drafts(tmp_path: Path, box) -> None:
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "Hello", date=ago(25)))
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: Hello", date=ago(20)))
    # a draft to Birch, not sent: never contact
    box.deliver("Drafts", make_mail(ME, "jane@birch.co.uk", "Checking in", date=ago(1)), "D")
    box.deliver("INBOX", make_mail("jo@kauri.com.au", ME, "Order", date=ago(6)))
    box.deliver("Sent", make_mail(ME, "jo@kauri.com.au", "Re: Order", date=ago(5)))
    box.deliver("INBOX", make_mail("x@oldfriend.example", ME, "Bye", date=ago(800)))
    box.deliver("Sent", make_mail(ME, "x@oldfriend.example", "Re: Bye", date=ago(799)))
    with _app(tmp_path, box) as app:
        rows = _by(app.neglected(AS_OF))
    birch = rows["Birch & Co"]
    assert birch["state"] == "neglected" and birch["tier"] == "A"
    assert (birch["days_since_contact"], birch["interval_days"], birch["overdue_days"]) == (
        20,
        14,
        6,
    )
    assert birch["last_outbound"] == birch["last_contact"] == "2026-12-17T10:00:00Z"
    assert "Kauri Imports" not in rows  # wrote 5 days ago, B allows 30
    assert rows["Old Friend Ltd"]["state"] == "dormant"  # silent both ways > 365 days
    assert list(rows) == ["Birch & Co", "Old Friend Ltd"]  # neglected first, dormant last


def test_snooze_then_it_comes_back(tmp_path: Path, box) -> None:
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Quote", date=ago(30)))
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "Re: Quote", date=ago(29)))
    with _app(tmp_path, box) as app:
        app.snooze("Birch & Co", AS_OF + timedelta(days=3))
        assert _by(app.neglected(AS_OF))["Birch & Co"]["state"] == "snoozed"
        later = _by(app.neglected(AS_OF + timedelta(days=4)))["Birch & Co"]
        assert later["state"] == "neglected"


def test_out_of_office_is_not_contact_and_opens_no_issue(tmp_path: Path, box) -> None:
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Offer", date=ago(40)))
    ooo = make_mail(
        "jane@birch.co.uk",
        ME,
        "Automatic reply: Offer",
        "I am out of the office. Any questions?",
        date=ago(39),
        headers={"Auto-Submitted": "auto-replied"},
    )
    box.deliver("INBOX", ooo)
    with _app(tmp_path, box) as app:
        birch = _by(app.neglected(AS_OF))["Birch & Co"]
        assert birch["last_inbound"] is None
        assert app.issues("all", AS_OF) == []


# ----------------------------------------------------------------------------- issues
def test_complaint_answered_in_time_is_acknowledged(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX",
        make_mail(
            "jane@birch.co.uk",
            ME,
            "Broken chairs",
            "Three chairs arrived broken. This is not acceptable.",
            msgid="<c1@birch>",
            date=ago(2),
        ),
    )
    box.deliver(
        "Sent",
        make_mail(
            ME,
            "jane@birch.co.uk",
            "Re: Broken chairs",
            "So sorry, replacing them.",
            in_reply_to="<c1@birch>",
            date=ago(2, -1),
        ),
    )
    with _app(tmp_path, box) as app:
        [issue] = app.issues("all", AS_OF)
    assert issue["state"] == "acknowledged" and issue["category"] in ("complaint", "quality")
    assert issue["acknowledged_at"] is not None and issue["sentence"]


@pytest.mark.parametrize(
    "complaint,reply,acknowledged_at",
    [
        # another offset: as text "...18:00:00+08:00" sorts after "...11:00:00Z"
        ("2027-01-04T18:00:00+08:00", "2027-01-04T11:00:00Z", "2027-01-04T11:00:00Z"),
        # another precision: as text "...10:00:00.500000Z" sorts before "...10:00:00Z"
        ("2027-01-04T10:00:00Z", "2027-01-04T10:00:00.500000Z", "2027-01-04T10:00:00Z"),
    ],
)
def test_times_are_compared_as_times_not_as_text(
    tmp_path: Path, complaint: str, reply: str, acknowledged_at: str
) -> None:
    """Stored times written as other text (another offset or precision) keep their order: the
    reply comes after the complaint, so the complaint is acknowledged. Compared as ISO strings
    (as detection once did), the reply looked older and the complaint unanswered."""
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "Broken chairs",
                                   "Three chairs arrived broken. This is not acceptable.",
                                   msgid="<c1@birch>", date=ago(2)))  # fmt: skip
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: Broken chairs",
                                  "So sorry, replacing them.", msgid="<r1@lumen>",
                                  in_reply_to="<c1@birch>", date=ago(2, -1)))  # fmt: skip
    with _app(tmp_path, box) as app:
        conn = app.store.conn
        for msgid, date in (("c1@birch", complaint), ("r1@lumen", reply)):
            conn.execute("UPDATE messages SET date = ? WHERE message_id = ?", (date, msgid))
        conn.commit()
        [issue] = app.issues("all", AS_OF)
    assert issue["state"] == "acknowledged"
    assert (issue["received_at"], issue["acknowledged_at"]) == (
        "2027-01-04T10:00:00Z",
        acknowledged_at,
    )


def test_complaint_unanswered_across_a_weekend_and_a_holiday_is_overdue(
    tmp_path: Path, box
) -> None:
    # Thu 2026-12-31 17:00 in Shanghai; tier A complaint: 4 working hours. 1 h on Thursday,
    # Fri 1 Jan is New Year's Day, Sat/Sun off, 3 h on Mon 4 Jan: due Mon 12:00 (04:00 UTC).
    sent = datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    box.deliver(
        "INBOX",
        make_mail(
            "jane@birch.co.uk",
            ME,
            "Wrong colour",
            "The colour is wrong and we are very disappointed.",
            date=sent,
        ),
    )
    with _app(tmp_path, box) as app:
        before = app.issues("open", datetime(2027, 1, 4, 3, 59, tzinfo=UTC))
        assert [i["state"] for i in before] == ["open"]
        [issue] = app.issues("overdue", AS_OF)
        assert issue["due_at"] == "2027-01-04T04:00:00Z"
        assert issue["received_at"] == "2026-12-31T09:00:00Z"
        why = app.explain(issue["id"])
    text = "\n".join(why["steps"])
    assert "public holiday" in text or "New Year" in text
    assert "4 working hours" in text and "disappointed" in text


def test_a_follow_up_joins_the_open_issue_and_keeps_its_clock(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX",
        make_mail(
            "jo@kauri.com.au",
            ME,
            "Container",
            "Where is our container?",
            msgid="<q1@kauri>",
            date=ago(10),
        ),
    )
    box.deliver(
        "INBOX",
        make_mail(
            "jo@kauri.com.au",
            ME,
            "Re: Container",
            "Any news?",
            in_reply_to="<q1@kauri>",
            date=ago(8),
        ),
    )
    with _app(tmp_path, box) as app:
        [issue] = app.issues("all", AS_OF)
    assert issue["received_at"] == "2026-12-27T10:00:00Z" and issue["state"] == "overdue"


def test_question_answered_in_thread_to_another_contact_counts(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX",
        make_mail(
            "jo@kauri.com.au",
            ME,
            "Lead time",
            "Could you tell us the lead time for 500 pcs?",
            msgid="<lt@kauri>",
            date=ago(3),
        ),
    )
    box.deliver(
        "Sent",
        make_mail(
            ME,
            "anna@kauri.com.au",
            "Re: Lead time",
            "45 days.",
            in_reply_to="<lt@kauri>",
            date=ago(2),
        ),
    )
    with _app(tmp_path, box) as app:
        [issue] = app.issues("all", AS_OF)
    assert issue["state"] == "acknowledged"


def test_acknowledged_by_customer_counts_mail_to_anyone_there(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX",
        make_mail(
            "jo@kauri.com.au", ME, "Samples", "Please send samples of the oak finish.", date=ago(3)
        ),
    )
    box.deliver(
        "Sent",
        make_mail(
            ME, "anna@kauri.com.au", "Samples on the way", "Samples ship tomorrow.", date=ago(2)
        ),
    )
    with _app(tmp_path, box) as app:
        assert [i["state"] for i in app.issues("all", AS_OF)] == ["overdue"]
    tiers = "\n".join(["detection:", "  acknowledged_by: customer", ""])
    path = tmp_path / "cfg" / "rules" / "tiers.yaml"
    path.write_text(path.read_text().replace("  acknowledged_by: contact\n", ""))
    path.write_text(
        path.read_text().replace("detection:\n", "detection:\n  acknowledged_by: customer\n")
    )
    with App.from_config(tmp_path / "cfg" / "mailkeeper.yaml") as app:
        assert [i["state"] for i in app.issues("all", AS_OF)] == ["acknowledged"]
    assert tiers


def _gbk_mail(subject: str, body: str, date: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = "wang@huamei-home.cn"
    msg["To"] = ME
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = email.utils.make_msgid(domain="huamei-home.cn")
    msg.set_content(body, charset="gbk")
    return msg.as_bytes()


def test_chinese_complaint_in_gbk_newsletter_and_thank_you(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX", _gbk_mail("质量问题", "这批椅子有色差，客户很不满意，请尽快处理。", ago(1))
    )
    news = make_mail(
        "news@birch.co.uk",
        ME,
        "Birch newsletter: what's new?",
        "Read more?",
        date=ago(1),
        headers={"List-Unsubscribe": "<mailto:u@birch.co.uk>"},
    )
    box.deliver("INBOX", news)
    box.deliver(
        "INBOX", make_mail("jo@kauri.com.au", ME, "Thanks", "Got it, thank you!", date=ago(1))
    )
    with _app(tmp_path, box) as app:
        rows = app.issues("all", AS_OF)
    assert [(r["customer"], r["category"]) for r in rows] == [("华美家居", "quality")]
    assert "色差" in rows[0]["sentence"]


def test_old_unanswered_mail_outside_the_look_back_opens_nothing(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX", make_mail("jane@birch.co.uk", ME, "Price?", "What is the price?", date=ago(400))
    )
    with _app(tmp_path, box) as app:
        assert app.issues("all", AS_OF) == []


# ----------------------------------------------------------------------------- promises
def test_promise_due_then_kept(tmp_path: Path, box) -> None:
    # Mon 2027-01-04 10:00 Shanghai: "by Friday" is Fri 8 Jan 18:00 Shanghai (10:00 UTC)
    box.deliver(
        "Sent",
        make_mail(
            ME,
            "jane@birch.co.uk",
            "Re: RFQ",
            "I will send the revised quotation by Friday.",
            msgid="<p1@lumen>",
            date=datetime(2027, 1, 4, 2, 0, tzinfo=UTC),
        ),
    )
    with _app(tmp_path, box) as app:
        [p] = app.promises("all", AS_OF)
        assert (p["state"], p["due_at"]) == ("open", "2027-01-08T10:00:00Z")
        assert p["text"] == "I will send the revised quotation by Friday."
        later = datetime(2027, 1, 10, tzinfo=UTC)
        assert [x["state"] for x in app.promises("all", later)] == ["overdue"]
        box.deliver(
            "Sent",
            make_mail(
                ME,
                "jane@birch.co.uk",
                "Re: RFQ",
                "Attached.",
                in_reply_to="<p1@lumen>",
                date=datetime(2027, 1, 8, 3, 0, tzinfo=UTC),
            ),
        )
        app.sync()
        [kept] = app.promises("all", later)
        assert kept["state"] == "kept" and kept["kept_at"] == "2027-01-08T03:00:00Z"


# ----------------------------------------------------------------------------- bookkeeping
def test_scan_is_idempotent_resolve_sticks_and_history_is_kept(tmp_path: Path, box) -> None:
    box.deliver(
        "INBOX", make_mail("jo@kauri.com.au", ME, "Price", "Can you quote 200 pcs?", date=ago(1))
    )
    with _app(tmp_path, box) as app:
        first = app.issues("all", AS_OF)
        again = app.issues("all", AS_OF)
        assert [r["id"] for r in first] == [r["id"] for r in again] and len(first) == 1
        n = app.store.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
        app.scan(AS_OF)
        assert app.store.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == n
        fid = first[0]["id"]
        app.resolve(fid, "answered by phone")
        assert app.issues("open", AS_OF + timedelta(days=5)) == []
        history = app.explain(fid)["history"]
    assert [h["state"] for h in history] == ["open", "resolved"]
    assert history[-1]["note"] == "answered by phone"


def test_json_field_names_are_the_contract(tmp_path: Path, box) -> None:
    box.deliver("INBOX", make_mail("jo@kauri.com.au", ME, "Price", "Can you quote?", date=ago(1)))
    box.deliver(
        "Sent", make_mail(ME, "jane@birch.co.uk", "Plan", "We will ship next week.", date=ago(40))
    )
    with _app(tmp_path, box) as app:
        neglected = json.loads(json.dumps(app.neglected(AS_OF)))
        issues = app.issues("all", AS_OF)
        promises = app.promises("all", AS_OF - timedelta(days=39))
    assert {
        "id", "customer", "tier", "last_contact", "last_inbound", "last_outbound",
        "days_since_contact", "interval_days", "overdue_days", "state",
    } <= set(neglected[0])  # fmt: skip
    assert {
        "id", "customer", "category", "severity", "message_id", "received_at", "due_at",
        "acknowledged_at", "state", "phrase", "sentence",
    } <= set(issues[0])  # fmt: skip
    assert {"id", "customer", "message_id", "text", "made_at", "due_at", "kept_at", "state"} <= set(
        promises[0]
    )


def test_automatic_tiering_and_a_hand_written_tier_wins(tmp_path: Path, box) -> None:
    customers = CUSTOMERS.replace(
        "    domains: [kauri.com.au]\n    tier: B\n",
        "    domains: [kauri.com.au]\n    value: 50000\n",
    )
    for n in range(12):
        box.deliver(
            "INBOX", make_mail(f"p{n % 4}@kauri.com.au", ME, f"Order {n}", date=ago(20 + n))
        )
        box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, f"Hi {n}", date=ago(20 + n)))
    auto = "auto_tier:\n  A: {min_messages_year: 10, min_contacts: 3, min_value: 10000}\n"
    with _app(tmp_path, box, customers=customers, tiers=auto) as app:
        rows = {c["name"]: c for c in app.customers(as_of=AS_OF)}
        neglected = _by(app.neglected(AS_OF))
    assert (rows["Kauri Imports"]["tier"], rows["Kauri Imports"]["tier_source"]) == (
        "A",
        "auto: 12 messages in 12 months ≥ 10, 4 contacts ≥ 3, value 50000 ≥ 10000",
    )
    assert rows["Birch & Co"]["tier_source"] == "customers.yaml"  # tier: A written by hand
    assert (
        neglected["Kauri Imports"]["tier"] == "A"
        and neglected["Kauri Imports"]["interval_days"] == 14
    )


def test_the_old_sla_key_still_works_with_a_warning(tmp_path: Path) -> None:
    from mailkeeper.config import settings as config

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    tiers = tmp_path / "cfg" / "rules" / "tiers.yaml"
    tiers.write_text(
        tiers.read_text().replace("issue_sla_working_hours: 16", "issue_sla_hours: 16")
    )
    problems, warnings = config.check_with_warnings(cfg)
    assert problems == []
    assert any("issue_sla_hours" in w and "issue_sla_working_hours" in w and "tiers.yaml:" in w
               for w in warnings)  # fmt: skip
    rules = config.load_rules(config.load_settings(cfg))
    assert rules.tiers["B"].issue_sla_working_hours == 16


def test_neglected_lists_dormant_customers_only_with_all(tmp_path: Path) -> None:
    """On a mailbox with years of history 253 of 257 rows were dormant: hidden by default,
    counted in one line, listed with --all (table and --json alike)."""
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: Hello", date=ago(20)))
    box.deliver("INBOX", make_mail("x@oldfriend.example", ME, "Bye", date=ago(800)))
    box.deliver("Sent", make_mail(ME, "x@oldfriend.example", "Re: Bye", date=ago(799)))
    _app(tmp_path, box).close()
    cfg = str(tmp_path / "cfg" / "mailkeeper.yaml")
    as_of = AS_OF.isoformat()
    runner = CliRunner()
    table = runner.invoke(cli, ["--config", cfg, "neglected", "--as-of", as_of])
    assert table.exit_code == 0, table.output
    assert "Birch & Co" in table.output and "Old Friend" not in table.output
    assert "1 dormant customer(s) not shown: mailkeeper neglected --all" in table.output
    every = runner.invoke(cli, ["--config", cfg, "neglected", "--all", "--as-of", as_of])
    assert "Old Friend Ltd" in every.output and "not shown" not in every.output
    plain = runner.invoke(cli, ["--config", cfg, "neglected", "--json", "--as-of", as_of])
    assert [r["customer"] for r in json.loads(plain.output)] == ["Birch & Co"]
    both = runner.invoke(cli, ["--config", cfg, "neglected", "--json", "--all", "--as-of", as_of])
    assert [r["state"] for r in json.loads(both.output)] == ["neglected", "dormant"]
