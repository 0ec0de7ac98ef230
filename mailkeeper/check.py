"""`mailkeeper check`: find everything a sync would trip over, before it runs.

The configuration and rules (file:line problems from config.py), then per account: a
placeholder host, the secret (password command, environment variable, keyring), and unless
offline the login and the folders (a configured folder or extra folder the server lacks is a
problem here, where sync only warns); the database path (can the file be made or written? is an
existing one a SQLite database that passes PRAGMA quick_check?);
and every template in the templates folder (Jinja2 syntax). Every problem names its file and
line and says what is expected. Nothing here writes but the time of a passed quick_check
(for `status`): the database is not created, and a probe file is removed at once.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailkeeper.config import secrets
from mailkeeper.config import settings as config_mod
from mailkeeper.config.orders_rules import order_rules_problems
from mailkeeper.config.yamlreader import key_lines, locate
from mailkeeper.errors import MailkeeperError, UserError
from mailkeeper.store.db import damaged, integrity_problem, record_quick_check
from mailkeeper.sync import open_mailbox

logger = logging.getLogger(__name__)

# Host names that stand for "fill in your server" (RFC 2606 / 6761).
_PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
_PLACEHOLDER_TLDS = (".example", ".invalid", ".test")


@dataclass
class CheckResult:
    path: Path
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # what was checked and is fine

    @property
    def ok(self) -> bool:
        return not self.problems


def check(path: Path, offline: bool = False) -> CheckResult:
    """Every problem `mailkeeper sync` would meet with the configuration at `path`."""
    problems, warnings = config_mod.check_with_warnings(path)
    result = CheckResult(path, warnings=warnings)
    if problems:
        result.problems = problems
        return result
    settings = config_mod.load_settings(path)
    lines = key_lines(settings.path)
    for acct in settings.accounts.values():
        found = account_problems(settings, acct, offline, lines)
        result.problems += found
        if not found:
            how = "offline: secret found" if offline and acct.kind == "imap" else "login, folders"
            result.passed.append(f"account {acct.name}: ok ({how})")
    placeholder = [p for p in result.problems if "placeholder" in p]
    if placeholder:  # the loader's warning about the example host is now a problem
        result.warnings = [w for w in result.warnings if ".host is still the example" not in w]
    db = database_problems(settings, lines)
    result.problems += db
    if not db:
        made = Path(settings.database).is_file()
        state = "writable, quick_check ok" if made else "can be created"
        result.passed.append(f"database {settings.database}: {state}")
    tpl = template_problems(settings.templates_dir)
    if not tpl:  # syntax fine: render each with the context its kind gets
        from mailkeeper.drafts.compose import template_render_problems

        tpl = template_render_problems(settings.template_search_path)
    result.problems += tpl
    if not tpl:
        result.passed.append(f"templates in {settings.templates_dir}: ok")
    issue_rules = issue_rule_problems(settings.rules_dir)
    result.problems += issue_rules
    if not issue_rules:
        result.passed.append("rules/issues.*.yaml: ok")
    orders_found, orders_warned = order_rules_problems(
        settings.rules_dir, tuple(c.name for c in config_mod.load_rules(settings).customers)
    )
    result.problems += orders_found
    result.warnings += orders_warned
    if not orders_found:
        result.passed.append("rules/orders.yaml: ok")
    touches = touches_problems(settings)
    result.problems += touches
    if not touches:
        result.passed.append("rules/touches.yaml: ok (greetings, needs)")
    return result


def touches_problems(settings: Any) -> list[str]:
    """touches.yaml: every holiday name in its country's calendar, every tier in tiers.yaml."""
    from mailkeeper.config.rules import rule_file
    from mailkeeper.config.touches import FILE, read_touches

    problems: list[str] = []
    tiers = tuple(config_mod.load_rules(settings).tiers)
    read_touches(rule_file(settings.rules_dir, FILE), tiers, problems)
    return problems


# ----------------------------------------------------------------------------- accounts
def is_placeholder(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS) or (
        host.endswith(_PLACEHOLDER_TLDS)
    )


