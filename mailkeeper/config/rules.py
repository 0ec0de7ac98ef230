"""The rules folder: tiers.yaml, freemail.yaml and customers.yaml, read into typed, frozen Rules.

Every problem is recorded as "FILE:LINE: what; expected ..." (see yamlreader) and customers are
cross-checked against the tiers, the freemail list, the ignore lists and your own addresses.
Reading is cached per file content, so that load_settings (which validates the rules) and
load_rules (which returns them) read each file once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from yaml.nodes import MappingNode, Node, ScalarNode

from mailkeeper.config import defaults
from mailkeeper.config.yamlreader import (
    _NULL,
    YamlReader,
    _addresses,
    _did_you_mean,
    _domains,
    _in_domains,
    normalize_address,
    normalize_domain,
    value_excerpt,
)

DEFAULT_TIER = "B"
DEFAULT_LANGUAGE = "en"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


class Owner(Protocol):
    """Whose rules these are (config.Me): their own addresses and domains are never a customer's."""

    @property
    def addresses(self) -> tuple[str, ...]: ...

    @property
    def company_domains(self) -> tuple[str, ...]: ...


# ----------------------------------------------------------------------------- rules types
@dataclass(frozen=True)
class Tier:
    name: str
    contact_interval_days: int
    issue_sla_working_hours: int
    description: str = ""
    # per issue category (complaint, quality, ...): its own SLA in working hours
    category_sla_working_hours: tuple[tuple[str, int], ...] = ()
    # an issue whose needs-answer probability is below this is only a "maybe": listed by
    # `issues --all`, never drafted, not counted as open (detect/judge.py's model)
    answer_threshold: float = 0.5
    # when the yearly report card is drafted: january (for the year before), anniversary (of
    # the customer's first order, for the 12 months before it) or off
    report_card: str = "off"

    def sla_for(self, category: str) -> int:
        return dict(self.category_sla_working_hours).get(category, self.issue_sla_working_hours)


@dataclass(frozen=True)
class AutoTier:
    """tiers.yaml `auto_tier:`: the first tier whose every threshold a customer meets."""

    tier: str
    min_messages_year: int = 0  # linked messages in the last 12 months
    min_contacts: int = 0  # distinct people at the customer who wrote in 12 months
    min_value: float = 0.0  # customers.yaml `value:`


@dataclass(frozen=True)
class Detection:
    """How findings are judged (tiers.yaml `detection:`)."""

    dormant_after_days: int = 365  # silent both ways this long: dormant, not neglected
    issue_lookback_days: int = 30  # only mail this recent can open an issue
    promise_grace_hours: int = 24  # a promise is overdue this long after its due time
    acknowledged_by: str = "contact"  # contact: the thread or that contact | customer: anyone there


@dataclass(frozen=True)
class CustomerRule:
    name: str
    domains: tuple[str, ...]  # lower case; registrable domains or subdomains
    addresses: tuple[str, ...]  # lower case
    tier: str = DEFAULT_TIER
    language: str = DEFAULT_LANGUAGE
    owner: str | None = None
    notes: str | None = None
    aliases: tuple[str, ...] = ()  # names this customer was discovered as (merge / rename)
    line: int = 0  # line in customers.yaml
    language_given: bool = False  # `language:` written (else drafts follow their own mail)
    tier_given: bool = False  # `tier:` written: it always wins over automatic tiering
    snooze_until: datetime | None = None  # not listed as neglected before this (UTC)
    value: float | None = None  # what the account is worth to the rep (automatic tiering)
    contacts: tuple[ContactRule, ...] = ()  # how drafts greet named people there
    country: str | None = None  # ISO 3166 alpha-2 (its holidays, its seasons)


@dataclass(frozen=True)
class ContactRule:
    """customers.yaml `contacts:` entry: how a draft names and greets one person."""

    address: str  # lower case
    name: str | None = None  # e.g. "Ingrid Haugen": "Dear Ingrid Haugen,"
    salutation: str | None = None  # the whole greeting line, e.g. "Hi Ingrid,"
    line: int = 0


