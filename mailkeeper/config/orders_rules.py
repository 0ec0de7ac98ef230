"""rules/orders.yaml: milestone plans and declared orders, read with file:line problems.

The rep's file when there is one, else the shipped default (rules.rule_file). Every problem
is "FILE:LINE: what; expected ..." (yamlreader), collected, never raised one by one. Also
here: how an order reference is normalised and found in mail text (LF-2291, LF2291,
"LF-2291号订单", full-width ＬＦ－２２９１ are one order).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from mailkeeper.config.rules import rule_file
from mailkeeper.config.yamlreader import _NULL, YamlReader, _did_you_mean

ORDERS_FILE = "orders.yaml"
DEFAULT_PLAN = "default"
_TOP_KEYS = ("plans", "default_plan", "orders")
_PLAN_KEYS = ("milestones", "description", "report_within_days")
_MILESTONE_KEYS = ("name", "label", "days", "every_days", "until")
_ORDER_KEYS = ("ref", "customer", "confirmed", "plan", "ship_by", "closed", "quantity", "amount",
               "currency")  # fmt: skip
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


# ----------------------------------------------------------------------------- types
@dataclass(frozen=True)
class Milestone:
    name: str
    label: str  # English, or the first language given
    labels: tuple[tuple[str, str], ...] = ()  # (language, label)
    days: int | None = None  # expected this many days after confirmation
    every_days: int | None = None  # recurring: a report at least this often ...
    until: str | None = None  # ... until this milestone is recorded
    line: int = 0

    @property
    def recurring(self) -> bool:
        return self.every_days is not None


@dataclass(frozen=True)
class Plan:
    name: str
    milestones: tuple[Milestone, ...]
    description: str = ""
    report_within_days: int = 1
    line: int = 0

    def milestone(self, name: str) -> Milestone | None:
        return next((m for m in self.milestones if m.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.milestones)


@dataclass(frozen=True)
class DeclaredOrder:
    """An order written in orders.yaml (it wins over `mailkeeper order add`)."""

    ref: str
    customer: str
    confirmed: date
    plan: str
    ship_by: date | None = None
    closed: date | None = None
    line: int = 0
    quantity: int | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class OrderRules:
    plans: dict[str, Plan]
    default_plan: str
    orders: tuple[DeclaredOrder, ...]
    path: Path | None

    def plan(self, name: str | None) -> Plan | None:
        return self.plans.get(name or self.default_plan)

    def declared(self, ref: str) -> DeclaredOrder | None:
        key = ref_key(ref)
        return next((o for o in self.orders if ref_key(o.ref) == key), None)

    def where(self, order: DeclaredOrder) -> str:
        return f"{self.path}:{order.line}"


# ----------------------------------------------------------------------------- references
_SEPARATORS = "\\s\\-\u2010-\u2015\u2212_./"


def ref_key(ref: str) -> str:
    """How references compare: NFKC (full-width letters and digits), upper case, hyphens,
    spaces and other separators dropped. 'ＬＦ－２２９１' and 'lf 2291' are 'LF2291'."""
    text = unicodedata.normalize("NFKC", ref).upper()
    return "".join(ch for ch in text if ch.isalnum())


def ref_pattern(ref: str) -> re.Pattern[str]:
    """A pattern that finds `ref` in NFKC-normalised text, with or without hyphens and spaces
    between its characters, not inside a longer code (LF-22910, XLF-2291)."""
    chars = [re.escape(c) for c in ref_key(ref)]
    body = f"[{_SEPARATORS}]*".join(chars)
    return re.compile(f"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", re.IGNORECASE)


def mentions(pattern: re.Pattern[str], *texts: str | None) -> bool:
    return any(t and pattern.search(unicodedata.normalize("NFKC", t)) for t in texts)


def milestone_name(text: str) -> str:
    """'Deposit received', 'deposit-received' -> deposit_received."""
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip().lower())


# ----------------------------------------------------------------------------- reading
def read_order_rules(
    rules_dir: Path, problems: list[str], warnings: list[str] | None = None
) -> OrderRules | None:
    """rules/orders.yaml (the rep's, else the shipped one); None when it has problems (each
    appended to `problems`). No file at all: the shipped default plan's absence is a problem."""
    path = rule_file(rules_dir, ORDERS_FILE)
    if path is None:
        problems.append(
            f"{rules_dir / ORDERS_FILE}: does not exist; expected the milestone plans "
            "(run `mailkeeper init --force` in a spare folder and copy rules/orders.yaml)"
        )
        return None
    r = YamlReader(path, problems, warnings if warnings is not None else [])
    before = len(problems)
    root = r.compose()
    if root is None:
        if len(problems) == before:
            problems.append(f"{path}:1: the file is empty; expected plans: with a default plan")
        return None
    keys = r.mapping(root, "orders file", _TOP_KEYS, required=("plans",))
    if keys is None or "plans" not in keys:
        return None
    plans: dict[str, Plan] = {}
    for name, key_node, node in r.entries(keys["plans"], "plans", "a mapping of plan names"):
        if not _NAME.match(name):
            r.problem(key_node, f"plan name '{name}'", "lower-case letters, digits and _")
            continue
        plan = _read_plan(r, name, node)
        if plan is not None:
            plans[name] = plan
    default = DEFAULT_PLAN
    if "default_plan" in keys:
        default = r.text(keys["default_plan"], "default_plan", "a plan name") or DEFAULT_PLAN
    if default not in plans and len(problems) == before:
        r.problem(
            keys.get("default_plan", keys["plans"]),
            f"default_plan '{default}' is not one of the plans{_did_you_mean(default, plans)}",
            f"one of {', '.join(plans) or '(none)'}",
        )
    orders = _read_orders(r, keys["orders"], plans, default) if "orders" in keys else []
    if len(problems) > before:
        return None
    return OrderRules(plans, default, tuple(orders), path)


