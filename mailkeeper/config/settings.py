"""Load mailkeeper.yaml and the rules files into typed, frozen, validated settings.

Every problem names its file and line and says what was expected; all problems are collected
and raised together as one ConfigError (never a traceback, never the first one only). Secret
values never appear in a message: type errors describe the kind of value, not the value.

This module reads mailkeeper.yaml and is the public entry point. Reading YAML with file:line
problems lives in `config.yamlreader`; the rules folder (tiers, freemail, customers) in
`config.rules`; `accounts:` in `config.accounts`; `sync:`, `drafts:` and `daemon:` in
`config.runtime`. Their public names are re-exported here, so `config.settings` stays the one
import for callers.
"""

from __future__ import annotations

import logging
import os
import stat
import zoneinfo
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from yaml.nodes import Node

from mailkeeper.config import defaults
from mailkeeper.config.accounts import (
    CREDENTIAL_KEYS,
    FOLDER_ROLES,
    LOOPBACK_HOSTS,
    TLS_MODES,
    AccountConfig,
    TlsMode,
    _is_example,
    _read_accounts,
    _resolve,
)
from mailkeeper.config.rules import (
    DEFAULT_LANGUAGE,
    DEFAULT_TIER,
    CustomerRule,
    Rules,
    Tier,
    read_rules,
    rule_file,
)
from mailkeeper.config.runtime import (
    DRAFT_KINDS,
    DaemonSettings,
    DraftSettings,
    SyncSettings,
    _read_daemon,
    _read_drafts,
    _read_sync,
    _read_time,
)
from mailkeeper.config.team import TeamSettings, read_team
from mailkeeper.config.yamlreader import (
    YamlReader,
    _addresses,
    _domains,
    _in_file_order,
    _suggest,
    _summary,
    normalize_address,
    normalize_domain,
    timezone_hint,
)
from mailkeeper.errors import ConfigError, UserError

__all__ = [
    "CONFIG_NAME",
    "CREDENTIAL_KEYS",
    "DEFAULT_LANGUAGE",
    "DRAFT_KINDS",
    "DEFAULT_TIER",
    "ENV_CONFIG",
    "FOLDER_ROLES",
    "LOOPBACK_HOSTS",
    "TLS_MODES",
    "WEEKDAYS",
    "AccountConfig",
    "CustomerRule",
    "DaemonSettings",
    "DraftSettings",
    "Me",
    "Rules",
    "Settings",
    "SyncSettings",
    "Tier",
    "TlsMode",
    "WorkingHours",
    "YamlReader",
    "check",
    "check_with_warnings",
    "find_config_path",
    "load_rules",
    "load_settings",
    "normalize_address",
    "normalize_domain",
    "rule_file",
]

logger = logging.getLogger(__name__)

CONFIG_NAME = "mailkeeper.yaml"
ENV_CONFIG = "MAILKEEPER_CONFIG"

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# ----------------------------------------------------------------------------- settings types
@dataclass(frozen=True)
class Me:
    name: str
    addresses: tuple[str, ...]  # lower case
    company_domains: tuple[str, ...]  # lower case; colleagues, never customers
    signature: str


@dataclass(frozen=True)
class WorkingHours:
    days: tuple[str, ...]  # "mon" .. "sun"
    start: time
    end: time
    holidays: str | None = None  # a country code for the `holidays` package, e.g. "CN"
    extra_holidays: tuple[date, ...] = ()  # days off besides the country's
    extra_workdays: tuple[date, ...] = ()  # make-up working days on a weekend (调休)


