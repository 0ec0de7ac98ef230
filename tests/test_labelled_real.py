"""The real-mail labelled set (tests/labelled/real, issue 20) is well-formed, its split keeps
each sender on one side, no mail text is committed beside it, and bench/labelset/fetch.py
rebuilds messages from a real git mirror, naming every blob it cannot vouch for."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "labelled" / "real"
COLUMNS = [
    "id", "language", "repo", "commit", "path", "mbox_index", "sha256",
    "mailbox", "group", "stratum", "licence_ok", "split",
]  # fmt: skip


def manifest() -> list[dict[str, str]]:
    with open(REAL / "manifest.tsv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_manifest_rows_are_well_formed():
    rows = manifest()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert len({r["sha256"] for r in rows}) == len(rows)
    for r in rows:
        assert r["language"] in ("en", "zh")
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"]), r["id"]
        assert r["id"] == f"{r['language']}-{r['sha256'][:12]}"
        assert re.fullmatch(r"[0-9a-f]{40}", r["commit"]), r["id"]
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", r["repo"]), r["id"]
        assert r["path"] and not r["path"].startswith("/")
        assert r["split"] in ("train", "heldout")
        assert r["licence_ok"] in ("yes", "no")
        assert r["stratum"] in ("external", "internal", "list", "personal", "bulk")
        # the committed manifest carries no addresses: groups are hashes
        assert "@" not in r["group"] and "@" not in r["mailbox"], r["id"]


def test_issue_20_sizes_and_a_60_40_split_per_language():
    rows = manifest()
    for lang, least in (("en", 1500), ("zh", 800)):
        mine = [r for r in rows if r["language"] == lang]
        assert len(mine) >= least
        held = sum(r["split"] == "heldout" for r in mine) / len(mine)
        assert 0.35 <= held <= 0.45, (lang, held)


def test_one_sender_group_is_never_on_both_sides():
    sides: dict[str, set[str]] = {}
    for r in manifest():
        sides.setdefault(r["group"], set()).add(r["split"])
    assert [g for g, s in sides.items() if len(s) > 1] == []


def test_no_mail_text_is_committed_beside_the_manifest():
    tracked = subprocess.run(
        ["git", "ls-files", "tests/labelled/real"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert all(p.endswith((".tsv", ".md")) for p in tracked), tracked
    for p in tracked:
        assert (ROOT / p).stat().st_size < 5_000_000, p


def load_fetch():
    spec = importlib.util.spec_from_file_location(
        "labelset_fetch", ROOT / "bench" / "labelset" / "fetch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def test_fetch_rebuilds_messages_and_names_what_it_cannot_vouch_for(tmp_path):
    work = tmp_path / "src"
    (work / "mail").mkdir(parents=True)
    good = b"From: a@example.org\r\nSubject: price?\r\n\r\nWhat is the price?\r\n"
    changed = b"From: b@example.org\r\n\r\nHello\r\n"
    (work / "mail" / "1").write_bytes(good)
    (work / "mail" / "2").write_bytes(changed)
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "mail")
    commit = git(work, "rev-parse", "HEAD")
    mirrors = tmp_path / "mirrors"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(work), str(mirrors / "o+mail" / "repo")], check=True
    )
    row = {"repo": "o/mail", "commit": commit, "mbox_index": "-"}
    rows = [
        {**row, "id": "en-1", "path": "mail/1", "sha256": hashlib.sha256(good).hexdigest()},
        {**row, "id": "en-2", "path": "mail/2", "sha256": "0" * 64},
        {**row, "id": "en-3", "path": "mail/3", "sha256": "0" * 64},
        {**row, "id": "en-4", "repo": "o/absent", "path": "x", "sha256": "0" * 64},
    ]
    out = tmp_path / "raw"
    written, problems = load_fetch().rebuild(rows, str(out), str(mirrors))
    assert written == 1
    assert (out / "en-1.eml").read_bytes() == good
    assert not (out / "en-2.eml").exists()
    assert len(problems) == 3
    assert any("en-2" in p and "sha256" in p for p in problems)
    assert any("en-3" in p and "missing" in p for p in problems)
    assert any("o/absent" in p and "no mirror" in p for p in problems)


def test_label_passes_name_train_or_heldout_manifest_messages_with_allowed_values():
    rows = {r["id"]: r for r in manifest()}
    passes = sorted(REAL.glob("labels_pass*.tsv"))
    if not passes:
        pytest.skip("no labelling pass committed yet")
    for path in passes:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            assert reader.fieldnames == ["id", "label", "category", "reason"], path.name
            labels = list(reader)
        ids = [lab["id"] for lab in labels]
        assert len(ids) == len(set(ids)), path.name
        for lab in labels:
            assert lab["id"] in rows, (path.name, lab["id"])
            assert lab["label"] in ("yes", "no"), lab["id"]
            allowed = ("question", "request", "complaint", "problem")
            assert lab["category"] in (allowed if lab["label"] == "yes" else ("none",)), lab["id"]
            assert lab["reason"].strip(), lab["id"]


def load_agreement():
    spec = importlib.util.spec_from_file_location(
        "agreement", ROOT / "bench" / "labelset" / "agreement.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pass(path: Path, rows: list[tuple[str, str, str]]) -> None:
    lines = ["id\tlabel\tcategory\treason"] + [f"{i}\t{lab}\t{cat}\tr" for i, lab, cat in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_agreement_unites_each_languages_batches_and_keeps_heldout_out(tmp_path):
    # pass 1 and pass 2 of English each come in two batches; a message labelled in batch
    # 1 of pass 1 and batch b of pass 2 is still a pair, and held-out files are not read
    _pass(tmp_path / "labels_pass1.tsv", [("en-1", "yes", "question"), ("en-2", "no", "none")])
    _pass(tmp_path / "labels_pass1b.tsv", [("en-3", "no", "none")])
    _pass(tmp_path / "labels_pass2.tsv", [("en-3", "no", "none")])
    _pass(tmp_path / "labels_pass2b.tsv", [("en-1", "yes", "question"), ("en-2", "yes", "request")])
    _pass(tmp_path / "labels_zh_pass1.tsv", [("zh-1", "yes", "request"), ("zh-2", "no", "none")])
    _pass(tmp_path / "labels_zh_pass2.tsv", [("zh-1", "yes", "request"), ("zh-2", "no", "none")])
    _pass(tmp_path / "labels_heldout_en_pass1a.tsv", [("en-9", "yes", "question")])
    _pass(tmp_path / "labels_heldout_en_pass2a.tsv", [("en-9", "no", "none")])
    mod = load_agreement()
    rows, undecided, figures = mod.reconcile(tmp_path)
    assert figures["en.n"] == 3 and figures["zh.n"] == 2
    assert figures["en.disagree"] == 1 and figures["zh.kappa"] == 1.0
    assert undecided == ["en-2"]
    assert sorted(r["id"] for r in rows) == ["en-1", "en-3", "zh-1", "zh-2"]
    _pass(tmp_path / "labels_pass2c.tsv", [("en-3", "yes", "request")])
    with pytest.raises(ValueError, match="en-3"):
        mod.reconcile(tmp_path)
