"""Load mailkeeper.yaml and the rules files into typed, frozen, validated settings.

Every problem names its file and line and says what was expected; all problems are collected
and raised together as one ConfigError (never a traceback, never the first one only). Secret
values never appear in a message: type errors describe the kind of value, not the value.

This module reads mailkeeper.yaml and is the public entry point. Reading YAML with file:line
problems lives in `config.yamlreader`; the rules folder (tiers, freemail, customers) in
`config.rules`. Their public names are re-exported here, so `config.settings` stays the one
import for callers.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from mailkeeper.config import defaults
from mailkeeper.config.rules import (
    DEFAULT_LANGUAGE,
    DEFAULT_TIER,
    CustomerRule,
    Rules,
    Tier,
    read_rules,
    rule_file,
)
from mailkeeper.config.team import TeamSettings, read_team
from mailkeeper.config.yamlreader import (
    _NULL,
    YamlReader,
    _addresses,
    _domains,
    _in_file_order,
    _parse_size,
    _parse_time,
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
    "DEFAULT_TIER",
    "ENV_CONFIG",
    "FOLDER_ROLES",
    "LOOPBACK_HOSTS",
    "TLS_MODES",
    "WEEKDAYS",
    "AccountConfig",
    "CustomerRule",
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

TlsMode = Literal["implicit", "starttls", "none"]
TLS_MODES: tuple[str, ...] = ("implicit", "starttls", "none")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
FOLDER_ROLES: tuple[str, ...] = ("inbox", "sent", "drafts")
CREDENTIAL_KEYS: tuple[str, ...] = (
    "password_command",
    "password_env",
    "keyring",
    "password",
    "oauth2_token_command",
)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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
class AccountConfig:
    """One mailbox. Exactly one credential source is set (or none, for a local Maildir)."""

    name: str
    host: str  # "" for a maildir account
    port: int
    tls: TlsMode
    username: str  # "" for a maildir account
    password_command: str | None = None
    password_env: str | None = None
    keyring: bool = False
    password: str | None = field(default=None, repr=False)
    oauth2_token_command: str | None = None
    folders: dict[str, str] = field(default_factory=dict)  # role (inbox|sent|drafts) -> name
    extra_folders: tuple[str, ...] = ()
    timeout: float = 60.0
    verify_tls: bool = True
    ca_file: Path | None = None
    maildir: Path | None = None  # a local Maildir++ folder instead of IMAP (mbsync users)

    @property
    def kind(self) -> Literal["imap", "maildir"]:
        return "maildir" if self.maildir is not None else "imap"

    @property
    def auth_mechanism(self) -> Literal["password", "xoauth2", "none"]:
        if self.maildir is not None:
            return "none"
        return "xoauth2" if self.oauth2_token_command is not None else "password"

    @property
    def credential_source(self) -> str | None:
        """The config key the secret comes from: password_command, keyring, ..."""
        for key in CREDENTIAL_KEYS:
            value = getattr(self, key)
            if value is not None and value is not False:
                return key
        return None


@dataclass(frozen=True)
class SyncSettings:
    batch_size: int = 200
    max_message_size: int = 25 * 1024 * 1024  # larger messages are stored with headers only
    max_text_bytes: int = 256 * 1024  # cap on one downloaded text part
    workers: int = 0  # 0 = auto


DRAFT_KINDS = ("check_in", "issue_ack", "promise_followup", "progress", "problem", "greeting")


@dataclass(frozen=True)
class DraftSettings:
    per_run: int = 10  # new drafts added by one run, most urgent first; the rest wait
    per_day: int = 10  # ... and by all runs of one day (the rep's day)
    # a draft the rep deleted without sending: no new draft for that finding for this long
    cooldown_days: tuple[tuple[str, int], ...] = (
        ("check_in", 14), ("issue_ack", 2), ("promise_followup", 2), ("progress", 3),
        ("problem", 1), ("greeting", 365),
    )  # fmt: skip
    promise_ahead_hours: int = 24  # draft a promise follow-up this long before it is due

    def cooldown(self, kind: str) -> int:
        return dict(self.cooldown_days).get(kind, 7)


@dataclass(frozen=True)
class DaemonSettings:
    """`daemon:` in mailkeeper.yaml: when the long-running `mailkeeper daemon` does what."""

    daily_at: time = time(7, 30)  # the daily pass (scan + draft), in the rep's time zone
    folders_every_minutes: int = 15  # Sent and the other folders are synced this often
    poll_every_seconds: int = 60  # the Inbox without IDLE (a server without it, a Maildir)
    idle_minutes: int = 25  # IDLE is re-issued this often (servers end it after 29-30)


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
_ACCOUNT_KEYS = (
    "host",
    "port",
    "tls",
    "username",
    *CREDENTIAL_KEYS,
    "folders",
    "extra_folders",
    "timeout",
    "verify_tls",
    "ca_file",
    "maildir",
)
_IMAP_ONLY_KEYS = ("host", "port", "tls", "username", *CREDENTIAL_KEYS, "verify_tls", "ca_file")
_SYNC_KEYS = ("batch_size", "max_message_size", "max_text_bytes", "workers")
_DRAFTS_KEYS = ("per_run", "per_day", "cooldown_days", "promise_ahead_hours")
_DAEMON_KEYS = ("daily_at", "folders_every_minutes", "poll_every_seconds", "idle_minutes")


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


def _read_time(r: YamlReader, node: Node, name: str) -> time | None:
    raw = r.text(node, name, 'a time like "09:00"')
    if raw is None:
        return None
    value = _parse_time(raw)
    if value is None:
        r.problem(node, f"{name}: '{raw}' is not a time of day", 'HH:MM, e.g. "09:00" or "18:30"')
    return value


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


def _resolve(base: Path, raw: str) -> Path:
    return Path(os.path.normpath(base / Path(raw).expanduser()))


def _read_drafts(r: YamlReader, node: Node) -> DraftSettings | None:
    keys = r.mapping(node, "drafts", _DRAFTS_KEYS)
    if keys is None:
        return None
    d = DraftSettings()
    values: dict[str, Any] = {}
    for key, low, high in (
        ("per_run", 0, 1000),
        ("per_day", 0, 1000),
        ("promise_ahead_hours", 0, 24 * 30),
    ):
        if key in keys:
            v = r.integer(keys[key], f"drafts.{key}", low, high)
            if v is None:
                return None
            values[key] = v
    if "cooldown_days" in keys:
        cool = dict(d.cooldown_days)
        for kind, kind_node, value in r.entries(
            keys["cooldown_days"], "drafts.cooldown_days", "kind: days, e.g. check_in: 14"
        ):
            if kind not in DRAFT_KINDS:
                r.problem(
                    kind_node,
                    f"drafts.cooldown_days: unknown kind '{kind}'",
                    f"one of {', '.join(DRAFT_KINDS)}",
                )
                return None
            days = r.integer(value, f"drafts.cooldown_days.{kind}", 0, 3650)
            if days is None:
                return None
            cool[kind] = days
        values["cooldown_days"] = tuple(cool.items())
    return DraftSettings(**{**d.__dict__, **values})


def _read_daemon(r: YamlReader, node: Node) -> DaemonSettings | None:
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return DaemonSettings()
    keys = r.mapping(node, "daemon", _DAEMON_KEYS)
    if keys is None:
        return None
    d = DaemonSettings()
    values = {
        "daily_at": _opt(keys, "daily_at", d.daily_at,
                         lambda n: _read_time(r, n, "daemon.daily_at")),
        "folders_every_minutes": _opt(keys, "folders_every_minutes", d.folders_every_minutes,
                                      lambda n: r.integer(n, "daemon.folders_every_minutes",
                                                          1, 24 * 60)),
        "poll_every_seconds": _opt(keys, "poll_every_seconds", d.poll_every_seconds,
                                   lambda n: r.integer(n, "daemon.poll_every_seconds", 1, 3600)),
        # RFC 2177: servers may end an IDLE after 30 minutes; re-issue it before that.
        "idle_minutes": _opt(keys, "idle_minutes", d.idle_minutes,
                             lambda n: r.integer(n, "daemon.idle_minutes", 1, 29)),
    }  # fmt: skip
    if any(v is None for v in values.values()):
        return None
    return DaemonSettings(**values)  # type: ignore[arg-type]


def _read_sync(r: YamlReader, node: Node) -> SyncSettings | None:
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return SyncSettings()
    keys = r.mapping(node, "sync", _SYNC_KEYS)
    if keys is None:
        return None
    default = SyncSettings()
    values = {
        "batch_size": _opt(
            keys,
            "batch_size",
            default.batch_size,
            lambda n: r.integer(n, "sync.batch_size", 1, 10_000),
        ),
        "max_message_size": _opt(
            keys,
            "max_message_size",
            default.max_message_size,
            lambda n: _read_size(r, n, "sync.max_message_size"),
        ),
        "max_text_bytes": _opt(
            keys,
            "max_text_bytes",
            default.max_text_bytes,
            lambda n: _read_size(r, n, "sync.max_text_bytes"),
        ),
        "workers": _opt(
            keys, "workers", default.workers, lambda n: r.integer(n, "sync.workers", 0, 64)
        ),
    }
    if any(v is None for v in values.values()):
        return None
    return SyncSettings(**values)  # type: ignore[arg-type]


_T = TypeVar("_T")


def _opt(
    keys: dict[str, Node], key: str, default: _T, read: Callable[[Node], _T | None]
) -> _T | None:
    return read(keys[key]) if key in keys else default


def _read_size(r: YamlReader, node: Node, name: str) -> int | None:
    raw = r.text(node, name, 'a size in bytes, or like "25 MB"')
    size = _parse_size(raw) if raw is not None else None
    if raw is not None and (size is None or size < 1):
        r.problem(node, f"{name}: '{raw}' is not a size", 'a size in bytes, or like "25 MB"')
        return None
    return size


# ----------------------------------------------------------------------------- accounts
def _read_accounts(r: YamlReader, node: Node, base: Path) -> dict[str, AccountConfig]:
    accounts: dict[str, AccountConfig] = {}
    entries = r.entries(node, "accounts", "a mapping of account names, e.g. work: {host: ...}")
    for name, key_node, value in entries:
        if not _ACCOUNT_NAME.match(name):
            r.problem(
                key_node,
                f"accounts: '{name}' is not a usable account name",
                "letters, digits, '.', '_' or '-', e.g. work",
            )
            continue
        account = _read_account(r, name, value, base)
        if account is not None:
            accounts[name] = account
    if isinstance(node, MappingNode) and not entries:
        r.problem(node, "accounts is empty", "at least one account, e.g. work: {host: ...}")
    return accounts


def _read_account(r: YamlReader, name: str, node: Node, base: Path) -> AccountConfig | None:
    where = f"accounts.{name}"
    keys = r.mapping(node, where, _ACCOUNT_KEYS)
    if keys is None:
        return None
    if "maildir" in keys:
        return _read_maildir_account(r, name, node, keys, base)
    before = len(r.problems)
    for key in ("host", "username"):
        if key not in keys:
            r.problem(
                node, f"{where} has no '{key}'", f"'{key}:' (or 'maildir:' for a local folder)"
            )
    host = r.text(keys["host"], f"{where}.host", "a host name") if "host" in keys else None
    tls = _read_tls(r, keys, where, host)
    port = _read_port(r, keys, where, tls)
    username = r.text(keys["username"], f"{where}.username") if "username" in keys else None
    creds = _read_credentials(r, keys, where, node)
    folders = _read_folders(r, keys.get("folders"), where)
    extra = (
        [v for v, _ in r.text_list(keys["extra_folders"], f"{where}.extra_folders", "Archive")]
        if "extra_folders" in keys
        else []
    )
    timeout = r.number(keys["timeout"], f"{where}.timeout", 1) if "timeout" in keys else 60.0
    verify = r.boolean(keys["verify_tls"], f"{where}.verify_tls") if "verify_tls" in keys else True
    ca_file = _read_ca_file(r, keys, where, base)
    if len(r.problems) > before or host is None or username is None or tls is None:
        return None
    if _is_example(host.lower()):
        r.warn(keys["host"], f"{where}.host is still the example {host}; fill in your mail server")
    if verify is False:
        r.warn(
            keys["verify_tls"],
            f"{where}.verify_tls is false: the server's certificate is not "
            "checked, so anyone on the network can read your password",
        )
    return AccountConfig(
        name=name,
        host=host,
        port=port or 0,
        tls=tls,
        username=username,  # type: ignore[arg-type]
        folders=folders,
        extra_folders=tuple(extra),
        timeout=timeout or 60.0,
        verify_tls=bool(verify),
        ca_file=ca_file,
        **creds,
    )


def _read_maildir_account(
    r: YamlReader, name: str, node: Node, keys: dict[str, Node], base: Path
) -> AccountConfig | None:
    where = f"accounts.{name}"
    before = len(r.problems)
    for key in _IMAP_ONLY_KEYS:
        if key in keys:
            r.problem(
                keys[key],
                f"{where}: '{key}' does not apply to a maildir account",
                "either maildir: (a local folder) or host: and a password source",
            )
    raw = r.text(keys["maildir"], f"{where}.maildir", "a folder path, e.g. ~/Mail/work")
    path = _resolve(base, raw) if raw is not None else None
    if path is not None and not path.is_dir():
        r.problem(
            keys["maildir"],
            f"{where}.maildir: folder {path} does not exist",
            "an existing Maildir folder",
        )
    folders = _read_folders(r, keys.get("folders"), where)
    extra = (
        [v for v, _ in r.text_list(keys["extra_folders"], f"{where}.extra_folders", "Archive")]
        if "extra_folders" in keys
        else []
    )
    timeout = r.number(keys["timeout"], f"{where}.timeout", 1) if "timeout" in keys else 60.0
    if len(r.problems) > before or path is None:
        return None
    return AccountConfig(
        name=name,
        host="",
        port=0,
        tls="none",
        username="",
        folders=folders,
        extra_folders=tuple(extra),
        timeout=timeout or 60.0,
        maildir=path,
    )


def _read_tls(r: YamlReader, keys: dict[str, Node], where: str, host: str | None) -> TlsMode | None:
    if "tls" not in keys:
        return "implicit"
    raw = r.text(keys["tls"], f"{where}.tls", "implicit, starttls or none")
    if raw is None:
        return None
    value = raw.lower()
    if value not in TLS_MODES:
        r.problem(
            keys["tls"],
            f"{where}.tls: '{raw}' is not a TLS mode{_suggest(value, TLS_MODES)}",
            "implicit (port 993), starttls (port 143) or none",
        )
        return None
    if value == "none" and host is not None and host.lower() not in LOOPBACK_HOSTS:
        r.problem(
            keys["tls"],
            f"{where}.tls: none would send your password unencrypted to {host}",
            "implicit or starttls (none only for 127.0.0.1, ::1 or localhost)",
        )
        return None
    return value  # type: ignore[return-value]


def _read_port(r: YamlReader, keys: dict[str, Node], where: str, tls: TlsMode | None) -> int | None:
    if "port" in keys:
        return r.integer(keys["port"], f"{where}.port", 1, 65535)
    return 993 if tls == "implicit" else 143


class _Credentials(TypedDict, total=False):
    password_command: str
    password_env: str
    keyring: bool
    password: str
    oauth2_token_command: str


def _read_credentials(r: YamlReader, keys: dict[str, Node], where: str, node: Node) -> _Credentials:
    given = [k for k in CREDENTIAL_KEYS if k in keys]
    if not given:
        r.problem(
            node,
            f"{where} has no password source",
            "one of password_command, password_env, keyring: true, "
            "oauth2_token_command (or password)",
        )
        return {}
    if len(given) > 1:
        r.problem(
            keys[given[1]],
            f"{where}: more than one password source ({', '.join(given)})",
            "exactly one of them",
        )
        return {}
    key = given[0]
    value_node = keys[key]
    if key == "keyring":
        flag = r.boolean(value_node, f"{where}.keyring")
        if flag is False:
            r.problem(
                value_node,
                f"{where}.keyring is false and there is no other password source",
                "keyring: true, or another source such as password_command",
            )
        return {"keyring": True} if flag else {}
    value = r.text(value_node, f"{where}.{key}", _CREDENTIAL_HINTS[key], strip=key != "password")
    if value is None:
        return {}
    creds = _Credentials()
    creds[key] = value  # type: ignore[literal-required]
    if key == "password":
        r.warn(
            value_node,
            f"{where}.password holds a plaintext password; prefer password_command, "
            "password_env or keyring: true" + _readable_note(r.path),
        )
    return creds


_CREDENTIAL_HINTS = {
    "password_command": "a shell command printing the password, e.g. pass show mail/work",
    "password_env": "the name of an environment variable, e.g. MAILKEEPER_PASSWORD",
    "password": "the password (better: password_command)",
    "oauth2_token_command": "a shell command printing an OAuth2 access token",
}


def _read_folders(r: YamlReader, node: Node | None, where: str) -> dict[str, str]:
    if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
        return {}
    keys = r.mapping(node, f"{where}.folders", FOLDER_ROLES)
    if keys is None:
        return {}
    out: dict[str, str] = {}
    for role, value in keys.items():
        name = r.text(value, f"{where}.folders.{role}", "the folder's name, e.g. Sent")
        if name is not None:
            out[role] = name
    return out


def _read_ca_file(r: YamlReader, keys: dict[str, Node], where: str, base: Path) -> Path | None:
    if "ca_file" not in keys:
        return None
    raw = r.text(keys["ca_file"], f"{where}.ca_file", "a PEM file path")
    if raw is None:
        return None
    path = _resolve(base, raw)
    if not path.is_file():
        r.problem(keys["ca_file"], f"{where}.ca_file: {path} does not exist", "a PEM file path")
        return None
    return path


# ----------------------------------------------------------------------------- warnings
def _readable_note(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f", and the file is readable by other users (run: chmod 600 {path})"
    return ""


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


def _is_example(domain: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in _EXAMPLE_DOMAINS)