def account_problems(
    settings: Any, acct: Any, offline: bool, lines: dict[str, int] | None = None
) -> list[str]:
    """What would stop `acct` from syncing: placeholder host, secret, login, folders."""
    lines = key_lines(settings.path) if lines is None else lines

    def here(text: str) -> str:
        return locate(settings.path, text, lines)

    where = f"accounts.{acct.name}"
    if acct.kind == "imap" and is_placeholder(acct.host):
        return [
            here(
                f"{where}.host: {acct.host} is the placeholder from the template; expected "
                "your provider's IMAP server name (e.g. imap.gmail.com, outlook.office365.com)"
            )
        ]
    credential = None
    if acct.kind == "imap":
        try:
            credential = secrets.get_credential(acct)
        except UserError as e:
            return [here(p) for p in e.problems] or [here(f"{where}: {e.args[0]}")]
        if offline:
            return []
    try:
        with open_mailbox(settings, acct, credential) as mb:
            found = mb.resolve_folders()
    except MailkeeperError as e:
        problems = list(getattr(e, "problems", []))
        head = e.args[0] if e.args else type(e).__name__
        return [here(p) for p in problems] or [here(f"{where}: {head}")]
    except OSError as e:  # a Maildir that cannot be read
        return [here(f"{where}: {e.strerror or e}")]
    return [here(_folder_key(where, p)) for p in found.problems]


def _folder_key(where: str, problem: str) -> str:
    """A folder problem from resolve_roles, prefixed with the key it is about."""
    if problem.startswith("folders."):
        return f"{where}.{problem}"
    if problem.startswith("extra folder "):
        return f"{where}.extra_folders: {problem}"
    return f"{where}.folders: {problem}"


# ----------------------------------------------------------------------------- database
def database_problems(settings: Any, lines: dict[str, int] | None = None) -> list[str]:
    """Whether the database file can be made (or written, when it exists), probed for real:
    a folder root may write, /proc, a path under a regular file, a read-only mount. The
    probe file is removed at once; no folder is made."""
    lines = key_lines(settings.path) if lines is None else lines
    path = Path(settings.database)
    line = lines.get("database")
    where = f"{settings.path}:{line}" if line else str(settings.path)
    expected = "expected a file in a folder you can write, e.g. database: ./mailkeeper.db"
    if path.exists():
        if path.is_dir():
            return [f"{where}: database: {path} is a folder; {expected}"]
        if not path.is_file():  # /dev/null, a FIFO: SQLite would read it as an empty database
            return [f"{where}: database: {path} is not a regular file; {expected}"]
        damage = integrity_problem(path)
        if damage is not None:
            err = damaged(path, damage)
            return [f"{where}: database: {err}"] + [f"  {p}" for p in err.problems]
        why = _cannot_write(path) or _cannot_create_in(path.parent)
        if why:
            return [
                f"{where}: database: {path} is read-only for this user ({why}): sync cannot "
                f"store mail (customers, customer and status still read it); {expected}"
            ]
        record_quick_check(path)  # for `status`: when the database was last found whole
        return []
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return [
            f"{where}: database: {path} is under {ancestor}, which is a file, not a folder; "
            f"{expected}"
        ]
    why = _cannot_create_in(ancestor)
    if why:
        return [f"{where}: database: cannot create {path} ({why} in {ancestor}); {expected}"]
    return []


def _cannot_write(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    return None


def _cannot_create_in(folder: Path) -> str | None:
    try:
        fd, name = tempfile.mkstemp(prefix=".mailkeeper-check-", dir=folder)
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(name)
    return None


# ----------------------------------------------------------------------------- issue rules
def issue_rule_problems(rules_dir: Path) -> list[str]:
    """The issue phrase files read with file:line, then compiled into spaCy matchers (a bad
    token pattern is found here, not in the middle of a scan)."""
    from mailkeeper.config.issues import read_issue_rules

    problems: list[str] = []
    found = read_issue_rules(rules_dir, problems)
    if problems:
        return problems
    from mailkeeper.detect.judge import Judge

    judge = Judge(found)
    for lang, rules in found.items():
        try:
            judge.judge("test", lang)
        except Exception as e:  # noqa: BLE001 - spaCy's pattern errors, reported with the file
            problems.append(f"{rules.source}: spaCy cannot use a pattern: {str(e).splitlines()[0]}")
    return problems


# ----------------------------------------------------------------------------- templates
def template_problems(folder: Path) -> list[str]:
    """Every Jinja2 syntax error in the templates folder, as FILE:LINE: problems."""
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment()
    problems = []
    for path in sorted(Path(folder).rglob("*.j2")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(f"{path}: cannot be read ({e}); expected a UTF-8 text file")
            continue
        try:
            env.parse(source, name=path.name, filename=str(path))
        except TemplateSyntaxError as e:
            problems.append(
                f"{path}:{e.lineno}: template syntax error: {e.message}; expected Jinja2 "
                "syntax ({{ variable }}, {% if %}...{% endif %})"
            )
    return problems