@dataclass(frozen=True)
class Rules:
    customers: tuple[CustomerRule, ...]
    ignore_domains: frozenset[str]
    ignore_addresses: frozenset[str]
    freemail: frozenset[str]
    tiers: dict[str, Tier]
    source_files: tuple[Path, ...]
    default_tier: str = DEFAULT_TIER
    detection: Detection = Detection()
    auto_tier: tuple[AutoTier, ...] = ()  # empty: no automatic tiering
    warnings: tuple[str, ...] = ()  # e.g. an old key name, with file:line

    def customer(self, name: str) -> CustomerRule | None:
        """The configured customer called `name` (or aliased so), ignoring case."""
        index = self.__dict__.get("_by_name")
        if index is None:  # built once: a scan asks for every customer
            index = {}
            for c in reversed(self.customers):  # the first one listed wins
                for n in (*c.aliases, c.name):
                    index[n.casefold()] = c
            object.__setattr__(self, "_by_name", index)
        return index.get(name.casefold())

    def is_freemail(self, domain: str) -> bool:
        return _in_domains(domain.lower(), self.freemail)


# ----------------------------------------------------------------------------- reading rules/
def rule_file(rules_dir: Path, name: str) -> Path | None:
    """rules_dir/name when present, else the shipped default rules/name, else None. Anything
    at rules_dir/name (a FIFO, a device, a folder, a broken link) is the rep's file and is
    read, so that the reader refuses it by name instead of the default taking its place."""
    mine = rules_dir / name
    if mine.is_file() or os.path.lexists(mine):
        return mine
    shipped = defaults.rules_dir() / name
    return shipped if shipped.is_file() else None


_CUSTOMERS_KEYS = ("customers", "ignore", "extra_freemail")
_CUSTOMER_KEYS = (
    "name", "domains", "addresses", "tier", "language", "owner", "notes", "aliases",
    "snooze_until", "value", "contacts", "country",
)  # fmt: skip
_CONTACT_KEYS = ("address", "name", "salutation")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_IGNORE_KEYS = ("domains", "addresses")
_TIERS_KEYS = ("tiers", "default_tier", "detection", "auto_tier")
_AUTO_KEYS = ("min_messages_year", "min_contacts", "min_value")
_TIER_KEYS = (
    "contact_interval_days",
    "issue_sla_working_hours",
    "issue_sla_hours",  # the old name, read with a warning
    "category_sla_working_hours",
    "description",
    "answer_threshold",
    "report_card",
)
REPORT_CARD_WHEN = ("january", "anniversary", "off")
_DETECTION_KEYS = (
    "dormant_after_days",
    "issue_lookback_days",
    "promise_grace_hours",
    "acknowledged_by",
)
ISSUE_CATEGORIES = (
    "complaint",
    "quality",
    "delay",
    "question",
    "request",
    "payment",
    "cancellation",
    "other",
)
_FREEMAIL_KEYS = ("domains", "extra_freemail")


@dataclass
class _Claims:
    """Who already claimed a name, domain or address, for duplicate reports."""

    names: dict[str, tuple[str, int]] = field(default_factory=dict)
    domains: dict[str, tuple[str, int]] = field(default_factory=dict)
    addresses: dict[str, tuple[str, int]] = field(default_factory=dict)


def read_rules(
    rules_dir: Path, me: Owner | None, problems: list[str], warnings: list[str] | None = None
) -> Rules | None:
    """The rules, read once per content: load_settings validates them and load_rules then
    returns the same object, unless a file changed in between."""
    key = (rules_dir, me, _rules_stamp(rules_dir))
    cached = _RULES_CACHE.get(key)
    if cached is not None:
        if warnings is not None:
            warnings.extend(cached.warnings)
        return cached
    found: list[str] = []
    rules = _read_rules_uncached(rules_dir, me, problems, found)
    if warnings is not None:
        warnings.extend(found)
    if rules is not None:
        _RULES_CACHE.clear()
        _RULES_CACHE[key] = rules
    return rules


_RULES_CACHE: dict[tuple[object, ...], Rules] = {}


def _rules_stamp(rules_dir: Path) -> tuple[tuple[str, int, int], ...]:
    stamp = []
    for name in ("customers.yaml", "tiers.yaml", "freemail.yaml"):
        for path in (rules_dir / name, defaults.rules_dir() / name):
            try:
                st = path.stat()
            except OSError:
                continue
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stamp)


