"""One error tree: every error mailkeeper raises on purpose inherits from MailkeeperError."""

from __future__ import annotations


class MailkeeperError(Exception):
    """Base of every error mailkeeper raises on purpose."""


class UserError(MailkeeperError):
    """A mistake the user must fix (bad config, unknown account, ...).

    Carries a list of problems; the CLI prints them as advice, never as a traceback.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])

    def __str__(self) -> str:  # pragma: no cover - trivial
        base = super().__str__()
        if not self.problems:
            return base
        return base + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ConfigError(UserError):
    """mailkeeper.yaml or a rules file is wrong. Each problem names file, line and a fix."""


class MailboxError(MailkeeperError):
    """The mailbox could not be reached or answered unexpectedly."""


class PermanentError(MailboxError, UserError):
    """Waiting will not heal it: the rep must change something (the host name, the password,
    the TLS settings). A one-off sync ends at once; the daemon retries it slowly. `key` is the
    account's config key the problem is about (host, tls, password_env ...), so that the
    caller who knows the file can name its line. See `classify` for the whole split."""

    def __init__(self, message: str, problems: list[str] | None = None, key: str = "") -> None:
        UserError.__init__(self, message, problems)
        self.key = key


class AuthError(PermanentError):
    """Login failed, or the password / token command failed."""


class HostNotFound(PermanentError):
    """The server's name does not resolve."""


class TlsRefused(PermanentError):
    """TLS failed: a certificate that is not trusted, or TLS spoken to a plain port."""


class ConnectionLost(MailboxError):
    """The connection dropped or stalled; the sync can be retried and resumes."""


class ConnectionRefused(ConnectionLost):
    """Nothing listens on the server's port. Before the run's first successful login this is
    a wrong host or port (permanent); after one, a server restarting (transient)."""

    def __init__(self, message: str, problems: list[str] | None = None, key: str = "") -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])
        self.key = key


def classify(exc: BaseException, logged_in: bool) -> str:
    """'transient' (retry soon: the sync resumes where it stopped) or 'permanent' (waiting
    will not heal it). The one table the sync and the daemon share. `logged_in`: whether this
    run has logged in to the server before.

    transient: a connection lost or stalled, and a refused connection after a login.
    permanent: unknown host, wrong password or a failed password source, a refused
    certificate or TLS against a plain port, a refused connection before the first login,
    and everything else (configuration, folders, the database, bugs)."""
    if isinstance(exc, ConnectionRefused):
        return "transient" if logged_in else "permanent"
    if isinstance(exc, ConnectionLost):
        return "transient"
    return "permanent"


class StoreError(MailkeeperError):
    """The database could not be opened or is not a mailkeeper database."""


class LockedError(UserError):
    """Another mailkeeper process holds the database lock."""
