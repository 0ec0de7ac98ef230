"""mailkeeper.yaml and rules/*.yaml: loading, every kind of mistake (file + line), secrets."""

from __future__ import annotations

import textwrap
from datetime import time
from pathlib import Path

import pytest

from mailkeeper.config import secrets
from mailkeeper.config import settings as config
from mailkeeper.config.defaults import init_config_dir
from mailkeeper.config.settings import AccountConfig, load_rules, load_settings
from mailkeeper.errors import AuthError, ConfigError

GOOD = """\
me:
  name: Amy Chen
  addresses: [Amy@Lumen-Furniture.com]
  company_domains: [lumen-furniture.com]
  signature: |
    Amy Chen
    Lumen Furniture Co., Ltd.
timezone: Asia/Shanghai
working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
database: ./data/mailkeeper.db
accounts:
  work:
    host: imap.lumen-furniture.com
    username: amy@lumen-furniture.com
    password_command: printf secret
"""

CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    addresses: [tom.birch@gmail.com]
    tier: A
    language: en
  - name: Maple Trading GmbH
    domains: [maple-trading.de]
    tier: b
    language: de
    aliases: [Maple Trading]
ignore:
  domains: [newsletter.example.com]
extra_freemail: [mylocalmail.example]
"""


def write(folder: Path, text: str, customers: str | None = None) -> Path:
    """mailkeeper.yaml with `text` in `folder`, and a rules/ folder with `customers`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mailkeeper.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(0o600)
    if customers is not None:
        (folder / "rules").mkdir(exist_ok=True)
        (folder / "rules" / "customers.yaml").write_text(textwrap.dedent(customers))
    return path


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of `path` that contains `needle`."""
    hits = [i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln]
    return hits[nth - 1]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems, "a ConfigError must carry its problems"
    return info.value.problems


def assert_problem(problems: list[str], path: Path, line: int, *words: str) -> None:
    prefix = f"{path}:{line}: "
    hits = [p for p in problems if p.startswith(prefix) and all(w in p for w in words)]
    assert hits, f"no problem at {prefix} with {words}; got:\n" + "\n".join(problems)


def account(**kw: object) -> AccountConfig:
    base: dict[str, object] = dict(
        name="work", host="imap.x.com", port=993, tls="implicit", username="amy@x.com"
    )
    base.update(kw)
    return AccountConfig(**base)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- a good config
def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, CUSTOMERS)
    s = load_settings(path)
    assert s.path == path
    assert s.me.addresses == ("amy@lumen-furniture.com",)
    assert s.me.signature == "Amy Chen\nLumen Furniture Co., Ltd."
    assert s.timezone == "Asia/Shanghai" and s.tz.key == "Asia/Shanghai"
    assert s.working_hours.start == time(9) and s.working_hours.end == time(18)
    assert s.database == tmp_path / "data" / "mailkeeper.db"
    assert s.rules_dir == tmp_path / "rules" and s.templates_dir == tmp_path / "templates"
    acct = s.accounts["work"]
    assert (acct.port, acct.tls, acct.timeout, acct.verify_tls) == (993, "implicit", 60.0, True)
    assert acct.credential_source == "password_command" and acct.auth_mechanism == "password"
    assert s.sync == config.SyncSettings(200, 25 * 1024 * 1024, 256 * 1024, 0)
    assert s.warnings == ()
    assert config.check(path) == []


def test_unquoted_times_and_sizes(tmp_path: Path) -> None:
    # YAML 1.1 reads 18:30 unquoted as the number 1110: we take the text as written.
    text = GOOD.replace('start: "09:00", end: "18:00"', "start: 8:30, end: 18:30") + (
        "sync: {max_message_size: 10 MB, max_text_bytes: 65536, workers: 4}\n"
    )
    s = load_settings(write(tmp_path, text))
    assert (s.working_hours.start, s.working_hours.end) == (time(8, 30), time(18, 30))
    assert s.sync.max_message_size == 10 * 1024 * 1024 and s.sync.max_text_bytes == 65536
    assert s.sync.workers == 4


def test_rules_load(tmp_path: Path) -> None:
    rules = load_rules(load_settings(write(tmp_path, GOOD, CUSTOMERS)))
    birch, maple = rules.customers
    assert birch.domains == ("birch.co.uk",) and birch.addresses == ("tom.birch@gmail.com",)
    assert birch.line == 2 and maple.line == 7
    assert maple.tier == "B" and maple.language == "de" and maple.aliases == ("Maple Trading",)
    assert rules.tiers["A"].contact_interval_days == 14 and rules.tiers["C"].issue_sla_working_hours
    assert {"gmail.com", "qq.com", "yahoo.co.jp", "mylocalmail.example"} <= rules.freemail
    assert rules.ignore_domains == {"newsletter.example.com"}
    assert rules.customer("maple trading") is maple
    assert rules.is_freemail("mail.qq.com")
    assert tmp_path / "rules" / "customers.yaml" in rules.source_files


def test_missing_rules_folder_falls_back_to_shipped_defaults(tmp_path: Path) -> None:
    rules = load_rules(load_settings(write(tmp_path, GOOD)))
    assert rules.customers == () and set(rules.tiers) == {"A", "B", "C"}
    assert rules.default_tier == "B"


# ----------------------------------------------------------------------------- bad YAML
def test_yaml_syntax_error_names_file_and_line_without_the_secret(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("password_command: printf secret", 'password: "hunter2\n    tls: [implicit'),
    )
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:")
    assert "YAML syntax error" in problems[0]
    assert "hunter2" not in problems[0]


def test_yaml_syntax_error_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  username: amy", "  username amy"))
    problems = problems_of(path)
    assert "YAML syntax error" in problems[0]
    # the scanner notices at the next key: within a line of the mistake
    bad = line_of(path, "username amy")
    assert any(p.startswith((f"{path}:{bad}:", f"{path}:{bad + 1}:")) for p in problems)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert_problem(problems_of(path), path, 1, "empty", "mailkeeper init")


def test_unknown_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    host:", "    hots:"))
    problems = problems_of(path)
    assert_problem(
        problems, path, line_of(path, "hots:"), "unknown key 'hots'", "did you mean 'host'?"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "timezon: UTC\n")
    assert_problem(problems_of(path), path, line_of(path, "timezon:"), "did you mean 'timezone'")


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "    host: other.example.org\n")
    assert_problem(
        problems_of(path),
        path,
        line_of(path, "host:", 2),
        "duplicate key 'host'",
        f"first on line {line_of(path, 'host:')}",
    )


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        (
            "    username: amy@lumen-furniture.com\n",
            "    username: amy@lumen-furniture.com\n    port: [993]\n",
            "port:",
            ("port is a list", "whole number"),
        ),
        (
            "    username: amy@lumen-furniture.com\n",
            "    username: amy@lumen-furniture.com\n    port: 70000\n",
            "port:",
            ("70000", "out of range", "1 to 65535"),
        ),
        (
            "    username: amy@lumen-furniture.com\n",
            "    username: amy@lumen-furniture.com\n    timeout: soon\n",
            "timeout:",
            ("timeout is text", "number"),
        ),
        (
            "    username: amy@lumen-furniture.com\n",
            "    username: amy@lumen-furniture.com\n    verify_tls: maybe\n",
            "verify_tls:",
            ("true or false",),
        ),
        ("  name: Amy Chen\n", "  name: [Amy]\n", "name: [Amy]", ("me.name is a list",)),
        (
            "  addresses: [Amy@Lumen-Furniture.com]",
            "  addresses: amy@lumen-furniture.com",
            "addresses:",
            ("me.addresses is text", "a list"),
        ),
        (
            "  addresses: [Amy@Lumen-Furniture.com]",
            "  addresses: [amy-at-lumen]",
            "addresses:",
            ("'amy-at-lumen' is not an e-mail address",),
        ),
        (
            "  company_domains: [lumen-furniture.com]",
            "  company_domains: [co.uk]",
            "company_domains:",
            ("public suffix",),
        ),
        (
            "timezone: Asia/Shanghai",
            "timezone: Asia/Shangai",
            "timezone:",
            ("unknown time zone 'Asia/Shangai'", "did you mean 'Asia/Shanghai'"),
        ),
        (
            'start: "09:00"',
            'start: "9am"',
            "working_hours",
            ("'9am' is not a time of day", "HH:MM"),
        ),
        ('end: "18:00"', 'end: "08:00"', "working_hours", ("start 09:00 is not before end 08:00",)),
        ("days: [mon,", "days: [mon, funday,", "working_hours", ("'funday' is not a weekday",)),
        (
            "    host: imap",
            "    tls: ssl\n    host: imap",
            "tls:",
            ("'ssl' is not a TLS mode", "implicit"),
        ),
        ("    host: imap", "    tls: none\n    host: imap", "tls:", ("unencrypted", "127.0.0.1")),
        (
            "    password_command: printf secret\n",
            "    password_command: printf secret\n    password_env: MK_PASS\n",
            "password_env",
            ("more than one password source",),
        ),
        (
            "    password_command: printf secret\n",
            "    folders: {inbox: INBOX, trash: Bin}\n    keyring: true\n",
            "folders:",
            ("unknown key 'trash'", "inbox, sent, drafts"),
        ),
        (
            "    password_command: printf secret\n",
            "    keyring: true\n    ca_file: ./nope.pem\n",
            "ca_file",
            ("nope.pem does not exist",),
        ),
        (
            "database: ./data/mailkeeper.db",
            "database: ./data/mailkeeper.db\nrules: ./myrules",
            "rules:",
            ("folder", "myrules does not exist", "mailkeeper init"),
        ),
        (
            "database: ./data/mailkeeper.db",
            "database: ./data/mailkeeper.db\nsync: {workers: -1}",
            "sync:",
            ("sync.workers is -1", "out of range"),
        ),
        (
            "database: ./data/mailkeeper.db",
            "database: ./data/mailkeeper.db\nsync: {max_message_size: lots}",
            "sync:",
            ("'lots' is not a size",),
        ),
        ("  work:\n", "  my work:\n", "my work:", ("not a usable account name",)),
    ],
)
def test_bad_value(tmp_path: Path, old: str, new: str, needle: str, words: tuple[str, ...]) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    assert_problem(problems_of(path), path, line_of(path, needle), *words)


def test_tls_none_allowed_on_loopback_and_default_ports(tmp_path: Path) -> None:
    text = GOOD.replace("    host: imap.lumen-furniture.com", "    host: 127.0.0.1\n    tls: none")
    text += (
        "  second:\n    host: imap.x.org\n    tls: starttls\n    username: u\n    keyring: yes\n"
    )
    s = load_settings(write(tmp_path, text))
    assert (s.accounts["work"].port, s.accounts["work"].tls) == (143, "none")
    assert s.accounts["second"].port == 143 and s.accounts["second"].keyring is True
    assert s.accounts["second"].credential_source == "keyring"


def test_missing_required_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\naccounts:\n  work:\n    tls: implicit\n")
    problems = problems_of(path)
    assert_problem(problems, path, 1, "has no 'me'")
    account_line = line_of(path, "tls:")  # a mapping's line is that of its first key
    assert_problem(problems, path, account_line, "accounts.work has no 'host'")
    assert_problem(problems, path, account_line, "accounts.work has no 'username'")
    assert_problem(problems, path, account_line, "no password source", "password_command")


def test_no_accounts(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.split("accounts:")[0] + "accounts: {}\n")
    assert_problem(problems_of(path), path, line_of(path, "accounts:"), "accounts is empty")


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = (
        GOOD.replace("    host:", "    hots:")
        .replace("Asia/Shanghai", "Mars/Olympus")
        .replace('"09:00"', '"9 o\'clock"')
    )
    path = write(tmp_path, text, customers="customers:\n  - name: X\n    domains: [gmail.com]\n")
    problems = problems_of(path)
    assert len(problems) >= 4, problems
    assert {p.split(":")[0] for p in problems} == {
        str(path),
        str(tmp_path / "rules" / "customers.yaml"),
    }
    assert config.check(path) == problems


def test_secret_never_in_problems(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    password_command: printf secret\n", "    password: hunter2\n    keyring: [hunter3]\n"
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert problems and not any("hunter2" in p or "hunter3" in p for p in problems)
    text = GOOD.replace("    password_command: printf secret\n", "    password: [hunter2]\n")
    problems = problems_of(write(tmp_path, text))
    assert_problem(problems, path, line_of(path, "password:"), "password is a list")
    assert not any("hunter2" in p for p in problems)


# ----------------------------------------------------------------------------- warnings
def test_plaintext_password_and_readable_file_warn(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("password_command: printf secret", "password: hunter2"))
    path.chmod(0o644)
    s = load_settings(path)
    assert s.accounts["work"].password == "hunter2"
    assert "hunter2" not in repr(s)
    plain = [w for w in s.warnings if "plaintext password" in w]
    assert plain and plain[0].startswith(f"{path}:{line_of(path, 'password:')}:")
    assert "chmod 600" in plain[0]
    assert any("readable by every user" in w for w in s.warnings)
    assert not any("hunter2" in w for w in s.warnings)
    problems, warnings = config.check_with_warnings(path)
    assert problems == [] and warnings == list(s.warnings)


def test_verify_tls_false_warns(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "    verify_tls: false\n")
    s = load_settings(path)
    assert s.accounts["work"].verify_tls is False
    assert any("certificate is not checked" in w for w in s.warnings)


# ----------------------------------------------------------------------------- rules problems
def rules_problem(tmp_path: Path, customers: str, needle: str, *words: str, nth: int = 1) -> None:
    path = write(tmp_path, GOOD, customers)
    rules_file = tmp_path / "rules" / "customers.yaml"
    assert_problem(problems_of(path), rules_file, line_of(rules_file, needle, nth), *words)


def test_duplicate_customer_name(tmp_path: Path) -> None:
    text = CUSTOMERS.replace("ignore:", "  - name: birch & co\n    domains: [birch2.com]\nignore:")
    rules_problem(tmp_path, text, "birch & co", "already used", "'Birch & Co' (line 2)")


def test_flow_style_customer_with_unknown_tier(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, "customers: [{name: A, domains: [a.com], tier: Z}]\n")
    rules_file = tmp_path / "rules" / "customers.yaml"
    assert_problem(problems_of(path), rules_file, 1, "tier 'Z' is not defined", "A, B, C")


def test_domain_claimed_twice(tmp_path: Path) -> None:
    text = CUSTOMERS.replace(
        "domains: [maple-trading.de]", "domains: [maple-trading.de, birch.co.uk]"
    )
    rules_problem(
        tmp_path,
        text,
        "birch.co.uk",
        "domain 'birch.co.uk' is already claimed",
        "'Birch & Co' (line 3)",
        nth=2,
    )


def test_address_claimed_twice(tmp_path: Path) -> None:
    text = CUSTOMERS.replace(
        "domains: [maple-trading.de]",
        "domains: [maple-trading.de]\n    addresses: [Tom.Birch@gmail.com]",
    )
    rules_problem(
        tmp_path,
        text,
        "Tom.Birch@gmail.com",
        "address 'tom.birch@gmail.com'",
        "already claimed by customer 'Birch & Co'",
    )


def test_freemail_domain_as_customer_domain(tmp_path: Path) -> None:
    text = CUSTOMERS.replace("domains: [birch.co.uk]", "domains: [birch.co.uk, Gmail.com]")
    rules_problem(
        tmp_path,
        text,
        "Gmail.com",
        "'gmail.com' is a freemail domain",
        "addresses: [tom@gmail.com]",
    )


def test_extra_freemail_domain_as_customer_domain(tmp_path: Path) -> None:
    text = CUSTOMERS.replace("domains: [maple-trading.de]", "domains: [mylocalmail.example]")
    rules_problem(tmp_path, text, "domains: [mylocalmail", "freemail domain")


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("domains: [birch.co.uk]", "domains: [birch..co.uk]", "birch..", ("not a domain name",)),
        ("domains: [birch.co.uk]", "domains: ['@birch.co.uk']", "@birch", ("not a bare domain",)),
        ("domains: [birch.co.uk]", "domains: [co.uk]", "co.uk]", ("public suffix",)),
        (
            "addresses: [tom.birch@gmail.com]",
            "addresses: [tom birch]",
            "tom birch",
            ("not an e-mail address",),
        ),
        (
            "addresses: [tom.birch@gmail.com]",
            "addresses: [amy@lumen-furniture.com]",
            "amy@",
            ("your own address",),
        ),
        ("domains: [birch.co.uk]", "domains: [lumen-furniture.com]", "lumen", ("company_domains",)),
        (
            "domains: [birch.co.uk]",
            "domains: [newsletter.example.com]",
            "newsletter",
            ("also in ignore.domains",),
        ),
        ("language: de", "language: German!", "German", ("not a language code",)),
        ("tier: A", "tier: Gold", "Gold", ("tier 'Gold' is not defined", "A, B, C")),
        ("    tier: A\n", "    tier: A\n    tire: B\n", "tire", ("unknown key 'tire'", "'tier'")),
        (
            "  - name: Birch & Co\n    domains: [birch.co.uk]\n"
            "    addresses: [tom.birch@gmail.com]\n",
            "  - name: Birch & Co\n",
            "name: Birch",
            ("no domains and no addresses",),
        ),
        ("  - name: Maple Trading GmbH\n", "  - name: ''\n", "name: ''", ("name is empty text",)),
        (
            "  - name: Maple Trading GmbH\n",
            "  - nam: Maple\n",
            "nam: Maple",
            ("customer has no 'name'",),
        ),
    ],
)
def test_bad_customer(
    tmp_path: Path, old: str, new: str, needle: str, words: tuple[str, ...]
) -> None:
    assert old in CUSTOMERS
    rules_problem(tmp_path, CUSTOMERS.replace(old, new), needle, *words)


def test_customers_yaml_syntax_error(tmp_path: Path) -> None:
    rules_problem(
        tmp_path, "customers:\n  - name: A\n   domains: [a.com]\n", "domains", "YAML syntax error"
    )


def test_bad_tiers_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, CUSTOMERS)
    tiers = tmp_path / "rules" / "tiers.yaml"
    tiers.write_text(
        "tiers:\n  A: {contact_interval_days: 0, issue_sla_hours: 24}\n"
        "  B: {contact_interval_days: 30}\n"
    )
    problems = problems_of(path)
    assert_problem(problems, tiers, 2, "contact_interval_days is 0", "out of range")
    assert_problem(problems, tiers, 3, "tiers.B has no issue_sla_working_hours")


# ----------------------------------------------------------------------------- finding the file
def test_find_config_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("MAILKEEPER_CONFIG", raising=False)
    in_xdg = write(xdg / "mailkeeper", GOOD)
    in_env = write(tmp_path / "env", GOOD)
    explicit = write(tmp_path / "explicit", GOOD)
    assert config.find_config_path(None) == in_xdg
    monkeypatch.setenv("MAILKEEPER_CONFIG", str(in_env))
    assert config.find_config_path(None) == in_env
    assert config.find_config_path(explicit) == explicit
    assert config.find_config_path(explicit.parent) == explicit  # a folder is accepted


def test_find_config_path_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    with pytest.raises(ConfigError) as info:
        config.find_config_path(None)
    text = str(info.value)
    assert str(tmp_path / "empty" / "mailkeeper" / "mailkeeper.yaml") in text
    assert "mailkeeper init" in text
    monkeypatch.setenv("MAILKEEPER_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="MAILKEEPER_CONFIG"):
        config.find_config_path(None)


def test_init_then_load_is_clean_but_warns_about_examples(tmp_path: Path) -> None:
    init_config_dir(tmp_path / "cfg")
    path = tmp_path / "cfg" / "mailkeeper.yaml"
    s = load_settings(path)
    assert s.accounts["work"].host == "imap.example.com"
    assert any("fill in" in w and "me.addresses" in w for w in s.warnings)
    assert any("fill in" in w and f"{path}:{line_of(path, 'host:')}:" in w for w in s.warnings)
    assert load_rules(s).customers == ()


# ----------------------------------------------------------------------------- secrets
def test_password_command_success() -> None:
    acct = account(password_command="printf 'secret\\nsecond line\\n'")
    assert secrets.get_password(acct) == "secret"
    cred = secrets.get_credential(acct)
    assert cred.mechanism == "password" and "secret" not in repr(cred)


def test_password_command_failure_quotes_neither_stdout_nor_stderr() -> None:
    # stdout (here "42pw", which the command's text does not contain) may be a secret, and so
    # may stderr (`cat pw >&2`): the message names the command and its status only
    acct = account(password_command="echo $((40+2))pw; echo 'gpg: decryption failed' >&2; false")
    with pytest.raises(AuthError) as info:
        secrets.get_password(acct)
    text = str(info.value)
    assert "'work'" in text and "status 1" in text
    assert "42pw" not in text and "gpg: decryption failed" not in text


def test_password_command_false_and_empty() -> None:
    with pytest.raises(AuthError, match="exited with status 1"):
        secrets.get_password(account(password_command="false"))
    with pytest.raises(AuthError, match="printed nothing"):
        secrets.get_password(account(password_command="true"))


def test_password_command_timeout_kills_it(tmp_path: Path) -> None:
    marker = tmp_path / "done"
    acct = account(password_command=f"sleep 5; touch {marker}; printf secret")
    with pytest.raises(AuthError, match="did not finish within 0.3 s"):
        secrets.get_password(acct, timeout=0.3)
    assert not marker.exists()


def test_oauth2_token_command() -> None:
    acct = account(oauth2_token_command="printf 'ya29.token\\n'")
    assert secrets.get_oauth2_token(acct) == "ya29.token"
    assert secrets.get_credential(acct).mechanism == "xoauth2"
    with pytest.raises(AuthError, match="oauth2_token_command failed"):
        secrets.get_oauth2_token(account(oauth2_token_command="exit 3"))
    with pytest.raises(AuthError, match="no oauth2_token_command"):
        secrets.get_oauth2_token(account(password_command="printf x"))


def test_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    acct = account(password_env="MK_TEST_PASSWORD")
    monkeypatch.delenv("MK_TEST_PASSWORD", raising=False)
    with pytest.raises(AuthError, match="MK_TEST_PASSWORD is not set"):
        secrets.get_password(acct)
    monkeypatch.setenv("MK_TEST_PASSWORD", "s3cret")
    assert secrets.get_password(acct) == "s3cret"


def test_plaintext_password() -> None:
    assert secrets.get_password(account(password="pw")) == "pw"


class _MemoryKeyring:
    """A keyring backend holding a dict (keyring's own in-memory test idea)."""

    priority = 1

    def __init__(self, data: dict[tuple[str, str], str]) -> None:
        self.data = data

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))