def _read_plan(r: YamlReader, name: str, node: Node) -> Plan | None:
    where = f"plans.{name}"
    keys = r.mapping(node, where, _PLAN_KEYS, required=("milestones",))
    if keys is None or "milestones" not in keys:
        return None
    before = len(r.problems)
    description = ""
    if "description" in keys:
        description = r.text(keys["description"], f"{where}.description") or ""
    within = 1
    if "report_within_days" in keys:
        within = r.integer(keys["report_within_days"], f"{where}.report_within_days", 0, 60) or 0
    milestones: list[Milestone] = []
    seen: dict[str, int] = {}
    items = r.sequence(keys["milestones"], f"{where}.milestones", "a list of milestones")
    for item in items:
        m = _read_milestone(r, where, item)
        if m is None:
            continue
        if m.name in seen:
            r.problem(
                item,
                f"{where}: milestone '{m.name}' twice (first on line {seen[m.name]})",
                "each milestone once",
            )
            continue
        seen[m.name] = m.line
        milestones.append(m)
    _check_plan_order(r, where, milestones, keys["milestones"])
    if len(r.problems) > before:
        return None
    return Plan(name, tuple(milestones), description, within, r.line(node))


def _read_milestone(r: YamlReader, plan: str, node: Node) -> Milestone | None:
    keys = r.mapping(node, f"{plan}: milestone", _MILESTONE_KEYS, required=("name",))
    if keys is None or "name" not in keys:
        return None
    name = r.text(keys["name"], f"{plan}: milestone name", "a name like deposit_received")
    if name is None:
        return None
    if not _NAME.match(name):
        r.problem(
            keys["name"],
            f"{plan}: milestone name '{name}'",
            "lower-case letters, digits and _, e.g. deposit_received",
        )
        return None
    where = f"{plan}.{name}"
    labels = _labels(r, where, keys.get("label")) or (("en", name.replace("_", " ").capitalize()),)
    label = dict(labels).get("en", labels[0][1])
    if ("days" in keys) == ("every_days" in keys):
        r.problem(
            node,
            f"{where} needs exactly one of days and every_days",
            "days: N (expected N days after confirmation) or every_days: N (recurring)",
        )
        return None
    days = every = None
    if "days" in keys:
        days = r.integer(keys["days"], f"{where}.days", 0, 3650)
        if "until" in keys:
            r.problem(
                keys["until"],
                f"{where}.until is only for a recurring milestone",
                "every_days: N with until:, or days: N without it",
            )
    else:
        every = r.integer(keys["every_days"], f"{where}.every_days", 1, 365)
    until = r.text(keys["until"], f"{where}.until", "a milestone name") if "until" in keys else None
    if days is None and every is None:
        return None
    return Milestone(name, label, labels, days, every, until if every else None, r.line(node))


