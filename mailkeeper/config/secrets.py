"""Where an account's password or OAuth2 token comes from.

Sources (exactly one per account, see config.AccountConfig): a shell command (like mbsync's
PassCmd), an environment variable, the system keyring, or a plaintext password in the file.
Every failure is an AuthError that names the account and the source, and never the secret.
Nothing here logs or stores a secret. A failed command is named by its program only, and its
output is never shown: `cat pw.txt >&2` puts the password on stderr, and a command line
(`curl -u amy:PASSWORD ...`) may hold a secret itself.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from mailkeeper.config.settings import AccountConfig
from mailkeeper.errors import AuthError

logger = logging.getLogger(__name__)

KEYRING_SERVICE = "mailkeeper"
COMMAND_TIMEOUT = 30.0  # seconds
_PROGRAM_NAME = re.compile(r"[\w.+-]{1,64}")
_HIDDEN = "its output is hidden: it may hold the secret"


@dataclass(frozen=True)
class Credential:
    """What to log in with: a password (LOGIN) or an OAuth2 access token (XOAUTH2)."""

    mechanism: Literal["password", "xoauth2"]
    secret: str = field(repr=False)


def get_credential(account: AccountConfig, timeout: float = COMMAND_TIMEOUT) -> Credential:
    """The account's password or token, whichever it is configured with."""
    if account.oauth2_token_command is not None:
        return Credential("xoauth2", get_oauth2_token(account, timeout))
    return Credential("password", get_password(account, timeout))


class Login(TypedDict):
    """The keyword arguments an IMAP connection takes for logging in."""

    password: Callable[[], str] | None
    oauth2_token: Callable[[], str] | None


def login_callables(account: AccountConfig, credential: Credential | None = None) -> Login:
    """`password` and `oauth2_token` for an IMAP connection: the one the account uses is a
    callable that fetches it when the connection logs in (or hands over `credential`, one
    already fetched, so that a password command does not run twice), the other is None."""
    oauth = account.oauth2_token_command is not None
    fetch: Callable[[], str]
    if credential is None:
        fetch = functools.partial(get_oauth2_token if oauth else get_password, account)
    else:
        fetch = functools.partial(str, credential.secret)  # hands over what was fetched
    return Login(password=None if oauth else fetch, oauth2_token=fetch if oauth else None)


def get_password(account: AccountConfig, timeout: float = COMMAND_TIMEOUT) -> str:
    """The password from password_command, password_env, the keyring or password:."""
    if account.password_command is not None:
        return run_secret_command(
            account.password_command, account.name, "password_command", timeout
        )
    if account.password_env is not None:
        return _from_env(account)
    if account.keyring:
        return _from_keyring(account)
    if account.password is not None:
        return account.password
    raise AuthError(
        f"account '{account.name}' has no password source",
        [
            f"add one of password_command, password_env or keyring: true to accounts.{account.name}"
            + (
                " (it uses oauth2_token_command: ask for the token instead)"
                if account.oauth2_token_command
                else ""
            )
        ],
    )


def get_oauth2_token(account: AccountConfig, timeout: float = COMMAND_TIMEOUT) -> str:
    """The access token printed by oauth2_token_command (for XOAUTH2)."""
    if account.oauth2_token_command is None:
        raise AuthError(
            f"account '{account.name}' has no oauth2_token_command",
            [f"add oauth2_token_command to accounts.{account.name}, or log in with its password"],
        )
    return run_secret_command(
        account.oauth2_token_command, account.name, "oauth2_token_command", timeout
    )


def run_secret_command(command: str, account: str, key: str, timeout: float) -> str:
    """Run `command` through the shell; its stdout's first line, stripped, is the secret.

    The command runs in its own session, so that on timeout the whole process group is
    killed (a shell's children included). Errors name the command's program only and never
    quote its arguments, stdout or stderr.
    """
    try:
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise _command_error(account, key, command, f"could not start: {exc.strerror}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise _command_error(
            account,
            key,
            command,
            f"did not finish within {timeout:g} s",
            "make it print the secret without waiting for input",
        ) from None
    secret = _first_line(out)
    if proc.returncode != 0:
        status = proc.returncode
        if status < 0:
            what = f"was killed by signal {-status}"
        else:
            what = f"exited with status {status}" + _STATUS_MEANING.get(status, "")
        raise _command_error(
            account, key, command, what + (f" ({_HIDDEN})" if out.strip() or err.strip() else "")
        )
    if not secret:
        raise _command_error(
            account,
            key,
            command,
            "printed nothing on its first line"
            + (
                " (it wrote to stderr; that output is hidden: it may hold the secret)"
                if err.strip()
                else ""
            ),
            "make it print the secret on the first line of its standard output",
        )
    return secret


