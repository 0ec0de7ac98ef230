"""mailkeeper.yaml `accounts:`: one mailbox each (IMAP with its TLS mode and credential
source, or a local Maildir), read with file:line problems. Re-exported by config.settings."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from yaml.nodes import MappingNode, Node, ScalarNode

from mailkeeper.config.yamlreader import _NULL, YamlReader, _suggest

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
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
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


def _resolve(base: Path, raw: str) -> Path:
    return Path(os.path.normpath(base / Path(raw).expanduser()))


def _readable_note(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f", and the file is readable by other users (run: chmod 600 {path})"
    return ""


def _is_example(domain: str) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in _EXAMPLE_DOMAINS)
