"""Load mailkeeper.yaml and the rules files into typed, frozen, validated settings.

Every problem names its file and line and says what was expected; all problems are collected
and raised together as one ConfigError (never a traceback, never the first one only). Secret
values never appear in a message: type errors describe the kind of value, not the value.

Files are composed with PyYAML's SafeLoader (`yaml.compose`), so every node keeps the line it
came from. `YamlReader` is public so that other rule files (issue phrases, orders) can be
validated the same way.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Literal, TypedDict, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mailkeeper import defaults
from mailkeeper.domains import is_public_suffix
from mailkeeper.errors import ConfigError, UserError

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
DEFAULT_TIER = "B"
DEFAULT_LANGUAGE = "en"

_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")


# libyaml's parser keeps line numbers too and is ~10x faster on a 300-customer file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


# ----------------------------------------------------------------------------- rules types
@dataclass(frozen=True)
class Tier:
    name: str
    contact_interval_days: int
    issue_sla_hours: int
    description: str = ""


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


@dataclass(frozen=True)
class Rules:
    customers: tuple[CustomerRule, ...]
    ignore_domains: frozenset[str]
    ignore_addresses: frozenset[str]
    freemail: frozenset[str]
    tiers: dict[str, Tier]
    source_files: tuple[Path, ...]
    default_tier: str = DEFAULT_TIER

    def customer(self, name: str) -> CustomerRule | None:
        """The configured customer called `name` (or aliased so), ignoring case."""
        key = name.casefold()
        for c in self.customers:
            if c.name.casefold() == key or key in (a.casefold() for a in c.aliases):
                return c
        return None

    def is_freemail(self, domain: str) -> bool:
        return _in_domains(domain.lower(), self.freemail)


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
    rules = _read_rules(settings.rules_dir, settings.me, problems)
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


def rule_file(rules_dir: Path, name: str) -> Path | None:
    """rules_dir/name when present, else the shipped default rules/name, else None."""
    for folder in (rules_dir, defaults.rules_dir()):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


_WHERE = re.compile(r"^(.*?):(\d+): ")


def _in_file_order(messages: list[str]) -> list[str]:
    """Sorted by file (in order of first mention), then line; a message without a line first."""
    files: dict[str, int] = {}

    def key(message: str) -> tuple[int, int]:
        m = _WHERE.match(message)
        name, line = (m.group(1), int(m.group(2))) if m else (message.split(":")[0], 0)
        return files.setdefault(name, len(files)), line

    return sorted(messages, key=key)


def _summary(where: Path, problems: list[str]) -> str:
    n = len(problems)
    return f"{n} problem{'s' if n != 1 else ''} in the configuration ({where})"


# ----------------------------------------------------------------------------- YAML reading
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _kind(node: Node) -> str:
    """What a node is, in words, without its value (it may be a secret)."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        _NULL: "empty",
        _BOOL: "true/false",
        _INT: "a number",
        _FLOAT: "a number",
        _STR: "text" if node.value.strip() else "empty text",
    }.get(node.tag, f"tagged {node.tag}")


def _suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


