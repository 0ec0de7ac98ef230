"""The yearly report card (issue 21, part 2): its figures from known orders and mail (computed
by hand below), an empty year, mixed currencies, a Chinese customer, the draft (multipart/
alternative, parsed under policy.strict), the `report_card` finding of the daily pass, the
order keys (quantity, amount, currency) and the tiers.yaml key."""

from __future__ import annotations

import email
import email.policy
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.config.orders_rules import read_order_rules
from mailkeeper.errors import UserError

AS_OF = datetime(2016, 1, 6, 10, 0, tzinfo=UTC)  # Wed 18:00 in Shanghai (the config's zone)
# (years long past: mail dated after it was stored counts from its arrival, so no date here
# may come near the day the test runs; 2015 has the weekdays of 2026)
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
    language: en
  - name: 华美家居
    domains: [huamei-home.cn]
    tier: C
    language: zh
  - name: Kauri Imports
    domains: [kauri.com.au]
    tier: C
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _scenario(tmp_path: Path) -> App:
    """Birch & Co in 2015, each figure computed by hand (Shanghai = UTC+8, working hours
    Mon-Fri 09:00-18:00):

    orders confirmed in 2015: LF-2601 (100 pcs, USD 5000), LF-2602 (20 pcs, EUR 1999.99),
      LF-2603 (no quantity, USD 12000); LF-2501 was confirmed in 2014 -> 3 orders, 120 pieces
      (of 2 orders), EUR 1,999.99 and USD 17,000.
    shipped in 2015: LF-2501 on 01-15 (planned 2014-11-20 + 60 days = 01-19: on time), LF-2601
      on 04-01 (planned 04-03: on time), LF-2602 on 05-15 (planned 05-09: 6 days late);
      LF-2603 not shipped -> 2 of 3, 67 %.
    problems recorded in 2015: LF-2602 on 04-20 (the day: 04-19 16:00Z), told by mail at
      04-20 02:00Z -> 10 h; LF-2603 at 10-05 01:00Z, told at 07:00Z -> 6 h; median 8.0 h.
      LF-2501's problem of 2014-12-01 is not in 2015.
    complaints and questions received in 2015: a complaint Tue 12-08 10:00 answered 14:00 (4
      working h), a question Thu 12-10 17:00 answered Fri 11:00 (1 + 2 = 3 working h), Tom's
      question Mon 12-14 10:00 never answered -> 3, median 3.5 h, 1 open. Tom's question of
      2016-01-05 is not in 2015.
    """
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    jane, tom = "Jane Oak <jane@birch.co.uk>", "tom@birch.co.uk"
    mail = [
        ("INBOX", make_mail(jane, ME, "Order LF-2601", "Dear Amy,\n\nplease confirm LF-2601.",
                            msgid="<po1@birch>", date=at("2015-02-01T02:00:00"))),
        ("Sent", make_mail(ME, jane, "Re: Order LF-2601", "Confirmed, thank you.",
                           in_reply_to="<po1@birch>", date=at("2015-02-02T02:00:00"))),
        ("Sent", make_mail(ME, jane, "LF-2602: the veneer is late",
                           "Dear Jane,\n\nthe veneer for LF-2602 arrives a week late; we add "
                           "a shift.\n\nAmy", date=at("2015-04-20T02:00:00"))),
        ("Sent", make_mail(ME, jane, "LF-2603: a machine broke",
                           "Dear Jane,\n\nthe CNC for LF-2603 is down for two days.\n\nAmy",
                           date=at("2015-10-05T07:00:00"))),
        ("INBOX", make_mail(jane, ME, "Broken chairs",
                            "Three chairs arrived broken. This is not acceptable.",
                            msgid="<c1@birch>", date=at("2015-12-08T02:00:00"))),
        ("Sent", make_mail(ME, jane, "Re: Broken chairs", "Sorry, Jane: new ones go out today.",
                           in_reply_to="<c1@birch>", date=at("2015-12-08T06:00:00"))),
        ("INBOX", make_mail(jane, ME, "Price", "Can you quote 200 pcs of the oak table?",
                            msgid="<q1@birch>", date=at("2015-12-10T09:00:00"))),
        ("Sent", make_mail(ME, jane, "Re: Price", "Jane, the quotation is attached.",
                           in_reply_to="<q1@birch>", date=at("2015-12-11T03:00:00"))),
        ("INBOX", make_mail(tom, ME, "Lead time", "Can you quote the lead time for 300 chairs?",
                            msgid="<q2@birch>", date=at("2015-12-14T02:00:00"))),
        ("INBOX", make_mail(tom, ME, "Samples", "Can you send samples of the new finish?",
                            msgid="<q3@birch>", date=at("2016-01-05T02:00:00"))),
        ("INBOX", make_mail("王磊 <wanglei@huamei-home.cn>", ME, "订单 HM-2601",
                            "Amy，您好：\n\n确认订单 HM-2601。\n\n王磊",
                            date=at("2015-06-01T02:00:00"))),
        ("Sent", make_mail(ME, "wanglei@huamei-home.cn", "回复：订单 HM-2601", "收到，谢谢。",
                           date=at("2015-06-01T06:00:00"))),
        ("INBOX", make_mail("jo@kauri.com.au", ME, "Hello", "Nice to meet you at the fair.",
                            date=at("2015-03-01T02:00:00"))),
        ("Sent", make_mail(ME, "jo@kauri.com.au", "Re: Hello", "Likewise, Jo.",
                           date=at("2015-03-02T02:00:00"))),
    ]  # fmt: skip
    for folder, raw in mail:
        # delivered a minute after it was written (an older arrival would clamp its date)
        sent = email.message_from_bytes(raw, policy=email.policy.default)["Date"].datetime
        stamp = sent.timestamp() + 60
        os.utime(box.deliver(folder, raw), (stamp, stamp))
    app = App.from_config(box.config(tmp_path / "cfg", CUSTOMERS))
    app.sync()
    app.order_add("Birch & Co", "LF-2501", date(2014, 11, 20), quantity=50, amount="3000",
                  currency="USD")  # fmt: skip
    app.order_add("Birch & Co", "LF-2601", date(2015, 2, 2), quantity=100, amount="5000",
                  currency="usd")  # fmt: skip
    app.order_add("Birch & Co", "LF-2602", date(2015, 3, 10), quantity=20, amount="1,999.99",
                  currency="EUR")  # fmt: skip
    app.order_add("Birch & Co", "LF-2603", date(2015, 9, 1), amount="12000", currency="USD")
    app.order_add("华美家居", "HM-2601", date(2015, 6, 1), quantity=400, amount="88000",
                  currency="CNY")  # fmt: skip
    app.order_event("LF-2501", "shipped", date(2015, 1, 15))
    app.order_event("LF-2601", "shipped", date(2015, 4, 1))
    app.order_event("LF-2602", "shipped", date(2015, 5, 15))
    app.order_problem("LF-2501", "Late timber", date(2014, 12, 1))
    app.order_problem("LF-2602", "The veneer is a week late", date(2015, 4, 20))
    app.order_problem("LF-2603", "The CNC is down for two days", at("2015-10-05T01:00:00"))
    # the daemon's scans through December (issues open only from mail of the last 30 days)
    for day in ("2015-12-09T10:00:00", "2015-12-12T10:00:00", "2015-12-15T10:00:00"):
        app.scan(at(day))
    return app


