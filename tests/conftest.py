"""Shared fixtures: a real Dovecot on loopback, isolated config dirs, message builders."""

from __future__ import annotations

import email.utils
import os
import shutil
import sys
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dovecot import Dovecot, dovecot_available  # noqa: E402
from postgres import Postgres, postgres_available  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    """The real-world mail nobody here wrote (../shared/corpus beside the checkout);
    $MAILKEEPER_CORPUS points elsewhere (the test of the skip summary points it at nothing)."""
    return Path(os.environ.get("MAILKEEPER_CORPUS") or REPO.parent / "shared" / "corpus")


CORPUS = corpus_dir()
ME = "amy@lumen-furniture.com"
VAULT_SECRET = "s3cr3t-Zq9"
# One configured customer with a domain and a freemail contact: the tests' usual rules.
BIRCH = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    addresses: [tom.birch@gmail.com]
    tier: A
    language: en
"""
# Stands in for a server where a test only needs a config, never a connection.
OFFLINE = SimpleNamespace(port=1)


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch a real user's config or data: XDG dirs point into a temp dir."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("MAILKEEPER_CONFIG", raising=False)


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory: pytest.TempPathFactory):
    why = dovecot_available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the IMAP tests: {why}")
        pytest.skip(why)
    # Not under pytest's 0700 temp dirs: Dovecot's own users must reach the files.
    root = Path(tempfile.mkdtemp(prefix="mailkeeper-dovecot-"))
    root.chmod(0o755)
    users = {f"user{i}": "secret" for i in range(120)}
    users["amy"] = "secret"
    users["vault"] = VAULT_SECRET  # a user whose password tests look for in logs and files
    try:
        with Dovecot(root, users=users) as d:
            yield d
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL for the team record's tests (tests/postgres.py)."""
    why = postgres_available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the team tests: {why}")
        pytest.skip(why)
    # Not under pytest's 0700 temp dirs: the postgres user must reach the folder.
    root = Path(tempfile.mkdtemp(prefix="mailkeeper-postgres-"))
    try:
        with Postgres(root) as pg:
            yield pg
    finally:
        shutil.rmtree(root, ignore_errors=True)


_user_counter = iter(range(1000))


@pytest.fixture
def imap(dovecot_server: Dovecot):
    """A Dovecot plus a fresh, empty mailbox user for this test."""
    n = next(_user_counter)
    user = f"user{n}"
    if user not in dovecot_server.users:
        pytest.fail("out of test users; raise the count in conftest.dovecot_server")
    dovecot_server.user = user  # type: ignore[attr-defined]
    return dovecot_server


def make_mail(
    sender: str,
    to: str | list[str],
    subject: str,
    body: str = "Hello,\n\nplease see below.\n\nBest regards",
    *,
    msgid: str | None = None,
    in_reply_to: str | None = None,
    date: datetime | None = None,
    cc: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = ", ".join(to) if isinstance(to, list) else to
    if cc:
        m["Cc"] = ", ".join(cc)
    m["Subject"] = subject
    m["Date"] = email.utils.format_datetime(date or datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    m["Message-ID"] = msgid or email.utils.make_msgid(domain="test.example")
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = in_reply_to
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m.as_bytes()


def write_config(
    dest: Path,
    server: Dovecot | SimpleNamespace,
    user: str,
    customers: str = "customers: []\n",
    extra_account: str = "",
    password: str = "secret",
) -> Path:
    """A mailkeeper.yaml for `user` on the test Dovecot, plus rules/ and templates/."""
    from mailkeeper.config.defaults import init_config_dir

    init_config_dir(dest, force=True)
    (dest / "rules" / "customers.yaml").write_text(customers)
    cfg = dest / "mailkeeper.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""\
            me:
              name: Amy Chen
              addresses: [{ME}]
              company_domains: [lumen-furniture.com]
              signature: |
                Amy Chen
            timezone: Asia/Shanghai
            database: ./mailkeeper.db
            rules: ./rules
            templates: ./templates
            accounts:
              work:
                host: 127.0.0.1
                port: {server.port}
                tls: none
                username: {user}
                password_command: printf '%s' '{password}'
            """
        )
        + extra_account
    )
    cfg.chmod(0o600)
    return cfg


def days_ago(n: float, now: datetime | None = None) -> datetime:
    return (now or datetime(2026, 11, 1, tzinfo=UTC)) - timedelta(days=n)


class MaildirBox:
    """A Maildir written by the test, in Maildir++ or mbsync `SubFolders Verbatim` layout.

    Files get unique names and strictly increasing mtimes, as a delivery agent would give them.
    """

    def __init__(self, root: Path, layout: str = "maildir++") -> None:
        self.root = root
        self.layout = layout
        self.name = f"maildir ({layout})"
        self.count = 0
        self.folder_dir("INBOX")

    def folder_dir(self, folder: str) -> Path:
        if self.layout == "verbatim":
            d = self.root / folder
        elif folder.upper() == "INBOX":
            d = self.root
        else:
            d = self.root / ("." + folder.replace("/", "."))
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        if self.layout != "verbatim" and d != self.root:
            (d / "maildirfolder").touch()
        return d

    def deliver(self, folder: str, raw: bytes, flags: str = "", new: bool = False) -> Path:
        """One message file: in new/ (no info) when `new`, else in cur/ with ':2,<flags>'."""
        self.count += 1
        base = f"{1_790_000_000 + self.count}.M{self.count}P4242.testhost"
        sub, name = ("new", base) if new else ("cur", f"{base}:2,{''.join(sorted(flags))}")
        path = self.folder_dir(folder) / sub / name
        path.write_bytes(raw)
        stamp = 1_790_000_000 + self.count
        os.utime(path, (stamp, stamp))
        return path

    def config(self, dest: Path, customers: str, extra: str = "", sync: str = "") -> Path:
        cfg = write_config(dest, OFFLINE, "unused", customers)
        head = cfg.read_text().split("accounts:", 1)[0]
        cfg.write_text(f"{head}{sync}accounts:\n  work:\n    maildir: {self.root}\n{extra}")
        return cfg

    def flag_state(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line saying why, when the tests that read real mail were skipped: without it
    128 skips went by with no word in the summary."""
    if CORPUS.is_dir():
        return
    skipped = len(terminalreporter.stats.get("skipped", []))
    if skipped:
        terminalreporter.write_line(
            f"{CORPUS} is absent: the tests that read real-world mail were skipped "
            f"({skipped} skipped in all). Put the corpus there (or set MAILKEEPER_CORPUS) "
            "to run them.",
            yellow=True,
        )
