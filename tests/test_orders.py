"""Orders and milestones: references found in mail, rules/orders.yaml read with file:line,
the `order` commands, `orders`, and the progress and problem findings of a scan.

The order scenario (issue 12, section 4) runs over a local Maildir with --as-of: an order
confirmed 40 days ago on the default plan, two milestones recorded (one of them late), a
progress mail the rep wrote by hand 3 days ago, a problem recorded today."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.config.orders_rules import (
    mentions,
    order_rules_problems,
    read_order_rules,
    ref_key,
    ref_pattern,
)

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)  # Wed 18:00 in Shanghai
CONFIRMED = date(2026, 11, 27)  # 40 days before AS_OF, in Shanghai
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
  - name: Kauri Imports
    domains: [kauri.com.au]
"""
ORDERS_FIELDS = [
    "ref", "customer", "confirmed_at", "last_milestone", "last_milestone_at", "next_milestone",
    "next_due_at", "days_late", "state",
]  # fmt: skip


def ago(days: float = 0, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def _app(tmp_path: Path, box: MaildirBox) -> App:
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    app = App.from_config(cfg)
    app.sync()
    return app


def _findings(app: App) -> list[tuple[str, str, str, str]]:
    """(kind, reason, milestone or note, state) of every progress and problem finding."""
    out = []
    for kind in ("progress", "problem"):
        for f in app.store.findings.listing(kind):
            d = f.data
            out.append((kind, d["reason"], d.get("milestone") or d.get("note"), f.state))
    return sorted(out)


# ----------------------------------------------------------------------------- references
@pytest.mark.parametrize(
    "text",
    ["LF-2291", "lf2291", "Re: LF 2291 update", "LF-2291号订单的生产进度", "关于ＬＦ－２２９１",
     "order LF–2291, 20 pcs", "PO#LF-2291", "LF-2291 20 containers"],
)  # fmt: skip
def test_a_reference_is_found_however_it_is_written(text: str) -> None:
    assert mentions(ref_pattern("LF-2291"), text)


@pytest.mark.parametrize("text", ["LF-22910", "XLF-2291", "LF-229", "2291", "LF-2219"])
def test_a_longer_or_other_code_is_not_the_order(text: str) -> None:
    assert not mentions(ref_pattern("LF-2291"), text)


def test_ref_key_is_nfkc_upper_case_without_separators() -> None:
    assert ref_key("ＬＦ－２２９１") == ref_key("lf 2291") == ref_key("LF-2291") == "LF2291"


# ----------------------------------------------------------------------------- orders.yaml
def test_the_shipped_default_plan(tmp_path: Path) -> None:
    problems: list[str] = []
    rules = read_order_rules(tmp_path, problems)  # no file of the rep's: the shipped one
    assert problems == [] and rules is not None
    plan = rules.plan(None)
    assert plan is not None and plan.name == "default"
    assert plan.names == (
        "deposit_received", "materials_ordered", "materials_inspected", "production_started",
        "production_progress", "inspection_announced", "inspection_passed", "packing",
        "shipping_booked", "shipped",
    )  # fmt: skip
    progress = plan.milestone("production_progress")
    assert progress is not None and (progress.every_days, progress.until) == (
        5,
        "inspection_passed",
    )
    announced, passed = plan.milestone("inspection_announced"), plan.milestone("inspection_passed")
    assert announced and passed and passed.days - announced.days == 7  # a week before
    assert dict(plan.milestones[0].labels)["zh"] == "已收到定金"


def test_orders_yaml_problems_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "orders.yaml").write_text(
        "plans:\n"                                              # 1
        "  default:\n"                                          # 2
        "    milestones:\n"                                     # 3
        "      - {name: deposit_received, days: 3}\n"           # 4
        "      - {name: production_started, days: 2}\n"         # 5
        "      - {name: progress, every_days: 5, until: nope}\n"  # 6
        "      - {name: shipped, days: 60, colour: red}\n"       # 7
        "orders:\n"                                             # 8
        "  - {ref: L-1, customer: Birch & Co, confirmed: 2026-11-27}\n"  # 9
        "  - {ref: LF-2291, customer: Birch & Co, confirmed: 27/11/2026, plan: fast}\n"  # 10
    )  # fmt: skip
    problems, _ = order_rules_problems(tmp_path, ("Birch & Co",))
    text = "\n".join(problems)
    path = tmp_path / "orders.yaml"
    assert f"{path}:5: plans.default.production_started: days 2 is before deposit_received" in text
    assert f"{path}:6: plans.default.progress: until 'nope' is not a later dated milestone" in text
    assert f"{path}:7: plans.default: milestone: unknown key 'colour'" in text
    assert f"{path}:9: order 'L-1': too short to find in mail" in text
    assert f"{path}:10: order 'LF-2291'.confirmed is not a date" in text
    assert f"{path}:10: order 'LF-2291': plan 'fast' is not one of the plans" in text