def _labels(r: YamlReader, where: str, node: Node | None) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    if isinstance(node, MappingNode):
        out = []
        for lang, _, value in r.entries(
            node, f"{where}.label", "a mapping like {en: ..., zh: ...}"
        ):
            text = r.text(value, f"{where}.label.{lang}")
            if text is not None:
                out.append((lang, text))
        return tuple(out)
    text = r.text(node, f"{where}.label", "text, or one text per language {en: ..., zh: ...}")
    return (("en", text),) if text else ()


def _check_plan_order(r: YamlReader, where: str, ms: list[Milestone], node: Node) -> None:
    dated = [m for m in ms if not m.recurring]
    if not dated:
        r.problem(node, f"{where} has no dated milestone", "at least one {name: ..., days: N}")
        return
    last: Milestone | None = None
    for m in dated:
        if last is not None and m.days is not None and last.days is not None and m.days < last.days:
            r.problems.append(
                f"{r.path}:{m.line}: {where}.{m.name}: days {m.days} is before "
                f"{last.name} ({last.days}); expected milestones in the order they happen"
            )
        last = m
    if ms[-1].recurring:
        r.problems.append(
            f"{r.path}:{ms[-1].line}: {where}.{ms[-1].name}: a recurring milestone is last; "
            "expected a dated milestone (e.g. shipped) to end the plan"
        )
    for i, m in enumerate(ms):
        if not m.recurring:
            continue
        if i == 0 or ms[i - 1].recurring:
            r.problems.append(
                f"{r.path}:{m.line}: {where}.{m.name}: a recurring milestone must follow a "
                "dated one; expected it right after the milestone it starts with "
                "(e.g. production_started)"
            )
        later = [x.name for x in ms[i + 1 :] if not x.recurring]
        if m.until is not None and m.until not in later:
            r.problems.append(
                f"{r.path}:{m.line}: {where}.{m.name}: until '{m.until}' is not a later dated "
                f"milestone{_did_you_mean(m.until, later)}; expected one of "
                f"{', '.join(later) or '(none)'}"
            )


def _read_orders(
    r: YamlReader, node: Node, plans: dict[str, Plan], default: str
) -> list[DeclaredOrder]:
    out: list[DeclaredOrder] = []
    seen: dict[str, int] = {}
    for item in r.sequence(node, "orders", "a list of orders, each starting with '- ref: ...'"):
        keys = r.mapping(item, "order", _ORDER_KEYS, required=("ref", "customer", "confirmed"))
        if keys is None or not {"ref", "customer", "confirmed"} <= set(keys):
            continue
        before = len(r.problems)
        ref = r.text(keys["ref"], "order ref", "the order's reference, e.g. LF-2291")
        customer = r.text(keys["customer"], "order customer", "a customer's name")
        if ref is None or customer is None:
            continue
        where = f"order '{ref}'"
        key = ref_key(ref)
        if len(key) < 3 or not any(c.isdigit() for c in key):
            r.problem(
                keys["ref"],
                f"{where}: too short to find in mail",
                "at least 3 letters or digits, one of them a digit, e.g. LF-2291",
            )
        elif key in seen:
            r.problem(
                keys["ref"],
                f"{where}: declared twice (first on line {seen[key]})",
                "each order once",
            )
        seen.setdefault(key, r.line(item))
        confirmed = _date(r, keys["confirmed"], f"{where}.confirmed")
        plan = default
        if "plan" in keys:
            plan = r.text(keys["plan"], f"{where}.plan", "a plan name") or default
            if plan not in plans:
                r.problem(
                    keys["plan"],
                    f"{where}: plan '{plan}' is not one of the plans{_did_you_mean(plan, plans)}",
                    f"one of {', '.join(plans)}",
                )
        ship_by = _date(r, keys["ship_by"], f"{where}.ship_by") if "ship_by" in keys else None
        closed = _date(r, keys["closed"], f"{where}.closed") if "closed" in keys else None
        if confirmed and ship_by and ship_by < confirmed:
            r.problem(
                keys["ship_by"],
                f"{where}: ship_by {ship_by} is before confirmed {confirmed}",
                "a date after the confirmation",
            )
        quantity, amount, currency = _worth(r, keys, where)
        if len(r.problems) > before or confirmed is None:
            continue
        out.append(DeclaredOrder(ref, customer, confirmed, plan, ship_by, closed, r.line(item),
                                 quantity, amount, currency))  # fmt: skip
    return out