BIRCH_2015 = {
    "period": "2015",
    "start": "2015-01-01",
    "end": "2015-12-31",
    "orders": {
        "count": 3,
        "refs": ["LF-2601", "LF-2602", "LF-2603"],
        "quantity": 120,
        "quantity_text": "120",
        "quantity_of": 2,
        "amounts": [
            {"currency": "EUR", "amount": 1999.99, "text": "1,999.99"},
            {"currency": "USD", "amount": 17000, "text": "17,000"},
        ],
    },
    "on_time": {"shipped": 3, "on_time": 2, "percent": 67},
    "problems": {"recorded": 2, "told": 2, "median_hours_to_tell": 8.0},
    "issues": {"count": 3, "answered": 2, "median_first_answer_hours": 3.5, "open": 1},
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = _scenario(tmp_path_factory.mktemp("card"))
    yield app
    app.close()


def test_the_figures_of_a_known_year(scenario: App) -> None:
    r = scenario.report_card("Birch & Co", 2015, AS_OF, dry_run=True)
    assert {k: r[k] for k in BIRCH_2015} == BIRCH_2015
    # the same figures on the customer's page of the site, and in `orders --json`
    rows = {o["ref"]: o for o in scenario.orders("all", AS_OF)}
    assert (rows["LF-2602"]["quantity"], rows["LF-2602"]["amount"], rows["LF-2602"]["currency"]) \
        == (20, 1999.99, "EUR")  # fmt: skip
    assert rows["LF-2603"]["quantity"] is None and rows["LF-2601"]["currency"] == "USD"


def test_the_draft_is_multipart_alternative_flowed_text_and_an_html_table(scenario: App) -> None:
    r = scenario.report_card("Birch & Co", 2015, AS_OF, dry_run=True)
    d = r["draft"]
    assert d["kind"] == "report_card" and d["to"] == "jane@birch.co.uk"
    text = d["text"]
    assert "3 orders confirmed, 120 pieces, EUR 1,999.99 + USD 17,000." in text
    assert "2 of 3 shipments left on or before the planned date (67%)" in text
    assert "we told you within 8.0 hours (median)" in text
    assert "3, answered within 3.5 working hours (median); 1 still open" in text
    assert "What else can we do for you next year?" in text
    assert "nan" not in text.lower() and "0 %" not in text
    assert '<td data-figure="on-time">2 of 3 (67%)</td>' in d["html"]
    assert "Birch &amp; Co" in d["html"]  # escaped: the HTML part is autoescaped


def test_an_empty_year_has_no_figures_and_no_draft(scenario: App) -> None:
    r = scenario.report_card("Kauri Imports", 2015, AS_OF)
    assert (r["orders"], r["on_time"], r["problems"], r["issues"], r["draft"]) == (
        None, None, None, None, None,
    )  # fmt: skip
    assert "nothing to report for 2015" in r["note"]
    r = scenario.report_card("Birch & Co", 2013, AS_OF, dry_run=True)
    assert r["draft"] is None and r["orders"] is None


def test_a_year_with_orders_but_nothing_shipped_leaves_on_time_out(scenario: App) -> None:
    r = scenario.report_card("Birch & Co", 2014, AS_OF, dry_run=True)
    assert r["orders"]["count"] == 1 and r["on_time"] is None and r["issues"] is None
    assert r["problems"] == {"recorded": 1, "told": 0, "median_hours_to_tell": None}
    text = r["draft"]["text"]
    assert "On-time delivery" not in text and "questions" not in text
    assert "1 problem came up." in text and "hours" not in text  # no median without a mail


def test_a_chinese_customer_gets_the_chinese_card(scenario: App) -> None:
    r = scenario.report_card("华美家居", 2015, AS_OF, dry_run=True)
    assert r["orders"]["amounts"] == [{"currency": "CNY", "amount": 88000, "text": "88,000"}]
    d = r["draft"]
    assert d["language"] == "zh" and d["subject"] == "2015 年合作回顾（华美家居）"
    assert "订单：共确认 1 个订单，合计 400 件，金额 CNY 88,000。" in d["text"]
    assert "明年我们还能为您做些什么？" in d["text"]
    assert "准时交货" not in d["text"]  # nothing shipped: left out
    assert '<html lang="zh">' in d["html"] and "CNY 88,000" in d["html"]


def test_report_card_adds_one_draft_parsed_under_policy_strict(tmp_path: Path) -> None:
    app = _scenario(tmp_path)
    with app:
        r = app.report_card("Birch & Co", 2015, AS_OF)
        assert r["draft"]["subject"] == "Birch & Co in 2015: what we did together"
        again = app.report_card("Birch & Co", 2015, AS_OF)  # the same card: no second draft
        assert again["draft"] is None and "waiting in Drafts" in again["note"]
        [listed] = [d for d in app.drafts() if d["kind"] == "report_card"]
        assert listed["customer"] == "Birch & Co" and listed["state"] == "pending"
        # the next scan keeps the finding (30 days), so the draft does not go obsolete
        app.scan(AS_OF)
        finding = app.store.findings.get(listed["finding_id"])
        assert finding is not None and finding.state == "open"
    [path] = (tmp_path / "Maildir" / ".Drafts" / "cur").iterdir()
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.strict)
    assert not msg.defects and msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_param("format") == "flowed"
    assert html.get_content_type() == "text/html" and 'id="report-card"' in html.get_content()