# What a shell's exit status says when the command could not run at all.
_STATUS_MEANING = {
    126: ": found but not executable",
    127: ": command not found (if you pasted the password itself here, use password_env or "
    "the keyring instead: password_command runs a program that prints it)",
}


def _first_line(out: bytes) -> str:
    lines = out.decode("utf-8", errors="replace").splitlines()
    return lines[0].strip() if lines else ""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a child escaped its group
        logger.warning("a password command's child process did not exit; leaving it")


def _program(command: str) -> str:
    """The program `command` runs, for messages: its first word that is not a VAR=value
    assignment, without its directory; never an argument (which may be a secret). Named only
    when that word is a program that exists (on PATH, or an executable path): a password
    pasted as the command is not one, so it is never printed. "the command" otherwise."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word in words:
        name, eq, _ = word.partition("=")
        if eq and name.isidentifier():
            continue  # PASSWORD_STORE_DIR=... pass show x
        program = os.path.basename(word)
        if _PROGRAM_NAME.fullmatch(program) and shutil.which(word) is not None:
            return f"`{program}`"
        break
    return "the command"


def _command_error(account: str, key: str, command: str, what: str, fix: str = "") -> AuthError:
    return AuthError(
        f"account '{account}': {key} failed",
        [
            f"accounts.{account}.{key}: {_program(command)} {what}",
            fix or f"run the command by hand to see its output, then fix accounts.{account}.{key}",
        ],
        key=key,
    )


def _from_env(account: AccountConfig) -> str:
    var = account.password_env or ""
    value = os.environ.get(var, "")
    if not value:
        raise AuthError(
            f"account '{account.name}': environment variable {var} is not set",
            [
                f"accounts.{account.name}.password_env: {var} is not set; set it before "
                f"running mailkeeper, or change accounts.{account.name}.password_env"
            ],
            key="password_env",
        )
    return value


def keyring_install_hint() -> str:
    """How to add the keyring extra to this installation: from a source checkout (where
    pyproject.toml sits next to the package) the extra is installed from `.`; otherwise
    from the package index."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return (
            f"install the keyring extra from the checkout: cd {checkout} && "
            "pip install '.[keyring]' (with pipx: pipx install --force '.[keyring]')"
        )
    return (
        "install the keyring extra: pip install 'mailkeeper[keyring]' in mailkeeper's "
        "environment (with pipx: pipx inject mailkeeper keyring)"
    )


def _from_keyring(account: AccountConfig) -> str:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise AuthError(
            f"account '{account.name}': keyring support is not installed",
            [
                f"accounts.{account.name}.keyring: the keyring package is missing; "
                f"{keyring_install_hint()}, or use password_command instead"
            ],
            key="keyring",
        ) from None
    try:
        for user in dict.fromkeys([account.name, account.username]):
            secret = keyring.get_password(KEYRING_SERVICE, user) if user else None
            if secret:
                return str(secret)
    except keyring.errors.KeyringError as exc:
        raise AuthError(
            f"account '{account.name}': the system keyring is not usable ({type(exc).__name__})",
            [
                f"accounts.{account.name}.keyring: "
                + (f"{exc}".splitlines()[0] if f"{exc}" else "no keyring backend available"),
                "install and unlock a keyring (e.g. gnome-keyring, KWallet, macOS Keychain), "
                "or use password_command instead",
            ],
            key="keyring",
        ) from None
    raise AuthError(
        f"account '{account.name}': no password in the system keyring",
        [
            f"accounts.{account.name}.keyring: store it once with: "
            f"keyring set {KEYRING_SERVICE} {account.name}"
        ],
        key="keyring",
    )