@pytest.fixture
def keyring_backend():
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    previous = keyring.get_keyring()

    def use(data: dict[tuple[str, str], str] | None) -> None:
        if data is None:
            from keyring.backends import fail

            keyring.set_keyring(fail.Keyring())
            return

        class Memory(_MemoryKeyring, KeyringBackend):
            def set_password(self, service: str, username: str, password: str) -> None:
                raise NotImplementedError

            def delete_password(self, service: str, username: str) -> None:
                raise NotImplementedError

        keyring.set_keyring(Memory(data))

    yield use
    keyring.set_keyring(previous)


def test_keyring_no_backend(keyring_backend) -> None:
    keyring_backend(None)
    with pytest.raises(AuthError, match="keyring is not usable"):
        secrets.get_password(account(keyring=True))


def test_keyring_missing_entry_tells_how_to_fix(keyring_backend) -> None:
    keyring_backend({})
    with pytest.raises(AuthError) as info:
        secrets.get_password(account(keyring=True))
    assert "keyring set mailkeeper work" in str(info.value)


def test_keyring_by_account_name_then_username(keyring_backend) -> None:
    keyring_backend({("mailkeeper", "amy@x.com"): "by-user"})
    assert secrets.get_password(account(keyring=True)) == "by-user"
    keyring_backend({("mailkeeper", "work"): "by-name", ("mailkeeper", "amy@x.com"): "by-user"})
    assert secrets.get_password(account(keyring=True)) == "by-name"


def test_no_password_source() -> None:
    with pytest.raises(AuthError, match="no password source"):
        secrets.get_password(account())
