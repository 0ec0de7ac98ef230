"""Folder-role resolution (mailbox.base.resolve_roles): pure, no server, no root."""

from __future__ import annotations

import pytest

from mailkeeper.mailbox.base import FolderRoles, ServerFolder, resolve_roles


def _f(name: str, *flags: str, delimiter: str | None = "/") -> ServerFolder:
    return ServerFolder(name, tuple(flags), delimiter)


def test_special_use_wins_over_names() -> None:
    found = resolve_roles(
        [
            _f("INBOX"),
            _f("Sent"),  # a name on the fallback list, but not flagged
            _f("Gesendet", "\\HasNoChildren", "\\Sent"),
            _f("Drafts"),
            _f("Entwürfe", "\\Drafts"),
            _f("Papierkorb", "\\Trash"),
            _f("Spamverdacht", "\\Junk"),
        ]
    )
    assert found.roles == {
        "inbox": "INBOX",
        "sent": "Gesendet",
        "drafts": "Entwürfe",
        "trash": "Papierkorb",
        "junk": "Spamverdacht",
    }
    assert found.warnings == () and found.problems == ()


def test_special_use_flags_in_any_case_and_old_spam_flag() -> None:
    found = resolve_roles([_f("INBOX"), _f("Out", "\\SENT"), _f("Bulk", "\\Spam")])
    assert found.roles["sent"] == "Out" and found.roles["junk"] == "Bulk"


def test_gmail_special_use() -> None:
    found = resolve_roles(
        [
            _f("INBOX"),
            _f("[Gmail]", "\\Noselect", "\\HasChildren"),
            _f("[Gmail]/All Mail", "\\All"),
            _f("[Gmail]/Drafts", "\\Drafts"),
            _f("[Gmail]/Sent Mail", "\\Sent"),
            _f("[Gmail]/Spam", "\\Junk"),
            _f("[Gmail]/Bin", "\\Trash"),
        ]
    )
    assert found.roles == {
        "inbox": "INBOX",
        "sent": "[Gmail]/Sent Mail",
        "drafts": "[Gmail]/Drafts",
        "trash": "[Gmail]/Bin",
        "junk": "[Gmail]/Spam",
    }


@pytest.mark.parametrize(
    ("folders", "sent"),
    [
        (["INBOX", "Sent Items", "Archive"], "Sent Items"),
        (["INBOX", "[Gmail]/Sent Mail", "[Gmail]/Drafts"], "[Gmail]/Sent Mail"),
        (["INBOX", "已发送", "草稿箱", "已删除", "垃圾邮件"], "已发送"),
        (["INBOX", "INBOX.Sent", "INBOX.Drafts"], "INBOX.Sent"),
        (["INBOX", "sent items"], "sent items"),  # any case
        (["INBOX", "Sent Items", "Sent"], "Sent"),  # the list's order, not the server's
    ],
)
def test_name_fallbacks_without_special_use(folders: list[str], sent: str) -> None:
    found = resolve_roles(folders)
    assert found.roles["sent"] == sent
    assert "sent" not in " ".join(found.warnings).lower()


def test_name_fallbacks_for_drafts_trash_junk() -> None:
    found = resolve_roles(["INBOX", "已发送", "草稿箱", "已删除", "垃圾邮件"])
    assert found.roles == {
        "inbox": "INBOX",
        "sent": "已发送",
        "drafts": "草稿箱",
        "trash": "已删除",
        "junk": "垃圾邮件",
    }
    courier = resolve_roles(
        [_f(n, delimiter=".") for n in ("INBOX", "INBOX.Drafts", "INBOX.Trash", "INBOX.Spam")]
    )
    assert courier.roles["drafts"] == "INBOX.Drafts"
    assert courier.roles["trash"] == "INBOX.Trash" and courier.roles["junk"] == "INBOX.Spam"
    for name in ("Drafts", "Draft", "[Gmail]/Drafts", "草稿", "Entwürfe", "Brouillons"):
        assert resolve_roles(["INBOX", name]).roles["drafts"] == name