@dataclass(frozen=True)
class Settings:
    path: Path
    me: Me
    timezone: str
    working_hours: WorkingHours
    database: Path
    rules_dir: Path
    templates_dir: Path
    accounts: dict[str, AccountConfig]
    sync: SyncSettings
    warnings: tuple[str, ...] = ()
    drafts: DraftSettings = DraftSettings()
    daemon: DaemonSettings = DaemonSettings()
    report_out: Path | None = None  # report: {out: DIR}: the daily pass rewrites the site there
    team: TeamSettings | None = None  # team: the team record on PostgreSQL (config/team.py)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def account(self, name: str) -> AccountConfig:
        """The account called `name`, or a UserError that lists the ones there are."""
        if name in self.accounts:
            return self.accounts[name]
        hint = _suggest(name, self.accounts)
        raise UserError(
            f"no account named '{name}' in {self.path}{hint}",
            [f"accounts are: {', '.join(sorted(self.accounts))}"],
        )

    def rule_file(self, name: str) -> Path | None:
        """rules_dir/name when the rep has it, else the shipped default, else None."""
        return rule_file(self.rules_dir, name)

    @property
    def template_search_path(self) -> tuple[Path, ...]:
        """Where to look for a template: the rep's folder first, then the shipped defaults."""
        return tuple(dict.fromkeys([self.templates_dir, defaults.templates_dir()]))


# ----------------------------------------------------------------------------- finding the file
def find_config_path(explicit: Path | None) -> Path:
    """--config, then $MAILKEEPER_CONFIG, then the XDG config dir. The file must exist."""
    if explicit is not None:
        return _existing(Path(explicit), "--config")
    env = os.environ.get(ENV_CONFIG, "").strip()
    if env:
        return _existing(Path(env), f"${ENV_CONFIG}")
    return _existing(defaults.default_config_dir() / CONFIG_NAME, "the default location")


def _existing(path: Path, source: str) -> Path:
    path = path.expanduser()
    if path.is_dir():
        path = path / CONFIG_NAME
    if path.is_file():
        return path.absolute()
    raise ConfigError(
        f"no configuration at {path} ({source})",
        [
            f"{path} does not exist; run `mailkeeper init` to create a commented one "
            f"(or pass --config PATH / set {ENV_CONFIG})"
        ],
    )


# ----------------------------------------------------------------------------- public API
def load_settings(path: Path) -> Settings:
    """Read and validate mailkeeper.yaml and the rules it points to; raise every problem at once."""
    path = Path(path).expanduser().absolute()
    problems: list[str] = []
    warnings: list[str] = []
    settings = _read_settings(YamlReader(path, problems, warnings))
    if problems or settings is None:
        raise ConfigError(_summary(path, problems), _in_file_order(problems))
    return settings


def load_rules(settings: Settings) -> Rules:
    """Read and validate the rules folder (customers, tiers, freemail) of `settings`."""
    problems: list[str] = []
    rules = read_rules(settings.rules_dir, settings.me, problems)
    if problems or rules is None:
        raise ConfigError(_summary(settings.rules_dir, problems), _in_file_order(problems))
    return rules


def check(path: Path) -> list[str]:
    """Every problem in the configuration (empty = ok). Warnings: `load_settings(path).warnings`."""
    return check_with_warnings(path)[0]


