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


class AuthError(MailboxError, UserError):
    """Login failed, or the password / token command failed."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        UserError.__init__(self, message, problems)


class ConnectionLost(MailboxError):
    """The connection dropped or stalled; the sync can be retried and resumes."""


class StoreError(MailkeeperError):
    """The database could not be opened or is not a mailkeeper database."""


class LockedError(UserError):
    """Another mailkeeper process holds the database lock."""