def _read_rules_uncached(
    rules_dir: Path, me: Owner | None, problems: list[str], warnings: list[str]
) -> Rules | None:
    before = len(problems)
    sources: list[Path] = []
    broken: dict[str, str] = {}  # tier name -> "tiers.yaml:LINE" of a tier that failed to read
    tiers, default_tier, detection, auto_tier = _read_tiers(
        rules_dir, problems, sources, warnings, broken
    )
    freemail = _read_freemail(rules_dir, problems, sources)
    customers_file = rules_dir / "customers.yaml"
    result = _CustomersFile(freemail, tiers, default_tier, me, broken)
    if os.path.lexists(customers_file):  # a FIFO, a device or a broken link: refused by name
        sources.append(customers_file)
        result.read(YamlReader(customers_file, problems))
    if len(problems) > before or tiers is None:
        return None
    return Rules(
        customers=tuple(result.customers),
        ignore_domains=frozenset(result.ignore_domains),
        ignore_addresses=frozenset(result.ignore_addresses),
        freemail=frozenset(freemail | result.extra_freemail),
        tiers=tiers,
        source_files=tuple(sources),
        default_tier=default_tier,
        detection=detection,
        auto_tier=auto_tier,
        warnings=tuple(warnings),
    )


def _read_tiers(
    rules_dir: Path,
    problems: list[str],
    sources: list[Path],
    warnings: list[str],
    broken: dict[str, str] | None = None,
) -> tuple[dict[str, Tier] | None, str, Detection, tuple[AutoTier, ...]]:
    path = rule_file(rules_dir, "tiers.yaml")
    if path is None:
        problems.append(
            f"{rules_dir / 'tiers.yaml'}: does not exist; expected the tier definitions "
            "(run `mailkeeper init` to get the default A/B/C tiers)"
        )
        return None, DEFAULT_TIER, Detection(), ()
    sources.append(path)
    r = YamlReader(path, problems, warnings)
    before = len(problems)
    root = r.compose()
    if root is None:
        if len(problems) == before:
            problems.append(f"{path}:1: the file is empty; expected tiers: with A, B, C ...")
        return None, DEFAULT_TIER, Detection(), ()
    keys = r.mapping(root, "tiers file", _TIERS_KEYS, required=("tiers",))
    if keys is None or "tiers" not in keys:
        return None, DEFAULT_TIER, Detection(), ()
    tiers: dict[str, Tier] = {}
    for name, name_node, node in r.entries(
        keys["tiers"], "tiers", "a mapping of tier names, e.g. A: {...}"
    ):
        tier = _read_tier(r, name, node)
        if tier is not None:
            tiers[name] = tier
        elif broken is not None:  # its own problem is reported; uses of it are counted once
            broken[name] = r.where(name_node)
    if isinstance(keys["tiers"], MappingNode) and not keys["tiers"].value:
        r.problem(keys["tiers"], "tiers is empty", "at least one tier, e.g. A: {...}")
    default = DEFAULT_TIER
    if "default_tier" in keys:
        default = r.text(keys["default_tier"], "default_tier", "a tier name") or DEFAULT_TIER
    if tiers and default not in tiers and default not in (broken or {}):
        node = keys.get("default_tier", root)
        r.problem(
            node, f"default_tier '{default}' is not one of the tiers", f"one of {', '.join(tiers)}"
        )
    detection = _read_detection(r, keys["detection"]) if "detection" in keys else Detection()
    auto = _read_auto_tier(r, keys["auto_tier"], tiers, broken) if "auto_tier" in keys else ()
    return tiers, default, detection, auto


def _read_auto_tier(
    r: YamlReader, node: Node, tiers: dict[str, Tier], broken: dict[str, str] | None = None
) -> tuple[AutoTier, ...]:
    out = []
    for name, name_node, value in r.entries(
        node, "auto_tier", "tier: thresholds, e.g. A: {min_messages_year: 40}"
    ):
        if name in (broken or {}):  # reported once, where the tier is defined
            continue
        if name not in tiers:
            r.problem(
                name_node,
                f"auto_tier: '{name}' is not one of the tiers",
                f"one of {', '.join(tiers)}",
            )
            continue
        keys = r.mapping(value, f"auto_tier.{name}", _AUTO_KEYS)
        if keys is None:
            continue
        got: dict[str, Any] = {}
        for key in ("min_messages_year", "min_contacts"):
            if key in keys:
                got[key] = r.integer(keys[key], f"auto_tier.{name}.{key}", 0, 10**7)
        if "min_value" in keys:
            got["min_value"] = r.number(keys["min_value"], f"auto_tier.{name}.min_value", 0.0)
        if any(v is None for v in got.values()):
            continue
        out.append(AutoTier(name, **got))
    order = list(tiers)
    return tuple(sorted(out, key=lambda a: order.index(a.tier)))


