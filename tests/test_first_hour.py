"""Issue 9.3: small things a new user meets in the first hour. Over a local Maildir unless
the IMAP server itself matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, OFFLINE, MaildirBox, make_mail, write_config

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.config import settings as config
from mailkeeper.domains import name_from_domain
from mailkeeper.errors import ConfigError, UserError

CUSTOMERS = """\
customers:
  - name: 华美家居 Huamei Home
    domains: [huamei-home.cn]
    aliases: [Huamei]
  - name: Birch & Co
    domains: [birch.co.uk]
    addresses: [tom.birch@gmail.com]
    aliases: [Birch Trading]
  - name: Birchwood Interiors
    domains: [birchwood.de]
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def box(tmp_path: Path) -> MaildirBox:
    return MaildirBox(tmp_path / "Maildir")


def _cfg(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS) -> Path:
    return box.config(tmp_path / "cfg", customers)


def _synced(tmp_path: Path, box: MaildirBox, customers: str = CUSTOMERS) -> Path:
    cfg = _cfg(tmp_path, box, customers)
    with App.from_config(cfg) as app:
        app.sync()
    return cfg


def _both_ways(box: MaildirBox, who: str, when: datetime, subject: str = "Order") -> None:
    box.deliver("INBOX", make_mail(who, ME, subject, date=when))
    box.deliver("Sent", make_mail(ME, who, f"Re: {subject}", date=when))


# ----------------------------------------------------------------------------- folders
@pytest.mark.imap
def test_inbox_in_another_case_makes_no_second_folder(tmp_path: Path, imap) -> None:
    imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "hello"), user=imap.user)
    cfg = write_config(
        tmp_path / "cfg", imap, imap.user, extra_account="    folders: {inbox: Inbox}\n"
    )
    with App.from_config(cfg) as app:
        [r] = app.sync()
        app.sync()
        assert [f.name for f in r.folders if f.role == "inbox"] == ["INBOX"]
        names = [f["name"] for f in app.status()["accounts"][0]["folders"]]
    assert names.count("INBOX") == 1 and "Inbox" not in names


def test_a_folder_no_longer_configured_leaves_status(tmp_path: Path, box: MaildirBox) -> None:
    box.deliver("Archive", make_mail("jane@birch.co.uk", ME, "old order"))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS, extra="    extra_folders: [Archive]\n")
    with App.from_config(cfg) as app:
        app.sync()
        assert "Archive" in [f["name"] for f in app.status()["accounts"][0]["folders"]]
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    with App.from_config(cfg) as app:
        app.sync()
        assert "Archive" not in [f["name"] for f in app.status()["accounts"][0]["folders"]]
        assert app.store.mail.message_count() == 1  # the history stays


# ----------------------------------------------------------------------------- time zones
@pytest.mark.parametrize(
    ("written", "wanted", "reversed_"),
    [("GMT+8", "Asia/Shanghai", "Etc/GMT-8"), ("UTC-5", "America/New_York", "Etc/GMT+5")],
)
def test_an_offset_time_zone_suggests_a_city_and_the_reversed_etc_name(
    tmp_path: Path, written: str, wanted: str, reversed_: str
) -> None:
    cfg = write_config(tmp_path / "cfg", OFFLINE, "amy")
    cfg.write_text(cfg.read_text().replace("timezone: Asia/Shanghai", f"timezone: {written}"))
    with pytest.raises(ConfigError) as e:
        config.load_settings(cfg)
    [problem] = [p for p in e.value.problems if "timezone" in p]
    assert wanted in problem and reversed_ in problem
    assert "GMT+0" not in problem


def test_tables_show_local_dates_and_json_stays_utc(tmp_path: Path, box: MaildirBox) -> None:
    late = datetime(2026, 10, 1, 20, 0, tzinfo=UTC)  # 2 October, 04:00 in Shanghai
    _both_ways(box, "jane@birch.co.uk", late)
    cfg = _synced(tmp_path, box)
    code, out, _ = run("--config", str(cfg), "customers", "--json")
    birch = next(r for r in json.loads(out) if r["name"] == "Birch & Co")
    assert birch["last_inbound"] == "2026-10-01T20:00:00Z"
    code, out, _ = run("--config", str(cfg), "customers")
    line = next(x for x in out.splitlines() if "Birch & Co" in x)
    assert "2026-10-02" in line and "2026-10-01" not in line
    code, out, _ = run("--config", str(cfg), "customer", "Birch & Co")
    assert "2026-10-02" in out and "2026-10-01" not in out