def test_an_order_for_an_unknown_customer_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "orders.yaml").write_text(
        (Path(__file__).parents[1] / "rules" / "orders.yaml")
        .read_text()
        .replace(
            "orders: []", "orders:\n  - {ref: KI-77, customer: Nobody Ltd, confirmed: 2026-12-01}"
        )
    )
    problems, warnings = order_rules_problems(tmp_path, ("Birch & Co",))
    assert problems == [] and len(warnings) == 1 and "Nobody Ltd" in warnings[0]


# ----------------------------------------------------------------------------- the scenario
def _scenario(tmp_path: Path) -> tuple[App, MaildirBox]:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "PO ＬＦ－２２９１",
                                   "Dear Amy,\n\nwe confirm order ＬＦ－２２９１.\n\nJane",
                                   msgid="<po@birch>", date=ago(40, -1)))  # fmt: skip
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: PO LF-2291",
                                  "Thank you, Jane. Deposit invoice attached.",
                                  in_reply_to="<po@birch>", date=ago(40, -2)))  # fmt: skip
    # the progress report the rep wrote by hand 3 days ago: the reference in its text only
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Production update",
                                  "Dear Jane,\n\nyour order LF2291 is 60% assembled; photos "
                                  "attached.\n\nAmy", date=ago(3)))  # fmt: skip
    # mail to the customer that does not name the order is not a report
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Catalogue 2027", "New catalogue.",
                                  date=ago(1)))  # fmt: skip
    app = _app(tmp_path, box)
    app.order_add("Birch & Co", "LF-2291", CONFIRMED)
    app.order_event("LF-2291", "deposit_received", date(2026, 11, 29))  # planned 11-30: on time
    app.order_event("LF-2291", "Production started", date(2026, 12, 21), "line 2")  # 4 days late
    app.order_problem("LF-2291", "Power cut at the factory: 3 days lost; we add a Saturday shift",
                      ago(hours=1))  # fmt: skip
    return app, box


def test_order_scenario_orders_and_scan(tmp_path: Path) -> None:
    app, box = _scenario(tmp_path)
    with app:
        [row] = app.orders(as_of=AS_OF)
        assert {k: row[k] for k in ORDERS_FIELDS} == {
            "ref": "LF-2291", "customer": "Birch & Co",
            "confirmed_at": "2026-11-26T16:00:00Z",  # midnight in Shanghai
            "last_milestone": "production_started", "last_milestone_at": "2026-12-20T16:00:00Z",
            "next_milestone": "inspection_announced",
            "next_due_at": "2027-01-08T16:00:00Z",  # confirmed + 43 days, Shanghai midnight
            "days_late": 4,  # production started 4 days after its planned day
            "state": "problem",  # a problem recorded and not told yet
        }  # fmt: skip
        assert row["last_report_at"] == "2027-01-03T10:00:00Z"

        app.scan(AS_OF)
        assert _findings(app) == [
            ("problem", "problem",
             "Power cut at the factory: 3 days lost; we add a Saturday shift", "open"),
            # the hand-written progress mail of 3 days ago reported both milestones ...
            ("progress", "milestone", "deposit_received", "reported"),
            ("progress", "milestone", "production_started", "reported"),
            # ... and a progress report is due only 5 days after it (Fri): not nagged today
        ]  # fmt: skip
        [problem] = app.store.findings.listing("problem")
        d = problem.data
        assert (d["ref"], d["contact"], d["order_state"], d["days_late"]) == (
            "LF-2291",
            "jane@birch.co.uk",
            "problem",
            4,
        )
        timeline = {t["milestone"]: t for t in d["timeline"]}
        assert timeline["deposit_received"]["actual_at"] == "2026-11-28T16:00:00Z"
        assert timeline["deposit_received"]["late_days"] == -1
        started = timeline["production_started"]
        assert (started["planned_at"], started["actual_at"], started["late_days"],
                started["note"], started["state"]) == (
            "2026-12-16T16:00:00Z", "2026-12-20T16:00:00Z", 4, "line 2", "done")  # fmt: skip
        assert timeline["materials_ordered"]["state"] == "skipped"
        assert timeline["production_progress"]["state"] == "running"
        assert timeline["inspection_announced"]["state"] == "planned"
        steps = "\n".join(app.explain(problem.id)["steps"])
        assert "Power cut" in steps and "within 1 day" in steps
        assert "no mail of yours to Birch & Co names LF-2291 since then" in steps