def test_a_folder_that_cannot_be_selected_plays_no_role() -> None:
    found = resolve_roles([_f("INBOX"), _f("Sent", "\\Noselect"), _f("Sent Items")])
    assert found.roles["sent"] == "Sent Items"
    found = resolve_roles([_f("INBOX"), _f("Trash", "\\Trash", "\\NonExistent")])
    assert "trash" not in found.roles


def test_config_override_wins() -> None:
    found = resolve_roles(
        [_f("INBOX"), _f("Sent", "\\Sent"), _f("Outbox"), _f("Drafts"), _f("Mine/Drafts")],
        {"sent": "Outbox", "drafts": "Mine/Drafts"},
    )
    assert found.roles["sent"] == "Outbox" and found.roles["drafts"] == "Mine/Drafts"
    assert found.problems == () and found.warnings == ()


@pytest.mark.parametrize("configured", ["Inbox", "inbox", "INBOX"])
def test_inbox_is_matched_without_regard_to_case(configured: str) -> None:
    found = resolve_roles(["INBOX", "Sent"], {"inbox": configured}, [configured])
    assert found.roles["inbox"] == "INBOX"  # the server's INBOX, not a second folder
    assert found.extra_folders == ("INBOX",)
    assert found.problems == ()
    # a server that spells it otherwise is matched the same way
    assert resolve_roles(["Inbox", "Sent"]).roles["inbox"] == "Inbox"
    assert resolve_roles(["Inbox", "Sent"], {"inbox": "INBOX"}).roles["inbox"] == "Inbox"


def test_missing_sent_is_a_warning_not_an_error() -> None:
    found = resolve_roles(["INBOX", "Archive"])
    assert isinstance(found, FolderRoles)
    assert found.roles == {"inbox": "INBOX"}
    assert found.problems == ()
    assert any("no Sent folder found" in w for w in found.warnings)
    assert any("no Drafts folder found" in w for w in found.warnings)
    # trash and junk are looked for, but their absence is nothing to tell the rep
    assert not any("trash" in w.lower() or "junk" in w.lower() for w in found.warnings)


def test_missing_configured_folders_are_reported_not_raised() -> None:
    found = resolve_roles(
        ["INBOX", "Sent", "Archive"],
        {"sent": "Sent Items"},
        ["Archive", "Old"],
        where="the server",
    )
    assert found.roles["sent"] == "Sent"  # what was found still stands
    assert found.extra_folders == ("Archive",)
    assert len(found.problems) == 2
    override, extra = found.problems
    assert "folders.sent is 'Sent Items'" in override and "the server" in override
    assert "extra folder 'Old'" in extra and "it has: Archive, INBOX, Sent" in extra
    assert not any("Sent" in w for w in found.warnings)  # Sent was found: no warning on top


def test_no_inbox_is_a_problem_unless_configured() -> None:
    found = resolve_roles(["Posteingang", "Sent"], where="the Maildir /m")
    assert "inbox" not in found.roles
    assert any(
        "the Maildir /m has no INBOX" in p and "folders: {inbox: NAME}" in p for p in found.problems
    )
    found = resolve_roles(["Posteingang", "Sent"], {"inbox": "Posteingang"})
    assert found.roles["inbox"] == "Posteingang" and found.problems == ()


def test_dotted_names_find_the_folder_by_its_delimiter() -> None:
    folders = [_f("INBOX"), _f("Archive/2024"), _f("INBOX/Sent")]
    found = resolve_roles(folders, {}, ["Archive.2024"], dotted_names=True)
    assert found.extra_folders == ("Archive/2024",) and found.problems == ()
    assert found.roles["sent"] == "INBOX/Sent"  # the fallback "INBOX.Sent", spelled with "/"
    # an IMAP server's names are taken as they are
    found = resolve_roles(folders, {}, ["Archive.2024"])
    assert found.problems and "extra folder 'Archive.2024'" in found.problems[0]


def test_folders_lists_every_folder_in_server_order() -> None:
    found = resolve_roles([_f("INBOX"), _f("[Gmail]", "\\Noselect"), _f("Sent"), _f("Sent")])
    assert found.folders == ("INBOX", "[Gmail]", "Sent")
