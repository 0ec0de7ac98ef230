"""The command line end to end: init, check, sync, customers, customer, status; errors as advice."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, OFFLINE, VAULT_SECRET, make_mail, write_config

from mailkeeper.cli import cli

CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
"""


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_has_an_example_for_every_command() -> None:
    for name in cli.commands:
        code, out, _ = run(name, "--help")
        assert code == 0, name
        assert "Example:" in out, f"`mailkeeper {name} --help` has no example"


def test_init_then_check_in_the_xdg_dir(tmp_path: Path) -> None:
    code, out, _ = run("init")
    assert code == 0
    cfg_dir = Path.home() / ".config" / "mailkeeper"  # HOME/XDG point into a temp dir
    assert (cfg_dir / "mailkeeper.yaml").exists() and (
        cfg_dir / "rules" / "customers.yaml"
    ).exists()
    assert "wrote" in out
    code, out, err = run("check")
    # The unedited template's placeholder server is a problem, even offline, with its line.
    assert code == 1, err
    assert re.search(r"mailkeeper\.yaml:\d+: accounts\.work\.host: imap\.example\.com", err), err
    assert "expected your provider's IMAP server name" in err
    code, out, _ = run("init")
    assert code == 0 and "already has every file" in out


def test_missing_config_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = run("--config", str(tmp_path / "nope.yaml"), "check")
    assert code == 1
    assert "nope.yaml" in err and "mailkeeper init" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (lambda t: t.replace("host: 127.0.0.1", "hots: 127.0.0.1"), ["hots", "host"]),
        (lambda t: t.replace("tls: none", "tls: sometimes"), ["tls"]),
        (lambda t: t.replace("timezone: Asia/Shanghai", "timezone: Mars/Olympus"), ["timezone"]),
        (lambda t: t.replace("me:\n", "me: [\n"), ["YAML"]),
        (
            lambda t: t.replace(
                "    password_command: printf", "    password_env: X\n    password_command: printf"
            ),
            ["password"],
        ),
    ],
)
def test_bad_config_is_reported_with_file_and_line(tmp_path: Path, edit, expect) -> None:
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    cfg.write_text(edit(cfg.read_text()))
    for command in (["check"], ["sync"], ["customers"], ["status"]):
        code, _, err = run("--config", str(cfg), *command)
        assert code == 1, (command, err)
        assert "Traceback" not in err
        assert re.search(r"mailkeeper\.yaml:\d+: ", err), err  # names file and line
        for word in expect:
            assert word in err, (word, err)


def test_bad_customers_yaml_names_its_line(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "cfg",
        OFFLINE,
        "amy",
        CUSTOMERS + "  - name: Birch & Co\n    domains: [birch.co.uk]\n",
    )
    code, _, err = run("--config", str(cfg), "check")
    assert code == 1
    assert "customers.yaml:4" in err or "customers.yaml:5" in err, err


def test_usage_error_exits_2() -> None:
    code, _, _ = run("sync", "--no-such-flag")
    assert code == 2


@pytest.mark.imap
def test_sync_customers_customer_status_json(tmp_path: Path, imap) -> None:
    imap.deliver(
        "INBOX", make_mail("Jane Oak <jane@birch.co.uk>", ME, "RFQ oak tables"), user=imap.user
    )
    imap.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: RFQ oak tables"), user=imap.user)
    cfg = str(write_config(tmp_path / "cfg", imap, imap.user, CUSTOMERS))
    code, out, err = run("--config", cfg, "sync", "--json")
    assert code == 0, err
    [report] = json.loads(out)
    assert report["new_messages"] == 2 and report["account"] == "work"
    assert {"fetch", "store", "link", "total"} <= set(report["timings"])

    code, out, _ = run("--config", cfg, "customers", "--json")
    rows = json.loads(out)
    # the contract's fields first, in order; added fields after them (README --json)
    assert list(rows[0])[:6] == [
        "name", "tier", "status", "messages", "last_inbound", "last_outbound"
    ]  # fmt: skip
    assert rows[0]["tier_source"] == "customers.yaml"
    assert rows[0]["name"] == "Birch & Co" and rows[0]["messages"] == 2
    assert rows[0]["last_inbound"].endswith("Z")

    code, out, _ = run("--config", cfg, "customers")
    assert code == 0 and "Birch & Co" in out and "configured" in out

    code, out, _ = run("--config", cfg, "customer", "birch & co", "--json")
    detail = json.loads(out)
    assert detail["contacts"][0]["email"] == "jane@birch.co.uk"
    assert len(detail["timeline"]) == 2

    code, _, err = run("--config", cfg, "customer", "Brich & Co")
    assert code == 1 and "did you mean: Birch & Co" in err

    code, out, _ = run("--config", cfg, "status", "--json")
    status = json.loads(out)
    assert status["messages"] == 2
    assert {f["name"] for f in status["accounts"][0]["folders"]} == {"INBOX", "Sent"}

    code, out, _ = run("--config", cfg, "status")
    assert code == 0 and "INBOX" in out

    code, _, err = run("--config", cfg, "sync", "--account", "nope")
    assert code == 1 and "no account named 'nope'" in err


@pytest.mark.imap
def test_password_command_failure_is_advice_not_traceback(tmp_path: Path, imap) -> None:
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    cfg.write_text(
        cfg.read_text().replace(
            "password_command: printf '%s' 'secret'",
            "password_command: 'echo no vault >&2; exit 3'",
        )
    )
    code, _, err = run("--config", str(cfg), "sync")
    assert code == 1
    assert "password_command" in err and "Traceback" not in err
    assert "no vault" not in err  # its stderr may hold the secret: never quoted


def test_module_and_console_script_run() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mailkeeper", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "mailkeeper" in out.stdout


@pytest.mark.imap
def test_password_never_reaches_logs_or_database(tmp_path: Path, dovecot_server) -> None:
    imap, user, secret = dovecot_server, "vault", VAULT_SECRET
    imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "hello"), user=user)
    cfg = write_config(tmp_path / "cfg", imap, user, CUSTOMERS, password=secret)
    proc = subprocess.run(
        [sys.executable, "-m", "mailkeeper", "-vv", "--config", str(cfg), "sync"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "connected" in proc.stderr  # -vv did log the session
    assert secret not in proc.stdout + proc.stderr
    files = list((tmp_path / "cfg").glob("mailkeeper.db*"))
    assert files
    for f in files:
        assert secret.encode() not in f.read_bytes()


def test_a_database_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    (tmp_path / "cfg" / "mailkeeper.db").write_bytes(b"this is not a database\n" * 100)
    code, _, err = run("--config", str(cfg), "status")
    assert code == 1
    db = tmp_path / "cfg" / "mailkeeper.db"
    assert f"the database {db} is damaged (file is not a database)" in err
    assert "restore" in err and "Traceback" not in err