def _worth(
    r: YamlReader, keys: dict[str, Node], where: str
) -> tuple[int | None, Decimal | None, str | None]:
    """An order's optional quantity, amount and currency, each problem with its line."""
    quantity = amount = currency = None
    if "quantity" in keys:
        quantity = r.integer(keys["quantity"], f"{where}.quantity", 1)
    if "amount" in keys:
        node = keys["amount"]
        raw = node.value if isinstance(node, ScalarNode) and node.tag != _NULL else None
        amount = parse_amount(str(raw)) if raw is not None else None
        if amount is None:
            r.problem(node, f"{where}.amount is not an amount", "a number like 9500 or 9500.50")
    if "currency" in keys:
        currency = r.text(keys["currency"], f"{where}.currency", "a currency code like USD")
        if currency is not None and not _CURRENCY.match(currency):
            r.problem(keys["currency"], f"{where}.currency is '{currency}'",
                      "a code of three capital letters, e.g. USD")  # fmt: skip
            return quantity, amount, None
    for problem in worth_problems(quantity, amount, currency)[:1]:
        r.problem(keys.get("amount") or keys.get("currency") or keys["ref"], f"{where}: {problem}")
    return quantity, amount, currency


def parse_amount(text: str) -> Decimal | None:
    """'9500', '9500.50', '9,500.50' -> a Decimal at least 0; None when it is not one."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def worth_problems(quantity: int | None, amount: Decimal | None, currency: str | None) -> list[str]:
    """What is wrong with an order's quantity, amount and currency (all optional; an amount
    needs its currency and a currency its amount)."""
    problems = []
    if quantity is not None and quantity < 1:
        problems.append(f"quantity {quantity} is not a positive whole number")
    if currency is not None and not _CURRENCY.match(currency):
        problems.append(f"currency '{currency}' is not a code of three capital letters, e.g. USD")
    elif (amount is None) != (currency is None):
        problems.append("an amount needs its currency and a currency its amount (e.g. amount: "
                        "9500, currency: USD)")  # fmt: skip
    return problems


def _date(r: YamlReader, node: Node, name: str) -> date | None:
    raw = node.value if isinstance(node, ScalarNode) and node.tag != _NULL else None
    if isinstance(raw, str):
        try:
            return (
                date.fromisoformat(raw.strip()[:10])
                if node.tag == _TIMESTAMP
                else (date.fromisoformat(raw.strip()))
            )
        except ValueError:
            pass
    r.problem(node, f"{name} is not a date", "a date like 2026-11-20")
    return None


# ----------------------------------------------------------------------------- check
def order_rules_problems(
    rules_dir: Path, customers: tuple[str, ...] | None = None
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of orders.yaml for `mailkeeper check`. `customers`: the names in
    customers.yaml; an order for another name is a warning (it may be a discovered customer,
    which only the database knows)."""
    problems: list[str] = []
    warnings: list[str] = []
    rules = read_order_rules(rules_dir, problems, warnings)
    if rules is not None and customers is not None:
        known = {c.casefold() for c in customers}
        for o in rules.orders:
            if o.customer.casefold() not in known:
                warnings.append(
                    f"{rules.where(o)}: order '{o.ref}': customer '{o.customer}' is not in "
                    "customers.yaml; the order is used once a customer of that name exists "
                    "(a discovered one counts)"
                )
    return problems, warnings


def as_datetime(day: date, tz: object) -> datetime:
    """Midnight of `day` in the rep's zone (a ZoneInfo)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)  # type: ignore[arg-type]