def test_the_timeline_shows_whom_outbound_mail_went_to(tmp_path: Path, box: MaildirBox) -> None:
    _both_ways(box, "jane@birch.co.uk", datetime(2026, 10, 1, 9, tzinfo=UTC))
    cfg = _synced(tmp_path, box)
    code, out, _ = run("--config", str(cfg), "customer", "Birch & Co")
    assert code == 0
    timeline = out.split("Timeline", 1)[1]
    outbound = next(x for x in timeline.splitlines() if "→" in x)
    assert "jane@birch.co.uk" in outbound and ME not in outbound


# ----------------------------------------------------------------------------- customer lookup
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("华美家居", "华美家居 Huamei Home"),  # a word of the name
        ("huamei", "华美家居 Huamei Home"),  # an alias (and a word), any case
        ("Huamei Home", "华美家居 Huamei Home"),  # a run of words
        ("  华美家居   huamei  HOME ", "华美家居 Huamei Home"),  # whitespace and case
        ("ｂｉｒｃｈ　＆　ｃｏ", "Birch & Co"),  # full-width (NFKC)
        ("Birch Trading", "Birch & Co"),  # the name it had before a rename
        ("birch.co.uk", "Birch & Co"),  # a domain
        ("eu.birch.co.uk", "Birch & Co"),  # a subdomain
        ("tom.birch@gmail.com", "Birch & Co"),  # a listed address
        ("jane@birch.co.uk", "Birch & Co"),  # an address at its domain
        ("Birchw", "Birchwood Interiors"),  # a unique prefix
        ("interiors", "Birchwood Interiors"),  # another word
    ],
)
def test_customer_lookup(tmp_path: Path, box: MaildirBox, query: str, name: str) -> None:
    cfg = _synced(tmp_path, box)
    with App.from_config(cfg) as app:
        assert app.customer(query)["name"] == name


def test_an_ambiguous_lookup_names_the_candidates(tmp_path: Path, box: MaildirBox) -> None:
    cfg = _synced(tmp_path, box)
    with App.from_config(cfg) as app:
        with pytest.raises(UserError) as e:
            app.customer("Birch")  # Birch & Co and Birchwood Interiors
    assert "Birch & Co" in e.value.problems[0] and "Birchwood Interiors" in e.value.problems[0]


# ----------------------------------------------------------------------------- the command line
def test_global_options_after_the_command(tmp_path: Path, box: MaildirBox) -> None:
    cfg = _synced(tmp_path, box)
    code, out, err = run("customers", "--config", str(cfg), "--json")
    assert code == 0, err
    assert {r["name"] for r in json.loads(out)} >= {"Birch & Co"}
    code, out, err = run("customer", "birch.co.uk", f"--config={cfg}", "-v")
    assert code == 0 and "Birch & Co" in out, err


def test_a_negative_limit_is_refused(tmp_path: Path, box: MaildirBox) -> None:
    cfg = _synced(tmp_path, box)
    code, _, err = run("--config", str(cfg), "customer", "Birch & Co", "--limit", "-1")
    assert code == 2 and "--limit" in err


def test_piping_into_head_prints_no_error(tmp_path: Path, box: MaildirBox) -> None:
    many = "customers:\n" + "".join(
        f"  - name: Customer {i:04d} with a long name\n    domains: [c{i}.example-shop.de]\n"
        for i in range(1500)
    )
    cfg = _synced(tmp_path, box, many)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "customers", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # what `head -1` reads, then it goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(60)
    assert "BrokenPipe" not in err and "Error" not in err, err


@pytest.mark.parametrize(
    "command",
    [["customers"], ["customer", "Birch & Co"], ["status"], ["unlinked"], ["customers", "--json"]],
)
def test_a_closed_pipe_ends_every_command_quietly_with_0(
    tmp_path: Path, box: MaildirBox, command: list[str]
) -> None:
    """`mailkeeper customer NAME | head -2` exited 1 with nothing on stderr (rich's own
    broken-pipe handler), `unlinked | head -3` 141: a script under pipefail took both for a
    failure. The reader here closes the pipe before anything is written, so every command
    meets it whatever its output's size."""
    cfg = _synced(tmp_path, box)
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), *command],
        stdout=write_end,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    os.close(write_end)
    err = proc.stderr.decode()
    assert proc.returncode == 0 and err == "", (proc.returncode, err)


