"""Linking messages to customers, and whether the rep sent them: the real pipeline and store
over a local Maildir, so these run anywhere (no root, no Dovecot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ME, MaildirBox, days_ago, make_mail

from mailkeeper.app import App

CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    addresses: [tom.birch@gmail.com]
    tier: A
  - name: Kauri Imports
    domains: [kauri.com.au]
    tier: B
"""


@pytest.fixture
def box(tmp_path: Path) -> MaildirBox:
    return MaildirBox(tmp_path / "Maildir")


def _sync(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS, extra: str = "") -> App:
    cfg = box.config(tmp_path / "cfg", customers, extra=extra)
    app = App.from_config(cfg)
    app.sync()
    return app


def _links(app: App) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for subject, name, method in app.store.conn.execute(
        "SELECT m.subject, c.name, l.method FROM links l JOIN messages m ON m.key = l.message_key "
        "JOIN customers c ON c.id = l.customer_id"
    ):
        out.setdefault(subject, set()).add((name, method))
    return out


def deliver(box: MaildirBox, folder: str, raw: bytes, flags: str = "") -> None:
    box.deliver(folder, raw, flags=flags)


def test_address_then_domain_including_subdomains(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("tom.birch@gmail.com", ME, "from freemail contact"))
    deliver(box, "INBOX", make_mail("ops@eu.birch.co.uk", ME, "from a subdomain"))
    deliver(box, "INBOX", make_mail("jo@kauri.com.au", ME, "from kauri"))
    with _sync(tmp_path, box) as app:
        links = _links(app)
    assert links["from freemail contact"] == {("Birch & Co", "address")}
    assert links["from a subdomain"] == {("Birch & Co", "domain")}
    assert links["from kauri"] == {("Kauri Imports", "domain")}


def test_freemail_links_by_exact_address_only(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("stranger@gmail.com", ME, "hello from gmail"))
    deliver(box, "Sent", make_mail(ME, "stranger@gmail.com", "Re: hello from gmail"))
    with _sync(tmp_path, box) as app:
        assert "hello from gmail" not in _links(app)
        # both ways, but gmail.com is freemail: no discovered "Gmail" customer
        assert all(c["name"] != "Gmail" for c in app.customers())


def test_internal_mail_never_makes_a_customer(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("boss@lumen-furniture.com", ME, "internal memo"))
    deliver(box, "Sent", make_mail(ME, "boss@sales.lumen-furniture.com", "Re: internal memo"))
    with _sync(tmp_path, box) as app:
        assert _links(app) == {}
        assert {c["name"] for c in app.customers()} == {"Birch & Co", "Kauri Imports"}


def test_bulk_mail_never_makes_or_touches_a_customer(tmp_path: Path, box) -> None:
    news = make_mail(
        "news@birch.co.uk",
        ME,
        "Birch newsletter",
        headers={"List-Id": "<news.birch.co.uk>", "List-Unsubscribe": "<mailto:u@birch.co.uk>"},
    )
    deliver(box, "INBOX", news)
    promo = make_mail("promo@shop.example.de", ME, "Big sale", headers={"Precedence": "bulk"})
    deliver(box, "INBOX", promo)
    deliver(box, "Sent", make_mail(ME, "promo@shop.example.de", "unsubscribe me"))
    with _sync(tmp_path, box) as app:
        links = _links(app)
        assert "Birch newsletter" not in links and "Big sale" not in links
        assert all(c["status"] != "discovered" for c in app.customers())


def test_auto_reply_links_but_is_not_contact(tmp_path: Path, box) -> None:
    ooo = make_mail(
        "jane@birch.co.uk", ME, "Automatic reply: PI", headers={"Auto-Submitted": "auto-replied"}
    )
    deliver(box, "INBOX", ooo)
    with _sync(tmp_path, box) as app:
        assert _links(app)["Automatic reply: PI"] == {("Birch & Co", "domain")}
        birch = next(c for c in app.customers() if c["name"] == "Birch & Co")
        assert birch["messages"] == 1 and birch["last_inbound"] is None


def test_reply_inherits_customer_through_thread(tmp_path: Path, box) -> None:
    deliver(
        box,
        "INBOX",
        make_mail("jo@kauri.com.au", ME, "Container booking", msgid="<cb@kauri.com.au>"),
    )
    # the customer's forwarder answers from a freemail address nobody configured
    deliver(
        box,
        "INBOX",
        make_mail(
            "li.forwarder@163.com", ME, "Re: Container booking", in_reply_to="<cb@kauri.com.au>"
        ),
    )
    with _sync(tmp_path, box) as app:
        assert _links(app)["Re: Container booking"] == {("Kauri Imports", "thread")}


