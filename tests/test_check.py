"""Issue 9.2: `check` finds what `sync` would hit; errors waiting will not heal end a sync at
once, naming the config line; the database path and a read-only database; sync --json."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BIRCH, ME, OFFLINE, make_mail, write_config

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.errors import (
    AuthError,
    ConnectionLost,
    ConnectionRefused,
    HostNotFound,
    TlsRefused,
    classify,
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def _edit(cfg: Path, old: str, new: str) -> Path:
    text = cfg.read_text()
    assert old in text, old
    cfg.write_text(text.replace(old, new))
    return cfg


def _account(cfg: Path, lines: str) -> Path:
    head = cfg.read_text().split("accounts:", 1)[0]
    cfg.write_text(head + "accounts:\n  work:\n" + lines)
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------- check, offline
def test_the_unedited_template_fails_check_even_offline(tmp_path: Path) -> None:
    code, _, _ = run("init", "--dir", str(tmp_path / "cfg"))
    assert code == 0
    cfg = tmp_path / "cfg" / "mailkeeper.yaml"
    code, out, err = run("--config", str(cfg), "check", "--offline")
    assert code == 1
    assert f"{cfg}:{line_of(cfg, 'host: imap.example.com')}: accounts.work.host" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        (
            "password_command: printf '%s' 'secret'",
            "password_env: MK_UNSET_FOR_TEST",
            "password_env:",
            ["MK_UNSET_FOR_TEST is not set"],
        ),
        (
            "password_command: printf '%s' 'secret'",
            "password_command: no-such-program-mk show mail/work",
            "password_command:",
            ["the command exited with status 127", "command not found", "password_env"],
        ),
    ],
)
def test_check_resolves_the_secret_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, needle: str, words
) -> None:
    monkeypatch.delenv("MK_UNSET_FOR_TEST", raising=False)
    cfg = _edit(write_config(tmp_path / "cfg", OFFLINE, "amy"), old, new)
    code, _, err = run("--config", str(cfg), "check", "--offline")
    assert code == 1, err
    assert f"{cfg}:{line_of(cfg, needle)}: accounts.work." in err, err
    for word in words:
        assert word in err, (word, err)


def test_keyring_not_installed_says_how_to_install_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _edit(
        write_config(tmp_path / "cfg", OFFLINE, "amy"),
        "password_command: printf '%s' 'secret'",
        "keyring: true",
    )
    monkeypatch.setitem(sys.modules, "keyring", None)  # `import keyring` fails
    code, _, err = run("--config", str(cfg), "check", "--offline")
    assert code == 1
    assert f"{cfg}:{line_of(cfg, 'keyring: true')}: accounts.work.keyring" in err, err
    assert "pip install '.[keyring]'" in err  # this suite runs from a checkout


def test_a_broken_template_is_named_with_its_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    tpl = tmp_path / "cfg" / "templates" / "check_in.en.txt.j2"
    tpl.write_text("Subject: hello\n\nDear {{ customer }},\n{% if contact_name %}\nno end\n")
    code, _, err = run("--config", str(cfg), "check", "--offline")
    assert code == 1
    assert re.search(rf"{re.escape(str(tpl))}:\d+: template syntax error", err), err


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_an_unusable_database_path_is_advice_with_its_line(tmp_path: Path, where: str) -> None:
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    if where == "under_a_file":
        (tmp_path / "cfg" / "afile").write_text("not a folder")
        cfg = _edit(cfg, "database: ./mailkeeper.db", "database: ./afile/sub/mailkeeper.db")
    else:
        cfg = _edit(cfg, "database: ./mailkeeper.db", "database: /proc/mailkeeper-x.db")
    db_line = f"{cfg}:{line_of(cfg, 'database:')}: database:"
    code, _, err = run("--config", str(cfg), "check", "--offline")
    assert code == 1 and db_line in err, err
    for command in (["status"], ["customers"], ["sync"]):
        code, _, err = run("--config", str(cfg), *command)
        assert code == 1, (command, err)
        assert db_line in err, (command, err)
        assert "Traceback" not in err
        assert "FileNotFoundError" not in err and "FileExistsError" not in err
        assert "NotADirectoryError" not in err and "PermissionError" not in err


# ----------------------------------------------------------------------------- read-only mount
def _unshare() -> str | None:
    """Why a private mount namespace with a read-only bind mount cannot be made, or None."""
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True
    )
    return None if probe.returncode == 0 else "cannot make a mount namespace (not root?)"


def _in_readonly_mount(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run mailkeeper with `folder` mounted read-only (as a folder owned by another user is
    for the rep; root cannot be kept out of its own folders any other way without chattr)."""
    script = f'mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec "$@"'
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            sys.executable,
            "-m",
            "mailkeeper",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_read_only_database_still_serves_the_read_only_commands(tmp_path: Path) -> None:
    why = _unshare()
    if why:
        pytest.skip(why)
    from conftest import MaildirBox

    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "RFQ oak tables"))
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: RFQ oak tables"))
    cfg = box.config(tmp_path / "cfg", BIRCH)
    data = tmp_path / "cfg" / "data"
    cfg = _edit(cfg, "database: ./mailkeeper.db", "database: ./data/mailkeeper.db")
    with App.from_config(cfg) as app:
        app.sync()
    for args in (["customers", "--json"], ["customer", "birch", "--json"], ["status"]):
        r = _in_readonly_mount(data, "--config", str(cfg), *args)
        assert r.returncode == 0, (args, r.stderr)
    r = _in_readonly_mount(data, "--config", str(cfg), "customers", "--json")
    assert json.loads(r.stdout)[0]["name"] == "Birch & Co"
    r = _in_readonly_mount(data, "--config", str(cfg), "sync")
    assert r.returncode == 1
    assert f"{cfg}:{line_of(cfg, 'database:')}: database:" in r.stderr, r.stderr
    assert "read-only" in r.stderr and "Traceback" not in r.stderr
    r = _in_readonly_mount(data, "--config", str(cfg), "check", "--offline")
    assert r.returncode == 1 and "read-only" in r.stderr, r.stderr


