"""A password or token command's secret never reaches a message: not from its stdout, its
stderr (`cat pw.txt >&2`), nor its own command line (`curl -u amy:PASSWORD ...`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mailkeeper.config import secrets
from mailkeeper.config.settings import AccountConfig
from mailkeeper.errors import AuthError

SECRET = "Tr0ub4dor-3-horse"


def account(**kw: object) -> AccountConfig:
    base: dict[str, object] = dict(
        name="work", host="imap.x.com", port=993, tls="implicit", username="amy@x.com"
    )
    base.update(kw)
    return AccountConfig(**base)  # type: ignore[arg-type]


def failure(acct: AccountConfig, caplog: pytest.LogCaptureFixture) -> str:
    """Everything the failure shows: the error, its problems, and any log line."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        secrets.get_credential(acct, timeout=10)
    return "\n".join([str(info.value), *info.value.problems, caplog.text])


@pytest.fixture
def pw_file(tmp_path: Path) -> Path:
    path = tmp_path / "pw.txt"
    path.write_text(SECRET + "\n")
    return path


def test_secret_on_stderr_and_a_failing_status_is_not_quoted(
    pw_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = failure(account(password_command=f"cat {pw_file} >&2; exit 1"), caplog)
    assert SECRET not in text
    assert "password_command failed" in text and "exited with status 1" in text
    assert "`cat`" in text and "hidden" in text
    assert str(pw_file) not in text  # the arguments are not shown either


def test_secret_on_stderr_of_a_command_printing_nothing_is_not_quoted(
    pw_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = failure(account(password_command=f"cat {pw_file} >&2"), caplog)
    assert SECRET not in text
    assert "printed nothing" in text and "hidden" in text and "standard output" in text


def test_secret_in_a_failing_command_line_is_not_quoted(caplog: pytest.LogCaptureFixture) -> None:
    command = f"curl -s -u amy:{SECRET} https://vault.invalid/pw || exit 7"
    text = failure(account(password_command=command), caplog)
    assert SECRET not in text and "amy:" not in text
    assert "exited with status 7" in text and "`curl`" in text


def test_secret_in_a_missing_program_command_line_is_not_quoted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    command = f"MK_TOKEN={SECRET} no-such-program-mk --password {SECRET}"
    text = failure(account(oauth2_token_command=command), caplog)
    assert SECRET not in text
    assert "oauth2_token_command failed" in text and "command not found" in text
    # a program that does not exist is not named: it may be the secret itself
    assert "no-such-program-mk" not in text and "the command exited" in text


def test_a_password_pasted_as_password_command_is_never_printed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pasted = "Pw-7fQ.x9Lr+2"  # looks like a program name
    text = failure(account(password_command=pasted), caplog)
    assert pasted not in text and "Pw-" not in text
    assert "exited with status 127" in text and "password_env" in text


def test_secret_in_a_timed_out_command_line_is_not_quoted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        secrets.run_secret_command(f"sleep 5 # {SECRET}", "work", "password_command", 0.3)
    text = "\n".join([str(info.value), *info.value.problems, caplog.text])
    assert SECRET not in text and "did not finish" in text and "`sleep`" in text


def test_a_command_line_that_is_not_a_plain_program_is_not_quoted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = failure(account(password_command=f"'{SECRET} x' >&2; exit 2"), caplog)
    assert SECRET not in text and "the command" in text


def test_stdout_of_a_failing_command_is_not_quoted(caplog: pytest.LogCaptureFixture) -> None:
    text = failure(account(password_command=f"echo {SECRET[:4]}$((40+2)); exit 3"), caplog)
    assert f"{SECRET[:4]}42" not in text and "exited with status 3" in text
