"""Drafts a rep can send as they are (issue 18 B, issue 19 items 4 and 7): how a draft greets,
its line form, flags and Date, what a broken template or a hostile subject stops (only its own
draft), one answer per contact, placeholders, and templates that cannot exhaust the machine.
The drafts are fetched back from the real Dovecot (or read from the Maildir) and parsed."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail, write_config
from imapclient import IMAPClient

from mailkeeper.app import App
from mailkeeper.cli import cli
from mailkeeper.drafts.flowed import flow, unflow
from mailkeeper.drafts.names import greeting, person_name

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
CUSTOMERS = """\
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
    contacts:
      - {address: tom@birch.co.uk, salutation: "Hi Tom,"}
  - name: Fjord Interiors
    domains: [fjord.no]
    tier: A
  - name: Doe Retail
    addresses: [j.doe@example.com]
    tier: A
  - name: 华美家居
    domains: [huamei-home.cn]
    tier: A
    language: zh
"""


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def _parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert not msg.defects
    return msg  # type: ignore[return-value]


def _cli(cfg: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


# ----------------------------------------------------------------------------- the name model
@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Haugen, Ingrid", "Ingrid Haugen"),
        ('"Oak, Jane"', "Jane Oak"),
        ("Jane Oak", "Jane Oak"),
        ("j.doe@example.com", ""),
        ("Evil Bcc: boss@evil.example", ""),
        ("Evil\r\nBcc: x", ""),
        ("Jane\u2028Oak", ""),
        ("Sales, Birch & Co, UK", ""),
        ("李经理", "李经理"),
        ("INGRID HAUGEN", "Ingrid Haugen"),
        ("", ""),
    ],
)
def test_a_display_name_is_used_only_when_it_reads_as_a_name(display: str, expected: str) -> None:
    assert person_name(display) == expected


def test_greetings_per_language_and_the_contacts_entry_wins() -> None:
    class Contact:
        address, name, salutation = "ingrid@fjord.no", "Ingrid", None

    class Rule:
        contacts = (Contact(),)

    assert greeting("x@fjord.no", "Haugen, Ingrid", "en").salutation == "Dear Ingrid Haugen,"
    assert greeting("ingrid@fjord.no", "I. H.", "en", "Fjord", Rule()).salutation == (
        "Dear Ingrid,"
    )
    assert greeting("x@fjord.no", "x@fjord.no", "en", "Fjord AS").salutation == (
        "Dear Fjord AS team,"
    )
    assert greeting("x@fjord.no", "", "en", "fjord.no").salutation == "Hello,"
    assert greeting("info@fjord.no", "info", "en", "Fjord AS").salutation == "Dear Fjord AS team,"
    assert greeting("li@hm.cn", "李经理", "zh", "华美家居").salutation == "李经理，您好！"
    assert greeting("li@hm.cn", "li@hm.cn", "zh").salutation == "您好！"


def test_a_contacts_entry_in_customers_yaml_is_checked_with_file_and_line(tmp_path: Path) -> None:
    from mailkeeper import check

    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(
        tmp_path / "cfg",
        "customers:\n  - name: Birch & Co\n    domains: [birch.co.uk]\n    contacts:\n"
        "      - {address: not-an-address, name: Tom}\n"
        "      - {address: ann@birch.co.uk}\n",
    )
    problems = check.check(cfg, offline=True).problems
    assert any("customers.yaml:5" in p and "not-an-address" in p for p in problems), problems
    assert any("customers.yaml:6" in p and "no name and no salutation" in p for p in problems)


# ----------------------------------------------------------------------------- line form
def test_flowed_text_wraps_at_72_columns_and_reflows() -> None:
    para = "It has been a while since we last spoke, so I wanted to check in. " * 4
    zh = (
        "想跟您确认一下：最近的订单和产品使用情况是否顺利？如果有任何需要改进的地方，请一定告诉我。"
        * 2
    )
    text = f"Dear Jane,\n\n{para.strip()}\n> not a quote\nFrom here\n\n{zh}\n-- \nAmy"
    out = flow(text)
    assert max(len(line) for line in out.split("\n")) <= 72
    assert unflow(out) == text


# ----------------------------------------------------------------------------- IMAP
@pytest.mark.imap
def test_drafts_fetched_from_dovecot_read_as_a_rep_would_send_them(tmp_path: Path, imap) -> None:
    """Salutations (name model, customers.yaml contacts), \\Draft \\Seen, the rep's time zone,
    format=flowed text with no line over 78 characters that reflows into paragraphs."""
    for to in ("tom@birch.co.uk", "ingrid@fjord.no", "j.doe@example.com", "li@huamei-home.cn"):
        imap.deliver("Sent", make_mail(ME, to, "Offer", date=ago(40)), user=imap.user)
    inbound = [
        ("Tom Birch <tom@birch.co.uk>", "Hello"),
        ('"Haugen, Ingrid" <ingrid@fjord.no>', "Hello"),
        ("j.doe@example.com", "Hello"),
        ("李经理 <li@huamei-home.cn>", "你好"),
    ]
    for sender, subject in inbound:
        imap.deliver("INBOX", make_mail(sender, ME, subject, date=ago(41)), user=imap.user)
    imap.index(imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, CUSTOMERS)
    with App.from_config(cfg) as app:
        r = app.draft(as_of=AS_OF)
    assert sorted(d["kind"] for d in r["added"]) == ["check_in"] * 4
    c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
    c.login(imap.user, "secret")
    c.select_folder("Drafts", readonly=True)
    fetched = c.fetch(c.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"])
    c.logout()
    greetings = {}
    for item in fetched.values():
        assert set(item[b"FLAGS"]) >= {b"\\Draft", b"\\Seen"}
        msg = _parse(item[b"BODY[]"])
        assert msg["Date"].datetime.utcoffset() == timedelta(hours=8)  # Asia/Shanghai
        body = msg.get_body(("plain",))
        assert body.get_param("format") == "flowed" and body.get_param("delsp") == "yes"
        text = body.get_content()
        assert max(len(line) for line in text.splitlines()) <= 78
        paragraphs = unflow(text.replace("\r\n", "\n")).split("\n")
        greetings[msg["To"].addresses[0].addr_spec] = paragraphs[0]
        if "@huamei-home.cn" not in msg["To"]:
            assert any(
                p.startswith("It has been a while") and p.endswith("hear about it.")
                for p in paragraphs
            )  # a paragraph comes back whole
    assert greetings == {
        "tom@birch.co.uk": "Hi Tom,",
        "ingrid@fjord.no": "Dear Ingrid Haugen,",
        "j.doe@example.com": "Dear Doe Retail team,",
        "li@huamei-home.cn": "李经理，您好！",
    }


# ----------------------------------------------------------------------------- failures
def _complaint(box: MaildirBox, sender: str, subject: str, text: str, when: datetime,
               msgid: str | None = None, in_reply_to: str | None = None) -> None:  # fmt: skip
    box.deliver("INBOX", make_mail(sender, ME, subject, text, msgid=msgid,
                                   in_reply_to=in_reply_to, date=when))  # fmt: skip


def test_a_broken_template_skips_only_its_kind_and_says_which(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("Sent", make_mail(ME, "tom@birch.co.uk", "Offer", date=ago(3)))
    box.deliver("Sent", make_mail(ME, "li@huamei-home.cn", "报价", date=ago(60)))
    _complaint(box, "tom@birch.co.uk", "Broken", "Two chairs arrived broken.", ago(1))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    bad = tmp_path / "cfg" / "templates" / "check_in.zh.txt.j2"
    bad.write_text("Subject: hi\n\n{{ salutation }}\n{{ contact.nmae }}\n")
    code, out, err = _cli(cfg, "draft", "--as-of", AS_OF.isoformat())
    assert code == 1
    assert "added issue_ack to tom@birch.co.uk" in out  # the other kinds are drafted
    assert "check_in" in err and f"{bad}:4" in err
    assert "contact has no field 'nmae'; its fields: email, name" in err  # not a class name
    kinds = [
        _parse(p.read_bytes())["Subject"] for p in (box.folder_dir("Drafts") / "cur").iterdir()
    ]
    assert kinds == ["Re: Broken"]
    code, out, _ = _cli(cfg, "status", "--json")
    warnings = json.loads(out)["warnings"]
    assert len(warnings) == 1 and f"{bad}:4" in warnings[0]


def test_a_line_break_character_in_a_subject_stops_no_draft(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("Sent", make_mail(ME, "tom@birch.co.uk", "Offer", date=ago(3)))
    box.deliver("Sent", make_mail(ME, "li@huamei-home.cn", "报价", date=ago(60)))
    for n, ch in enumerate(("\u0085", "\u2028", "\x0b", "\x0c", "\x1c")):
        subject = base64.b64encode(f"Urgent{ch}Bcc: x@evil.example".encode()).decode()
        raw = make_mail("tom@birch.co.uk", ME, "placeholder",
                        "The colour is wrong, we are very disappointed.", date=ago(1 + n / 24),
                        msgid=f"<lb{n}@birch.co.uk>")  # fmt: skip
        box.deliver("INBOX", raw.replace(b"placeholder", f"=?utf-8?b?{subject}?=".encode()))
    with App.from_config(box.config(tmp_path / "cfg", CUSTOMERS)) as app:
        box.folder_dir("Drafts")
        r = app.draft(as_of=AS_OF)
    assert sorted(d["kind"] for d in r["added"]) == ["check_in", "issue_ack"]
    for path in (box.folder_dir("Drafts") / "cur").iterdir():
        msg = _parse(path.read_bytes())
        assert msg["Bcc"] is None and len(str(msg["Subject"]).splitlines()) == 1


# ----------------------------------------------------------------------------- one answer
def test_one_answer_per_contact_to_the_latest_mail_mentioning_what_is_open(
    tmp_path: Path,
) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("Sent", make_mail(ME, "tom@birch.co.uk", "Offer", date=ago(6)))
    box.deliver("Sent", make_mail(ME, "ingrid@fjord.no", "Offer", date=ago(6)))
    # Tom: a complaint, then a chaser in its thread
    _complaint(box, "tom@birch.co.uk", "Broken legs", "Two chairs arrived broken.",
               ago(2), msgid="<c1@birch.co.uk>")  # fmt: skip
    _complaint(box, "tom@birch.co.uk", "Re: Broken legs", "Could you reply today, please?",
               ago(1), msgid="<c2@birch.co.uk>", in_reply_to="<c1@birch.co.uk>")  # fmt: skip
    # Ingrid: a complaint, then another one in a new thread
    _complaint(box, "ingrid@fjord.no", "Colour", "The colour is wrong, we are very disappointed.",
               ago(3), msgid="<f1@fjord.no>")  # fmt: skip
    _complaint(box, "ingrid@fjord.no", "Scratches", "The table tops are badly scratched.",
               ago(1), msgid="<f2@fjord.no>")  # fmt: skip
    with App.from_config(box.config(tmp_path / "cfg", CUSTOMERS)) as app:
        r = app.draft(as_of=AS_OF)
        acks = [d for d in r["added"] if d["kind"] == "issue_ack"]
        assert sorted(d["to"] for d in acks) == ["ingrid@fjord.no", "tom@birch.co.uk"]
        again = app.draft(as_of=AS_OF + timedelta(hours=1))
        assert not [d for d in again["added"] if d["kind"] == "issue_ack"]
    drafts = {}
    for path in (box.folder_dir("Drafts") / "cur").iterdir():
        msg = _parse(path.read_bytes())
        drafts[msg["To"].addresses[0].addr_spec] = msg
    tom = drafts["tom@birch.co.uk"]
    assert tom["In-Reply-To"] == "<c2@birch.co.uk>"  # the chaser, the latest
    tom_text = unflow(tom.get_content())
    assert "Two chairs arrived broken." in tom_text and "write again" in tom_text
    ingrid = drafts["ingrid@fjord.no"]
    assert ingrid["In-Reply-To"] == "<f2@fjord.no>"
    text = unflow(ingrid.get_content())
    assert "The colour is wrong" in text and "badly scratched" in text


# ----------------------------------------------------------------------------- the CLI
def test_dry_run_prints_one_line_then_the_decoded_draft(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("Sent", make_mail(ME, "li@huamei-home.cn", "报价", date=ago(60)))
    box.deliver("INBOX", make_mail("李经理 <li@huamei-home.cn>", ME, "回复：报价", "谢谢",
                                   date=ago(59)))  # fmt: skip
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    code, out, _ = _cli(cfg, "draft", "--dry-run", "--as-of", AS_OF.isoformat())
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "would add check_in to li@huamei-home.cn: 近况问候（Amy Chen）"
    assert "    Subject: 近况问候（Amy Chen）" in lines
    assert "    李经理，您好！" in lines
    assert "=?utf-8?" not in out and "base64" not in out and "=E5" not in out


def test_the_limit_gives_one_summary_line_details_with_v(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    for to in ("tom@birch.co.uk", "ingrid@fjord.no", "j.doe@example.com", "li@huamei-home.cn"):
        box.deliver("Sent", make_mail(ME, to, "Offer", date=ago(60)))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    cfg.write_text(cfg.read_text() + "drafts: {per_run: 1}\n")
    code, out, _ = _cli(cfg, "draft", "--dry-run", "--as-of", AS_OF.isoformat())
    assert code == 0
    assert "findings without a draft: 3 wait for the next run" in out
    assert "limit reached" not in out
    code, out, _ = _cli(cfg, "-v", "draft", "--dry-run", "--as-of", AS_OF.isoformat())
    assert out.count("waits for the next run (limit reached)") == 3


def test_a_late_promise_says_so_and_drafts_lists_its_placeholder(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("INBOX", make_mail("tom@birch.co.uk", ME, "RFQ", "Please quote 40 tables.",
                                   msgid="<rfq@birch.co.uk>", date=ago(10)))  # fmt: skip
    box.deliver("Sent", make_mail(ME, "tom@birch.co.uk", "Re: RFQ",
                                  "Thanks. I will send the revised quotation by Friday.",
                                  in_reply_to="<rfq@birch.co.uk>", date=ago(9)))  # fmt: skip
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    code, out, err = _cli(cfg, "draft", "--as-of", AS_OF.isoformat())
    assert code == 0, err
    assert "added promise_followup to tom@birch.co.uk" in out
    [path] = (box.folder_dir("Drafts") / "cur").iterdir()
    text = unflow(_parse(path.read_bytes()).get_content())
    assert "I am sorry this comes later than promised" in text
    code, out, _ = _cli(cfg, "drafts", "--json")
    [row] = json.loads(out)
    assert row["placeholders"] == ["[[the update you promised, or a note that it is attached]]"]


# ----------------------------------------------------------------------------- template bombs
BOMBS = {
    "repeat": ("{{ 'x' * (10**10) }}", 3),
    "loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
              "{% endfor %}", 3),
    "range": ("{% for i in range(10**9) %}{% endfor %}", 3),
    "recursion": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}\n{{ f(1) }}", 3),
    "include": ("{% include '../x' %}", 3),
    "pad": ("\n{{ '{:>9999999999}'.format('a') }}", 4),
    "center": ("{{ 'x'|center(10**10) }}", 3),
    "doubling": ("{% set ns = namespace(s='x') %}{% for i in range(60) %}"
                 "{% set ns.s = ns.s ~ ns.s %}{% endfor %}", 3),
    "time": ("{% for i in range(9000) %}{% for j in range(9000) %}{{ '' }}{% endfor %}"
             "{% endfor %}", 3),
}  # fmt: skip


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_a_template_cannot_exhaust_the_machine(tmp_path: Path, bomb: str) -> None:
    """Run in a child with 1 GB of address space and 60 s, so a template that is not
    bounded fails this test instead of the machine."""
    text, line = BOMBS[bomb]
    (tmp_path / "check_in.en.txt.j2").write_text(f"Subject: x\n\n{text}\n")
    script = textwrap.dedent(
        f"""
        import resource, sys, time
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from mailkeeper.drafts.compose import Templates, sample_context
        from mailkeeper.errors import ConfigError
        start = time.monotonic()
        try:
            Templates((Path({str(tmp_path)!r}),)).render(
                "check_in.en.txt.j2", sample_context("check_in"))
        except ConfigError as e:
            print(e.args[0]); print("; ".join(e.problems))
            print(f"{{time.monotonic() - start:.1f}}")
        """
    )
    p = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert p.returncode == 0, p.stderr[-500:]
    message, advice, seconds = p.stdout.splitlines()
    assert f"check_in.en.txt.j2:{line}:" in message
    assert advice  # what to do
    assert float(seconds) < 10


def test_a_message_that_cannot_be_written_skips_only_its_draft(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("Sent", make_mail(ME, "ingrid@fjord.no", "Offer", date=ago(3)))
    _complaint(box, "ingrid@fjord.no", "Colour", "The colour is wrong, we are very disappointed.",
               ago(1))  # fmt: skip
    raw = make_mail("placeholder@birch.co.uk", ME, "Broken", "Two chairs arrived broken.",
                    date=ago(1))  # fmt: skip
    # an address with a non-ASCII local part: an ASCII message cannot carry it in To
    box.deliver("INBOX", raw.replace(b"placeholder@", "jürgen@".encode()))
    with App.from_config(box.config(tmp_path / "cfg", CUSTOMERS)) as app:
        r = app.draft(as_of=AS_OF)
    assert [d["to"] for d in r["added"] if d["kind"] == "issue_ack"] == ["ingrid@fjord.no"]
    assert any("jürgen@birch.co.uk" in w or "cannot be written" in w for w in r["waiting"])