def test_the_daily_pass_drafts_the_card_in_january_by_tier(tmp_path: Path) -> None:
    app = _scenario(tmp_path)
    with app:
        app.scan(AS_OF)  # tier A: report_card: january (shipped tiers.yaml)
        cards = app.store.findings.listing("report_card")
        assert [(f.data["customer"], f.data["period"], f.data["reason"]) for f in cards] == [
            ("Birch & Co", "2015", "january")
        ]
        assert cards[0].data["card"]["orders"] == BIRCH_2015["orders"]
        report = app.draft(as_of=AS_OF, sync_first=False)
        assert [a["kind"] for a in report["added"]].count("report_card") == 1
        [d] = [d for d in app.drafts() if d["kind"] == "report_card"]
        assert d["to"] == "jane@birch.co.uk"
        # February: the window has closed; the finding ends, its draft stays as it is
        app.scan(at("2016-02-02T10:00:00"))
        assert app.store.findings.listing("report_card")[0].state == "resolved"


def test_anniversary_and_off_in_tiers_yaml(tmp_path: Path) -> None:
    app = _scenario(tmp_path)
    tiers = app.settings.rules_dir / "tiers.yaml"
    text = tiers.read_text().replace("report_card: january", "report_card: off")
    tiers.write_text(
        text.replace(
            "contact_interval_days: 60\n",
            "contact_interval_days: 60\n    report_card: anniversary\n",
        )
    )
    with App.from_config(app.settings.path) as app2:
        app2.scan(AS_OF)  # Birch (A) is off now
        assert app2.store.findings.listing("report_card") == []
        # 华美家居 (C): anniversary of its first order (2015-06-01): the 12 months before it
        app2.scan(at("2016-06-03T10:00:00"))
        [f] = app2.store.findings.listing("report_card")
        assert (f.data["customer"], f.data["reason"]) == ("华美家居", "anniversary")
        assert f.data["period"] == "2015-06-01 – 2016-05-31"
        assert f.data["card"]["orders"]["count"] == 1
    app.close()


