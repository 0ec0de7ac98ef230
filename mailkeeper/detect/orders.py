"""Orders: declare them, record their milestones and problems, and gather what detection
(detect/progress.py) judges them on. The orders declared in rules/orders.yaml are copied into
the orders table (source `rules`) before anything reads it; where both name one reference,
the file wins."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from mailkeeper.config.orders_rules import (
    OrderRules,
    milestone_name,
    parse_amount,
    read_order_rules,
    ref_key,
    worth_problems,
)
from mailkeeper.config.yamlreader import _did_you_mean
from mailkeeper.detect.finding import ts
from mailkeeper.detect.progress import OrderFacts, worth_json
from mailkeeper.errors import ConfigError, UserError
from mailkeeper.store import Store
from mailkeeper.store.records import Order

logger = logging.getLogger(__name__)

MAIL_BEFORE_DAYS = 60  # mail this long before confirmation may name the order (the PI)


def load_order_rules(settings: Any) -> OrderRules:
    problems: list[str] = []
    rules = read_order_rules(settings.rules_dir, problems)
    if rules is None:
        raise ConfigError("rules/orders.yaml has problems", problems)
    return rules


def day_start(value: date | datetime, tz: tzinfo) -> datetime:
    """A date alone is the start of that day in the rep's zone; a time stays that time (UTC,
    to the second: as the store keeps it)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=tz)
    return value.astimezone(UTC).replace(microsecond=0)


def _customer_name(name: str, rules: Any) -> str:
    rule = rules.customer(name) if rules is not None else None
    return rule.name if rule is not None else name


def sync_declared(store: Store, order_rules: OrderRules, rules: Any, tz: tzinfo) -> list[str]:
    """Copy the orders of orders.yaml into the orders table (the caller holds a transaction).
    Returns warnings: an order whose customer does not exist (yet)."""
    warnings = []
    for o in order_rules.orders:
        c = store.customers.find(_customer_name(o.customer, rules))
        if c is None:
            warnings.append(
                f"{order_rules.where(o)}: order '{o.ref}': no customer named '{o.customer}' "
                "yet; it is used once the customer exists"
            )
            continue
        values: dict[str, object] = {
            "ref": o.ref, "customer_id": c["id"], "confirmed_at": day_start(o.confirmed, tz),
            "plan": o.plan, "ship_by": day_start(o.ship_by, tz) if o.ship_by else None,
            "source": "rules", "source_line": o.line,
            "closed_at": day_start(o.closed, tz) if o.closed else None,
            "quantity": o.quantity, "amount": o.amount, "currency": o.currency,
        }  # fmt: skip
        if not store.orders.unchanged(ref_key(o.ref), values):
            store.orders.save(
                o.ref, ref_key(o.ref), c["id"], day_start(o.confirmed, tz), o.plan,
                day_start(o.ship_by, tz) if o.ship_by else None, "rules", o.line,
                day_start(o.closed, tz) if o.closed else None, (o.quantity, o.amount, o.currency),
            )  # fmt: skip
    for w in warnings:
        logger.warning("%s", w)
    return warnings


def gather(store: Store, order_rules: OrderRules, now: datetime) -> list[OrderFacts]:
    """Every order with its plan, milestones, problems and the customer's mail since
    shortly before confirmation. An order whose plan is gone from orders.yaml is skipped
    with a warning (check reports it)."""
    out = []
    for o in store.orders.all():
        plan = order_rules.plan(o.plan)
        if plan is None:
            logger.warning("order %s: plan '%s' is not in orders.yaml; skipped", o.ref, o.plan)
            continue
        since = o.confirmed_at - timedelta(days=MAIL_BEFORE_DAYS)
        declared = order_rules.declared(o.ref)
        where = f"{order_rules.path}:{plan.line}"
        out.append(
            OrderFacts(
                order=o,
                plan=plan,
                events=store.orders.events(o.id),
                problems=store.orders.problems(o.id),
                mail=store.orders.customer_mail(o.customer_id, since, now),
                plan_where=where if declared is None else f"{where}; order at line {declared.line}",
            )
        )
    return out


