"""The public repositories the real-mail labelled set (issue 20) is drawn from.

Each source names the repository, the commit its messages were read at, which of its files are
candidate messages, and whether its mail text may be committed to this project (licence_ok).
Mirrors are bare git directories as `fetch github:OWNER/NAME` leaves them:
/work/.mirror/OWNER+NAME/repo (override the root with --mirrors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIRRORS = os.environ.get("LABELSET_MIRRORS", "/work/.mirror")


@dataclass(frozen=True)
class Source:
    key: str  # short name used in the manifest's mailbox column
    repo: str  # owner/name on GitHub
    commit: str  # the commit every path was read at
    prefixes: tuple[str, ...]  # candidate files are blobs under these paths
    inbox_only: bool  # Enron: only files in a mailbox's inbox/ folder
    language: str  # en / zh: the language the source is expected to give
    licence: str
    licence_ok: bool  # may this source's mail text be committed here?
    why: str
    target: int  # how many candidates to take from it

    def git_dir(self, root: str = MIRRORS) -> str:
        return os.path.join(root, self.repo.replace("/", "+"), "repo")


SOURCES: tuple[Source, ...] = (
    Source(
        key="enron",
        repo="Edgar427/Team22introtoAI",
        commit="a1331d1274cf82211adb475641fe1a07a629c19f",
        prefixes=("maildir/",),
        inbox_only=True,
        language="en",
        licence="none in the repository; the messages are the CMU Enron corpus (maildir)",
        licence_ok=True,
        why=(
            "Enron mail was released by FERC as public record and is redistributed widely "
            "(CMU, Kaggle, many GitHub copies); the project already commits Enron text under the "
            "same reasoning"
        ),
        target=1450,
    ),
    Source(
        key="spamassassin",
        repo="johnmyleswhite/ML_for_Hackers",
        commit="4aa136e17eef2ca8e2b80079acf3e2075485c441",
        prefixes=(
            "03-Classification/data/easy_ham/",
            "03-Classification/data/easy_ham_2/",
            "03-Classification/data/hard_ham/",
            "03-Classification/data/hard_ham_2/",
        ),
        inbox_only=False,
        language="en",
        licence="repo code Simplified BSD; the mail is the SpamAssassin public corpus "
        "(copyright with the original senders)",
        licence_ok=False,
        why=(
            "public mailing-list and newsletter mail (ILUG, SpamAssassin-talk, exmh, ...) with no "
            "licence for the text: manifest only, never commit its text"
        ),
        target=320,
    ),
    Source(
        key="trec06c",
        repo="shijing888/BayesSpam",
        commit="655c556e6ea63fad4adfac41aaee6b01e8e8b257",
        prefixes=("data/normal/",),
        inbox_only=False,
        language="zh",
        licence="none (the repository has no licence; data/normal/ is ham of the TREC 2006 "
        "Chinese spam corpus trec06c, CCERT mail of 2004-2005 in GB2312/GBK)",
        licence_ok=False,
        why=(
            "no licence in the repository, and trec06c itself is distributed for research by "
            "the TREC organisers, not under a licence that allows redistribution: manifest only"
        ),
        target=950,
    ),
)


def by_repo(repo: str) -> Source:
    for s in SOURCES:
        if s.repo == repo:
            return s
    raise KeyError(f"no source for repository {repo!r} in bench/labelset/sources.py")
