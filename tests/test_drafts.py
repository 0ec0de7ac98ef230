"""Drafts: rendered from the templates, placed in the Drafts folder (a Maildir here, the real
Dovecot below), and followed: one pending draft per finding, a deleted one not recreated
before its cool-down, a sent one closes it, an edited one is left alone."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ME, MaildirBox, make_mail, write_config
from imapclient import IMAPClient

from mailkeeper.app import App
from mailkeeper.drafts.compose import KIND_OF, SAMPLE_CARD, Templates

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
  - name: 华美家居
    domains: [huamei-home.cn]
    tier: B
    language: zh
"""


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def _maildir_app(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS) -> App:
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", customers)
    return App.from_config(cfg)


def _drafts_on_disk(box: MaildirBox) -> list[Path]:
    return sorted((box.folder_dir("Drafts") / "cur").iterdir())


def _strict(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert not msg.defects
    for part in msg.walk():
        assert not part.defects
    return msg  # type: ignore[return-value]


def test_a_neglected_customer_gets_one_check_in_and_a_dismissed_one_waits(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("Jane Oak <jane@birch.co.uk>", ME, "Hi", date=ago(31)))
    box.deliver("Sent", make_mail(ME, "Jane Oak <jane@birch.co.uk>", "Re: Hi", date=ago(30)))
    with _maildir_app(tmp_path, box) as app:
        preview = app.draft(dry_run=True, as_of=AS_OF)
        assert [d["kind"] for d in preview["added"]] == ["check_in"]
        assert _drafts_on_disk(box) == []  # a dry run adds nothing
        r = app.draft(as_of=AS_OF)
        [path] = _drafts_on_disk(box)
        assert path.name.endswith(":2,DS")  # draft and seen, as mail clients save drafts
        msg = _strict(path.read_bytes())
        assert msg["To"].addresses[0].addr_spec == "jane@birch.co.uk"
        assert msg["From"].addresses[0].addr_spec == ME
        assert msg["X-Mailkeeper-Key"] and "Birch & Co" in msg.get_content()
        assert "Amy Chen" in msg.get_content()  # the signature
        assert r["added"][0]["folder"] == "Drafts"
        # again: the draft is still there, nothing new
        again = app.draft(as_of=AS_OF + timedelta(hours=1))
        assert again["added"] == [] and again["still_there"] == 1
        assert len(_drafts_on_disk(box)) == 1
        [row] = app.drafts()
        assert (row["kind"], row["state"], row["to"]) == ("check_in", "pending", "jane@birch.co.uk")
        # the rep deletes it: dismissed, and no new one before the cool-down (14 days)
        path.unlink()
        gone = app.draft(as_of=AS_OF + timedelta(days=1))
        assert gone["dismissed"] == 1 and gone["added"] == []
        assert app.draft(as_of=AS_OF + timedelta(days=10))["added"] == []
        later = app.draft(as_of=AS_OF + timedelta(days=16))
        assert [d["kind"] for d in later["added"]] == ["check_in"]
        assert [d["state"] for d in app.drafts()] == ["dismissed", "pending"]


def test_an_issue_ack_answers_in_the_thread_and_a_sent_draft_closes_it(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Offer", date=ago(3)))
    box.deliver(
        "INBOX",
        make_mail(
            "Jane Oak <jane@birch.co.uk>",
            ME,
            "Broken legs",
            "Two chairs arrived broken. Please advise.",
            msgid="<bl@birch.co.uk>",
            date=ago(1),
        ),
    )
    with _maildir_app(tmp_path, box) as app:
        r = app.draft(as_of=AS_OF)
        assert [d["kind"] for d in r["added"]] == ["issue_ack"]
        [path] = _drafts_on_disk(box)
        msg = _strict(path.read_bytes())
        assert msg["In-Reply-To"] == "<bl@birch.co.uk>"
        assert "<bl@birch.co.uk>" in msg["References"]
        assert msg["Subject"] == "Re: Broken legs"
        assert "Two chairs arrived broken" in msg.get_content()
        # the rep sends it from their mail client: it leaves Drafts and shows in Sent
        sent = path.read_bytes().replace(b"X-Mailkeeper-Key", b"X-Was-Key")
        path.unlink()
        box.deliver(
            "Sent",
            sent.replace(b"Date:", b"X-Old-Date:").replace(
                b"Subject:", b"Date: Wed, 06 Jan 2027 12:00:00 +0000\r\nSubject:", 1
            ),
        )
        r2 = app.draft(as_of=AS_OF + timedelta(hours=3))
        assert r2["sent"] == 1 and r2["dismissed"] == 0
        assert [d["state"] for d in app.drafts()] == ["sent"]
        assert [i["state"] for i in app.issues("all", AS_OF + timedelta(hours=3))] == [
            "acknowledged"
        ]


def test_an_edited_draft_is_left_alone(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Hi", date=ago(30)))
    with _maildir_app(tmp_path, box) as app:
        app.draft(as_of=AS_OF)
        [path] = _drafts_on_disk(box)
        edited = path.read_bytes().replace(b"It has been a while", b"Long time no see")
        path.unlink()  # the mail client saves the edited draft as a new message
        box.deliver("Drafts", edited, flags="D")
        r = app.draft(as_of=AS_OF + timedelta(hours=1))
        assert r["added"] == [] and r["still_there"] == 1 and r["dismissed"] == 0
        [path] = _drafts_on_disk(box)
        assert b"Long time no see" in path.read_bytes()


def test_no_drafts_folder_is_reported_never_created(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Hi", date=ago(30)))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    with App.from_config(cfg) as app:
        r = app.draft(as_of=AS_OF)
    assert r["problems"] and "Drafts" in r["problems"][0]
    assert not (tmp_path / "Maildir" / ".Drafts").exists()


def test_hostile_names_and_subjects_cannot_inject_headers(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    hostile = (
        b"From: =?utf-8?q?Evil=0D=0ABcc=3A_boss=40evil=2Eexample?= <jane@birch.co.uk>\r\n"
        b"To: " + ME.encode() + b"\r\n"
        b"Subject: =?utf-8?q?Urgent=0D=0ABcc=3A_x=40evil=2Eexample=0D=0A=0D=0Abody?=\r\n"
        b"Message-ID: <h1@birch.co.uk>\r\n"
        b"Date: Tue, 05 Jan 2027 09:00:00 +0000\r\n\r\nWhere is our order? Bcc: y@evil.example\r\n"
    )
    box.deliver("INBOX", hostile)
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Hi", date=ago(3)))
    with _maildir_app(tmp_path, box) as app:
        app.draft(as_of=AS_OF)
    [path] = _drafts_on_disk(box)
    msg = _strict(path.read_bytes())
    assert msg["Bcc"] is None and msg["Cc"] is None
    assert "\n" not in str(msg["Subject"]) and "\n" not in str(msg["To"])
    assert [a.addr_spec for a in msg["To"].addresses] == ["jane@birch.co.uk"]


# ----------------------------------------------------------------------------- templates
SAMPLE = {
    "customer": "Birch & Co", "contact_name": "Jane", "salutation": "Dear Jane,",
    "subject": "Re: Price", "issues": [], "latest": None,
    "recent_subjects": ["Price"], "days_since_contact": 40, "last_contact": "2026-11-20",
    "today": "2027-01-06",
    "issue": {"category": "complaint", "severity": "high", "sentence": "Two legs broke.",
              "phrase": "broke", "subject": "Legs", "received": "2027-01-05"},
    "promise": {"text": "I will send it by Friday.", "due": "2027-01-08", "made": "2027-01-04",
                "subject": "Quote", "days_late": 0},
    "order": {"ref": "LF-2291", "last_milestone": "production started",
              "next_milestone": "inspection passed", "next_due_at": "2027-01-20",
              "next_late": False,
              "problem": "The veneer supplier is 5 days late.",
              "timeline": [{"milestone": "deposit received", "done_at": "2026-12-01",
                            "planned_at": "2026-12-01", "note": ""},
                           {"milestone": "inspection passed", "done_at": None,
                            "planned_at": "2027-01-20", "note": ""}]},
    "holiday": {"name": "Spring Festival", "date": "2027-02-06"},
    "check_in": {"days_since_contact": 40, "last_contact": "2026-11-20"},
    "need": {"sentence": "We expect to need 500 sofas before the autumn.", "said": "2027-03-10",
             "phrase": "before the autumn", "window_start": "2027-08-01",
             "window_end": "2027-08-31"},
    "card": SAMPLE_CARD,
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(set(KIND_OF.values())))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_shipped_template_renders_and_makes_a_strict_message(
    kind: str, language: str
) -> None:
    from mailkeeper.config import defaults
    from mailkeeper.drafts.compose import PlannedDraft, _Named, build_message

    templates = Templates((defaults.templates_dir(),))
    name = templates.name_for(kind, language)
    assert name == f"{kind}.{language}.txt.j2"
    me = _Named("Amy Chen", signature="Amy Chen\nLumen Furniture", email=ME, addresses=[ME])
    context = dict(SAMPLE, me=me, contact=_Named("Jane", email="jane@birch.co.uk"))
    subject, body = templates.render(name, context)
    assert subject and body.strip() and "Amy Chen" in body
    d = PlannedDraft(
        {},
        kind,
        "work",
        "jane@birch.co.uk",
        "Jane Oak",
        subject,
        body,
        name,
        language,
        in_reply_to="x1@birch.co.uk",
    )
    msg = _strict(build_message(d, me, datetime(2027, 1, 6, tzinfo=UTC)))
    assert msg["Subject"] == subject and msg.get_content().strip()


def test_the_customers_language_picks_the_template(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "报价", date=ago(60)))
    box.deliver("INBOX", make_mail("wang@huamei-home.cn", ME, "回复：报价", "谢谢", date=ago(59)))
    with _maildir_app(tmp_path, box) as app:
        app.draft(as_of=AS_OF)
    [path] = _drafts_on_disk(box)
    assert "您好" in _strict(path.read_bytes()).get_content()


# ----------------------------------------------------------------------------- IMAP
@pytest.mark.imap
def test_drafts_on_a_real_imap_server(tmp_path: Path, imap) -> None:
    imap.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Offer", date=ago(4)), user=imap.user)
    imap.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "报价", date=ago(40)), user=imap.user)
    imap.deliver(
        "INBOX",
        make_mail(
            "jane@birch.co.uk",
            ME,
            "Colour",
            "The colour is wrong, we are very disappointed.",
            msgid="<col@birch.co.uk>",
            date=ago(1),
        ),
        user=imap.user,
    )
    imap.index(imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, CUSTOMERS)
    c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
    c.login(imap.user, "secret")
    c.select_folder("INBOX", readonly=True)
    before = c.fetch(c.search(["ALL"]), ["FLAGS"])
    with App.from_config(cfg) as app:
        r = app.draft(as_of=AS_OF)
        assert sorted(d["kind"] for d in r["added"]) == ["check_in", "issue_ack"]
        assert app.draft(as_of=AS_OF + timedelta(hours=1))["added"] == []  # no duplicates
        c.select_folder("Drafts", readonly=True)
        uids = c.search(["ALL"])
        assert len(uids) == 2
        fetched = c.fetch(uids, ["FLAGS", "BODY.PEEK[]"])
        kinds = {}
        for item in fetched.values():
            assert b"\\Draft" in item[b"FLAGS"]
            msg = _strict(item[b"BODY[]"])
            kinds[msg["Subject"]] = msg
        ack = kinds["Re: Colour"]
        assert "您好" in next(m for s, m in kinds.items() if s != "Re: Colour").get_content()
        assert ack["In-Reply-To"] == "<col@birch.co.uk>"
        # deleted on the server by the rep: not recreated before the cool-down
        c.select_folder("Drafts")
        c.delete_messages(uids)
        c.expunge()
        r = app.draft(as_of=AS_OF + timedelta(hours=2))
        assert r["dismissed"] == 2 and r["added"] == []
    c.select_folder("INBOX", readonly=True)
    assert c.fetch(c.search(["ALL"]), ["FLAGS"]) == before  # nothing else was touched
    c.logout()


def test_an_order_milestone_and_a_problem_get_progress_and_problem_drafts(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    confirmed = AS_OF - timedelta(days=12)
    box.deliver(
        "INBOX",
        make_mail(
            "Jane Oak <jane@birch.co.uk>",
            ME,
            "PO LF-2291 confirmed",
            "Deposit sent today.",
            msgid="<po@birch.co.uk>",
            date=confirmed,
        ),
    )
    box.deliver(
        "Sent",
        make_mail(
            ME,
            "jane@birch.co.uk",
            "Re: PO LF-2291 confirmed",
            "Thanks!",
            in_reply_to="<po@birch.co.uk>",
            date=confirmed + timedelta(hours=2),
        ),
    )
    with _maildir_app(tmp_path, box) as app:
        app.sync()
        app.order_add("Birch & Co", "LF-2291", confirmed)
        app.order_event("LF-2291", "deposit received", AS_OF - timedelta(days=2), "USD 12,000")
        app.order_problem("LF-2291", "The oak veneer arrives 5 days late.", AS_OF)
        r = app.draft(as_of=AS_OF)
        kinds = sorted(d["kind"] for d in r["added"])
        # and, it being January, tier A's yearly report card of 2026 (the order's year)
        assert kinds == ["problem", "progress", "report_card"]
        texts = {}
        for path in _drafts_on_disk(box):
            msg = _strict(path.read_bytes())
            texts[msg["Subject"]] = msg
        problem = next(m for s, m in texts.items() if "plan" in s)
        assert "The oak veneer arrives 5 days late." in problem.get_content()
        progress = next(m for s, m in texts.items() if "progress" in s)
        body = progress.get_content()
        assert "LF-2291" in body and "Deposit received: done" in body and "USD 12,000" in body
        assert progress["In-Reply-To"]  # in the thread of the mail that names the order


def test_check_renders_every_template_with_its_context(tmp_path: Path) -> None:
    from mailkeeper import check

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    assert check.check(cfg, offline=True).problems == []
    bad = tmp_path / "cfg" / "templates" / "progress.en.txt.j2"
    bad.write_text(
        "Subject: {{ order.ref }}\n\nDear {{ contact_name }},\n{{ order.shipment.date }}\n"
    )
    problems = check.check(cfg, offline=True).problems
    assert len(problems) == 1 and f"{bad}:4" in problems[0] and "shipment" in problems[0]


def test_check_finds_a_bad_spacy_pattern_in_the_issue_rules(tmp_path: Path) -> None:
    from mailkeeper import check

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    (tmp_path / "cfg" / "rules" / "issues.en.yaml").write_text(
        "categories:\n  complaint:\n    severity: high\n    patterns:\n"
        "      - [{LOWR: not}, {LOWER: happy}]\n"
    )
    problems = check.check(cfg, offline=True).problems
    assert any("issues.en.yaml" in p and "pattern" in p for p in problems)


def test_at_most_per_run_drafts_most_urgent_first_and_an_obsolete_one(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "报价", date=ago(60)))
    box.deliver("INBOX", make_mail("wang@huamei-home.cn", ME, "回复：报价", "谢谢", date=ago(59)))
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Offer", date=ago(5)))
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "Where is our order?",
                                   "Where is our container? It is late.", date=ago(1)))  # fmt: skip
    box.folder_dir("Drafts")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    cfg.write_text(cfg.read_text() + "drafts: {per_run: 1}\n")
    with App.from_config(cfg) as app:
        first = app.draft(as_of=AS_OF)
        assert [d["kind"] for d in first["added"]] == ["issue_ack"]  # the urgent one first
        assert any("limit" in w for w in first["waiting"])
        second = app.draft(as_of=AS_OF + timedelta(minutes=5))
        assert [d["kind"] for d in second["added"]] == ["check_in"]
        # the rep writes to 华美家居 from their phone, about something else: the check-in
        # is not needed any more; it stays in Drafts for the rep to delete, marked obsolete
        box.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "新品目录",
                                      date=AS_OF + timedelta(hours=1)))  # fmt: skip
        third = app.draft(as_of=AS_OF + timedelta(hours=2))
        assert third["obsolete"] == 1 and third["added"] == []
        states = {d["kind"]: d["state"] for d in app.drafts()}
    assert states == {"issue_ack": "pending", "check_in": "obsolete"}
    assert len(_drafts_on_disk(box)) == 2  # nothing deleted: the rep's to delete


