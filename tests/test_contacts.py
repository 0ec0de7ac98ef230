"""Who a draft goes to and whose mail steers findings (issue 19, part 1), end to end through
the app on a local Maildir (the IMAP adapter parses the same way: see the last test).

A customer's contact is an address its own rules name (listed, or at one of its domains),
never the rep's, a colleague's or an automatic sender's; mail from anyone else in its thread
is history only; mail from the rep's address counts as sent only from a Sent folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import ME, MaildirBox, make_mail, write_config

from mailkeeper.app import App

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
"""
JANE = "jane@birch.co.uk"
COMPLAINT = "Two chairs arrived broken. Please advise, we are very disappointed."


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def _app(tmp_path: Path, box: MaildirBox) -> App:
    box.folder_dir("Drafts")
    app = App.from_config(box.config(tmp_path / "cfg", CUSTOMERS))
    app.sync()
    return app


def _planned(app: App) -> list[tuple[str, str]]:
    """(kind, to) of the drafts a run would add now."""
    return sorted((d["kind"], d["to"]) for d in app.draft(dry_run=True, as_of=AS_OF)["added"])


def _contacts(app: App) -> list[str]:
    return [c["email"] for c in app.customer("Birch & Co")["contacts"]]


def test_a_colleague_on_the_customers_mail_is_never_its_contact(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    boss = "boss@lumen-furniture.com"
    box.deliver("INBOX", make_mail(JANE, ME, "Samples", cc=[boss], date=ago(45)))
    box.deliver("Sent", make_mail(ME, JANE, "Re: Samples", cc=[boss], date=ago(44)))
    # the boss writes to the customer too: more mail with the boss on it than with Jane
    box.deliver("INBOX", make_mail(boss, [JANE, ME], "Prices", date=ago(43)))
    box.deliver("INBOX", make_mail(boss, ME, "Fwd: Samples", cc=[JANE], date=ago(42)))
    with _app(tmp_path, box) as app:
        assert _contacts(app) == [JANE]
        assert _planned(app) == [("check_in", JANE)]


def test_a_bounce_or_no_reply_address_is_never_a_contact(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, JANE, "Catalogue", date=ago(40)))
    for n in range(3):
        bounce = make_mail(
            "Mail Delivery System <mailer-daemon@birch.co.uk>",
            ME,
            f"Undelivered Mail Returned to Sender {n}",
            date=ago(39 - n),
            headers={"Auto-Submitted": "auto-replied"},
        )
        box.deliver("INBOX", bounce)
    # a no-reply sender that does not say it is automatic
    for n in range(3):
        box.deliver(
            "INBOX", make_mail("no-reply@birch.co.uk", ME, f"Invoice {n}", date=ago(30 - n))
        )
    with _app(tmp_path, box) as app:
        assert _contacts(app) == [JANE]
        assert _planned(app) == [("check_in", JANE)]


def _thread(box: MaildirBox) -> None:
    box.deliver("INBOX", make_mail(JANE, ME, "Order 55", msgid="<o55@birch.co.uk>", date=ago(40)))
    box.deliver(
        "Sent", make_mail(ME, JANE, "Re: Order 55", in_reply_to="<o55@birch.co.uk>", date=ago(39))
    )


def test_an_outsider_in_a_customers_thread_gets_no_draft_and_opens_nothing(
    tmp_path: Path,
) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    _thread(box)
    mallory = "mallory@gmail.com"
    for n in range(5):
        box.deliver(
            "INBOX",
            make_mail(
                mallory, ME, "Re: Order 55", in_reply_to="<o55@birch.co.uk>", date=ago(9 - n)
            ),
        )
    box.deliver(
        "INBOX",
        make_mail(
            mallory, ME, "Re: Order 55", COMPLAINT, in_reply_to="<o55@birch.co.uk>", date=ago(1)
        ),
    )
    with _app(tmp_path, box) as app:
        links = set(
            app.store.conn.execute(
                "SELECT m.from_email, l.method FROM links l JOIN messages m "
                "ON m.key = l.message_key"
            )
        )
        assert (mallory, "thread") in links  # kept for the history
        assert _contacts(app) == [JANE]
        assert app.issues("all", AS_OF) == []
        assert _planned(app) == [("check_in", JANE)]
        birch = next(c for c in app.customers(as_of=AS_OF) if c["name"] == "Birch & Co")
        assert birch["last_inbound"] == "2026-11-27T10:00:00Z"  # Jane's, not Mallory's