def test_without_the_hand_written_report_the_rep_is_reminded(tmp_path: Path) -> None:
    app, _ = _scenario(tmp_path)
    before = datetime(2027, 1, 2, 10, 0, tzinfo=UTC)  # the day before the progress mail
    with app:
        app.scan(before)
        assert _findings(app) == [
            ("progress", "milestone", "deposit_received", "overdue"),
            ("progress", "milestone", "production_started", "overdue"),
            ("progress", "report_due", "production_progress", "open"),
        ]
        [due] = [f for f in app.store.findings.listing("progress")
                 if f.data["reason"] == "report_due"]  # fmt: skip
        steps = "\n".join(app.explain(due.id)["steps"])
        assert "2026-12-20T16:00:00Z + 5 days = due 2026-12-25T16:00:00Z" in steps
        assert "no mail of yours names LF-2291 since production started" in steps
        # the progress mail of 01-03 answers all three
        app.scan(AS_OF)
        states = {(f.data["reason"], f.state) for f in app.store.findings.listing("progress")}
        assert states == {("milestone", "reported"), ("report_due", "resolved")}


def test_days_later_a_report_is_due_and_a_milestone_late_until_the_rep_writes(
    tmp_path: Path,
) -> None:
    app, box = _scenario(tmp_path)
    later = AS_OF + timedelta(days=4)  # Sun 2027-01-10
    with app:
        app.scan(later)
        assert _findings(app) == [
            ("problem", "problem",
             "Power cut at the factory: 3 days lost; we add a Saturday shift", "overdue"),
            ("progress", "late", "inspection_announced", "overdue"),
            ("progress", "milestone", "deposit_received", "reported"),
            ("progress", "milestone", "production_started", "reported"),
            ("progress", "report_due", "production_progress", "open"),
        ]  # fmt: skip
        [late] = [f for f in app.store.findings.listing("progress")
                  if f.data["reason"] == "late"]  # fmt: skip
        assert late.data["late_days"] == 1 and late.data["planned_at"] == "2027-01-08T16:00:00Z"
        steps = "\n".join(app.explain(late.id)["steps"])
        assert "Sun 2027-01-10 − Sat 2027-01-09 = 1 day(s) late" in steps
        [row] = app.orders(as_of=later)
        assert (row["state"], row["days_late"]) == ("problem", 4)

        box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "LF-2291: power cut",
                                      "Dear Jane, a power cut cost us 3 days; new plan below.",
                                      date=later - timedelta(hours=2)))  # fmt: skip
        app.sync()
        app.scan(later)
        assert _findings(app) == [
            ("problem", "problem",
             "Power cut at the factory: 3 days lost; we add a Saturday shift", "reported"),
            ("progress", "late", "inspection_announced", "reported"),
            ("progress", "milestone", "deposit_received", "reported"),
            ("progress", "milestone", "production_started", "reported"),
            ("progress", "report_due", "production_progress", "resolved"),
        ]  # fmt: skip
        [row] = app.orders(as_of=later)
        assert (row["state"], row["days_late"]) == ("late", 4)