def _read_detection(r: YamlReader, node: Node) -> Detection:
    keys = r.mapping(node, "detection", _DETECTION_KEYS)
    if keys is None:
        return Detection()
    d = Detection()
    values: dict[str, Any] = {}
    for key, low, high in (
        ("dormant_after_days", 30, 36500),
        ("issue_lookback_days", 1, 3650),
        ("promise_grace_hours", 0, 24 * 365),
    ):
        if key in keys:
            values[key] = r.integer(keys[key], f"detection.{key}", low, high)
    if "acknowledged_by" in keys:
        how = r.text(keys["acknowledged_by"], "detection.acknowledged_by", "contact or customer")
        if how not in ("contact", "customer"):
            r.problem(
                keys["acknowledged_by"],
                f"detection.acknowledged_by is '{how}'",
                "contact (the thread or the same contact) or customer (anyone there)",
            )
        else:
            values["acknowledged_by"] = how
    return Detection(**{k: (v if v is not None else getattr(d, k)) for k, v in values.items()})


def _read_tier(r: YamlReader, name: str, node: Node) -> Tier | None:
    where = f"tiers.{name}"
    keys = r.mapping(node, where, _TIER_KEYS, required=("contact_interval_days",))
    if keys is None or "contact_interval_days" not in keys:
        return None
    interval = r.integer(keys["contact_interval_days"], f"{where}.contact_interval_days", 1, 3650)
    sla_key = "issue_sla_working_hours"
    if sla_key not in keys and "issue_sla_hours" in keys:
        sla_key = "issue_sla_hours"
        r.warn(
            keys[sla_key],
            f"{where}.issue_sla_hours is now called issue_sla_working_hours (the SLA counts "
            "working hours only); rename it",
        )
    if sla_key not in keys:
        r.problem(
            node, f"{where} has no issue_sla_working_hours", "e.g. issue_sla_working_hours: 8"
        )
        return None
    sla = r.integer(keys[sla_key], f"{where}.{sla_key}", 1, 24 * 365)
    description = ""
    if "description" in keys:
        description = r.text(keys["description"], f"{where}.description") or ""
    per_category: list[tuple[str, int]] = []
    if "category_sla_working_hours" in keys:
        for cat, cat_node, value in r.entries(
            keys["category_sla_working_hours"],
            f"{where}.category_sla_working_hours",
            "a mapping of category to working hours, e.g. complaint: 4",
        ):
            if cat not in ISSUE_CATEGORIES:
                r.problem(
                    cat_node,
                    f"{where}: unknown issue category '{cat}'",
                    f"one of {', '.join(ISSUE_CATEGORIES)}",
                )
                continue
            hours = r.integer(value, f"{where}.category_sla_working_hours.{cat}", 1, 24 * 365)
            if hours is not None:
                per_category.append((cat, hours))
    threshold: float | None = 0.5
    if "answer_threshold" in keys:
        threshold = r.number(keys["answer_threshold"], f"{where}.answer_threshold", 0.0)
        if threshold is not None and threshold > 1.0:
            r.problem(keys["answer_threshold"], f"{where}.answer_threshold is {threshold:g}",
                      "a probability from 0 to 1, e.g. 0.5")  # fmt: skip
            threshold = None
    report_card = "off"
    if "report_card" in keys:
        when = r.text(keys["report_card"], f"{where}.report_card", "january, anniversary or off")
        if when is not None and when not in REPORT_CARD_WHEN:
            hint = _did_you_mean(when, REPORT_CARD_WHEN)
            r.problem(keys["report_card"], f"{where}.report_card is '{when}'{hint}",
                      "january, anniversary or off")  # fmt: skip
        report_card = when if when in REPORT_CARD_WHEN else "off"
    if interval is None or sla is None or threshold is None:
        return None
    return Tier(name, interval, sla, description, tuple(per_category), threshold, report_card)