# ----------------------------------------------------------------------------- commands
def add(
    store: Store, order_rules: OrderRules, rules: Any, tz: tzinfo, customer: dict[str, Any],
    ref: str, confirmed: date | datetime, plan: str | None, ship_by: date | datetime | None,
    worth: tuple[int | None, str | None, str | None] = (None, None, None),
) -> dict[str, Any]:  # fmt: skip
    """`mailkeeper order add`: declare an order, unless orders.yaml declares it (the file
    wins: then say so and change nothing). `worth`: (quantity, amount, currency) as typed."""
    quantity, amount_text, currency = worth
    amount = parse_amount(amount_text) if amount_text is not None else None
    if amount_text is not None and amount is None:
        raise UserError(f"--amount '{amount_text}' is not an amount",
                        ["give a number like 9500 or 9500.50"])  # fmt: skip
    currency = currency.strip().upper() if currency is not None else None
    problems = worth_problems(quantity, amount, currency)
    if problems:
        raise UserError("the order's quantity, amount or currency is wrong", problems)
    key = ref_key(ref)
    if len(key) < 3 or not any(ch.isdigit() for ch in key):
        raise UserError(
            f"'{ref}' is too short to find in mail",
            ["a reference has at least 3 letters or digits, one a digit: LF-2291"],
        )
    declared = order_rules.declared(ref)
    if declared is not None:
        sync_declared(store, order_rules, rules, tz)
        return {"ref": declared.ref, "declared_in": order_rules.where(declared), "added": False}
    name = plan or order_rules.default_plan
    if order_rules.plan(name) is None:
        raise UserError(
            f"no plan named '{name}'{_did_you_mean(name, order_rules.plans)}",
            [f"plans in {order_rules.path}: {', '.join(order_rules.plans)}"],
        )
    confirmed_at = day_start(confirmed, tz)
    ship = day_start(ship_by, tz) if ship_by is not None else None
    if ship is not None and ship < confirmed_at:
        raise UserError("--ship-by is before --confirmed", ["give the date the order must ship"])
    existed = store.orders.get(key) is not None
    store.orders.save(ref, key, customer["id"], confirmed_at, name, ship, "command", None, None,
                      (quantity, amount, currency))  # fmt: skip
    return {"ref": ref, "customer": customer["name"], "confirmed_at": ts(confirmed_at),
            "plan": name, "ship_by": ts(ship), "added": not existed,
            "updated": existed, **worth_json(quantity, amount, currency)}  # fmt: skip


def find(store: Store, ref: str) -> Order:
    o = store.orders.get(ref_key(ref))
    if o is None:
        import difflib

        refs = [x.ref for x in store.orders.all()]
        close = difflib.get_close_matches(ref, refs, n=3)
        hint = f"did you mean: {', '.join(close)}?" if close else "see `mailkeeper orders --all`"
        raise UserError(f"no order '{ref}'", [hint])
    return o


def record_event(
    store: Store,
    order_rules: OrderRules,
    ref: str,
    milestone: str,
    at: datetime,
    note: str | None,
) -> dict[str, Any]:
    o = find(store, ref)
    plan = order_rules.plan(o.plan)
    name = milestone_name(milestone)
    if plan is not None and plan.milestone(name) is None:
        by_label = {milestone_name(m.label): m.name for m in plan.milestones}
        name = by_label.get(name, name)
    if plan is None or plan.milestone(name) is None:
        names = plan.names if plan else ()
        raise UserError(
            f"'{milestone}' is not a milestone of plan '{o.plan}'{_did_you_mean(name, names)}",
            [f"milestones: {', '.join(names)}"],
        )
    eid = store.orders.add_event(o.id, name, at, note)
    return {"ref": o.ref, "milestone": name, "at": ts(at), "note": note, "id": eid}


def record_problem(store: Store, ref: str, at: datetime, note: str) -> dict[str, Any]:
    o = find(store, ref)
    if not note.strip():
        raise UserError(
            "the problem needs a note", ['say what went wrong, and the plan: --note "..."']
        )
    pid = store.orders.add_problem(o.id, at, note.strip())
    return {"ref": o.ref, "at": ts(at), "note": note.strip(), "id": pid}
