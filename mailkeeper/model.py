"""Plain data passed along the pipeline: Fetched (what a mailbox adapter got) -> Message (parsed).

Nothing here does I/O. Times are timezone-aware datetimes in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Part:
    """One leaf of a message's MIME tree, as BODYSTRUCTURE (or a local walk) describes it.

    section: IMAP section number ("1", "1.2", ...; "1" for a single-part message).
    """

    section: str
    content_type: str  # lower case "text/plain"
    charset: str | None = None
    encoding: str = "7bit"  # content-transfer-encoding, lower case
    size: int = 0  # encoded size in bytes as the server reports it
    disposition: str | None = None  # "attachment" | "inline" | None
    filename: str | None = None  # decoded filename (RFC 2231 / 2047 / name=)
    content_id: str | None = None

    @property
    def is_attachment(self) -> bool:
        if self.disposition == "attachment" or self.filename:
            return True
        return not self.content_type.startswith(("text/plain", "text/html", "multipart/"))


@dataclass
class Fetched:
    """What a mailbox adapter hands to the parser for one message in one folder.

    `header` is the raw header block. `parts` describes every MIME leaf. `bodies` holds the
    still transfer-encoded bytes of the text parts that were fetched, keyed by section.
    Attachment bodies are never fetched over IMAP.
    """

    folder: str
    uid: int
    size: int  # RFC822.SIZE (CRLF line ends)
    header: bytes
    parts: list[Part] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    internaldate: datetime | None = None
    notes: list[str] = field(
        default_factory=list
    )  # e.g. "larger than max_message_size: headers only"
    # Set by an adapter that leaves reading and the MIME walk to the parse worker (Maildir: the
    # worker reads the file, `maildir.read_and_split`): called in the worker, it returns this
    # message complete, with its header, parts, bodies, notes and CRLF size (until then only
    # uid, flags and internaldate are set), or None when the message is gone by then. It must
    # pickle (a functools.partial over a module-level function). IMAP never sets it.
    deferred: Callable[[], Fetched | None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Address:
    name: str
    email: str  # lower case, "" when nothing usable was found


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int


@dataclass
class Message:
    """A parsed message. `key` is its identity: one row per distinct message (parse.message_key)."""

    key: str
    message_id: str | None  # as in the header, without <>, None when absent or unusable
    in_reply_to: str | None
    references: list[str]
    thread_key: str
    date: datetime | None  # UTC
    date_offset_minutes: int | None  # the sender's UTC offset, minutes east
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    subject: str
    text: str  # full decoded text (plain, or html converted to text)
    reply_text: str  # text with quoted replies and signature stripped
    language: str | None  # "en", "zh", "ja", ... or None
    is_auto: bool
    auto_reason: str | None
    is_bulk: bool
    bulk_reason: str | None
    attachments: list[Attachment]
    defects: list[str]
    size: int
    has_html_only: bool = False

    def participants(self) -> list[Address]:
        """Every address on the message: sender, to, cc (in that order, duplicates kept out)."""
        seen: set[str] = set()
        out: list[Address] = []
        for a in ([self.sender] if self.sender else []) + self.to + self.cc:
            if a.email and a.email not in seen:
                seen.add(a.email)
                out.append(a)
        return out