def test_a_new_database_in_a_read_only_folder_is_advice(tmp_path: Path) -> None:
    why = _unshare()
    if why:
        pytest.skip(why)
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    (tmp_path / "cfg" / "data").mkdir()
    cfg = _edit(cfg, "database: ./mailkeeper.db", "database: ./data/mailkeeper.db")
    for args in (["check", "--offline"], ["status"]):
        r = _in_readonly_mount(tmp_path / "cfg" / "data", "--config", str(cfg), *args)
        assert r.returncode == 1, r.stderr
        assert f"{cfg}:{line_of(cfg, 'database:')}: database: cannot create" in r.stderr
        assert "Traceback" not in r.stderr and "Error: OperationalError" not in r.stderr


# ----------------------------------------------------------------------------- the error split
def test_classify_is_the_one_table() -> None:
    refused = ConnectionRefused("refused")
    assert classify(refused, logged_in=False) == "permanent"
    assert classify(refused, logged_in=True) == "transient"  # a server restarting
    assert classify(ConnectionLost("cut"), logged_in=False) == "transient"
    for e in (AuthError("x"), HostNotFound("x"), TlsRefused("x"), ValueError("bug")):
        assert classify(e, logged_in=True) == "permanent"


def _sync_fails_fast(cfg: Path, error: type[Exception]) -> Exception:
    with App.from_config(cfg) as app:
        app.retry_delays = (30.0, 30.0)  # a retry would show in the time taken
        t = time.monotonic()
        with pytest.raises(error) as info:
            app.sync()
        assert time.monotonic() - t < 15
        [run_] = app.store.conn.execute("SELECT error FROM sync_runs").fetchall()
        assert run_[0]
    return info.value


def test_an_unknown_host_ends_the_sync_at_once_naming_the_line(tmp_path: Path) -> None:
    cfg = _account(
        write_config(tmp_path / "cfg", OFFLINE, "amy"),
        "    host: no-such-host.invalid\n    username: amy\n    password_command: printf x\n",
    )
    e = _sync_fails_fast(cfg, HostNotFound)
    assert any(
        p.startswith(f"{cfg}:{line_of(cfg, 'host:')}: accounts.work.host") for p in e.problems
    )