class YamlReader:
    """One YAML file: composes it and records problems as "FILE:LINE: name: what; expected ..."."""

    def __init__(self, path: Path, problems: list[str], warnings: list[str] | None = None) -> None:
        self.path = path
        self.problems = problems
        self.warnings: list[str] = warnings if warnings is not None else []

    # -- whole file
    def compose(self) -> Node | None:
        """The root node; None (with a problem recorded) when unreadable, None too when empty."""
        try:
            with self.path.open("rb") as fh:
                return yaml.compose(fh, Loader=_LOADER)
        except FileNotFoundError:
            self.problems.append(f"{self.path}: does not exist; expected a YAML file")
        except IsADirectoryError:
            self.problems.append(f"{self.path}: is a folder; expected a YAML file")
        except OSError as exc:
            self.problems.append(f"{self.path}: cannot be read ({exc.strerror})")
        except yaml.MarkedYAMLError as exc:
            self.problems.append(self._syntax_problem(exc))
        except yaml.reader.ReaderError as exc:
            self.problems.append(
                f"{self.path}: not readable text ({exc.reason}); expected UTF-8 YAML"
            )
        except yaml.YAMLError:
            self.problems.append(f"{self.path}: not valid YAML; expected a YAML file")
        return None

    def _syntax_problem(self, exc: yaml.MarkedYAMLError) -> str:
        # Never str(exc): it quotes the offending line, which may hold a password.
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return (
            f"{self.path}:{line}: YAML syntax error: {what}{context}; "
            "expected valid YAML (check indentation, colons and quotes)"
        )

    # -- reporting
    def line(self, node: Node) -> int:
        return int(node.start_mark.line) + 1

    def where(self, node: Node) -> str:
        return f"{self.path}:{self.line(node)}"

    def problem(self, node: Node, what: str, expected: str | None = None) -> None:
        tail = f"; expected {expected}" if expected else ""
        self.problems.append(f"{self.where(node)}: {what}{tail}")

    def warn(self, node: Node | None, what: str) -> None:
        where = self.where(node) if node is not None else str(self.path)
        self.warnings.append(f"{where}: {what}")

    # -- mappings
    def entries(self, node: Node, name: str, expected: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) of a mapping, duplicates reported and dropped."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{name} is {_kind(node)}", expected)
            return []
        seen: dict[str, int] = {}
        out: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            key = self._key(key_node, name)
            if key is None:
                continue
            if key in seen:
                self.problem(
                    key_node,
                    f"{name}: duplicate key '{key}' (first on line {seen[key]})",
                    "each key once",
                )
                continue
            seen[key] = self.line(key_node)
            out.append((key, key_node, value_node))
        return out

    def _key(self, key_node: Node, name: str) -> str | None:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
            self.problem(key_node, f"{name}: a key is {_kind(key_node)}", "a plain name as key")
            return None
        if key_node.value == "<<":
            self.problem(
                key_node,
                f"{name}: YAML merge keys ('<<') are not supported",
                "the keys written out",
            )
            return None
        return str(key_node.value)

    def mapping(
        self,
        node: Node,
        name: str,
        keys: Sequence[str],
        required: Sequence[str] = (),
    ) -> dict[str, Node] | None:
        """A mapping with a fixed set of keys: unknown keys and missing required keys reported."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{name} is {_kind(node)}", f"a mapping with keys {', '.join(keys)}")
            return None
        out: dict[str, Node] = {}
        for key, key_node, value_node in self.entries(node, name, "a mapping"):
            if key in keys:
                out[key] = value_node
                continue
            hint = _did_you_mean(key, keys)
            expected = None if hint else f"one of: {', '.join(keys)}"
            self.problem(key_node, f"{name}: unknown key '{key}'{hint}", expected)
        for key in required:
            if key not in out:
                self.problem(node, f"{name} has no '{key}'", f"a '{key}:' entry")
        return out

    # -- scalars
    def text(self, node: Node, name: str, expected: str = "text", strip: bool = True) -> str | None:
        """Any non-empty scalar as written (so `10:00` and `yes` stay text)."""
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT, _BOOL):
            value = node.value.strip() if strip else node.value.rstrip("\n")
            if value.strip():
                return str(value)
        self.problem(node, f"{name} is {_kind(node)}", expected)
        return None

    def integer(self, node: Node, name: str, low: int, high: int | None = None) -> int | None:
        value = self._int_value(node)
        expected = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
        if value is None:
            self.problem(node, f"{name} is {_kind(node)}", expected)
        elif value < low or (high is not None and value > high):
            self.problem(node, f"{name} is {value}, out of range", expected)
            return None
        return value

    def _int_value(self, node: Node) -> int | None:
        if not isinstance(node, ScalarNode):
            return None
        if node.tag == _INT:
            return int(_CONSTRUCTOR.construct_yaml_int(node))
        if node.tag == _STR and re.fullmatch(r"\s*\d+\s*", node.value):
            return int(node.value)
        return None

    def number(self, node: Node, name: str, minimum: float) -> float | None:
        value: float | None = None
        if isinstance(node, ScalarNode) and node.tag == _FLOAT:
            value = float(_CONSTRUCTOR.construct_yaml_float(node))
        else:
            integer = self._int_value(node)
            value = float(integer) if integer is not None else None
        if value is None or value != value:  # NaN
            self.problem(node, f"{name} is {_kind(node)}", f"a number of at least {minimum:g}")
            return None
        if value < minimum:
            self.problem(node, f"{name} is {value:g}, too small", f"at least {minimum:g}")
            return None
        return value

    def boolean(self, node: Node, name: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        self.problem(node, f"{name} is {_kind(node)}", "true or false")
        return None

    def text_list(self, node: Node, name: str, example: str) -> list[tuple[str, Node]]:
        """A list of texts, each with its node (for per-item lines). Empty value = empty list."""
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{name} is {_kind(node)}", f"a list, e.g. [{example}]")
            return []
        out: list[tuple[str, Node]] = []
        for item in node.value:
            value = self.text(item, f"{name} item", f"text, e.g. {example}")
            if value is not None:
                out.append((value, item))
        return out

    def sequence(self, node: Node, name: str, expected: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{name} is {_kind(node)}", expected)
            return []
        return list(node.value)


# ----------------------------------------------------------------------------- value checks
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_PART = re.compile(r"^[^@\s<>()\[\],;:\"]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _in_domains(domain: str, domains: frozenset[str] | set[str]) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def normalize_domain(raw: str) -> tuple[str | None, str | None]:
    """(domain, None) in lower-case ASCII (IDNA), or (None, why it is not a domain)."""
    domain = raw.strip().lower().rstrip(".")
    if domain.startswith(("@", "*.")) or "/" in domain:
        return None, "not a bare domain (write it like birch.co.uk)"
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None, "not a valid international domain name"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None, "not a domain name"
    if labels[-1].isdigit():
        return None, "an IP address, not a domain name"
    if is_public_suffix(domain):
        return None, "a public suffix (like co.uk), not one company's domain"
    return domain, None


def normalize_address(raw: str) -> tuple[str | None, str | None]:
    """(address, None) in lower case, or (None, why it is not an address)."""
    value = raw.strip().lower()
    local, at, domain_part = value.rpartition("@")
    if not at or not local or not _LOCAL_PART.match(local):
        return None, "not an e-mail address"
    domain, why = normalize_domain(domain_part)
    if domain is None:
        return None, f"its domain is {why}"
    return f"{local}@{domain}", None


def _parse_time(raw: str) -> time | None:
    m = _TIME.match(raw.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _parse_size(raw: str) -> int | None:
    """'25 MB', '256k', '1048576' -> bytes (binary multiples)."""
    m = _SIZE.match(raw)
    if not m:
        return None
    unit = (m.group(2) or "").lower()[:1]
    return int(float(m.group(1)) * _UNITS[unit])


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
)
_ME_KEYS = ("name", "addresses", "company_domains", "signature")
_HOURS_KEYS = ("days", "start", "end")
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


def _read_settings(r: YamlReader) -> Settings | None:
    root = r.compose()
    if root is None:
        if not r.problems:
            r.problems.append(
                f"{r.path}:1: the file is empty; expected at least me: and accounts: "
                "(run `mailkeeper init` for a commented example)"
            )
        return None
    top = r.mapping(root, "the configuration", _TOP_KEYS, required=("me", "accounts"))
    if top is None:
        return None
    base = r.path.parent
    me = _read_me(r, top["me"]) if "me" in top else None
    timezone = _read_timezone(r, top["timezone"]) if "timezone" in top else "UTC"
    hours = _read_hours(r, top["working_hours"]) if "working_hours" in top else _default_hours()
    database = _read_path(r, top, "database", base, "./mailkeeper.db", must_exist=False)
    rules_dir = _read_path(r, top, "rules", base, "./rules", must_exist=True)
    templates_dir = _read_path(r, top, "templates", base, "./templates", must_exist=True)
    accounts = _read_accounts(r, top["accounts"], base) if "accounts" in top else {}
    sync = _read_sync(r, top["sync"]) if "sync" in top else SyncSettings()
    if rules_dir is not None:
        _read_rules(rules_dir, me, r.problems)
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


def _addresses(r: YamlReader, node: Node | None, name: str) -> list[str]:
    return _normalized(r, node, name, normalize_address, "amy@example.com", "an address")


def _domains(r: YamlReader, node: Node | None, name: str) -> list[str]:
    return _normalized(r, node, name, normalize_domain, "example.com", "a domain")


def _normalized(
    r: YamlReader,
    node: Node | None,
    name: str,
    normalize: Callable[[str], tuple[str | None, str | None]],
    example: str,
    kind: str,
) -> list[str]:
    """A list of addresses or domains, normalized, without duplicates; each bad one a problem."""
    out: list[str] = []
    for raw, item in r.text_list(node, name, example) if node is not None else []:
        value, why = normalize(raw)
        if value is None:
            r.problem(item, f"{name}: '{raw}' is {why}", f"{kind} like {example}")
        elif value not in out:
            out.append(value)
    return out


def _read_timezone(r: YamlReader, node: Node) -> str | None:
    name = r.text(node, "timezone", "an IANA time zone, e.g. Asia/Shanghai")
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = _suggest(name, sorted(zoneinfo.available_timezones()))
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
    return WorkingHours(days, start, end)


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


# ----------------------------------------------------------------------------- rules
_CUSTOMERS_KEYS = ("customers", "ignore", "extra_freemail")
_CUSTOMER_KEYS = ("name", "domains", "addresses", "tier", "language", "owner", "notes", "aliases")
_IGNORE_KEYS = ("domains", "addresses")
_TIERS_KEYS = ("tiers", "default_tier")
_TIER_KEYS = ("contact_interval_days", "issue_sla_hours", "description")
_FREEMAIL_KEYS = ("domains", "extra_freemail")


@dataclass
class _Claims:
    """Who already claimed a name, domain or address, for duplicate reports."""

    names: dict[str, tuple[str, int]] = field(default_factory=dict)
    domains: dict[str, tuple[str, int]] = field(default_factory=dict)
    addresses: dict[str, tuple[str, int]] = field(default_factory=dict)


def _read_rules(rules_dir: Path, me: Me | None, problems: list[str]) -> Rules | None:
    """The rules, read once per content: load_settings validates them and load_rules then
    returns the same object, unless a file changed in between."""
    key = (rules_dir, me, _rules_stamp(rules_dir))
    cached = _RULES_CACHE.get(key)
    if cached is not None:
        return cached
    rules = _read_rules_uncached(rules_dir, me, problems)
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


def _read_rules_uncached(rules_dir: Path, me: Me | None, problems: list[str]) -> Rules | None:
    before = len(problems)
    sources: list[Path] = []
    tiers, default_tier = _read_tiers(rules_dir, problems, sources)
    freemail = _read_freemail(rules_dir, problems, sources)
    customers_file = rules_dir / "customers.yaml"
    result = _CustomersFile(freemail, tiers, default_tier, me)
    if customers_file.is_file():
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
    )


def _read_tiers(
    rules_dir: Path, problems: list[str], sources: list[Path]
) -> tuple[dict[str, Tier] | None, str]:
    path = rule_file(rules_dir, "tiers.yaml")
    if path is None:
        problems.append(
            f"{rules_dir / 'tiers.yaml'}: does not exist; expected the tier definitions "
            "(run `mailkeeper init` to get the default A/B/C tiers)"
        )
        return None, DEFAULT_TIER
    sources.append(path)
    r = YamlReader(path, problems)
    before = len(problems)
    root = r.compose()
    if root is None:
        if len(problems) == before:
            problems.append(f"{path}:1: the file is empty; expected tiers: with A, B, C ...")
        return None, DEFAULT_TIER
    keys = r.mapping(root, "tiers file", _TIERS_KEYS, required=("tiers",))
    if keys is None or "tiers" not in keys:
        return None, DEFAULT_TIER
    tiers: dict[str, Tier] = {}
    for name, _, node in r.entries(
        keys["tiers"], "tiers", "a mapping of tier names, e.g. A: {...}"
    ):
        tier = _read_tier(r, name, node)
        if tier is not None:
            tiers[name] = tier
    if isinstance(keys["tiers"], MappingNode) and not keys["tiers"].value:
        r.problem(keys["tiers"], "tiers is empty", "at least one tier, e.g. A: {...}")
    default = DEFAULT_TIER
    if "default_tier" in keys:
        default = r.text(keys["default_tier"], "default_tier", "a tier name") or DEFAULT_TIER
    if tiers and default not in tiers:
        node = keys.get("default_tier", root)
        r.problem(
            node, f"default_tier '{default}' is not one of the tiers", f"one of {', '.join(tiers)}"
        )
    return tiers, default


def _read_tier(r: YamlReader, name: str, node: Node) -> Tier | None:
    where = f"tiers.{name}"
    keys = r.mapping(node, where, _TIER_KEYS, required=("contact_interval_days", "issue_sla_hours"))
    if keys is None or "contact_interval_days" not in keys or "issue_sla_hours" not in keys:
        return None
    interval = r.integer(keys["contact_interval_days"], f"{where}.contact_interval_days", 1, 3650)
    sla = r.integer(keys["issue_sla_hours"], f"{where}.issue_sla_hours", 1, 24 * 365)
    description = ""
    if "description" in keys:
        description = r.text(keys["description"], f"{where}.description") or ""
    if interval is None or sla is None:
        return None
    return Tier(name, interval, sla, description)


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
        self, freemail: set[str], tiers: dict[str, Tier] | None, default_tier: str, me: Me | None
    ) -> None:
        self.freemail = freemail
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
        )

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
                r.problem(item, f"{where}: domain '{raw}' is {why}", "a domain like birch.co.uk")
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
                    item, f"{where}: address '{raw}' is {why}", "an address like tom@birch.co.uk"
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
        r.problem(
            node,
            f"{where}: tier '{raw}' is not defined in tiers.yaml",
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
                f"{where}: language '{raw}' is not a language code",
                "a code like en, zh, de or pt-br",
            )
            return None
        return value
