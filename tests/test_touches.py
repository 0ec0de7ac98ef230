"""The small touches (issue 22): a customer's country, greetings on their holidays in their
own calendar, and recalling the needs they stated, each a finding with a draft."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.config.touches import TierTouches, Touches
from mailkeeper.detect.greetings import greeting_findings
from mailkeeper.detect.needs import stated_needs
from mailkeeper.store.records import ContactFacts

CUSTOMERS = """\
customers:
  - name: Waldhaus GmbH
    domains: [waldhaus.de]
    tier: A
  - name: 华美家居
    domains: [huamei-home.cn]
    tier: B
    language: zh
  - name: Coastal Living
    domains: [coastal.com.au]
    tier: B
  - name: Oak Depot
    domains: [oakdepot.com]
    tier: C
    country: us
  - name: Li Wei Trading
    addresses: [li.wei@qq.com]
  - name: Alpen Holz
    addresses: [sepp.alpen@gmail.com]
    language: de
"""


def _app(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS) -> App:
    box.folder_dir("Drafts")
    return App.from_config(box.config(tmp_path / "cfg", customers))


def _talk(
    box: MaildirBox, who: str, at: datetime, body: str = "Hello", subject: str = "Hi"
) -> None:
    """The customer writes at `at` and the rep answers an hour later: in touch, not neglected."""
    box.deliver("INBOX", make_mail(who, ME, subject, body, date=at))
    box.deliver(
        "Sent", make_mail(ME, who, f"Re: {subject}", "Thanks!", date=at + timedelta(hours=1))
    )


def _drafts(box: MaildirBox) -> list[email.message.EmailMessage]:
    out = []
    for p in sorted((box.folder_dir("Drafts") / "cur").iterdir()):
        out.append(email.message_from_bytes(p.read_bytes(), policy=email.policy.default))
    return out  # type: ignore[return-value]


def test_a_german_customer_gets_one_christmas_greeting_on_the_right_day(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    _talk(box, "Jonas Wald <jonas@waldhaus.de>", datetime(2026, 12, 12, 9, tzinfo=UTC))
    with _app(tmp_path, box) as app:
        # tier A: 5 days ahead of 25 December in Berlin, i.e. from the 20th there
        early = app.draft(as_of=datetime(2026, 12, 19, 22, 0, tzinfo=UTC))
        assert early["added"] == []
        r = app.draft(as_of=datetime(2026, 12, 19, 23, 30, tzinfo=UTC))  # 00:30 on the 20th
        assert [d["kind"] for d in r["added"]] == ["greeting"]
        [msg] = _drafts(box)
        assert msg["Subject"] == "Happy Christmas Day from Amy Chen"
        assert msg["To"].addresses[0].addr_spec == "jonas@waldhaus.de"
        assert "Amy Chen" in msg.get_content()  # signed as the others
        [f] = [f for f in app.store.findings.live(["greeting"], ["open"])]
        assert f.data["holiday_date"] == "2026-12-25" and f.data["country"] == "DE"
        assert f.due_at == datetime(2026, 12, 24, 23, 0, tzinfo=UTC)  # midnight in Berlin
        again = app.draft(as_of=datetime(2026, 12, 22, 10, tzinfo=UTC))
        assert again["added"] == [] and len(_drafts(box)) == 1
        # the rep sends it: the greeting is done; no second one that year
        box.deliver("Sent", make_mail(ME, "jonas@waldhaus.de", msg["Subject"], "Merry Christmas",
                                      date=datetime(2026, 12, 22, 11, tzinfo=UTC)))  # fmt: skip
        after = app.draft(as_of=datetime(2026, 12, 23, 10, tzinfo=UTC))
        assert after["added"] == []
        assert app.store.findings.live(["greeting"], ["open"]) == []
        explained = app.explain(f.id)
        assert explained["rule"] == "greeting" and any(
            "2026-12-25" in s for s in explained["steps"]
        )


def _facts(cid: int, name: str, tier: str, last: datetime) -> ContactFacts:
    return ContactFacts(id=cid, name=name, tier=tier, status="configured", language="zh",
                        last_outbound=last, last_inbound=last, first_message=last, messages=4,
                        messages_year=4, contacts_year=1)  # fmt: skip


def _rules(tmp_path: Path) -> object:
    box = MaildirBox(tmp_path / "Maildir")
    with _app(tmp_path, box) as app:
        return app.rules


def test_a_chinese_customer_is_greeted_for_the_spring_festival_of_each_lunar_year(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path)
    touches = Touches({"CN": ("Chinese New Year (Spring Festival)",)}, {"B": TierTouches(5)})
    for festival in (date(2027, 2, 6), date(2028, 1, 26)):  # the package's lunar calendar
        last = datetime(festival.year - 1, 12, 1, tzinfo=UTC)
        c = _facts(1, "华美家居", "B", last)
        day_before_window = datetime.combine(festival - timedelta(days=6), datetime.min.time(), UTC)
        assert greeting_findings([c], {1: "CN"}, touches, rules, day_before_window) == []  # type: ignore[arg-type]
        at = day_before_window + timedelta(days=1)
        [f] = greeting_findings([c], {1: "CN"}, touches, rules, at)  # type: ignore[arg-type]
        assert f.data["holiday_date"] == festival.isoformat()
        assert f.data["holiday_names"]["zh"] == "春节"
        assert f.key.endswith(f":{festival.year}")


def test_the_chinese_greeting_draft_wishes_a_happy_spring_festival(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    _talk(
        box,
        "王芳 <wang@huamei-home.cn>",
        datetime(2027, 1, 25, 2, tzinfo=UTC),
        "您好，样品收到了。",
    )
    with _app(tmp_path, box) as app:
        r = app.draft(as_of=datetime(2027, 2, 2, 1, tzinfo=UTC))
        assert [d["kind"] for d in r["added"]] == ["greeting"]
        [msg] = _drafts(box)
        assert "春节快乐" in msg["Subject"] and "值此春节之际" in msg.get_content()


def test_a_greeting_due_with_a_check_in_is_one_draft_asking_its_question(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    _talk(box, "Jonas Wald <jonas@waldhaus.de>", datetime(2026, 11, 20, 9, tzinfo=UTC))
    with _app(tmp_path, box) as app:  # tier A: a check-in is due after 14 days
        r = app.draft(as_of=datetime(2026, 12, 21, 9, tzinfo=UTC))
        assert [d["kind"] for d in r["added"]] == ["greeting"]
        assert any("greeting to them asks its question" in s for s in r["waiting"])
        [msg] = _drafts(box)
        assert "Are you planning any new purchases" in msg.get_content()


def test_no_greeting_for_a_dormant_customer_unless_the_tier_says_so(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    at = datetime(2026, 12, 21, 9, tzinfo=UTC)
    old = at - timedelta(days=500)  # dormant: silent beyond dormant_after_days (365)
    names = {"DE": ("Christmas Day",)}
    shipped = Touches(names, {"B": TierTouches(5), "C": TierTouches(0)})
    c_tier, b_tier = _facts(1, "Alt", "C", old), _facts(2, "Alt B", "B", old)
    assert greeting_findings([c_tier], {1: "DE"}, shipped, rules, at) == []  # type: ignore[arg-type]
    # C greets nobody by default; a dormant B customer is not greeted either ...
    assert greeting_findings([b_tier], {2: "DE"}, shipped, rules, at) == []  # type: ignore[arg-type]
    # ... unless the tier says greet_dormant; an active C customer gets none (C is off)
    dormant_ok = Touches(names, {"B": TierTouches(5, greet_dormant=True), "C": TierTouches(0)})
    assert len(greeting_findings([b_tier], {2: "DE"}, dormant_ok, rules, at)) == 1  # type: ignore[arg-type]
    active_c = _facts(3, "New C", "C", at - timedelta(days=3))
    assert greeting_findings([active_c], {3: "DE"}, shipped, rules, at) == []  # type: ignore[arg-type]


def test_check_names_a_misspelt_holiday_with_file_and_line(tmp_path: Path) -> None:
    from mailkeeper import check

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    assert check.check(cfg, offline=True).problems == []
    path = tmp_path / "cfg" / "rules" / "touches.yaml"
    path.write_text(
        "greetings:\n  DE: [Christmas Day]\n  CN: [Chinese New Year (Spring Festval)]\n"
    )
    [problem] = check.check(cfg, offline=True).problems
    assert problem.startswith(f"{path}:3:") and "Spring Festval" in problem
    assert "Chinese New Year (Spring Festival)" in problem  # the name it probably meant
    path.write_text("greetings:\n  XX: [Christmas Day]\ntiers:\n  Z: {need_lead_weeks: 4}\n")
    problems = check.check(cfg, offline=True).problems
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:4"]


def test_the_country_comes_from_the_rules_the_domain_or_the_mail(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    at = datetime(2027, 3, 1, 9, tzinfo=UTC)
    for who in ("jonas@waldhaus.de", "amy@coastal.com.au", "li.wei@qq.com", "sepp.alpen@gmail.com"):
        _talk(box, who, at)
    with _app(tmp_path, box) as app:
        app.sync()
        app.scan(at + timedelta(days=1))
        rows = {r["name"]: (r["country"], r["country_source"]) for r in app.customers()}
    assert rows["Waldhaus GmbH"] == ("DE", "domain")
    assert rows["Coastal Living"] == ("AU", "domain")
    assert rows["Oak Depot"] == ("US", "configured")  # `country: us` in customers.yaml
    assert rows["华美家居"] == ("CN", "domain")
    assert rows["Li Wei Trading"] == ("CN", "guessed")  # writes from qq.com
    assert rows["Alpen Holz"] == ("DE", "guessed")  # gmail.com, in German: a weak hint
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(tmp_path / "cfg" / "mailkeeper.yaml"),
                              "customers", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert {"country", "country_source"} <= set(json.loads(out.output)[0])


def test_a_country_that_is_no_iso_code_is_a_problem_with_its_line(tmp_path: Path) -> None:
    from mailkeeper import check

    box = MaildirBox(tmp_path / "Maildir")
    bad = CUSTOMERS.replace("    country: us", "    country: Germany")
    cfg = box.config(tmp_path / "cfg", bad)
    problems = check.check(cfg, offline=True).problems
    line = bad.splitlines().index("    country: Germany") + 1
    assert any(p.startswith(f"{tmp_path / 'cfg' / 'rules' / 'customers.yaml'}:{line}:")
               and "ISO 3166" in p for p in problems), problems  # fmt: skip


def test_spring_in_sydney_is_september_to_november() -> None:
    said = datetime(2027, 3, 10, 1, tzinfo=UTC)
    text = "We plan to order 300 outdoor chairs for spring."
    [south] = stated_needs(text, said, south=True)
    assert (south.period.first, south.period.last) == (date(2027, 9, 1), date(2027, 11, 30))
    [north] = stated_needs(text, said, south=False)
    assert (north.period.first, north.period.last) == (date(2027, 3, 1), date(2027, 5, 31))


def test_an_australian_customers_spring_need_is_kept_with_its_window(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("Amy Shore <amy@coastal.com.au>", ME, "Catalogue",
                                   "Thanks for the catalogue. We plan to order 300 outdoor chairs "
                                   "for spring. Please send the price list.",
                                   date=datetime(2027, 3, 10, 1, tzinfo=UTC)))  # fmt: skip
    with _app(tmp_path, box) as app:
        app.sync()
        app.scan(datetime(2027, 3, 11, tzinfo=UTC))
        [n] = app.needs()
    assert (n["customer"], n["window_start"], n["window_end"]) == (
        "Coastal Living", "2027-09-01", "2027-11-30")  # fmt: skip
    assert set(n) >= {"id", "customer", "sentence", "window_start", "window_end", "message_id",
                      "state"}  # fmt: skip


def test_a_need_in_a_chinese_mail_is_recalled_with_a_draft_and_closes_when_acted_on(
    tmp_path: Path,
) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("王芳 <wang@huamei-home.cn>", ME, "样品",
                                   "您好，样品收到了，质量不错。下半年还要订一批餐桌。谢谢！",
                                   date=datetime(2027, 3, 10, 2, tzinfo=UTC)))  # fmt: skip
    box.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "Re: 样品", "好的，谢谢！",
                                  date=datetime(2027, 3, 10, 5, tzinfo=UTC)))  # fmt: skip
    cfg = tmp_path / "cfg" / "mailkeeper.yaml"
    with _app(tmp_path, box) as app:
        app.sync()
        app.scan(datetime(2027, 3, 11, tzinfo=UTC))
        [n] = app.needs()
        assert n["sentence"] == "下半年还要订一批餐桌。"
        assert (n["window_start"], n["window_end"]) == ("2027-07-01", "2027-12-31")
        assert app.store.findings.live(["need"], ["open"]) == []  # not yet: 6 weeks ahead
        shown = app.customer("华美家居")
        assert shown["needs"][0]["id"] == n["id"] and shown["country"] == "CN"
    # keep the customer in touch, so that only the need asks for a draft
    _talk(box, "wang@huamei-home.cn", datetime(2027, 5, 18, 2, tzinfo=UTC), "您好")
    with App.from_config(cfg) as app:
        r = app.draft(as_of=datetime(2027, 5, 21, 2, tzinfo=UTC))  # 1 July − 6 weeks = 20 May
        assert [d["kind"] for d in r["added"]] == ["need"]
        [msg] = _drafts(box)
        assert "下半年还要订一批餐桌" in msg.get_content()
        assert msg["To"].addresses[0].addr_spec == "wang@huamei-home.cn"
        [f] = app.store.findings.live(["need"], ["open"])
        assert app.explain(f.id)["rule"] == "need"
        # the rep writes about the tables: the need closes by itself
        about = "王经理，关于下半年的餐桌订单……"
        box.deliver("Sent", make_mail(ME, "wang@huamei-home.cn", "餐桌", about,
                                      date=datetime(2027, 5, 22, 2, tzinfo=UTC)))  # fmt: skip
        app.sync()
        app.scan(datetime(2027, 5, 23, tzinfo=UTC))
        assert app.store.findings.live(["need"], ["open"]) == []
        [n] = app.needs()
        assert n["state"] == "acted" and "餐桌" in n["note"]
    out = CliRunner().invoke(cli, ["--config", str(cfg), "needs", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["state"] == "acted"
