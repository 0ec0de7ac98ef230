"""Findings -> drafts: RFC 5322 messages written from the rep's Jinja2 templates.

Which findings get a draft, in what order (most urgent first, within the per-run and per-day
limits), addressed to whom and in which language; the templates are rendered in a sandbox
with StrictUndefined, so a broken template names its file and line and makes no draft, and
values from mail (names, subjects, sentences) are data, never template code. Header values
lose every control character (no header injection: a "\\r\\nBcc:" in a display name stays a
harmless part of the name). Nothing here touches a mailbox: publish.py adds the drafts.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mailkeeper.detect.finding import FindingData, parse_ts, ts
from mailkeeper.drafts.names import greeting
from mailkeeper.errors import ConfigError
from mailkeeper.store import Store
from mailkeeper.store.records import ParentMessage, StoredFinding, TimelineEntry

logger = logging.getLogger(__name__)

KIND_OF = {"neglect": "check_in", "issue": "issue_ack", "promise": "promise_followup",
           "progress": "progress", "problem": "problem", "greeting": "greeting",
           "need": "need", "report_card": "report_card"}  # fmt: skip
# the order drafts are made in when the limits leave room for only some
URGENCY = {"issue_ack": 0, "problem": 1, "promise_followup": 2, "progress": 3, "check_in": 4,
           "greeting": 5, "need": 5, "report_card": 6}  # fmt: skip
KEY_HEADER = "X-Mailkeeper-Key"
# every character Python's str.splitlines (and so the email package) takes for a line end:
# CR, LF, VT, FF, FS, GS, RS, NEL (U+0085), LS, PS; and the other C0/C1 controls
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_NOT_ID = re.compile(r"[^\x21-\x7e]|[<>]")


def clean_header(value: str | None) -> str:
    """A value from mail, safe in a header: control characters (CR, LF, NUL, ...) become one
    space, so nothing can start a header of its own."""
    return _CONTROL.sub(" ", value or "").strip()


def _msgid(value: str | None) -> str | None:
    value = _NOT_ID.sub("", value or "")
    return value if "@" in value or value else None


# ----------------------------------------------------------------------------- templates
class _Named:
    """A customer or contact in a template: prints as its name (so templates written for the
    plain-string context, `{{ customer }}`, keep working) and has fields. `_label` is the
    variable it is, for an error that names a field that does not exist."""

    def __init__(self, name: str, _label: str = "", **fields: Any) -> None:
        self.name = name
        self._label = _label
        self.__dict__.update(fields)

    def __str__(self) -> str:
        return self.name

    def __html__(self) -> str:  # in an HTML template (autoescape): escaped like any text
        from markupsafe import escape

        return str(escape(self.name))

    def fields(self) -> list[str]:
        return sorted(k for k in self.__dict__ if not k.startswith("_"))


def _undefined_class() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.utils import missing

    class Undefined(StrictUndefined):
        """StrictUndefined that says which variable lacks the field and what it has."""

        @property
        def _undefined_message(self) -> str:
            obj, name = self._undefined_obj, self._undefined_name
            if self._undefined_hint or obj is missing:
                return super()._undefined_message
            if isinstance(obj, _Named):
                return (
                    f"{obj._label or 'this value'} has no field {name!r}; "
                    f"its fields: {', '.join(obj.fields())}"
                )
            if isinstance(obj, dict):
                return f"no field {name!r} here; the fields: {', '.join(sorted(map(str, obj)))}"
            return f"{type(obj).__name__} value has no field {name!r}"

    return Undefined


class Templates:
    def __init__(self, search_path: tuple[Path, ...]) -> None:
        from jinja2 import FileSystemLoader

        from mailkeeper.drafts.sandbox import BoundedEnvironment

        self.search_path = search_path
        self.env = BoundedEnvironment(
            loader=FileSystemLoader([str(p) for p in search_path]),
            undefined=_undefined_class(),
            # the HTML part of a draft (report_card.LANG.html.j2) escapes every value; the text
            # parts are plain text
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            keep_trailing_newline=False,
        )

    def name_for(self, kind: str, language: str | None) -> str:
        for lang in (language, "en"):
            name = f"{kind}.{lang}.txt.j2"
            if any((p / name).is_file() for p in self.search_path):
                return name
        raise ConfigError(
            f"no template for {kind}",
            [f"add {kind}.en.txt.j2 to {self.search_path[0]} (`mailkeeper init` has examples)"],
        )

    def render(self, name: str, context: dict[str, Any]) -> tuple[str, str]:
        """(subject, body) of template `name`; ConfigError naming file and line on failure."""
        text = self.render_text(name, context)
        path = self._path(name)
        head, _, body = text.partition("\n")
        if not head.lower().startswith("subject:"):
            raise ConfigError(
                f"template {path}:1: the first line is not 'Subject: ...'",
                ["start the template with a line like: Subject: How are things?"],
            )
        return clean_header(head[len("subject:") :]), body.lstrip("\n").rstrip() + "\n"

    def html_name(self, kind: str, language: str | None) -> str | None:
        """The HTML template of `kind` (KIND.LANG.html.j2), if there is one."""
        for lang in (language, "en"):
            name = f"{kind}.{lang}.html.j2"
            if any((p / name).is_file() for p in self.search_path):
                return name
        return None

    def render_text(self, name: str, context: dict[str, Any]) -> str:
        """Template `name` rendered; ConfigError naming file and line on failure."""
        from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError

        from mailkeeper.drafts.sandbox import TemplateLimit

        path = self._path(name)
        try:
            template = self.env.get_template(name)
            text = self.env.render(template, context)
        except TemplateSyntaxError as e:
            raise ConfigError(
                f"template {e.filename or path}:{e.lineno}: {e.message}", ["fix the template"]
            ) from e
        except TemplateNotFound as e:
            raise ConfigError(
                f"template {path}:{_line_of(e, path)}: no template {e.name!r} to include "
                f"in {', '.join(str(p) for p in self.search_path)}",
                ["include only a template in that folder, by its plain name"],
            ) from e
        except UndefinedError as e:
            names = ", ".join(sorted(context))
            raise ConfigError(
                f"template {path}:{_line_of(e, path)}: {e}",
                [f"use only the variables a draft has ({names}); the README lists their fields"],
            ) from e
        except TemplateLimit as e:
            line = _line_of(e, path)  # 0: the whole text went past the size limit
            raise ConfigError(
                f"template {path}:{line or 1}: {e}",
                ["make the template smaller: a draft is a short text"],
            ) from e
        except RecursionError as e:
            raise ConfigError(
                f"template {path}:{_line_of(e, path)}: a macro or include calls itself without end",
                ["give the recursion an end, or write the text out"],
            ) from e
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as e:
            raise ConfigError(
                f"template {path}:{_line_of(e, path)}: {type(e).__name__}: {e}",
                ["fix the template; the variables it may use are listed in the README"],
            ) from e
        return str(text)

    def _path(self, name: str) -> str:
        for p in self.search_path:
            if (p / name).is_file():
                return str(p / name)
        return name


def _line_of(e: BaseException, path: str = "") -> int:
    """The line of the template `path` the error happened on (Jinja puts the template's
    file name on its frames); its last frame when the error left the template."""
    tb = e.__traceback__
    line = first = 0
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            first = first or tb.tb_lineno
            if not path or filename == path or filename.endswith("/" + Path(path).name):
                line = tb.tb_lineno
        tb = tb.tb_next
    return line or first


# The context of each kind's template, with example values: `check` renders every template
# with it (so a template that uses a variable that does not exist is found before a draft is
# due), and the README documents it.
def sample_context(kind: str) -> dict[str, Any]:
    me = _Named("Amy Chen", "me", signature="Amy Chen\nLumen Furniture", email="amy@example.com")
    context: dict[str, Any] = {
        "customer": _Named("Birch & Co", "customer", tier="A",
                           contacts=[_Named("Jane Oak", "contact", email="j@x.uk")]),
        "contact": _Named("Jane Oak", "contact", email="jane@birch.co.uk"),
        "contact_name": "Jane Oak", "salutation": "Dear Jane Oak,",
        "me": me, "recent_subjects": ["RFQ: oak tables"], "days_since_contact": 40,
        "last_contact": "2026-11-20", "today": "2027-01-06", "subject": "RFQ: oak tables",
        "issue": None, "issues": [], "latest": None, "promise": None, "order": None,
        "holiday": None, "check_in": None, "need": None, "card": None,
    }  # fmt: skip
    if kind == "issue_ack":
        context["issue"] = {"category": "complaint", "severity": "high", "phrase": "broken",
                            "sentence": "Two chairs arrived broken.", "subject": "Broken",
                            "received": "2027-01-05"}  # fmt: skip
        second = {"category": "question", "severity": "normal", "phrase": "when",
                  "sentence": "When can you send new ones?", "subject": "Replacement",
                  "received": "2027-01-06"}  # fmt: skip
        context["issues"] = [context["issue"], second]
        context["latest"] = {"subject": "Re: Broken", "received": "2027-01-06"}
    elif kind == "promise_followup":
        context["promise"] = {"text": "I will send the quotation by Friday.", "due": "2027-01-08",
                              "made": "2027-01-04", "subject": "RFQ",
                              "days_late": 2}  # fmt: skip
    elif kind in ("progress", "problem"):
        context["order"] = {
            "ref": "LF-2291", "last_milestone": "Deposit received", "milestone": None,
            "next_milestone": "Materials ordered", "next_due_at": "2027-01-10",
            "next_late": False,
            "problem": "The veneer arrives 5 days late." if kind == "problem" else None,
            "timeline": [{"milestone": "Deposit received", "planned_at": "2027-01-03",
                          "done_at": "2027-01-04", "note": ""}],
        }  # fmt: skip
    elif kind in ("greeting", "need"):
        from mailkeeper.drafts.touches import SAMPLES

        context.update(SAMPLES[kind])
    elif kind == "report_card":
        context["card"] = SAMPLE_CARD
    return context


# a report card as report/card.py figures it (the template's `card`); a figure without data
# is None, and the templates leave it out
SAMPLE_CARD: dict[str, Any] = {
    "period": "2026", "start": "2026-01-01", "end": "2026-12-31",
    "orders": {"count": 3, "refs": ["LF-2201", "LF-2233", "LF-2291"], "quantity": 1320,
               "quantity_text": "1,320", "quantity_of": 3,
               "amounts": [{"currency": "EUR", "amount": 4000, "text": "4,000"},
                           {"currency": "USD", "amount": 21500.5, "text": "21,500.50"}]},
    "on_time": {"shipped": 2, "on_time": 2, "percent": 100},
    "problems": {"recorded": 1, "told": 1, "median_hours_to_tell": 5.0},
    "issues": {"count": 4, "answered": 4, "median_first_answer_hours": 2.5, "open": 0},
}  # fmt: skip


def template_render_problems(search_path: tuple[Path, ...]) -> list[str]:
    """Every template of a known kind rendered with that kind's context: what fails, as
    FILE:LINE: problem."""
    templates = Templates(search_path)
    problems = []
    seen: set[str] = set()
    for folder in search_path:
        for path in sorted([*Path(folder).glob("*.txt.j2"), *Path(folder).glob("*.html.j2")]):
            kind = path.name.split(".")[0]
            if path.name in seen or kind not in URGENCY:
                continue
            seen.add(path.name)
            try:
                if path.name.endswith(".html.j2"):  # a body only, no Subject: line
                    templates.render_text(path.name, sample_context(kind))
                    continue
                templates.render(path.name, sample_context(kind))
            except ConfigError as e:
                problems.append(f"{e.args[0].removeprefix('template ')}; {', '.join(e.problems)}")
    return problems


# ----------------------------------------------------------------------------- a draft
@dataclass
class PlannedDraft:
    finding: StoredFinding
    kind: str
    account: str
    to_addr: str
    to_name: str
    subject: str
    body: str
    template: str
    language: str | None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_key: str | None = None
    key: str = field(default_factory=lambda: secrets.token_hex(16))
    message_id: str = ""
    raw: bytes = b""
    html: str | None = None  # a text/html alternative (the report card's table)


def build_message(d: PlannedDraft, me: Any, now: datetime, tz: Any = None) -> bytes:
    """The draft as RFC 5322 bytes (CRLF line ends, as IMAP APPEND wants them): dated in the
    rep's time zone `tz`, its text in format=flowed (see flowed.py)."""
    from mailkeeper.drafts.flowed import flow

    msg = EmailMessage(policy=email.policy.SMTP)
    own = me.addresses[0]
    domain = own.rpartition("@")[2] or "mailkeeper.invalid"
    msg["From"] = Address(display_name=clean_header(me.name), addr_spec=own)
    msg["To"] = Address(display_name=clean_header(d.to_name), addr_spec=d.to_addr)
    msg["Subject"] = clean_header(d.subject)
    msg["Date"] = email.utils.format_datetime(now.astimezone(tz) if tz is not None else now)
    d.message_id = email.utils.make_msgid(domain=domain)
    msg["Message-ID"] = d.message_id
    parent = _msgid(d.in_reply_to)
    if parent:
        refs = [r for r in (_msgid(x) for x in d.references) if r]
        msg["In-Reply-To"] = f"<{parent}>"
        msg["References"] = " ".join(f"<{r}>" for r in [*refs, parent] if r)
    msg[KEY_HEADER] = d.key
    # quoted-printable keeps the soft breaks' trailing spaces visible (=20) on the wire
    msg.set_content(
        flow(d.body),
        charset="utf-8",
        cte="quoted-printable",
        params={"format": "flowed", "delsp": "yes"},
    )
    if d.html is not None:  # multipart/alternative: the text first, the richer part last
        msg.add_alternative(d.html, subtype="html", charset="utf-8", cte="quoted-printable")
    d.raw = msg.as_bytes()
    return d.raw