def test_a_refused_connection_before_any_login_ends_the_sync_at_once(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    cfg = _edit(cfg, "port: 1\n", f"port: {port}\n")
    e = _sync_fails_fast(cfg, ConnectionRefused)
    assert any(
        p.startswith(f"{cfg}:{line_of(cfg, 'port:')}: accounts.work.port") for p in e.problems
    )
    code, _, err = run("--config", str(cfg), "sync")
    assert code == 1 and f"{cfg}:{line_of(cfg, 'port:')}:" in err, err


@pytest.mark.imap
def test_a_wrong_password_ends_the_sync_at_once_naming_the_line(tmp_path: Path, imap) -> None:
    cfg = write_config(tmp_path / "cfg", imap, imap.user, password="wrong")
    e = _sync_fails_fast(cfg, AuthError)
    assert any(p.startswith(f"{cfg}:{line_of(cfg, 'username:')}:") for p in e.problems), e.problems


@pytest.mark.imap
def test_a_refused_certificate_names_ca_file_and_verify_tls(tmp_path: Path, imap) -> None:
    cfg = _account(
        write_config(tmp_path / "cfg", imap, imap.user),
        f"    host: 127.0.0.1\n    port: {imap.ssl_port}\n    tls: implicit\n"
        f"    username: {imap.user}\n    password_command: printf secret\n",
    )
    e = _sync_fails_fast(cfg, TlsRefused)
    text = " ".join(e.problems)
    assert "ca_file" in text and "verify_tls" in text
    assert e.problems[0].startswith(f"{cfg}:{line_of(cfg, 'host:')}:")
    code, _, err = run("--config", str(cfg), "check")
    assert code == 1 and "ca_file" in err


@pytest.mark.imap
def test_tls_against_a_plain_port_ends_the_sync_at_once(tmp_path: Path, imap) -> None:
    cfg = _account(
        write_config(tmp_path / "cfg", imap, imap.user),
        f"    host: 127.0.0.1\n    port: {imap.port}\n    tls: implicit\n"
        f"    username: {imap.user}\n    password_command: printf secret\n",
    )
    e = _sync_fails_fast(cfg, TlsRefused)
    assert e.problems[0].startswith(f"{cfg}:{line_of(cfg, 'tls:')}: accounts.work.tls")
    assert "without TLS" in e.problems[0] and "993" in e.problems[0]
    code, _, err = run("--config", str(cfg), "check")
    assert code == 1 and "accounts.work.tls" in err


# ----------------------------------------------------------------------------- check, online
@pytest.mark.imap
def test_check_logs_in_and_finds_a_missing_extra_folder(tmp_path: Path, imap) -> None:
    imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "hi"), user=imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, BIRCH)
    code, out, err = run("--config", str(cfg), "check")
    assert code == 0, err
    assert "account work: ok" in out and "database" in out and "templates" in out
    cfg.write_text(cfg.read_text() + "    extra_folders: [Archive]\n")
    code, _, err = run("--config", str(cfg), "check")
    assert code == 1  # a problem for check; sync only warns (test_sync)
    assert f"{cfg}:{line_of(cfg, 'extra_folders')}: accounts.work.extra_folders" in err, err
    code, _, err = run("--config", str(cfg), "check", "--offline")  # no network: not seen
    assert code == 0, err
    cfg = _edit(cfg, "password_command: printf '%s' 'secret'", "password_command: printf wrong")
    code, _, err = run("--config", str(cfg), "check")
    assert code == 1 and "refused" in err and f"{cfg}:{line_of(cfg, 'username:')}:" in err


# ----------------------------------------------------------------------------- sync --json
def test_a_failing_sync_json_prints_the_array_with_the_error(tmp_path: Path) -> None:
    cfg = _account(
        write_config(tmp_path / "cfg", OFFLINE, "amy"),
        "    host: no-such-host.invalid\n    username: amy\n    password_command: printf x\n",
    )
    code, out, err = run("--config", str(cfg), "sync", "--json")
    assert code == 1
    [report] = json.loads(out)
    assert report["account"] == "work" and "no-such-host.invalid" in report["error"]
    assert report["new_messages"] == 0
    assert set(report["timings"]) == {
        "connect",
        "status",
        "fetch",
        "parse_cpu",
        "store",
        "folders",
        "link",
        "total",
    }
    assert "Traceback" not in err