@pytest.mark.parametrize("cut", ["before the append", "after the append, before it is noted"])
def test_a_run_killed_between_recording_and_appending_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    """A draft is recorded first and appended after (publish.py). A run killed in between
    leaves a recorded draft not yet in Drafts (the next run adds it) or one in Drafts not yet
    noted as added (the next run finds it there by its key and does not add it again)."""
    from mailkeeper.mailbox.maildir import MaildirDraftBox
    from mailkeeper.store.drafts import DraftStore

    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("Jane Oak <jane@birch.co.uk>", ME, "Hi", date=ago(31)))
    box.deliver("Sent", make_mail(ME, "Jane Oak <jane@birch.co.uk>", "Re: Hi", date=ago(30)))
    target, name = (
        (MaildirDraftBox, "append_draft")
        if cut == "before the append"
        else (DraftStore, "set_appended")
    )
    real = getattr(target, name)

    def killed(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt  # stands for kill -9 at this point

    with _maildir_app(tmp_path, box) as app:
        monkeypatch.setattr(target, name, killed)
        with pytest.raises(KeyboardInterrupt):
            app.draft(as_of=AS_OF)
    monkeypatch.setattr(target, name, real)
    assert len(_drafts_on_disk(box)) == (0 if cut == "before the append" else 1)
    with _maildir_app(tmp_path, box) as app:
        [row] = app.drafts()
        assert (row["kind"], row["state"]) == ("check_in", "pending")
        again = app.draft(as_of=AS_OF + timedelta(minutes=5))
        assert again["added"] == []  # the recorded draft is the finding's one draft
        [path] = _drafts_on_disk(box)
        assert _strict(path.read_bytes())["X-Mailkeeper-Key"]
        assert [d["state"] for d in app.drafts()] == ["pending"]
        assert app.draft(as_of=AS_OF + timedelta(hours=1))["still_there"] == 1
        assert len(_drafts_on_disk(box)) == 1
