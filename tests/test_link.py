"""Linking messages to customers, end to end through a real Dovecot and the real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ME, days_ago, make_mail, write_config

from mailkeeper.app import App

pytestmark = pytest.mark.imap

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


def _sync(tmp_path: Path, imap, customers: str = CUSTOMERS) -> App:
    imap.index(imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, customers)
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


def deliver(imap, folder: str, raw: bytes) -> None:
    imap.deliver(folder, raw, user=imap.user)


def test_address_then_domain_including_subdomains(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("tom.birch@gmail.com", ME, "from freemail contact"))
    deliver(imap, "INBOX", make_mail("ops@eu.birch.co.uk", ME, "from a subdomain"))
    deliver(imap, "INBOX", make_mail("jo@kauri.com.au", ME, "from kauri"))
    with _sync(tmp_path, imap) as app:
        links = _links(app)
    assert links["from freemail contact"] == {("Birch & Co", "address")}
    assert links["from a subdomain"] == {("Birch & Co", "domain")}
    assert links["from kauri"] == {("Kauri Imports", "domain")}


def test_freemail_links_by_exact_address_only(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("stranger@gmail.com", ME, "hello from gmail"))
    deliver(imap, "Sent", make_mail(ME, "stranger@gmail.com", "Re: hello from gmail"))
    with _sync(tmp_path, imap) as app:
        assert "hello from gmail" not in _links(app)
        # both ways, but gmail.com is freemail: no discovered "Gmail" customer
        assert all(c["name"] != "Gmail" for c in app.customers())


def test_internal_mail_never_makes_a_customer(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("boss@lumen-furniture.com", ME, "internal memo"))
    deliver(imap, "Sent", make_mail(ME, "boss@sales.lumen-furniture.com", "Re: internal memo"))
    with _sync(tmp_path, imap) as app:
        assert _links(app) == {}
        assert {c["name"] for c in app.customers()} == {"Birch & Co", "Kauri Imports"}


def test_bulk_mail_never_makes_or_touches_a_customer(tmp_path: Path, imap) -> None:
    news = make_mail(
        "news@birch.co.uk",
        ME,
        "Birch newsletter",
        headers={"List-Id": "<news.birch.co.uk>", "List-Unsubscribe": "<mailto:u@birch.co.uk>"},
    )
    deliver(imap, "INBOX", news)
    promo = make_mail("promo@shop.example.de", ME, "Big sale", headers={"Precedence": "bulk"})
    deliver(imap, "INBOX", promo)
    deliver(imap, "Sent", make_mail(ME, "promo@shop.example.de", "unsubscribe me"))
    with _sync(tmp_path, imap) as app:
        links = _links(app)
        assert "Birch newsletter" not in links and "Big sale" not in links
        assert all(c["status"] != "discovered" for c in app.customers())


def test_auto_reply_links_but_is_not_contact(tmp_path: Path, imap) -> None:
    ooo = make_mail(
        "jane@birch.co.uk", ME, "Automatic reply: PI", headers={"Auto-Submitted": "auto-replied"}
    )
    deliver(imap, "INBOX", ooo)
    with _sync(tmp_path, imap) as app:
        assert _links(app)["Automatic reply: PI"] == {("Birch & Co", "domain")}
        birch = next(c for c in app.customers() if c["name"] == "Birch & Co")
        assert birch["messages"] == 1 and birch["last_inbound"] is None


def test_reply_inherits_customer_through_thread(tmp_path: Path, imap) -> None:
    deliver(
        imap,
        "INBOX",
        make_mail("jo@kauri.com.au", ME, "Container booking", msgid="<cb@kauri.com.au>"),
    )
    # the customer's forwarder answers from a freemail address nobody configured
    deliver(
        imap,
        "INBOX",
        make_mail(
            "li.forwarder@163.com", ME, "Re: Container booking", in_reply_to="<cb@kauri.com.au>"
        ),
    )
    with _sync(tmp_path, imap) as app:
        assert _links(app)["Re: Container booking"] == {("Kauri Imports", "thread")}


def test_message_to_several_customers_links_to_each(tmp_path: Path, imap) -> None:
    deliver(
        imap,
        "Sent",
        make_mail(ME, ["jane@birch.co.uk", "jo@kauri.com.au"], "Trade fair invitation"),
    )
    with _sync(tmp_path, imap) as app:
        assert _links(app)["Trade fair invitation"] == {
            ("Birch & Co", "domain"),
            ("Kauri Imports", "domain"),
        }


def test_discovery_needs_mail_both_ways(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("buyer@maple-trading.de", ME, "Inquiry"))
    deliver(imap, "INBOX", make_mail("cold@pitch.example.org", ME, "We can do SEO"))
    deliver(imap, "Sent", make_mail(ME, "buyer@mail.maple-trading.de", "Re: Inquiry"))
    with _sync(tmp_path, imap) as app:
        found = {c["name"]: c for c in app.customers()}
        assert found["Maple Trading"]["status"] == "discovered"
        assert found["Maple Trading"]["messages"] == 2
        assert not any("Pitch" in n for n in found)
        [report] = app.sync()
        assert report.new_messages == 0


def test_rep_confirms_renames_and_ignores_in_yaml(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("buyer@maple-trading.de", ME, "Inquiry"))
    deliver(imap, "Sent", make_mail(ME, "buyer@maple-trading.de", "Re: Inquiry"))
    deliver(imap, "INBOX", make_mail("x@spammy-vendor.cn", ME, "Offer"))
    deliver(imap, "Sent", make_mail(ME, "x@spammy-vendor.cn", "Re: Offer"))
    app = _sync(tmp_path, imap)
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


def test_customer_detail_has_contacts_and_timeline(tmp_path: Path, imap) -> None:
    deliver(imap, "INBOX", make_mail("Jane Oak <jane@birch.co.uk>", ME, "RFQ", date=days_ago(3)))
    deliver(imap, "Sent", make_mail(ME, "Jane Oak <jane@birch.co.uk>", "Re: RFQ", date=days_ago(2)))
    with _sync(tmp_path, imap) as app:
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