def test_a_bad_report_card_value_names_its_line(tmp_path: Path) -> None:
    app = _scenario(tmp_path)
    app.close()
    tiers = app.settings.rules_dir / "tiers.yaml"
    tiers.write_text(tiers.read_text().replace("report_card: january", "report_card: yearly"))
    with pytest.raises(Exception) as e:
        App.from_config(app.settings.path)
    assert "report_card is 'yearly'" in str(getattr(e.value, "problems", e.value))


def test_order_worth_is_checked(tmp_path: Path) -> None:
    app = _scenario(tmp_path)
    with app:
        for kw, words in (
            ({"amount": "12k", "currency": "USD"}, "not an amount"),
            ({"amount": "100"}, "needs its currency"),
            ({"amount": "100", "currency": "dollars"}, "three capital letters"),
        ):
            with pytest.raises(UserError) as e:
                app.order_add("Birch & Co", "LF-2699", date(2015, 5, 5), **kw)
            assert words in str(e.value) + " ".join(e.value.problems)
        assert "LF-2699" not in {o["ref"] for o in app.orders("all", AS_OF)}


def test_orders_yaml_takes_quantity_amount_and_currency(tmp_path: Path) -> None:
    plans = "plans:\n  default:\n    milestones:\n      - {name: shipped, days: 60}\n"
    (tmp_path / "orders.yaml").write_text(
        plans + "orders:\n"
        "  - {ref: LF-2291, customer: Birch & Co, confirmed: 2015-11-27, quantity: 120,\n"
        "     amount: 9500.50, currency: USD}\n"
        "  - {ref: LF-2292, customer: Birch & Co, confirmed: 2015-11-27, amount: 10}\n"
        "  - {ref: LF-2293, customer: Birch & Co, confirmed: 2015-11-27, quantity: 0,\n"
        "     currency: usd, amount: 1}\n"
    )
    problems: list[str] = []
    assert read_order_rules(tmp_path, problems) is None
    text = "\n".join(problems)
    assert "orders.yaml:8: order 'LF-2292': an amount needs its currency" in text
    assert "orders.yaml:9: order 'LF-2293'.quantity is 0, out of range" in text
    assert "orders.yaml:10: order 'LF-2293'.currency is 'usd'" in text
    (tmp_path / "orders.yaml").write_text(
        plans + "orders:\n  - {ref: LF-2291, customer: Birch & Co, confirmed: 2015-11-27, "
        "quantity: 120, amount: 9500.50, currency: USD}\n"
    )
    rules = read_order_rules(tmp_path, problems := [])
    assert rules is not None and problems == []
    [o] = rules.orders
    assert (o.quantity, str(o.amount), o.currency) == (120, "9500.50", "USD")