def test_message_to_several_customers_links_to_each(tmp_path: Path, box) -> None:
    deliver(
        box,
        "Sent",
        make_mail(ME, ["jane@birch.co.uk", "jo@kauri.com.au"], "Trade fair invitation"),
    )
    with _sync(tmp_path, box) as app:
        assert _links(app)["Trade fair invitation"] == {
            ("Birch & Co", "domain"),
            ("Kauri Imports", "domain"),
        }


def test_discovery_needs_mail_both_ways(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("buyer@maple-trading.de", ME, "Inquiry"))
    deliver(box, "INBOX", make_mail("cold@pitch.example.org", ME, "We can do SEO"))
    deliver(box, "Sent", make_mail(ME, "buyer@mail.maple-trading.de", "Re: Inquiry"))
    with _sync(tmp_path, box) as app:
        found = {c["name"]: c for c in app.customers()}
        assert found["Maple Trading"]["status"] == "discovered"
        assert found["Maple Trading"]["messages"] == 2
        assert not any("Pitch" in n for n in found)
        [report] = app.sync()
        assert report.new_messages == 0


def test_rep_confirms_renames_and_ignores_in_yaml(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("buyer@maple-trading.de", ME, "Inquiry"))
    deliver(box, "Sent", make_mail(ME, "buyer@maple-trading.de", "Re: Inquiry"))
    deliver(box, "INBOX", make_mail("x@spammy-vendor.cn", ME, "Offer"))
    deliver(box, "Sent", make_mail(ME, "x@spammy-vendor.cn", "Re: Offer"))
    app = _sync(tmp_path, box)
    names = {c["name"]: c["status"] for c in app.customers()}
    assert names["Maple Trading"] == "discovered" and names["Spammy Vendor"] == "discovered"
    app.close()
    renamed = CUSTOMERS + (
        "  - name: Maple Trading GmbH\n    domains: [maple-trading.de]\n    tier: A\n"
        "    aliases: [Maple Trading]\nignore:\n  domains: [spammy-vendor.cn]\n"
    )
    (tmp_path / "cfg" / "rules" / "customers.yaml").write_text(renamed)
    with App.from_config(tmp_path / "cfg" / "mailkeeper.yaml") as app2:
        rows = {c["name"]: c for c in app2.customers()}
    assert "Maple Trading" not in rows
    assert rows["Maple Trading GmbH"]["status"] == "configured"
    assert rows["Maple Trading GmbH"]["tier"] == "A" and rows["Maple Trading GmbH"]["messages"] == 2
    assert rows["Spammy Vendor"]["status"] == "ignored" and rows["Spammy Vendor"]["messages"] == 0


def test_customer_detail_has_contacts_and_timeline(tmp_path: Path, box) -> None:
    deliver(box, "INBOX", make_mail("Jane Oak <jane@birch.co.uk>", ME, "RFQ", date=days_ago(3)))
    deliver(box, "Sent", make_mail(ME, "Jane Oak <jane@birch.co.uk>", "Re: RFQ", date=days_ago(2)))
    with _sync(tmp_path, box) as app:
        c = app.customer("birch & co")
    assert c["name"] == "Birch & Co" and c["domains"] == ["birch.co.uk"]
    assert c["contacts"][0] == {
        "email": "jane@birch.co.uk",
        "name": "Jane Oak",
        "messages": 2,
        "last_seen": c["contacts"][0]["last_seen"],
    }
    assert [(t["direction"], t["subject"]) for t in c["timeline"]] == [
        ("outbound", "Re: RFQ"),
        ("inbound", "RFQ"),
    ]
    assert c["last_inbound"] == "2026-10-29T00:00:00Z"


# ----------------------------------------------------------------------------- who sent it
def _last_outbound(app: App, name: str = "Birch & Co") -> str | None:
    return next(c for c in app.customers() if c["name"] == name)["last_outbound"]


def test_an_alias_added_to_me_addresses_makes_old_mail_outbound_after_relink(
    tmp_path: Path, box
) -> None:
    alias = "amy.chen@lumen-furniture.com"
    deliver(box, "Sent", make_mail(alias, "jane@birch.co.uk", "Quote", date=days_ago(5)))
    with _sync(tmp_path, box) as app:
        assert _last_outbound(app) is None  # a company address, not one of the rep's own
        [(direction,)] = app.store.conn.execute("SELECT direction FROM messages")
        assert direction == "internal"
    cfg = tmp_path / "cfg" / "mailkeeper.yaml"
    cfg.write_text(cfg.read_text().replace(f"addresses: [{ME}]", f"addresses: [{ME}, {alias}]"))
    with App.from_config(cfg) as app:
        assert _last_outbound(app) == "2026-10-27T00:00:00Z"  # relinked by the rules change