def check_with_warnings(path: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) in one pass: warnings are reported even when there are problems."""
    path = Path(path).expanduser().absolute()
    problems: list[str] = []
    warnings: list[str] = []
    _read_settings(YamlReader(path, problems, warnings))
    return _in_file_order(problems), _in_file_order(warnings)


# ----------------------------------------------------------------------------- mailkeeper.yaml
_TOP_KEYS = (
    "me",
    "timezone",
    "working_hours",
    "database",
    "rules",
    "templates",
    "accounts",
    "sync",
    "drafts",
    "daemon",
    "report",
    "team",
)
_ME_KEYS = ("name", "addresses", "company_domains", "signature")
_HOURS_KEYS = ("days", "start", "end", "holidays", "extra_holidays", "extra_workdays")


def _read_settings(r: YamlReader) -> Settings | None:
    root = r.compose()
    if root is None:
        if not r.problems:
            r.problems.append(
                f"{r.path}:1: the file is empty; expected at least me: and accounts: "
                "(run `mailkeeper init` for a commented example)"
            )
        return None
    top = r.mapping(root, "the configuration", _TOP_KEYS, required=("me",))
    if top is None:
        return None
    if "accounts" not in top and "team" not in top:  # a manager's: me and team, no accounts
        r.problem(root, "the configuration has no 'accounts'", "an 'accounts:' entry")
    base = r.path.parent
    me = _read_me(r, top["me"]) if "me" in top else None
    timezone = _read_timezone(r, top["timezone"]) if "timezone" in top else "UTC"
    hours = _read_hours(r, top["working_hours"]) if "working_hours" in top else _default_hours()
    database = _read_path(r, top, "database", base, "./mailkeeper.db", must_exist=False)
    rules_dir = _read_path(r, top, "rules", base, "./rules", must_exist=True)
    templates_dir = _read_path(r, top, "templates", base, "./templates", must_exist=True)
    accounts = _read_accounts(r, top["accounts"], base) if "accounts" in top else {}
    sync = _read_sync(r, top["sync"]) if "sync" in top else SyncSettings()
    drafts = _read_drafts(r, top["drafts"]) if "drafts" in top else DraftSettings()
    daemon = _read_daemon(r, top["daemon"]) if "daemon" in top else DaemonSettings()
    report = r.mapping(top["report"], "report", ("out",), ("out",)) if "report" in top else None
    out = r.text(report["out"], "report.out", "a folder, e.g. ./site") if report else None
    team = read_team(r, top["team"], base) if "team" in top else None
    report_out = _resolve(base, out) if out else None
    if rules_dir is not None:
        read_rules(rules_dir, me, r.problems, r.warnings)
    _file_mode_warning(r)
    if (
        r.problems
        or me is None
        or timezone is None
        or hours is None
        or database is None
        or rules_dir is None
        or templates_dir is None
        or sync is None
        or drafts is None
        or daemon is None
    ):
        return None
    return Settings(
        path=r.path,
        me=me,
        timezone=timezone,
        working_hours=hours,
        database=database,
        rules_dir=rules_dir,
        templates_dir=templates_dir,
        accounts=accounts,
        sync=sync,
        drafts=drafts,
        daemon=daemon,
        report_out=report_out,
        team=team,
        warnings=tuple(_in_file_order(r.warnings)),
    )


def _read_me(r: YamlReader, node: Node) -> Me | None:
    keys = r.mapping(node, "me", _ME_KEYS, required=("name", "addresses"))
    if keys is None or "name" not in keys or "addresses" not in keys:
        return None
    name = r.text(keys["name"], "me.name", "your name, e.g. Amy Chen")
    before = len(r.problems)
    addresses = _addresses(r, keys["addresses"], "me.addresses")
    if not addresses and len(r.problems) == before:
        r.problem(
            keys["addresses"],
            "me.addresses is empty",
            "your own address(es), e.g. [amy@example.com]",
        )
    domains = _domains(r, keys.get("company_domains"), "me.company_domains")
    signature = name or ""
    if "signature" in keys:
        signature = r.text(keys["signature"], "me.signature", "text", strip=False) or signature
    if any(_is_example(a.rpartition("@")[2]) for a in addresses):
        r.warn(keys["addresses"], "me.addresses still holds the example address; fill in your own")
    if name is None or not addresses:
        return None
    return Me(name, tuple(addresses), tuple(domains), signature)


def _read_timezone(r: YamlReader, node: Node) -> str | None:
    name = r.text(node, "timezone", "an IANA time zone, e.g. Asia/Shanghai")
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = timezone_hint(name)
        r.problem(
            node,
            f"timezone: unknown time zone '{name}'{hint}",
            "an IANA time zone, e.g. Asia/Shanghai or Europe/Berlin",
        )
        return None
    return name


def _default_hours() -> WorkingHours:
    return WorkingHours(WEEKDAYS[:5], time(9, 0), time(18, 0))


def _read_hours(r: YamlReader, node: Node) -> WorkingHours | None:
    keys = r.mapping(node, "working_hours", _HOURS_KEYS)
    if keys is None:
        return None
    default = _default_hours()
    days = _read_days(r, keys["days"]) if "days" in keys else default.days
    start = (
        _read_time(r, keys["start"], "working_hours.start") if "start" in keys else default.start
    )
    end = _read_time(r, keys["end"], "working_hours.end") if "end" in keys else default.end
    if days is None or start is None or end is None:
        return None
    if start >= end:
        r.problem(
            node,
            f"working_hours: start {start:%H:%M} is not before end {end:%H:%M}",
            "start earlier than end on the same day",
        )
        return None
    country = None
    if "holidays" in keys:
        country = r.text(keys["holidays"], "working_hours.holidays", "a country code, e.g. CN")
        if country is not None and not _known_country(country):
            r.problem(
                keys["holidays"],
                f"working_hours.holidays: '{country}' is not a country the holidays package knows",
                "a two-letter country code, e.g. CN, DE, US",
            )
            return None
    extra = {
        k: _read_dates(r, keys[k], f"working_hours.{k}") if k in keys else ()
        for k in ("extra_holidays", "extra_workdays")
    }
    if any(v is None for v in extra.values()):
        return None
    return WorkingHours(
        days, start, end, country, extra["extra_holidays"] or (), extra["extra_workdays"] or ()
    )


def _known_country(code: str) -> bool:
    import holidays  # only when the rep names a country

    return code.upper() in holidays.list_supported_countries()


def _read_dates(r: YamlReader, node: Node, name: str) -> tuple[date, ...] | None:
    out = []
    for raw, item in r.text_list(node, name, "2026-10-09, 2026-10-10"):
        try:
            out.append(date.fromisoformat(raw.strip()))
        except ValueError:
            r.problem(item, f"{name}: '{raw}' is not a date", "a date like 2026-10-09")
            return None
    return tuple(out)


def _read_days(r: YamlReader, node: Node) -> tuple[str, ...] | None:
    days: list[str] = []
    ok = True
    for raw, item in r.text_list(node, "working_hours.days", "mon, tue, wed"):
        day = raw.strip().lower()[:3]
        if day not in WEEKDAYS or not raw.strip().lower().startswith(day):
            r.problem(
                item,
                f"working_hours.days: '{raw}' is not a weekday",
                f"some of {', '.join(WEEKDAYS)}",
            )
            ok = False
        elif day not in days:
            days.append(day)
    if ok and not days:
        r.problem(node, "working_hours.days is empty", "at least one day, e.g. [mon, tue, wed]")
    return tuple(d for d in WEEKDAYS if d in days) if ok and days else None


def _read_path(
    r: YamlReader, top: dict[str, Node], key: str, base: Path, default: str, must_exist: bool
) -> Path | None:
    """A path relative to the config file. An explicit folder that is missing is a problem;
    a missing default folder falls back to the shipped defaults (see rule_file)."""
    if key not in top:
        return _resolve(base, default)
    raw = r.text(top[key], key, f"a path, e.g. {default}")
    if raw is None:
        return None
    path = _resolve(base, raw)
    if must_exist and not path.is_dir():
        r.problem(
            top[key],
            f"{key}: folder {path} does not exist",
            f"an existing folder (run `mailkeeper init --dir {base}` to create one)",
        )
        return None
    if not must_exist and path.is_dir():
        r.problem(
            top[key], f"{key}: {path} is a folder", "a database file path, e.g. ./mailkeeper.db"
        )
        return None
    return path


# ----------------------------------------------------------------------------- warnings
def _file_mode_warning(r: YamlReader) -> None:
    try:
        mode = r.path.stat().st_mode
    except OSError:
        return
    if mode & stat.S_IROTH:
        r.warn(
            None,
            f"readable by every user of this computer (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {r.path}",
        )
