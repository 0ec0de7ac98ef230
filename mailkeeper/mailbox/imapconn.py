"""Opening an IMAP connection: TLS mode, login (password or XOAUTH2), timeout.

Shared by every IMAP connection mailkeeper makes: the pipelined, read-only sync connection
(`imap.ImapMailbox`) and, later, the plain connections that append drafts and wait in IDLE.
What a connection does once logged in is its owner's business; this module only opens it.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_exc

from mailkeeper.errors import AuthError, ConnectionLost, MailboxError

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
    `timeout`: seconds per socket operation, `account.timeout` when None. Raises MailboxError
    (TLS failed), ConnectionLost (unreachable, or cut during login), AuthError (refused, or no
    credential source). imaplib's debug output is off."""
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
    except ssl.SSLError as e:
        raise MailboxError(f"{acct.name}: TLS with {acct.host}:{acct.port} failed: {e}") from e
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
        raise AuthError(
            f"{acct.name}: the server refused the login for {acct.username}",
            [f"check the username and the password source of account '{acct.name}'"],
        ) from e
    except NETWORK_ERRORS as e:
        _shutdown(client)
        raise ConnectionLost(f"{acct.name}: connection lost during login: {e}") from e
    except BaseException:  # no credential source, a password command that failed ...
        _shutdown(client)
        raise
    logger.info("connected to %s:%s as %s", acct.host, acct.port, acct.username)
    return client