PLACEHOLDER = re.compile(r"\[\[[^\[\]\n]{1,300}\]\]")


def placeholders(raw: bytes) -> list[str]:
    """The [[...]] placeholders in a draft's text: facts the rep must still add."""
    from mailkeeper.drafts.flowed import unflow

    if not raw:
        return []
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(("plain",)) if isinstance(msg, EmailMessage) else None
    try:
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError):
        return []
    return PLACEHOLDER.findall(unflow(text))


def readable_headers(raw: bytes) -> dict[str, str]:
    """A draft's headers decoded (for a dry run the rep can proofread)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return {k: str(v) for k, v in msg.items() if k.lower() != "content-transfer-encoding"}


# ----------------------------------------------------------------------------- planning
class Drafter:
    """Chooses the findings that need a draft and writes them."""

    def __init__(self, store: Store, settings: Any, rules: Any) -> None:
        self.store = store
        self.settings = settings
        self.rules = rules
        self.templates = Templates(settings.template_search_path)

    def wanted(self, now: datetime) -> list[StoredFinding]:
        """Live findings that want a draft now, most urgent first."""
        ahead = timedelta(hours=self.settings.drafts.promise_ahead_hours)
        out: list[StoredFinding] = []
        findings = self.store.findings
        for f in findings.live(["neglect"], ["neglected"]):
            if f.data.get("status") == "configured":
                out.append(f)
        out += findings.live(["issue"], ["open", "overdue"])
        for f in findings.live(["promise"], ["open", "overdue"]):
            due = f.due_at
            if due is not None and due - ahead <= now:
                out.append(f)
        out += findings.live(["progress", "problem"], ["open", "overdue", "due", "late"])
        out += findings.live(["need"], ["open"])  # greetings: like check-ins, configured only
        out += [f for f in findings.live(["greeting"], ["open"])
                if f.data.get("status") == "configured"]  # fmt: skip
        out += findings.live(["report_card"], ["open"])
        blocked = self.store.drafts.blocked_findings(now)
        out = [f for f in out if f.id not in blocked]
        return sorted(out, key=lambda f: (URGENCY[KIND_OF[f.kind]], -(f.rank or 0)))

    def plan(
        self, now: datetime, limit: int, only: list[StoredFinding] | None = None
    ) -> tuple[list[PlannedDraft], list[str]]:
        """Up to `limit` drafts, and a note for each finding that could not get one. A
        template that fails skips only its kind (in `self.broken`: kind -> the problem, with
        file:line); a message that cannot be built skips only its draft. `self.limited`:
        how many findings wait for the next run because the limits were reached."""
        names = self.store.customers.names_by_id()
        planned: list[PlannedDraft] = []
        skipped: list[str] = []
        self.broken: dict[str, str] = {}
        self.limited = 0
        # a customer who gets (or has waiting) another draft needs no check-in besides it,
        # an order one progress report at a time, and a contact one acknowledgement
        pending = self.store.drafts.listing(("pending",))
        written = {d.customer_id for d in pending}
        reported = {
            (f.kind, f.data.get("ref"))
            for f in (self.store.findings.get(d.finding_id) for d in pending)
            if f is not None and f.kind == "progress"
        }
        acked = {
            (d.customer_id, (d.to_addr or "").lower()) for d in pending if d.kind == "issue_ack"
        }
        wanted = self.wanted(now) if only is None else only
        # a customer due a greeting and a check-in gets one draft: the greeting, asking the
        # check-in's question
        self.check_ins = {f.customer_id: f for f in wanted if f.kind == "neglect"}
        greeted = {f.customer_id for f in wanted if f.kind == "greeting"}
        open_issues: dict[tuple[int, str], list[StoredFinding]] = {}
        for f in wanted:
            if f.kind == "issue":
                open_issues.setdefault(_issue_key(f), []).append(f)
        for f in wanted:
            kind = KIND_OF[f.kind]
            if f.kind == "neglect" and f.customer_id in greeted:
                skipped.append(f"#{f.id}: no check-in: the greeting to them asks its question")
                continue
            if f.kind == "neglect" and f.customer_id in written:
                skipped.append(f"#{f.id}: no check-in: another draft to them is waiting")
                continue
            if f.kind == "progress" and ("progress", f.data.get("ref")) in reported:
                skipped.append(f"#{f.id}: the progress report on {f.data.get('ref')} "
                               "waiting in Drafts covers it")  # fmt: skip
                continue
            if f.kind == "issue" and _issue_key(f) in acked:
                skipped.append(f"#{f.id}: the answer to {_issue_key(f)[1]} waiting in "
                               "Drafts covers it")  # fmt: skip
                continue
            if kind in self.broken:
                skipped.append(f"#{f.id}: no {kind} draft: its template has a problem")
                continue
            if len(planned) >= limit:
                self.limited += 1
                skipped.append(f"#{f.id}: waits for the next run (limit reached)")
                continue
            try:
                d = self._plan_one(f, names.get(f.customer_id) or "", now, open_issues)
            except ConfigError as e:  # a broken template: no draft of this kind this run
                self.broken[kind] = "; ".join([e.args[0], *e.problems])
                skipped.append(f"#{f.id}: no {kind} draft: {e.args[0]}")
                continue
            except ValueError as e:  # an address the message cannot carry
                skipped.append(f"#{f.id}: {e}")
                continue
            if d is None:
                skipped.append(f"#{f.id}: no address to write to")
                continue
            try:
                build_message(d, self.settings.me, now, self.settings.tz)
            except (ValueError, TypeError, LookupError) as e:  # this message only
                logger.warning("finding #%s: no draft: %s", f.id, e)
                skipped.append(f"#{f.id}: no draft: the message cannot be written: {e}")
                continue
            planned.append(d)
            written.add(f.customer_id)
            if f.kind == "progress":
                reported.add(("progress", f.data.get("ref")))
            if f.kind == "issue":
                acked.add(_issue_key(f))
        return planned, skipped

    def _plan_one(
        self,
        f: StoredFinding,
        customer: str,
        now: datetime,
        open_issues: dict[tuple[int, str], list[StoredFinding]] | None = None,
    ) -> PlannedDraft | None:
        kind = KIND_OF[f.kind]
        store = self.store
        cid = f.customer_id
        row = store.customers.find(customer) if customer else None
        rule = self.rules.customer(customer) if customer else None
        given = rule.language if rule is not None and rule.language_given else None
        language = given or store.activity.customer_language(cid) or "en"
        contacts = store.customers.contacts(
            cid, sorted(a.lower() for a in self.settings.me.addresses)
        )
        data = f.data
        tz = self.settings.tz
        latest = None
        parent_key = f.message_key
        group = [f]
        if f.kind == "issue":
            # one answer per contact: to their latest mail about what is open (a chaser in
            # an issue's thread, or an issue of theirs in a new thread)
            group = (open_issues or {}).get(_issue_key(f)) or [f]
            latest = self._latest_about(cid, data.get("contact") or "", group)
            if latest is not None:
                parent_key = latest["key"]
                if latest["key"] in {g.message_key for g in group}:
                    latest = None  # an issue itself, not a chaser
        parent = store.activity.message(parent_key) if parent_key else None
        to_addr, to_name = _recipient(f, parent, contacts)
        if not to_addr:
            return None
        account = (parent.account if parent else None) or next(iter(self.settings.accounts))
        hello = greeting(to_addr, to_name, language, customer, rule)
        context: dict[str, Any] = {
            "customer": _Named(
                customer,
                "customer",
                tier=data.get("tier") or (row or {}).get("tier"),
                contacts=[
                    _Named(c["name"] or c["email"], "contact", email=c["email"])
                    for c in contacts[:5]
                ],
            ),  # fmt: skip
            "contact": _Named(hello.name or to_addr, "contact", email=to_addr),
            "contact_name": hello.name,
            "salutation": hello.salutation,
            "me": _Named(
                self.settings.me.name,
                "me",
                signature=self.settings.me.signature.rstrip(),
                email=self.settings.me.addresses[0],
            ),  # fmt: skip
            "recent_subjects": store.activity.recent_subjects(cid),
            "days_since_contact": data.get("days_since_contact"),
            "last_contact": _local_day(data.get("last_contact"), tz),
            "today": now.astimezone(tz).date().isoformat(),
            "subject": (parent.subject if parent else "") or data.get("subject") or "",
            "issue": None,
            "issues": [],
            "latest": None,
            "promise": None,
            "order": None,
            "holiday": None,
            "check_in": None,
            "need": None,
            "card": data.get("card") if f.kind == "report_card" else None,
        }
        if f.kind == "issue":
            context["issue"] = _issue_context(f, tz)
            context["issues"] = [
                _issue_context(g, tz)
                for g in sorted(group, key=lambda g: g.data.get("received_at") or "")
            ]
            if latest is not None:
                context["latest"] = {
                    "subject": latest["subject"],
                    "received": _local_day(latest["date"], tz),
                }
        elif f.kind == "promise":
            due = parse_ts(data.get("due_at"))
            late = (now.astimezone(tz).date() - due.astimezone(tz).date()).days if due else 0
            context["promise"] = {
                "text": data.get("text") or "", "due": _local_day(data.get("due_at"), tz),
                "made": _local_day(data.get("made_at"), tz), "subject": data.get("subject") or "",
                "days_late": max(late, 0),
            }  # fmt: skip
        elif f.kind in ("progress", "problem"):
            context["order"] = _order_context(data, language, tz)
            due = context["order"]["next_due_at"]
            context["order"]["next_late"] = bool(due) and due < context["today"]
        template = self.templates.name_for(kind, language)
        if f.kind in ("greeting", "need"):
            from mailkeeper.drafts.touches import touch_context

            check_in = getattr(self, "check_ins", {}).get(cid)
            context.update(
                touch_context(f, template.split(".")[1], check_in, lambda v: _local_day(v, tz))
            )
        subject, body = self.templates.render(template, context)
        html_name = self.templates.html_name(kind, language) if f.kind == "report_card" else None
        html = self.templates.render_text(html_name, context) if html_name else None
        reply = parent is not None and f.kind in ("issue", "promise", "progress", "problem", "need")
        return PlannedDraft(
            finding=f,
            kind=kind,
            account=account,
            to_addr=to_addr,
            to_name=hello.name,
            subject=subject,
            body=body,
            template=template,
            language=language,
            in_reply_to=parent.message_id if parent and reply else None,
            references=list(parent.references) if parent and reply else [],
            # the thread the draft answers in: a reply there means the rep sent it
            thread_key=(parent.thread_key if parent and reply else None) or f.thread_key,
            html=html,
        )

    def _latest_about(
        self, cid: int, address: str, group: list[StoredFinding]
    ) -> dict[str, Any] | None:
        """The contact's latest mail that is one of the open issues `group` or follows one in
        its thread (a chaser), newest first; None when there is none."""
        address = address.lower()
        since = min(g.data.get("received_at") or "" for g in group)
        keys = {g.message_key for g in group}
        threads = {g.thread_key for g in group} - {None}
        for m in self.store.customers.timeline(cid, 200):  # newest first
            if m["date"] < since:
                return None
            if m["direction"] != "inbound" or (m["from"] or "").lower() != address:
                continue
            if m["key"] in keys:
                return m
            found = self.store.activity.message(m["key"])
            if found is not None and found.thread_key in threads:
                return m
        return None


def _issue_key(f: StoredFinding) -> tuple[int, str]:
    """The contact an issue draft answers: one pending answer per contact and customer."""
    return f.customer_id, (f.data.get("contact") or "").lower()


def _issue_context(f: StoredFinding, tz: Any) -> dict[str, Any]:
    data = f.data
    return {
        "category": data.get("category"), "severity": data.get("severity"),
        "sentence": data.get("sentence") or "", "phrase": data.get("phrase") or "",
        "subject": data.get("subject") or "",
        "received": _local_day(data.get("received_at"), tz),
    }  # fmt: skip


def _order_context(data: FindingData, language: str, tz: Any) -> dict[str, Any]:
    """An order finding's data (detect/progress.py) in the documented template shape."""

    def label(
        entry: FindingData | TimelineEntry, names: str = "labels", plain: str = "label"
    ) -> str:
        loose: dict[str, Any] = dict(entry)  # a timeline entry, or the finding's own milestone
        return (loose.get(names) or {}).get(language) or loose.get(plain) or ""

    by_name = {m.get("milestone"): m for m in data.get("timeline") or []}

    def named(milestone: str | None) -> str | None:
        return label(by_name[milestone]) if milestone in by_name else milestone

    return {
        "ref": data.get("ref") or "",
        "last_milestone": named(data.get("last_milestone")),
        "next_milestone": named(data.get("next_milestone")),
        "next_due_at": _local_day(data.get("next_due_at"), tz) or None,
        "problem": data.get("note") if data.get("reason") == "problem" else None,
        "milestone": label(data, "milestone_labels", "milestone_label") or None,
        "timeline": [
            {
                "milestone": label(m),
                "planned_at": _local_day(m.get("planned_at"), tz) or None,
                "done_at": _local_day(m.get("actual_at"), tz) or None,
                "note": m.get("note") or "",
            }
            for m in data.get("timeline") or []
            if m.get("state") != "skipped"
            and (m.get("planned_at") or m.get("actual_at") or not m.get("every_days"))
        ],
    }


