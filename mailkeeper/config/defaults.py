"""The shipped rules and templates, and `mailkeeper init`, which copies them for the rep to edit.

Installed from a wheel, the defaults live inside the package as mailkeeper/_defaults/rules and
mailkeeper/_defaults/templates (pyproject force-includes them); in a source checkout (or an
editable install) they are the repository's top-level rules/ and templates/.
"""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path

import platformdirs

from mailkeeper.errors import MailkeeperError
from mailkeeper.files import write_atomic

logger = logging.getLogger(__name__)

APP_NAME = "mailkeeper"
CONFIG_NAME = "mailkeeper.yaml"
_SKIP = {"__pycache__", ".DS_Store"}


def default_config_dir() -> Path:
    """The XDG config folder ($XDG_CONFIG_HOME/mailkeeper, usually ~/.config/mailkeeper)."""
    return Path(platformdirs.user_config_dir(APP_NAME))


def default_report_dir() -> Path:
    """Where `mailkeeper report` writes the site by default (the platformdirs user data dir)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "report"


def defaults_root() -> Path:
    """The folder that holds the shipped rules/ and templates/."""
    installed = importlib.resources.files(APP_NAME) / "_defaults"
    if installed.is_dir() and isinstance(installed, Path):
        return installed
    source = Path(__file__).resolve().parents[2]
    if (source / "rules").is_dir() and (source / "templates").is_dir():
        return source
    raise MailkeeperError(
        "the shipped rules and templates are missing from this installation; reinstall mailkeeper"
    )


def rules_dir() -> Path:
    return defaults_root() / "rules"


def templates_dir() -> Path:
    return defaults_root() / "templates"


def init_config_dir(dest: Path, force: bool = False) -> list[Path]:
    """Write dest/mailkeeper.yaml plus copies of the shipped rules/ and templates/.

    An existing file is kept unless `force`. Returns the files written. mailkeeper.yaml is
    written with mode 0600 (temp file + rename), since the rep may put credentials in it.
    """
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    config = dest / CONFIG_NAME
    if force or not config.exists():
        write_atomic(config, CONFIG_TEMPLATE.encode("utf-8"), mode=0o600)
        written.append(config)
    else:
        logger.info("kept existing %s", config)
    root = defaults_root()
    for sub in ("rules", "templates"):
        written += _copy_tree(root / sub, dest / sub, force)
    return written


def _copy_tree(src: Path, dst: Path, force: bool) -> list[Path]:
    written: list[Path] = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not path.is_file() or any(part in _SKIP or part.startswith(".") for part in rel.parts):
            continue
        target = dst / rel
        if target.exists() and not force:
            logger.info("kept existing %s", target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, path.read_bytes(), mode=0o644)
        written.append(target)
    return written


CONFIG_TEMPLATE = """\
# mailkeeper configuration. Check it with `mailkeeper check` after every edit.
# Paths below are relative to this file's folder. Every key is explained in a comment;
# delete what you do not need. Lines starting with # are ignored.

# Who you are: mail from these addresses is "you"; these domains are your colleagues
# (never customers).
me:
  name: Your Name
  addresses: [you@example.com]              # every address you send from
  company_domains: [example.com]            # your company's mail domain(s)
  signature: |
    Your Name
    Your Company Co., Ltd.

# Your time zone (IANA name, e.g. Asia/Shanghai, Europe/Berlin, America/New_York) and the
# hours you work: drafts and deadlines are planned inside them.
timezone: UTC
working_hours:
  days: [mon, tue, wed, thu, fri]
  start: "09:00"
  end: "18:00"
  # holidays: CN            # public holidays of your country: not counted as working time
  # extra_holidays: []      # your own days off, e.g. [2027-02-15]
  # extra_workdays: []      # make-up working days on a weekend

database: ./mailkeeper.db   # the local history (plain SQLite)
rules: ./rules              # customers.yaml, tiers.yaml, freemail.yaml, ...: edit them
templates: ./templates      # the drafts' wording, one file per kind and language

# Your mailboxes. Fill in the server, your login name, and ONE way to get the password:
#   password_command: pass show mail/work     # a command that prints it (like mbsync PassCmd)
#   password_env: MAILKEEPER_PASSWORD         # an environment variable
#   keyring: true                             # the system keyring; store it once with
#                                             #   keyring set mailkeeper work
#   oauth2_token_command: oauth2ms --token    # a command printing an OAuth2 token (XOAUTH2)
#   password: ...                             # plain text in this file: works, not advised
accounts:
  work:
    host: imap.example.com
    port: 993
    tls: implicit           # implicit (993) | starttls (143) | none (only for 127.0.0.1 / ::1)
    username: you@example.com
    password_command: pass show mail/work
    # folders: {inbox: INBOX, sent: Sent, drafts: Drafts}   # only if the server does not
    #                                                       # mark them (SPECIAL-USE)
    # extra_folders: [Archive]                              # more folders to read
    # timeout: 60                                           # seconds per server answer
    # ca_file: ./company-ca.pem   # the CA certificate (PEM) of a server whose certificate
    #                             # this computer does not trust (e.g. a company server)
    # verify_tls: true            # false: do not check the certificate at all; only on a
    #                             # network you trust (anyone in between could read your password)

# How mail is fetched (all optional).
# sync:
#   batch_size: 200              # messages per FETCH
#   max_message_size: 25 MB      # larger messages are kept with their headers only
#   max_text_bytes: 256 KB       # the most text read from one part of a message
#   workers: 0                   # processes that parse mail; 0 = one per core

# Drafts in your Drafts folder (all optional). mailkeeper never sends: you review, edit
# and send each draft from your own mail client.
# drafts:
#   per_run: 10                  # new drafts one run adds, most urgent first
#   per_day: 10                  # ... and all runs of one day together
#   promise_ahead_hours: 24      # draft a promise follow-up this long before it is due
#   cooldown_days: {check_in: 14, issue_ack: 2}   # a draft you deleted unsent: none again
#                                                 # for the same thing this long

# The background daemon (`mailkeeper daemon`; all optional). It watches your Inbox (IMAP
# IDLE), syncs Sent and the other folders on a timer, and keeps findings and drafts fresh.
# daemon:
#   daily_at: "07:30"            # the daily pass (deadlines, neglect, orders), your timezone:
#   folders_every_minutes: 15    # how often Sent and the other folders are synced
#   poll_every_seconds: 60       # how often the Inbox is checked when the server has no
#                                # IDLE (and for a local Maildir)
#   idle_minutes: 25             # IDLE is renewed this often (servers end it after 29)
"""
