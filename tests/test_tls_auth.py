"""TLS modes and login methods against the real Dovecot (self-signed certificate)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ME, make_mail, write_config

from mailkeeper.app import App
from mailkeeper.errors import AuthError, MailboxError

pytestmark = pytest.mark.imap


def _config(tmp_path: Path, imap, account_lines: str) -> Path:
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    text = cfg.read_text()
    head, _, _ = text.partition("accounts:")
    cfg.write_text(head + "accounts:\n  work:\n" + account_lines)
    return cfg


def _deliver(imap) -> None:
    imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "over TLS"), user=imap.user)


def test_implicit_tls_with_the_servers_ca(tmp_path: Path, imap) -> None:
    _deliver(imap)
    cfg = _config(
        tmp_path,
        imap,
        f"""\
    host: 127.0.0.1
    port: {imap.ssl_port}
    tls: implicit
    ca_file: {imap.cert_path}
    username: {imap.user}
    password_env: MK_TEST_PASSWORD
""",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MK_TEST_PASSWORD", "secret")
        with App.from_config(cfg) as app:
            [r] = app.sync()
    assert r.new_messages == 1


def test_starttls_on_the_plain_port(tmp_path: Path, imap) -> None:
    _deliver(imap)
    cfg = _config(
        tmp_path,
        imap,
        f"""\
    host: 127.0.0.1
    port: {imap.port}
    tls: starttls
    ca_file: {imap.cert_path}
    username: {imap.user}
    password_command: printf secret
""",
    )
    with App.from_config(cfg) as app:
        [r] = app.sync()
    assert r.new_messages == 1


def test_untrusted_certificate_is_refused_with_a_clear_error(tmp_path: Path, imap) -> None:
    cfg = _config(
        tmp_path,
        imap,
        f"""\
    host: 127.0.0.1
    port: {imap.ssl_port}
    tls: implicit
    username: {imap.user}
    password_command: printf secret
""",
    )
    with App.from_config(cfg) as app:
        with pytest.raises(MailboxError, match="TLS with 127.0.0.1"):
            app.sync()


def test_xoauth2_token_is_sent_and_a_refusal_is_an_auth_error(tmp_path: Path, imap) -> None:
    # This Dovecot offers no XOAUTH2: the server's refusal must come back as advice.
    cfg = _config(
        tmp_path,
        imap,
        f"""\
    host: 127.0.0.1
    port: {imap.port}
    tls: none
    username: {imap.user}
    oauth2_token_command: printf ya29.token
""",
    )
    with App.from_config(cfg) as app:
        with pytest.raises(AuthError) as e:
            app.sync()
    assert "ya29" not in str(e.value) and "ya29" not in " ".join(e.value.problems)
