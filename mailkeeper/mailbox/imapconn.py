"""Opening an IMAP connection: TLS mode, login (password or XOAUTH2), timeout.

Shared by every IMAP connection mailkeeper makes: the pipelined, read-only sync connection
(`imap.ImapMailbox`) and, later, the plain connections that append drafts and wait in IDLE.
What a connection does once logged in is its owner's business; this module only opens it.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_exc

from mailkeeper.errors import (
    AuthError,
    ConnectionLost,
    ConnectionRefused,
    HostNotFound,
    TlsRefused,
)
from mailkeeper.mailbox.base import ServerFolder

logger = logging.getLogger(__name__)

__all__ = ["NETWORK_ERRORS", "connect", "ssl_context"]

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # socket.timeout, ConnectionResetError, ssl.SSLError ...
    imaplib.IMAP4.abort,
    imap_exc.IMAPClientAbortError,
    EOFError,
)


def ssl_context(verify: bool, ca_file: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001 - closing a half-open connection is fine
        pass


def connect(
    account: Any,  # config.AccountConfig
    password: Callable[[], str] | None = None,
    oauth2_token: Callable[[], str] | None = None,
    timeout: float | None = None,
) -> IMAPClient:
    """A logged-in IMAPClient for `account` (host, port, tls, verify_tls, ca_file, username).

    `oauth2_token` (XOAUTH2) wins over `password`; each is called once, only when needed.
    `timeout`: seconds per socket operation, `account.timeout` when None. Raises the errors
    `errors.classify` sorts: HostNotFound, TlsRefused (certificate, or TLS against a plain
    port), ConnectionRefused, ConnectionLost (unreachable, or cut during login), AuthError
    (refused, or no credential source). imaplib's debug output is off."""
    acct = account
    timeout = acct.timeout if timeout is None else timeout
    try:
        if acct.tls == "implicit":
            client = IMAPClient(
                acct.host,
                port=acct.port,
                ssl=True,
                ssl_context=ssl_context(acct.verify_tls, acct.ca_file),
                timeout=timeout,
            )
        else:
            client = IMAPClient(acct.host, port=acct.port, ssl=False, timeout=timeout)
            if acct.tls == "starttls":
                client.starttls(ssl_context(acct.verify_tls, acct.ca_file))
    except ssl.SSLCertVerificationError as e:
        raise _certificate_refused(acct, e) from e
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as e:  # cut during the handshake
        raise ConnectionLost(f"{acct.name}: connection to {acct.host}:{acct.port} lost: {e}") from e
    except ssl.SSLError as e:
        raise _tls_failed(acct, e) from e
    except socket.gaierror as e:
        raise HostNotFound(
            f"{acct.name}: cannot find the server {acct.host} ({e.strerror or e})",
            [
                f"accounts.{acct.name}.host: {acct.host} is not a name this computer can find; "
                "expected your provider's IMAP server name (e.g. imap.gmail.com, "
                "outlook.office365.com, imap.exmail.qq.com)"
            ],
            key="host",
        ) from e
    except ConnectionRefusedError as e:
        raise ConnectionRefused(
            f"{acct.name}: {acct.host} refused the connection on port {acct.port}",
            [
                f"accounts.{acct.name}.port: nothing answers on {acct.host}:{acct.port}; expected "
                "the server's IMAP port (993 with tls: implicit, 143 with tls: starttls)"
            ],
            key="port",
        ) from e
    except TimeoutError as e:
        if acct.tls != "implicit" and acct.port == 993:
            raise TlsRefused(
                f"{acct.name}: {acct.host}:993 did not greet: it expects TLS from the start",
                [
                    f"accounts.{acct.name}.tls: {acct.tls} on port 993, which speaks TLS "
                    "from the first byte; expected tls: implicit (or port: 143 for starttls)"
                ],
                key="tls",
            ) from e
        raise ConnectionLost(f"{acct.name}: cannot reach {acct.host}:{acct.port}: {e}") from e
    except NETWORK_ERRORS as e:
        raise ConnectionLost(f"{acct.name}: cannot reach {acct.host}:{acct.port}: {e}") from e
    # imapclient 4.x turns on imaplib's debug output, which repr()s every literal: 4-5x
    # slower fetches even when the logger drops the text (FACTS.md). Off it goes.
    client._imap.debug = 0
    try:
        if oauth2_token is not None:
            client.oauth2_login(acct.username, oauth2_token())
        else:
            if password is None:
                raise AuthError(f"{acct.name}: no password source configured")
            client.login(acct.username, password())
    except imap_exc.LoginError as e:
        _shutdown(client)
        source = getattr(acct, "credential_source", None) or "password source"
        raise AuthError(
            f"{acct.name}: the server refused the login for {acct.username}",
            [
                f"accounts.{acct.name}.username: {acct.host} refused {acct.username} with the "
                f"secret from {source}; expected the right username and "
                f"accounts.{acct.name}.{source} giving its current password (or an app "
                "password, where the provider asks for one)"
            ],
            key="username",
        ) from e
    except NETWORK_ERRORS as e:
        _shutdown(client)
        raise ConnectionLost(f"{acct.name}: connection lost during login: {e}") from e
    except BaseException:  # no credential source, a password command that failed ...
        _shutdown(client)
        raise
    logger.info("connected to %s:%s as %s", acct.host, acct.port, acct.username)
    return client