def test_the_cli(scenario: App) -> None:
    cfg = str(scenario.settings.path)
    runner = CliRunner()
    r = runner.invoke(cli, ["--config", cfg, "report-card", "Birch & Co", "--year", "2015",
                            "--as-of", "2016-01-06T10:00:00Z", "--json", "--dry-run"])  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {k: data[k] for k in BIRCH_2015} == BIRCH_2015
    r = runner.invoke(cli, ["--config", cfg, "report-card", "Birch & Co", "--year", "2015",
                            "--as-of", "2016-01-06T10:00:00Z", "--dry-run"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "orders confirmed: 3, 120 pieces, EUR 1,999.99, USD 17,000" in r.output
    assert "Subject: Birch & Co in 2015: what we did together" in r.output
    assert "What else can we do for you next year?" in r.output  # the decoded text
    r = runner.invoke(cli, ["--config", cfg, "order", "add", "Birch & Co", "LF-2698",
                            "--confirmed", "2012-05-05", "--quantity", "120", "--amount", "9500",
                            "--currency", "USD"])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["--config", cfg, "orders", "--all", "--json"])
    [o] = [o for o in json.loads(r.output) if o["ref"] == "LF-2698"]
    assert (o["quantity"], o["amount"], o["currency"]) == (120, 9500, "USD")


def test_a_broken_html_template_is_named_with_its_line(tmp_path: Path) -> None:
    from mailkeeper.config import defaults
    from mailkeeper.drafts.compose import template_render_problems

    shipped = Path(defaults.templates_dir()) / "report_card.en.html.j2"
    (tmp_path / "report_card.en.html.j2").write_text(
        shipped.read_text().replace("{{ card.period }}</th>", "{{ card.nope }}</th>")
    )
    [problem] = template_render_problems((tmp_path, Path(defaults.templates_dir())))
    assert problem.startswith(f"{tmp_path / 'report_card.en.html.j2'}:7: no field 'nope'")
