"""Gather candidate messages for the real-mail "needs an answer" set (issue 20).

    python3 bench/labelset/gather.py [--out /work/labelset-raw] [--mirrors /work/.mirror]

Deterministic (seeded): from each source in sources.py it reads the candidate files out of the
git mirror, keeps messages in the expected language with a new text of sensible length, caps
each sender, takes bulk mail (newsletters, notices, announcements) only in proportion,
dedupes by normalised new text, writes every pooled candidate as <id>.eml into --out (outside
the repository), runs /work/shared/heldout/guard.py on them and drops every one it names
(evaluation-only messages), then keeps each source's target and writes
tests/labelled/real/manifest.tsv with the split (train/heldout by sender group, ~60/40).

The raw folder can be rebuilt from the manifest alone with bench/labelset/fetch.py.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import hashlib
import html
import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gitblobs import list_files, read_blobs  # noqa: E402
from sources import MIRRORS, SOURCES, Source  # noqa: E402

SEED = 20
ROOT = os.path.dirname(os.path.dirname(HERE))
MANIFEST = os.path.join(ROOT, "tests", "labelled", "real", "manifest.tsv")
GUARD = os.environ.get("LABELSET_GUARD", "/work/shared/heldout/guard.py")
COLUMNS = (
    "id",
    "language",
    "repo",
    "commit",
    "path",
    "mbox_index",
    "sha256",
    "mailbox",
    "group",
    "stratum",
    "licence_ok",
    "split",
)
# Bulk mail is kept, but only up to this share of a source: the set needs real "no" mail
# (newsletters, notices) without drowning the person-to-person mail.
BULK_SHARE = 0.18
# One sender may give at most this many candidates: diversity, and no group dominates a split.
PER_SENDER = 6
POOL_FACTOR = 1.25  # pool more than the target so the guard's drops can be absorbed
HELDOUT_SHARE = 0.40
NEW_TEXT_MIN, NEW_TEXT_MAX = 15, 6000

QUOTE_CUT = re.compile(
    r"^(-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded by|-{3,}\s*原始邮件\s*-{3,}"
    r"|【\s*在.{0,80}(大作中|来信中)提到.{0,3}】|on .{0,80} wrote:$|.{0,60}写道[:：]$"
    r"|from:\s.+|发件人[:：].*|_{10,})",
    re.IGNORECASE,
)
BULK_SENDERS = re.compile(
    r"^(no[.\-_]?reply|do[.\-_]?not[.\-_]?reply|news(letter)?s?|announce\w*|mailer|listserv"
    r"|no\.address|info|marketing|promo\w*|alerts?|notifications?|webmaster|admin|bounce\w*)@",
    re.IGNORECASE,
)
BULK_BODY = re.compile(
    r"unsubscribe|to be removed from|view (this|it) in (your|a) browser|退订|取消订阅",
    re.IGNORECASE,
)
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@dataclass
class Candidate:
    source: Source
    path: str
    raw: bytes
    sha256: str
    language: str
    mailbox: str
    group: str
    stratum: str
    text_key: str

    @property
    def id(self) -> str:
        return f"{self.language}-{self.sha256[:12]}"


def body_text(msg: email.message.Message, raw: bytes) -> str:
    """The text/plain parts (or text/html stripped of tags when there is no plain part). A
    message whose multipart boundary never appears (most of trec06c's ham declares
    multipart/mixed over a plain body) gives its raw body instead, decoded as GB18030."""
    plain, htmls = [], []
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "gb18030"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("gb18030", "replace")
        (plain if part.get_content_subtype() == "plain" else htmls).append(text)
    if plain and any(t.strip() for t in plain):
        return "\n".join(plain)
    if not any(t.strip() for t in htmls):
        head_end = re.search(rb"\r?\n\r?\n", raw)
        rest = raw[head_end.end() :] if head_end else b""
        charset = msg.get_content_charset() or "gb18030"
        try:
            return rest.decode(charset, "replace")
        except LookupError:
            return rest.decode("gb18030", "replace")
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", "\n".join(htmls))
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def new_text(body: str) -> str:
    """The body above the first quoted or forwarded part: lines before a quote header, without
    '>' lines. Only for filtering and deduplication; labellers read the whole message."""
    kept = []
    for line in body.splitlines():
        s = line.strip()
        if QUOTE_CUT.match(s):
            break
        if s.startswith((">", "|", ": ")) or s == ":":
            continue
        kept.append(s)
    return "\n".join(kept).strip()


def language_of(text: str) -> str | None:
    cjk, latin = len(CJK.findall(text)), len(LATIN.findall(text))
    if cjk >= 8 and cjk * 4 >= latin:
        return "zh"
    if cjk <= 2 and latin >= 30:
        return "en"
    return None


def address(value: str | None) -> str:
    return (email.utils.parseaddr(str(value or ""))[1] or "").strip().lower()


def recipients(msg: email.message.Message) -> int:
    fields = [str(msg.get(h, "")) for h in ("To", "Cc")]
    return len([a for _, a in email.utils.getaddresses(fields) if a])


def classify(src: Source, path: str, msg: email.message.Message, new: str) -> tuple[str, str]:
    """(mailbox, stratum) of a message. Strata: external / internal (Enron person-to-person
    mail from outside or inside Enron), list (mailing-list post), personal (trec06c), bulk."""
    sender = address(msg.get("From"))
    x_to = str(msg.get("X-To", "")) + str(msg.get("To", ""))
    bulk = bool(
        BULK_SENDERS.match(sender)
        or BULK_BODY.search(new)
        or recipients(msg) > 15
        or re.search(r"all enron|all employees|everyone|undisclosed", x_to, re.I)
        or str(msg.get("Precedence", "")).lower() in ("bulk", "junk")
        or "/hard_ham" in path
    )
    if src.key == "enron":
        mailbox = "enron/" + path.split("/")[1]
        if bulk:
            return mailbox, "bulk"
        return mailbox, "internal" if sender.endswith("enron.com") else "external"
    if src.key == "spamassassin":
        list_id = str(msg.get("List-Id", "") or msg.get("X-Mailing-List", "")).strip()
        m = re.search(r"<([^>]+)>", list_id)
        name = (m.group(1) if m else list_id or "none").lower()[:60]
        mailbox = "sa-list/" + name.replace("@", ".")  # a list's name, not an address
        # A list post with a List-Id is what the set wants (judged as if a customer wrote it);
        # only newsletters and announcements are bulk here.
        if "/hard_ham" in path or BULK_SENDERS.match(sender) or (bulk and not list_id):
            return mailbox, "bulk"
        return mailbox, "list"
    return src.key, "bulk" if bulk else "personal"


def candidates(src: Source, root: str) -> list[Candidate]:
    git_dir = src.git_dir(root)
    paths = list_files(git_dir, src.commit, src.prefixes)
    if src.inbox_only:
        paths = [p for p in paths if p.split("/")[2:3] == ["inbox"]]
    random.Random(f"{SEED}:{src.key}").shuffle(paths)
    out = []
    for path, raw in read_blobs(git_dir, src.commit, paths):
        if not raw:
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        new = new_text(body_text(msg, raw))
        if not NEW_TEXT_MIN <= len(new) <= NEW_TEXT_MAX:
            continue
        subject = str(msg.get("Subject", ""))
        if language_of(new + " " + subject) != src.language:
            continue
        mailbox, stratum = classify(src, path, msg, new)
        sender = address(msg.get("From")) or f"unknown:{path}"
        # The group names the sender by a hash: the manifest is committed, addresses are not.
        group = f"{src.key}:" + hashlib.sha256(sender.encode()).hexdigest()[:12]
        key = hashlib.sha256(re.sub(r"\W+", " ", new.lower()).strip().encode()).hexdigest()
        out.append(
            Candidate(
                src,
                path,
                raw,
                hashlib.sha256(raw).hexdigest(),
                src.language,
                mailbox,
                group,
                stratum,
                key,
            )
        )
    return out


def quotas(src: Source, factor: float) -> dict[str, int]:
    n = round(src.target * factor)
    bulk = round(n * BULK_SHARE)
    if src.key == "enron":
        ext = round((n - bulk) * 0.62)  # prefer external (customer-facing) mail
        return {"bulk": bulk, "external": ext, "internal": n - bulk - ext}
    return {"bulk": bulk, ("list" if src.key == "spamassassin" else "personal"): n - bulk}


def take(cands: list[Candidate], want: dict[str, int], seen: set[str]) -> list[Candidate]:
    """First candidates in (seeded) order that fill each stratum, one per normalised text,
    at most PER_SENDER per sender. A stratum short of candidates leaves its places to others."""
    got: list[Candidate] = []
    per_sender: dict[str, int] = {}
    left = dict(want)
    for c in cands:
        if left.get(c.stratum, 0) <= 0 or c.text_key in seen or c.sha256 in seen:
            continue
        if per_sender.get(c.group, 0) >= PER_SENDER:
            continue
        seen.update((c.text_key, c.sha256))
        per_sender[c.group] = per_sender.get(c.group, 0) + 1
        left[c.stratum] -= 1
        got.append(c)
    short = sum(v for v in left.values() if v > 0)
    if short:  # fill from the non-bulk strata, never with more bulk than its share
        for c in cands:
            if short <= 0:
                break
            if c.stratum == "bulk" or c.text_key in seen or c.sha256 in seen:
                continue
            if per_sender.get(c.group, 0) >= PER_SENDER:
                continue
            seen.update((c.text_key, c.sha256))
            per_sender[c.group] = per_sender.get(c.group, 0) + 1
            got.append(c)
            short -= 1
    return got


def guard(paths: list[str]) -> set[str]:
    """Paths the held-out guard names (evaluation-only messages)."""
    named: set[str] = set()
    for i in range(0, len(paths), 500):
        proc = subprocess.run(
            [sys.executable, GUARD, *paths[i : i + 500]], capture_output=True, text=True
        )
        if proc.returncode not in (0, 1):
            raise SystemExit(f"guard failed ({proc.returncode}): {proc.stderr.strip()}")
        named.update(line.strip() for line in proc.stdout.splitlines() if line.strip())
    return named


def split_groups(rows: list[Candidate]) -> dict[str, str]:
    """train/heldout per sender group: groups in seeded hash order go to heldout until it holds
    HELDOUT_SHARE of the language's messages. One sender's mail is never on both sides."""
    sizes: dict[str, int] = {}
    for c in rows:
        sizes[c.group] = sizes.get(c.group, 0) + 1
    order = sorted(sizes, key=lambda g: hashlib.sha256(f"{SEED}:{g}".encode()).hexdigest())
    goal, held, out = HELDOUT_SHARE * len(rows), 0, {}
    for g in order:
        if held + sizes[g] <= goal + 0.5 * sizes[g]:
            out[g], held = "heldout", held + sizes[g]
        else:
            out[g] = "train"
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/work/labelset-raw")
    ap.add_argument("--mirrors", default=MIRRORS)
    ap.add_argument("--manifest", default=MANIFEST)
    args = ap.parse_args(argv)
    if os.path.abspath(args.out).startswith(ROOT + os.sep):
        raise SystemExit(f"--out {args.out} is inside the repository: raw mail stays outside it")
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        if name.endswith(".eml"):
            os.remove(os.path.join(args.out, name))

    seen: set[str] = set()
    final: list[Candidate] = []
    for src in SOURCES:
        cands = candidates(src, args.mirrors)
        pool = take(cands, quotas(src, POOL_FACTOR), seen)
        files = {}
        for c in pool:
            path = os.path.join(args.out, c.id + ".eml")
            with open(path, "wb") as fh:
                fh.write(c.raw)
            files[path] = c
        named = guard(sorted(files))
        kept = [c for p, c in files.items() if p not in named]
        want = quotas(src, 1.0)
        chosen = take(kept, want, set())
        chosen_ids = {c.id for c in chosen}
        for p, c in files.items():
            if c.id not in chosen_ids:
                os.remove(p)
        counts = {s: sum(c.stratum == s for c in chosen) for s in want}
        print(
            f"{src.key}: {len(cands)} usable, pooled {len(pool)}, guard dropped {len(named)}, "
            f"kept {len(chosen)} {counts}",
            file=sys.stderr,
        )
        final.extend(chosen)

    rows = []
    for lang in ("en", "zh"):
        mine = [c for c in final if c.language == lang]
        split = split_groups(mine)
        mine.sort(key=lambda c: hashlib.sha256(f"{SEED}:{c.id}".encode()).hexdigest())
        for c in mine:
            rows.append((c, split[c.group]))
        held = sum(split[c.group] == "heldout" for c in mine)
        groups = len({c.group for c in mine})
        print(
            f"{lang}: {len(mine)} messages, {groups} sender groups, train {len(mine) - held}, "
            f"heldout {held}",
            file=sys.stderr,
        )

    os.makedirs(os.path.dirname(args.manifest), exist_ok=True)
    with open(args.manifest, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(COLUMNS) + "\n")
        for c, split in rows:
            fh.write(
                "\t".join(
                    (
                        c.id,
                        c.language,
                        c.source.repo,
                        c.source.commit,
                        c.path,
                        "-",
                        c.sha256,
                        c.mailbox,
                        c.group,
                        c.stratum,
                        "yes" if c.source.licence_ok else "no",
                        split,
                    )
                )
                + "\n"
            )
    print(f"wrote {len(rows)} rows to {args.manifest}, raw mail in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
