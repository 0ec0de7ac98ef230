"""What every mailbox adapter offers the sync (IMAP and local Maildir alike), and the
folder-role resolution they share (`resolve_roles`: pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mailkeeper.model import Fetched

ROLES = ("inbox", "sent", "drafts", "trash", "junk")

# SPECIAL-USE flags (RFC 6154) per role; compared without regard to case. "\\Spam" is what some
# servers (old Gmail XLIST) send for junk.
SPECIAL_USE: dict[str, tuple[str, ...]] = {
    "sent": ("\\Sent",),
    "drafts": ("\\Drafts",),
    "trash": ("\\Trash",),
    "junk": ("\\Junk", "\\Spam"),
}

# Folder names tried, in this order, when no folder carries the role's SPECIAL-USE flag.
# Matched exactly first, then without regard to case.
FALLBACK_NAMES: dict[str, tuple[str, ...]] = {
    "sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "[Gmail]/Sent Mail",
        "INBOX.Sent",
        "INBOX/Sent",
        "INBOX.Sent Items",
        "已发送",
        "已发送邮件",
        "寄件備份",
        "Gesendet",
        "Gesendete Elemente",
        "Envoyés",
        "Enviados",
    ),
    "drafts": (
        "Drafts",
        "Draft",
        "[Gmail]/Drafts",
        "INBOX.Drafts",
        "INBOX/Drafts",
        "草稿箱",
        "草稿",
        "Entwürfe",
        "Brouillons",
        "Borradores",
    ),
    "trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "[Gmail]/Trash",
        "[Gmail]/Bin",
        "INBOX.Trash",
        "INBOX/Trash",
        "已删除",
        "已删除邮件",
        "垃圾桶",
        "Papierkorb",
        "Gelöschte Elemente",
        "Corbeille",
        "Papelera",
    ),
    "junk": (
        "Junk",
        "Spam",
        "Junk E-mail",
        "Junk Email",
        "[Gmail]/Spam",
        "INBOX.Junk",
        "INBOX/Junk",
        "INBOX.Spam",
        "INBOX/Spam",
        "垃圾邮件",
        "垃圾箱",
        "Junk-E-Mail",
        "Spamverdacht",
        "Indésirables",
        "Correo no deseado",
    ),
}
# Roles the rep is told about when no folder is found for them.
_WARN_MISSING = {
    "sent": "no Sent folder found; outbound mail will be missing "
    "(name it in mailkeeper.yaml: folders: {sent: NAME})",
    "drafts": "no Drafts folder found (name it in mailkeeper.yaml: folders: {drafts: NAME})",
}
_NOT_SELECTABLE = ("\\noselect", "\\nonexistent")


@dataclass(frozen=True)
class ServerFolder:
    """One folder as LIST shows it (or as found in a Maildir)."""

    name: str  # as the server spells it ("INBOX", "Archive/2024", "已发送")
    flags: tuple[str, ...] = ()  # "\\Sent", "\\Noselect" ... in any case
    delimiter: str | None = None  # the hierarchy delimiter ("/" or "."), None when flat


@dataclass(frozen=True)
class FolderRoles:
    """What `resolve_roles` found.

    `roles`: role -> folder name as the server spells it, for each role found (inbox, sent,
    drafts, trash, junk). `folders`: every folder the server has, in its order.
    `extra_folders`: the configured extra folders that exist, as the server spells them.
    `warnings`: nothing to fix in the config, but worth telling (no Sent folder found).
    `problems`: the config names a folder that does not exist, or there is no INBOX; each
    string reads on its own (the adapters raise them as one UserError)."""

    roles: dict[str, str]
    folders: tuple[str, ...]
    extra_folders: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def resolve_roles(
    folders: Iterable[ServerFolder | str],
    overrides: Mapping[str, str] | None = None,
    extra_folders: Iterable[str] = (),
    *,
    where: str = "the server",
    dotted_names: bool = False,
) -> FolderRoles:
    """Which folder plays which role. Pure: no I/O, never raises for a missing folder.

    Per role (sent, drafts, trash, junk) the first selectable folder flagged with the role's
    SPECIAL-USE flag wins, else the first of FALLBACK_NAMES the server has (exact, then any
    case). A configured override (`account.folders`, role -> name) wins over both when the
    folder exists; when it does not, that is a problem and the role keeps what was found.
    INBOX is matched without regard to case (RFC 3501): `{inbox: Inbox}` is the server's
    INBOX. `dotted_names`: a name written with "." also finds the folder whose hierarchy
    delimiter it stands for ("Archive.2024" -> "Archive/2024"; Maildir spellings).
    `where` names the mail store in messages ("the server", "the Maildir ~/Mail")."""
    found = [f if isinstance(f, ServerFolder) else ServerFolder(f) for f in folders]
    names = tuple(dict.fromkeys(f.name for f in found))
    listing = ", ".join(sorted(names)) or "(none)"
    inbox = "INBOX" if "INBOX" in names else next((n for n in names if n.upper() == "INBOX"), None)

    def lookup(name: str, any_case: bool = False) -> str | None:
        if name in names:
            return name
        if name.upper() == "INBOX":
            return inbox
        if dotted_names and "." in name:
            for f in found:
                if f.delimiter and name.replace(".", f.delimiter) == f.name:
                    return f.name
        if any_case:
            return next((n for n in names if n.lower() == name.lower()), None)
        return None

    roles: dict[str, str] = {}
    if inbox is not None:
        roles["inbox"] = inbox
    selectable = [
        f
        for f in found
        if f.name != inbox and not any(flag.lower() in _NOT_SELECTABLE for flag in f.flags)
    ]
    selectable_names = {f.name for f in selectable}
    for role, wanted in SPECIAL_USE.items():
        flagged = (
            f.name
            for f in selectable
            if any(fl.lower() == w.lower() for fl in f.flags for w in wanted)
        )
        name = next(flagged, None)
        if name is None:
            for candidate in FALLBACK_NAMES[role]:
                hit = lookup(candidate, any_case=True)
                if hit is not None and hit in selectable_names:
                    name = hit
                    break
        if name is not None:
            roles[role] = name

    problems: list[str] = []
    overrides = dict(overrides or {})
    for role, name in overrides.items():
        hit = lookup(name)
        if hit is None:
            problems.append(
                f"folders.{role} is '{name}', which {where} does not have; it has: {listing}"
            )
        else:
            roles[role] = hit
    if "inbox" not in roles:
        problems.append(
            f"{where} has no INBOX; name the inbox folder in mailkeeper.yaml "
            f"(folders: {{inbox: NAME}}); it has: {listing}"
        )
    extras: list[str] = []
    for name in extra_folders:
        hit = lookup(name)
        if hit is None:
            problems.append(f"extra folder '{name}': {where} has no such folder; it has: {listing}")
        elif hit not in extras:
            extras.append(hit)
    warnings = [
        text for role, text in _WARN_MISSING.items() if role not in roles and role not in overrides
    ]
    return FolderRoles(roles, names, tuple(extras), tuple(warnings), tuple(problems))


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int | None
    messages: int
    highestmodseq: int | None


class Mailbox(Protocol):
    """A read-only view of one account's folders. Used as a context manager:
    `__enter__` connects (or opens), `__exit__` closes."""

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc: object) -> None: ...

    def resolve_folders(self) -> FolderRoles:
        """The server's folders and their roles (`resolve_roles` over LIST, or over the
        Maildir's folders, with the account's `folders:` and `extra_folders`); never raises
        for a folder the config names that does not exist: see `.problems`."""
        ...

    def folder_roles(self) -> dict[str, str]:
        """`resolve_folders().roles`: role -> folder name for inbox, sent, drafts, trash, junk
        (those that exist), after the account's `folders:` overrides; raises UserError
        naming folders the config names that do not exist (`.problems`)."""
        ...

    def status(self, folder: str) -> FolderStatus:
        """Cheap: tells whether anything is new without listing the folder."""
        ...

    def new_uids(self, folder: str, after_uid: int) -> list[int]:
        """Every UID above `after_uid`, ascending."""
        ...

    def all_uids(self, folder: str) -> list[int]:
        """Every UID the folder holds now, ascending (to notice messages deleted there)."""
        ...

    def fetch_batch(
        self, folder: str, uids: list[int], next_uids: list[int] | None = None
    ) -> list[Fetched]:
        """Fetched for each UID that still exists, in UID order; attachment bodies never read.
        `next_uids`: the batch the caller asks for next, which an adapter may start on."""
        ...

    def changed_flags(self, folder: str, since_modseq: int) -> dict[int, tuple[str, ...]]:
        """Flags of messages changed since `since_modseq` ({} when the store has no modseq)."""
        ...