def test_the_reps_reply_to_an_outsider_does_not_acknowledge_the_customers_issue(
    tmp_path: Path,
) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, JANE, "Offer", date=ago(5)))
    box.deliver(
        "INBOX",
        make_mail(JANE, ME, "Broken legs", COMPLAINT, msgid="<bl@birch.co.uk>", date=ago(2)),
    )
    box.deliver(
        "Sent",
        make_mail(
            ME, "mallory@gmail.com", "Re: Broken legs", in_reply_to="<bl@birch.co.uk>", date=ago(1)
        ),
    )
    with _app(tmp_path, box) as app:
        assert [i["state"] for i in app.issues("all", AS_OF)] in (["open"], ["overdue"])
        assert _planned(app) == [("issue_ack", JANE)]


def test_mail_from_the_reps_address_in_the_inbox_is_not_the_reps(tmp_path: Path) -> None:
    """Anyone can write the rep's address in a From line; only the rep's mail client puts
    mail in the Sent folder. A spoofed reply in the Inbox neither acknowledges the issue nor
    counts as contact; the same mail in Sent does."""
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, JANE, "Offer", date=ago(40)))
    box.deliver(
        "INBOX",
        make_mail(JANE, ME, "Broken legs", COMPLAINT, msgid="<bl@birch.co.uk>", date=ago(2)),
    )
    spoof = make_mail(
        ME, JANE, "Re: Broken legs", "Sorry, fixed.", in_reply_to="<bl@birch.co.uk>", date=ago(1)
    )
    box.deliver("INBOX", spoof)
    with _app(tmp_path, box) as app:
        directions = dict(app.store.conn.execute("SELECT subject, direction FROM messages"))
        assert directions["Re: Broken legs"] == "inbound"
        assert [i["state"] for i in app.issues("all", AS_OF)] in (["open"], ["overdue"])
        [neglected] = app.neglected(as_of=AS_OF)
        assert neglected["last_contact"] == "2026-11-27T10:00:00Z"  # the real one in Sent
        assert _planned(app) == [("issue_ack", JANE)]
        # the rep really sends it: a copy in Sent is the rep's, and closes both
        box.deliver("Sent", spoof)
        app.sync()
        assert [i["state"] for i in app.issues("all", AS_OF)] == ["acknowledged"]
    # a new process: the scanner's in-memory contact cache is keyed on new mail, not on a
    # direction decided anew (reported to the lead)
    with App.from_config(tmp_path / "cfg" / "mailkeeper.yaml") as app:
        assert app.neglected(as_of=AS_OF) == []


def test_a_sent_message_moved_out_of_sent_stays_the_reps_after_a_relink(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    path = box.deliver("Sent", make_mail(ME, JANE, "Offer", date=ago(3)))
    extra = "    extra_folders: [Archive]\n"
    box.folder_dir("Archive")
    with App.from_config(box.config(tmp_path / "cfg", CUSTOMERS, extra=extra)) as app:
        app.sync()
        archived = box.folder_dir("Archive") / "cur" / path.name
        path.rename(archived)  # the rep files it away
        app.sync()
        app.relink()
        [(direction,)] = app.store.conn.execute("SELECT direction FROM messages")
        assert direction == "outbound"


RAW_NAME_IS_ADDRESS = (
    b"From: jane@birch.co.uk <x@evil.test>\r\n"
    b"To: " + ME.encode() + b"\r\n"
    b"Subject: Urgent: bank details changed\r\n"
    b"Date: Mon, 04 Jan 2027 09:00:00 +0000\r\n"
    b"Message-ID: <bank@evil.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Please pay to the new account. Please advise.\r\n"
)


def _sender_and_links(app: App) -> tuple[tuple[str, str], int]:
    row = app.store.conn.execute("SELECT from_email, from_name FROM messages").fetchone()
    [(links,)] = app.store.conn.execute("SELECT COUNT(*) FROM links")
    return row, links


def test_a_display_name_that_looks_like_an_address_is_only_a_name(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", RAW_NAME_IS_ADDRESS)
    with _app(tmp_path, box) as app:
        assert _sender_and_links(app) == (("x@evil.test", "jane@birch.co.uk"), 0)
        [(defects,)] = app.store.conn.execute("SELECT defects FROM messages")
        assert "a display name that looks like an address" in defects
        assert app.issues("all", AS_OF) == []


def test_a_display_name_that_looks_like_an_address_over_imap(tmp_path: Path, imap) -> None:
    imap.deliver("INBOX", RAW_NAME_IS_ADDRESS, user=imap.user)
    imap.index(imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, CUSTOMERS)
    with App.from_config(cfg) as app:
        app.sync()
        assert _sender_and_links(app) == (("x@evil.test", "jane@birch.co.uk"), 0)