def test_a_draft_never_counts_as_contact(tmp_path: Path, box) -> None:
    deliver(box, "Sent", make_mail(ME, "jane@birch.co.uk", "Real one", date=days_ago(30)))
    # the rep's unsent draft in the synced Drafts folder, and one flagged \Draft elsewhere
    deliver(box, "Drafts", make_mail(ME, "jane@birch.co.uk", "Draft reply", date=days_ago(1)))
    deliver(box, "Archive", make_mail(ME, "jane@birch.co.uk", "Flagged", date=days_ago(2)), "D")
    extra = "    extra_folders: [Drafts, Archive]\n"
    with _sync(tmp_path, box, extra=extra) as app:
        assert _last_outbound(app) == "2026-10-02T00:00:00Z"
        directions = dict(app.store.conn.execute("SELECT subject, direction FROM messages"))
    assert directions == {"Real one": "outbound", "Draft reply": "draft", "Flagged": "draft"}


def test_a_colleagues_mail_in_sent_is_not_the_reps_contact(tmp_path: Path, box) -> None:
    colleague = "boss@lumen-furniture.com"
    deliver(box, "Sent", make_mail(colleague, "jane@birch.co.uk", "From the boss"))
    with _sync(tmp_path, box) as app:
        assert _last_outbound(app) is None
        birch = app.customer("Birch & Co")
        assert [t["direction"] for t in birch["timeline"]] == ["internal"]


# ----------------------------------------------------------------------------- arrival order
def _link_rows(app: App) -> set[tuple[str, str, str, str]]:
    return set(
        app.store.conn.execute(
            "SELECT m.subject, c.name, l.method, l.via FROM links l "
            "JOIN messages m ON m.key = l.message_key JOIN customers c ON c.id = l.customer_id"
        )
    )


def test_a_reply_stored_before_its_parent_is_linked_as_in_a_clean_sync(tmp_path: Path) -> None:
    """A freemail contact's replies reach the Inbox while the rep's mail they answer is
    synced later (an outage, a Sent folder created later): the reply must be linked again
    through its thread when its parent arrives, so the result equals a clean sync."""
    parent = make_mail(ME, "jane@birch.co.uk", "Samples", msgid="<p@lumen>", date=days_ago(9))
    reply = make_mail(
        "jane.private@gmail.com", ME, "Re: Samples", in_reply_to="<p@lumen>", date=days_ago(8)
    )
    reply2 = make_mail(
        "li@163.com",
        ME,
        "Re: Re: Samples",
        date=days_ago(7),
        headers={"In-Reply-To": "<r@x>", "References": "<p@lumen> <r@x>"},
    )
    late = MaildirBox(tmp_path / "late")
    late.deliver("INBOX", reply)
    late.deliver("INBOX", reply2)
    app = _sync(tmp_path / "a", late)
    assert _link_rows(app) == set()  # nothing to link them to yet
    late.deliver("Sent", parent)
    app.sync()
    clean = MaildirBox(tmp_path / "clean")
    for folder, raw in (("Sent", parent), ("INBOX", reply), ("INBOX", reply2)):
        clean.deliver(folder, raw)
    with _sync(tmp_path / "b", clean) as app2:
        expected = _link_rows(app2)
    assert ("Re: Samples", "Birch & Co", "thread", "p@lumen") in expected
    assert _link_rows(app) == expected
    app.close()


def test_a_sent_folder_created_after_the_first_sync_is_synced(tmp_path: Path, box) -> None:
    """Folder roles are found anew at every sync: a warning about a missing Sent folder
    never becomes permanent. (The test Dovecot re-creates Sent by itself, so this runs on a
    Maildir; both adapters share the role resolution and the sync's folder step.)"""
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "RFQ"))
    with _sync(tmp_path, box) as app:
        [first] = app.sync()
        assert any("no Sent folder" in w for w in first.warnings)
        assert any("no Sent folder" in w for w in app.status()["accounts"][0]["warnings"])
        for n in range(4):
            box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", f"Re: RFQ {n}"))
        [later] = app.sync()
        assert later.new_messages == 4
        assert not any("Sent" in w for w in later.warnings)
        assert not any("Sent" in w for w in app.status()["accounts"][0]["warnings"])
        assert _last_outbound(app) is not None