def _read_freemail(rules_dir: Path, problems: list[str], sources: list[Path]) -> set[str]:
    """The shipped list, plus the rep's own freemail.yaml when there is one."""
    domains: set[str] = set()
    shipped = defaults.rules_dir() / "freemail.yaml"
    own = rules_dir / "freemail.yaml"
    for path in dict.fromkeys([shipped, own]):
        if path.is_file():
            sources.append(path)
            domains |= _read_freemail_file(YamlReader(path, problems))
    return domains


def _read_freemail_file(r: YamlReader) -> set[str]:
    root = r.compose()
    if root is None:
        return set()
    keys = r.mapping(root, "freemail file", _FREEMAIL_KEYS)
    if keys is None:
        return set()
    out: set[str] = set()
    for key, node in keys.items():
        out.update(_domains(r, node, key))
    return out


class _CustomersFile:
    """customers.yaml: customers, ignore lists, extra freemail; with every cross-check."""

    def __init__(
        self,
        freemail: set[str],
        tiers: dict[str, Tier] | None,
        default_tier: str,
        me: Owner | None,
        broken: dict[str, str] | None = None,
    ) -> None:
        self.freemail = freemail
        self.broken_tiers = broken or {}
        # a tier that could not be read: its users, counted so the root is reported once
        self.broken_uses: dict[str, list[Node]] = {}
        self.tiers = tiers
        self.default_tier = default_tier
        self.me = me
        self.customers: list[CustomerRule] = []
        self.ignore_domains: set[str] = set()
        self.ignore_addresses: set[str] = set()
        self.extra_freemail: set[str] = set()
        self.claims = _Claims()

    def read(self, r: YamlReader) -> None:
        root = r.compose()
        if root is None:
            return
        keys = r.mapping(root, "customers file", _CUSTOMERS_KEYS)
        if keys is None:
            return
        if "extra_freemail" in keys:
            self.extra_freemail = set(_domains(r, keys["extra_freemail"], "extra_freemail"))
            self.freemail = self.freemail | self.extra_freemail
        if "ignore" in keys:
            self._read_ignore(r, keys["ignore"])
        if "customers" in keys:
            expected = "a list of customers, each starting with '- name: ...'"
            for item in r.sequence(keys["customers"], "customers", expected):
                customer = self._read_customer(r, item)
                if customer is not None:
                    self.customers.append(customer)
        for tier, nodes in self.broken_uses.items():
            n = len(nodes)
            r.problem(
                nodes[0],
                f"tier {tier} could not be read (see {self.broken_tiers[tier]}); "
                f"{n} customer{'s' if n != 1 else ''} use{'s' if n == 1 else ''} it",
                "the tier fixed in tiers.yaml; these customers need nothing else",
            )

    def _read_ignore(self, r: YamlReader, node: Node) -> None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return
        keys = r.mapping(node, "ignore", _IGNORE_KEYS)
        if keys is None:
            return
        self.ignore_domains = set(_domains(r, keys.get("domains"), "ignore.domains"))
        self.ignore_addresses = set(_addresses(r, keys.get("addresses"), "ignore.addresses"))

    def _read_customer(self, r: YamlReader, node: Node) -> CustomerRule | None:
        keys = r.mapping(node, "customer", _CUSTOMER_KEYS, required=("name",))
        if keys is None or "name" not in keys:
            return None
        before = len(r.problems)
        name = r.text(keys["name"], "customer name", "the company's name, e.g. Birch & Co")
        if name is None:
            return None
        where = f"customer '{name}'"
        aliases = (
            [a for a, _ in r.text_list(keys["aliases"], f"{where}: aliases", "Birch Co")]
            if "aliases" in keys
            else []
        )
        self._claim_names(r, name, keys["name"], aliases, keys.get("aliases"))
        domains = self._customer_domains(r, where, name, keys.get("domains"))
        addresses = self._customer_addresses(r, where, name, keys.get("addresses"))
        if not domains and not addresses and len(r.problems) == before:
            r.problem(
                node,
                f"{where} has no domains and no addresses",
                "at least one, so that mail can be linked to it",
            )
        tier = self._tier(r, where, keys.get("tier"))
        language = self._language(r, where, keys.get("language"))
        owner = r.text(keys["owner"], f"{where}: owner") if "owner" in keys else None
        notes = r.text(keys["notes"], f"{where}: notes", strip=False) if "notes" in keys else None
        snooze = None
        if "snooze_until" in keys:
            raw = r.text(keys["snooze_until"], f"{where}: snooze_until", "a date like 2027-01-15")
            try:
                day = date.fromisoformat(str(raw)) if raw else None
            except ValueError:
                day = None
            if day is None:
                r.problem(
                    keys["snooze_until"],
                    f"{where}: snooze_until {value_excerpt(str(raw))} is not a date",
                    "a date like 2027-01-15",
                )
            else:
                snooze = datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = None
        if "value" in keys:
            value = r.number(keys["value"], f"{where}: value", 0.0)
        contacts = self._contacts(r, where, keys.get("contacts"))
        country = self._country(r, where, keys["country"]) if "country" in keys else None
        if len(r.problems) > before or tier is None or language is None:
            return None
        return CustomerRule(
            name,
            tuple(domains),
            tuple(addresses),
            tier,
            language,
            owner,
            notes,
            tuple(aliases),
            r.line(node),
            language_given="language" in keys,
            tier_given="tier" in keys,
            snooze_until=snooze,
            value=value,
            contacts=tuple(contacts),
            country=country,
        )

    def _country(self, r: YamlReader, where: str, node: Node) -> str | None:
        from mailkeeper.config.countries import normalize

        raw = r.text(node, f"{where}: country", "an ISO 3166 country code, e.g. DE")
        code = normalize(raw) if raw else None
        if raw and code is None:
            r.problem(node, f"{where}: country '{raw}' is not an ISO 3166 country code",
                      "a two-letter code like DE, CN, AU or US")  # fmt: skip
        return code

    def _contacts(self, r: YamlReader, where: str, node: Node | None) -> list[ContactRule]:
        """`contacts: [{address: ..., name: ..., salutation: ...}]`: a name or greeting line
        for a person, used by drafts instead of what their mail's display name says."""
        out: list[ContactRule] = []
        seen: set[str] = set()
        example = "{address: ingrid@birch.co.uk, name: Ingrid Haugen}"
        for item in r.sequence(node, f"{where}: contacts", example) if node else []:
            keys = r.mapping(item, f"{where}: contact", _CONTACT_KEYS, required=("address",))
            if keys is None or "address" not in keys:
                continue
            raw = r.text(keys["address"], f"{where}: contact address", "ingrid@birch.co.uk")
            address, why = normalize_address(raw or "")
            if address is None:
                r.problem(keys["address"], f"{where}: contact address '{raw}' is {why}",
                          "an address like ingrid@birch.co.uk")  # fmt: skip
                continue
            if address in seen:
                r.problem(keys["address"], f"{where}: contact '{address}' is listed twice",
                          "each person once")  # fmt: skip
                continue
            seen.add(address)
            texts: dict[str, str | None] = {}
            for key in ("name", "salutation"):
                value = r.text(keys[key], f"{where}: contact {key}") if key in keys else None
                if value is not None and _CONTROL_OR_BREAK.search(value):
                    r.problem(keys[key], f"{where}: contact {key} holds a line break",
                              "one line of text, e.g. Dear Ingrid,")  # fmt: skip
                    value = None
                texts[key] = value or None
            if not texts["name"] and not texts["salutation"]:
                r.problem(item, f"{where}: contact '{address}' has no name and no salutation",
                          "name: Ingrid Haugen, or salutation: Dear Ingrid,")  # fmt: skip
                continue
            out.append(ContactRule(address, texts["name"], texts["salutation"], r.line(item)))
        return out

    def _claim_names(
        self, r: YamlReader, name: str, node: Node, aliases: list[str], aliases_node: Node | None
    ) -> None:
        for label, label_node in [(name, node)] + [(a, aliases_node or node) for a in aliases]:
            key = label.casefold()
            if key in self.claims.names:
                owner, line = self.claims.names[key]
                r.problem(
                    label_node,
                    f"customer name '{label}' is already used by customer '{owner}' (line {line})",
                    "each customer name and alias once",
                )
            else:
                self.claims.names[key] = (name, r.line(node))

    def _customer_domains(
        self, r: YamlReader, where: str, name: str, node: Node | None
    ) -> list[str]:
        out: list[str] = []
        for raw, item in r.text_list(node, f"{where}: domains", "birch.co.uk") if node else []:
            domain, why = normalize_domain(raw)
            if domain is None:
                r.problem(
                    item,
                    f"{where}: domain {value_excerpt(raw)} is {why}",
                    "a domain like birch.co.uk",
                )
            elif self._domain_ok(r, where, name, domain, item) and domain not in out:
                out.append(domain)
        return out

    def _domain_ok(self, r: YamlReader, where: str, name: str, domain: str, node: Node) -> bool:
        if _in_domains(domain, self.freemail):
            r.problem(
                node,
                f"{where}: '{domain}' is a freemail domain: listing it would make every "
                f"{domain} sender this customer",
                f"the customer's own addresses instead, e.g. addresses: [tom@{domain}]",
            )
            return False
        if self.me is not None and _in_domains(domain, set(self.me.company_domains)):
            r.problem(
                node,
                f"{where}: '{domain}' is one of your company_domains (colleagues)",
                "only the customer's domains",
            )
            return False
        if domain in self.ignore_domains:
            r.problem(
                node,
                f"{where}: '{domain}' is also in ignore.domains",
                "a domain either ignored or a customer's, not both",
            )
            return False
        return self._claim(r, self.claims.domains, "domain", domain, name, node)

    def _customer_addresses(
        self, r: YamlReader, where: str, name: str, node: Node | None
    ) -> list[str]:
        out: list[str] = []
        for raw, item in (
            r.text_list(node, f"{where}: addresses", "tom@birch.co.uk") if node else []
        ):
            address, why = normalize_address(raw)
            if address is None:
                r.problem(
                    item,
                    f"{where}: address {value_excerpt(raw)} is {why}",
                    "an address like tom@birch.co.uk",
                )
            elif self._address_ok(r, where, name, address, item) and address not in out:
                out.append(address)
        return out

    def _address_ok(self, r: YamlReader, where: str, name: str, address: str, node: Node) -> bool:
        if self.me is not None and address in self.me.addresses:
            r.problem(
                node,
                f"{where}: '{address}' is your own address (me.addresses)",
                "only the customer's addresses",
            )
            return False
        if address in self.ignore_addresses:
            r.problem(
                node,
                f"{where}: '{address}' is also in ignore.addresses",
                "an address either ignored or a customer's, not both",
            )
            return False
        return self._claim(r, self.claims.addresses, "address", address, name, node)

    def _claim(
        self,
        r: YamlReader,
        claims: dict[str, tuple[str, int]],
        what: str,
        value: str,
        name: str,
        node: Node,
    ) -> bool:
        if value in claims and claims[value][0] != name:
            owner, line = claims[value]
            r.problem(
                node,
                f"{what} '{value}' is already claimed by customer '{owner}' (line {line})",
                f"each {what} under one customer only",
            )
            return False
        claims.setdefault(value, (name, r.line(node)))
        return True

    def _tier(self, r: YamlReader, where: str, node: Node | None) -> str | None:
        if node is None:
            return self.default_tier
        raw = r.text(node, f"{where}: tier", "a tier name, e.g. A")
        if raw is None or self.tiers is None:
            return raw
        for tier in self.tiers:
            if tier.casefold() == raw.casefold():
                return tier
        for tier in self.broken_tiers:
            if tier.casefold() == raw.casefold():
                self.broken_uses.setdefault(tier, []).append(node)
                return None
        r.problem(
            node,
            f"{where}: tier {value_excerpt(raw)} is not defined in tiers.yaml",
            f"one of {', '.join(self.tiers)}",
        )
        return None

    def _language(self, r: YamlReader, where: str, node: Node | None) -> str | None:
        if node is None:
            return DEFAULT_LANGUAGE
        raw = r.text(node, f"{where}: language", "a language code, e.g. en or zh")
        if raw is None:
            return None
        value = raw.lower().replace("_", "-")
        if not _LANGUAGE.match(value):
            r.problem(
                node,
                f"{where}: language {value_excerpt(raw)} is not a language code",
                "a code like en, zh, de or pt-br",
            )
            return None
        return value