def test_shipped_then_closed_and_the_json_fields(tmp_path: Path) -> None:
    app, box = _scenario(tmp_path)
    with app:
        app.order_event("LF-2291", "shipped", date(2027, 1, 5), "B/L attached")
        [row] = app.orders(as_of=AS_OF)
        assert (row["last_milestone"], row["next_milestone"], row["state"]) == (
            "shipped",
            None,
            "problem",
        )
        box.deliver(
            "Sent",
            make_mail(
                ME,
                "jane@birch.co.uk",
                "LF-2291 shipped",
                "Shipped; the power cut is behind us.",
                date=ago(hours=0.5),
            ),
        )
        app.sync()
        assert app.orders(as_of=AS_OF) == []  # reported: closed
        [closed] = app.orders("all", as_of=AS_OF)
        assert closed["state"] == "closed"
        assert list(closed)[: len(ORDERS_FIELDS)] == ORDERS_FIELDS


# ----------------------------------------------------------------------------- commands
def test_order_commands_and_the_file_wins(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("jo@kauri.com.au", ME, "Hello", date=ago(10)))
    box.deliver("Sent", make_mail(ME, "jo@kauri.com.au", "Re: Hello", date=ago(9)))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    orders_yaml = tmp_path / "cfg" / "rules" / "orders.yaml"
    orders_yaml.write_text(orders_yaml.read_text().replace(
        "orders: []",
        "orders:\n  - {ref: KI-77, customer: Kauri Imports, confirmed: 2026-12-01, "
        "ship_by: 2027-01-20}",
    ))  # fmt: skip
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(cli, ["--config", str(cfg), *args])
        return r.exit_code, r.output

    assert run("sync")[0] == 0
    code, out = run("order", "add", "Birch", "LF-2291", "--confirmed", "2026-11-27")
    assert code == 0 and "LF-2291: added for Birch & Co (confirmed 2026-11-27, plan default)" in out
    code, out = run("order", "add", "Kauri Imports", "KI 77", "--confirmed", "2026-12-05")
    assert code == 0 and f"KI-77 is declared in {orders_yaml}:" in out and "the file wins" in out
    code, out = run("order", "event", "lf2291", "deposit received", "--date", "2026-11-29")
    assert code == 0 and "LF-2291: deposit_received on 2026-11-29" in out
    code, out = run("order", "event", "LF-2291", "deposit_recieved")
    assert code == 1 and "did you mean 'deposit_received'" in out
    code, out = run("order", "problem", "LF-2292", "--note", "x")
    assert code == 1 and "no order 'LF-2292'" in out
    code, out = run("order", "problem", "KI-77", "--note", "Late veneer", "--date", "2027-01-05")
    assert code == 0
    code, out = run("orders", "--json", "--as-of", "2027-01-06T10:00Z")
    rows = json.loads(out)
    assert [r["ref"] for r in rows] == ["KI-77", "LF-2291"]  # the problem first
    ki = rows[0]
    assert (ki["state"], ki["source"], ki["ship_by"]) == (
        "problem",
        "rules",
        "2027-01-19T16:00:00Z",
    )
    assert set(ORDERS_FIELDS) <= set(ki)
    code, out = run("orders", "--as-of", "2027-01-06T10:00Z")
    assert code == 0 and "LF-2291" in out and "deposit_received" in out


def test_check_reports_a_broken_orders_yaml(tmp_path: Path) -> None:
    from mailkeeper.check import check

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    path = tmp_path / "cfg" / "rules" / "orders.yaml"
    path.write_text("plans:\n  default:\n    milestones: []\n")
    result = check(cfg, offline=True)
    assert any(p.startswith(f"{path}:3: plans.default has no dated milestone") for p in
               result.problems), result.problems  # fmt: skip


def test_fresh_database_has_the_order_tables() -> None:
    from mailkeeper.store import Store

    with Store(":memory:") as s:
        assert s.columns("orders") == [
            "id", "ref", "ref_key", "customer_id", "confirmed_at", "plan", "ship_by",
            "closed_at", "source", "source_line", "created_at", "updated_at", "quantity",
            "amount", "currency",
        ]  # fmt: skip
        assert s.columns("order_events") == [
            "id",
            "order_id",
            "milestone",
            "at",
            "note",
            "recorded_at",
        ]
        assert s.columns("order_problems") == ["id", "order_id", "at", "note", "recorded_at"]