# OpenSSL's reasons when the other side does not speak TLS (a plain IMAP greeting came back).
_PLAIN_PORT = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST")


def _certificate_refused(acct: Any, e: ssl.SSLCertVerificationError) -> TlsRefused:
    why = e.verify_message or e.reason or "not trusted"
    key = "ca_file" if acct.ca_file else "host"
    return TlsRefused(
        f"{acct.name}: TLS with {acct.host}:{acct.port} failed: the server's certificate was "
        f"refused ({why})",
        [
            f"accounts.{acct.name}.{key}: the certificate of {acct.host} is not trusted "
            f"({why}); expected ca_file: PATH to the CA certificate (PEM) that signed it "
            f"(ask your mail admin), or verify_tls: false, only on a network you trust"
        ],
        key=key,
    )


def _tls_failed(acct: Any, e: ssl.SSLError) -> TlsRefused:
    if (e.reason or "") in _PLAIN_PORT:
        return TlsRefused(
            f"{acct.name}: TLS with {acct.host}:{acct.port} failed: that port speaks plain IMAP",
            [
                f"accounts.{acct.name}.tls: {acct.tls} on port {acct.port}, which answers "
                "without TLS; expected port: 993 with tls: implicit, or tls: starttls on 143"
            ],
            key="tls",
        )
    return TlsRefused(
        f"{acct.name}: TLS with {acct.host}:{acct.port} failed: {e.reason or e}",
        [
            f"accounts.{acct.name}.tls: the TLS handshake with {acct.host}:{acct.port} failed "
            f"({e.reason or e}); expected the server's TLS mode and port (993 implicit, "
            "143 starttls)"
        ],
        key="tls",
    )


def flag_names(value: Any) -> tuple[str, ...]:
    """IMAP flags (or LIST attributes) as the server sent them, as text."""
    if not isinstance(value, (tuple, list)):
        return ()
    return tuple(f.decode("ascii", "replace") if isinstance(f, bytes) else str(f) for f in value)


def server_folders(client: Any) -> list[ServerFolder]:
    """The folders one LIST names, as `base.resolve_roles` takes them; INBOX is added when the
    server leaves it out (RFC 3501: it is always there). Network errors are the caller's."""
    folders = []
    for flags, delimiter, name in client.list_folders():
        if isinstance(delimiter, bytes):
            delimiter = delimiter.decode("utf-8", "replace")
        folders.append(ServerFolder(str(name), flag_names(flags), delimiter))
    if not any(f.name.upper() == "INBOX" for f in folders):
        folders.insert(0, ServerFolder("INBOX"))
    return folders
