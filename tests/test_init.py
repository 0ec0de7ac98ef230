"""The shipped defaults (rules, templates) and `init_config_dir`."""

from __future__ import annotations

import importlib.resources
import stat
from pathlib import Path

import pytest
import yaml

from mailkeeper.config import defaults
from mailkeeper.config import settings as config
from mailkeeper.errors import MailkeeperError

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = (
    "check_in.en.txt.j2",
    "check_in.zh.txt.j2",
    "issue_ack.en.txt.j2",
    "issue_ack.zh.txt.j2",
)


def test_defaults_found_in_the_source_tree() -> None:
    assert defaults.defaults_root() == REPO
    assert defaults.rules_dir() == REPO / "rules"
    assert defaults.templates_dir() == REPO / "templates"
    for name in ("customers.yaml", "tiers.yaml", "freemail.yaml"):
        assert (defaults.rules_dir() / name).is_file()
    for name in TEMPLATES:
        assert (defaults.templates_dir() / name).is_file()


def test_defaults_found_inside_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "mailkeeper"
    (package / "_defaults" / "rules").mkdir(parents=True)
    (package / "_defaults" / "templates").mkdir()
    monkeypatch.setattr(importlib.resources, "files", lambda name: package)
    assert defaults.defaults_root() == package / "_defaults"


def test_defaults_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.resources, "files", lambda name: tmp_path)
    monkeypatch.setattr(defaults, "__file__", str(tmp_path / "pkg" / "config" / "defaults.py"))
    with pytest.raises(MailkeeperError, match="reinstall"):
        defaults.defaults_root()


def test_default_config_dir_honours_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert defaults.default_config_dir() == tmp_path / "xdg" / "mailkeeper"


def test_init_writes_config_rules_and_templates(tmp_path: Path) -> None:
    dest = tmp_path / "cfg"
    written = defaults.init_config_dir(dest)
    cfg = dest / "mailkeeper.yaml"
    assert cfg in written
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    for name in ("customers.yaml", "tiers.yaml", "freemail.yaml"):
        assert dest / "rules" / name in written
        assert (dest / "rules" / name).read_bytes() == (REPO / "rules" / name).read_bytes()
    for name in TEMPLATES:
        assert dest / "templates" / name in written
    assert not [p for p in dest.rglob("*") if p.name.endswith(".tmp")]


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    dest = tmp_path / "cfg"
    defaults.init_config_dir(dest)
    cfg = dest / "mailkeeper.yaml"
    customers = dest / "rules" / "customers.yaml"
    cfg.write_text("# mine\n")
    customers.write_text("customers: []  # mine\n")
    (dest / "templates" / "check_in.en.txt.j2").unlink()

    written = defaults.init_config_dir(dest)
    assert written == [dest / "templates" / "check_in.en.txt.j2"]  # only the missing one
    assert cfg.read_text() == "# mine\n"
    assert customers.read_text() == "customers: []  # mine\n"

    written = defaults.init_config_dir(dest, force=True)
    assert cfg in written and customers in written
    assert "accounts:" in cfg.read_text()
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_init_then_load_validates(tmp_path: Path) -> None:
    defaults.init_config_dir(tmp_path)
    settings = config.load_settings(tmp_path / "mailkeeper.yaml")
    assert config.check(tmp_path / "mailkeeper.yaml") == []
    work = settings.accounts["work"]
    assert (work.host, work.port, work.tls) == ("imap.example.com", 993, "implicit")
    assert work.password_command == "pass show mail/work"
    assert settings.rules_dir == tmp_path / "rules"
    assert settings.template_search_path == (tmp_path / "templates", REPO / "templates")
    rules = config.load_rules(settings)
    assert rules.customers == ()
    assert {t: rules.tiers[t].contact_interval_days for t in "ABC"} == {"A": 14, "B": 30, "C": 60}
    assert all(rules.tiers[t].issue_sla_working_hours > 0 for t in "ABC")


def test_init_config_mentions_every_setting() -> None:
    text = defaults.CONFIG_TEMPLATE
    for key in (
        "me:",
        "timezone:",
        "working_hours:",
        "database:",
        "rules:",
        "templates:",
        "accounts:",
        "password_command",
        "password_env",
        "keyring",
        "oauth2_token_command",
        "folders:",
        "extra_folders:",
        "sync:",
        "max_message_size",
    ):
        assert key in text, key


def test_shipped_freemail_list() -> None:
    data = yaml.safe_load((REPO / "rules" / "freemail.yaml").read_text())
    domains = data["domains"]
    assert len(domains) >= 150 and len(domains) == len(set(domains))
    for needed in (
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.jp",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "hanmail.net",
        "naver.com",
        "daum.net",
        "rediffmail.com",
        "protonmail.com",
        "proton.me",
        "zoho.com",
        "tutanota.com",
        "libero.it",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "t-online.de",
        "btinternet.com",
        "comcast.net",
    ):
        assert needed in domains, needed
    for domain in domains:
        normalized, why = config.normalize_domain(domain)
        assert normalized == domain, (domain, why)


def test_templates_start_with_a_subject_and_use_the_documented_variables() -> None:
    jinja2 = pytest.importorskip("jinja2")
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(REPO / "templates")), undefined=jinja2.StrictUndefined
    )
    me = {"name": "Amy Chen", "signature": "Amy Chen\nLumen Furniture"}
    order = {"ref": "LF-2291", "last_milestone": None, "next_milestone": None,
             "next_due_at": None, "next_late": False, "problem": None,
             "timeline": []}  # fmt: skip
    for name in TEMPLATES:
        for contact in ("Tom", None):
            # the context every template gets (README "Templates reference"); a kind's own
            # part (issue, promise, order, holiday) is None for the others
            context = {
                "customer": "Birch & Co", "contact_name": contact, "me": me,
                "salutation": f"Dear {contact}," if contact else "Dear Birch & Co team,",
                "issues": [], "latest": None,
                "contact": contact or "Birch & Co", "recent_subjects": [], "subject": "",
                "days_since_contact": 40, "last_contact": "2026-11-20", "today": "2027-01-06",
                "issue": None, "promise": None, "holiday": None,
                "order": order if name.startswith(("progress", "problem")) else None,
            }  # fmt: skip
            text = env.get_template(name).render(**context)
            first, blank, body = text.split("\n", 2)
            assert first.startswith("Subject: ") and len(first) > len("Subject: ") + 3
            assert blank == ""
            assert (contact or "Birch & Co") in body
            assert body.rstrip().endswith("Amy Chen\nLumen Furniture")
            assert "{{" not in text and "None" not in text