# ----------------------------------------------------------------------------- discovery
@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("goldengateoutdoorliving.com", "Golden Gate Outdoor Living"),
        ("mapletrading.de", "Maple Trading"),
        ("maple-trading.de", "Maple Trading"),
        ("aurora.de", "Aurora"),
        ("xinhuajiajuyongpin.com", "xinhuajiajuyongpin.com"),  # no split: keep the domain
        ("parkersons.com", "Parkersons"),  # not "Park Ersons"
    ],
)
def test_discovered_names_split_run_together_words(domain: str, name: str) -> None:
    assert name_from_domain(domain) == name


def test_look_alike_discovered_names_say_why(tmp_path: Path, box: MaildirBox) -> None:
    aurora = "customers:\n  - name: Aurora\n    domains: [aurora.com]\n"
    _both_ways(box, "max@aurora.de", datetime(2026, 10, 1, 9, tzinfo=UTC))
    cfg = box.config(tmp_path / "cfg", aurora)
    code, out, err = run("--config", str(cfg), "sync")
    assert code == 0, err
    assert "Aurora (aurora.de)" in out
    assert "already a customer (aurora.com)" in out and "add aurora.de" in out
    with App.from_config(cfg) as app:
        assert "aurora.de" in (app.customer("Aurora (aurora.de)")["notes"] or "")


def test_a_long_discovery_list_is_summarised(tmp_path: Path, box: MaildirBox) -> None:
    for i in range(12):
        _both_ways(box, f"buyer@shop{i:02d}.de", datetime(2026, 10, 1, 9, tzinfo=UTC))
    cfg = box.config(tmp_path / "cfg", "customers: []\n")
    code, out, _ = run("--config", str(cfg), "sync")
    assert code == 0
    assert "12 customers: " in out and "and 7 more" in out
    assert "Shop11" not in out


# ----------------------------------------------------------------------------- unlinked, sort
def test_unlinked_lists_what_linked_to_no_customer_and_why(tmp_path: Path, box: MaildirBox) -> None:
    t = datetime(2026, 10, 1, 9, tzinfo=UTC)
    box.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "linked", date=t))
    box.deliver("INBOX", make_mail("lee@lumen-furniture.com", ME, "colleague", date=t))
    box.deliver(
        "INBOX",
        make_mail("news@shop.example", ME, "newsletter", date=t, headers={"List-Id": "<n.x>"}),
    )
    box.deliver(
        "INBOX",
        make_mail(
            "x@unknown-co.de",
            ME,
            "Out of office",
            date=t,
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    box.deliver("INBOX", make_mail("someone@gmail.com", ME, "freemail", date=t))
    box.deliver("INBOX", make_mail("sales@stranger.de", ME, "one way", date=t))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    code, out, err = run("--config", str(cfg), "sync")
    assert code == 0, err
    code, out, err = run("--config", str(cfg), "unlinked", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert all(list(r) == ["message_id", "date", "from", "subject", "reason"] for r in rows)
    reasons = {r["subject"]: r["reason"] for r in rows}
    assert reasons == {
        "colleague": "internal",
        "newsletter": "bulk",
        "Out of office": "auto",
        "freemail": "freemail",
        "one way": "one_way",
    }
    code, out, _ = run("--config", str(cfg), "unlinked")
    assert code == 0 and "one_way" in out and "linked" not in out.replace("unlinked", "")


def test_customers_sorted_by_silence(tmp_path: Path, box: MaildirBox) -> None:
    _both_ways(box, "jane@birch.co.uk", datetime(2026, 10, 1, 9, tzinfo=UTC))
    _both_ways(box, "wang@huamei-home.cn", datetime(2026, 3, 1, 9, tzinfo=UTC))
    cfg = _synced(tmp_path, box)
    code, out, _ = run("--config", str(cfg), "customers", "--sort", "silence", "--json")
    assert code == 0
    names = [r["name"] for r in json.loads(out)]
    # Longest silence first; never in touch (Birchwood) last.
    assert names == ["华美家居 Huamei Home", "Birch & Co", "Birchwood Interiors"]


def test_skipped_corpus_tests_are_explained_in_one_line(tmp_path: Path) -> None:
    """Without ../shared/corpus, 128 tests skipped with no word in the summary."""
    here = Path(__file__).parent
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_corpus.py"],
        cwd=here.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MAILKEEPER_CORPUS": str(tmp_path / "absent")},
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    lines = [line for line in proc.stdout.splitlines() if "is absent" in line]
    assert len(lines) == 1 and str(tmp_path / "absent") in lines[0] and "skipped" in lines[0]