def _recipient(
    f: StoredFinding, parent: ParentMessage | None, contacts: list[dict[str, Any]]
) -> tuple[str, str]:
    contact = f.data.get("contact")
    if f.kind in ("issue", "progress", "problem") and contact:
        return contact, clean_header(f.data.get("contact_name"))
    if f.kind == "need" and parent and parent.sender:  # the customer who said it
        return parent.sender, clean_header(parent.sender_name)
    if f.kind in ("promise", "progress", "problem") and parent and parent.to:
        name, addr = parent.to[0]
        return addr, clean_header(name)
    if contacts:
        return contacts[0]["email"], clean_header(contacts[0]["name"])
    return "", ""


def _local_day(value: str | None, tz: Any) -> str:
    dt = parse_ts(value)
    return dt.astimezone(tz).date().isoformat() if dt else ""


def _iso(dt: datetime) -> str:
    return ts(dt) or ""


# ----------------------------------------------------------------------------- kept sources
class TemplateSnapshot:
    """The template sources of a search path as they were when read, kept in memory: what the
    daemon drafts from until a reload is accepted (a refused one leaves the broken file on
    disk, which must not take effect). A Jinja2 loader: file names stay the rep's paths, so
    errors still name FILE:LINE."""

    def __init__(self, search_path: tuple[Path, ...]) -> None:
        self.search_path = search_path
        self.sources: dict[str, tuple[str, str]] = {}  # name -> (source, file name)
        for folder in search_path:
            for path in sorted(Path(folder).rglob("*.j2")):
                name = path.relative_to(folder).as_posix()
                if name not in self.sources:  # the first folder wins, as for the file loader
                    self.sources[name] = (path.read_text(encoding="utf-8"), str(path))

    def problems(self) -> list[str]:
        """Each known kind's template rendered from these sources with its sample context,
        as `check` does (template_render_problems): what fails, as FILE:LINE: problem."""
        problems = []
        templates = self.templates(self.search_path)
        for name in sorted(self.sources):
            kind = name.split(".")[0]
            if "/" in name or not name.endswith((".txt.j2", ".html.j2")) or kind not in URGENCY:
                continue
            try:
                if name.endswith(".html.j2"):
                    templates.render_text(name, sample_context(kind))
                    continue
                templates.render(name, sample_context(kind))
            except ConfigError as e:
                problems.append(f"{e.args[0].removeprefix('template ')}; {', '.join(e.problems)}")
        return problems

    def templates(self, search_path: tuple[Path, ...]) -> Templates:
        """A Templates that renders from these sources (the folders only name a file)."""
        from jinja2 import FunctionLoader

        templates = Templates(search_path)
        templates.env.loader = FunctionLoader(self._load)
        return templates

    def _load(self, name: str) -> tuple[str, str, Any] | None:
        found = self.sources.get(name)
        if found is None:
            return None
        return found[0], found[1], lambda: True  # always up to date: nothing reads the disk
