"""How a draft greets its reader: a small name model.

A contact's entry in customers.yaml wins (`contacts: [{address, name, salutation}]`).
Otherwise the display name of their mail is used when it reads as a person's name:
"Last, First" becomes "First Last"; a name that is an address, or holds `@`, `:`, a control
or line-break character, angle brackets or other header-like text, is not used (a sender can
write anything there, and the rep would send it). Without a usable name the greeting is a
neutral one in the draft's language. Chinese names keep their order (李经理，您好！).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Greetings per language: (with a name, to the customer's team, neutral)
_GREETINGS = {
    "en": ("Dear {name},", "Dear {customer} team,", "Hello,"),
    "zh": ("{name}，您好！", "{customer}，您好！", "您好！"),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NOT_A_NAME = re.compile(r"[@:<>\[\]{}|\\/=;\"]|https?|www\.|\d{3}", re.I)
_WORDS = re.compile(r"^[^\s,]+(?: [^\s,]+){0,3}$")
_QUOTES = "\"'`“”‘’"


@dataclass(frozen=True)
class Greeting:
    name: str  # the name the draft may use, "" when none is usable
    salutation: str  # the whole greeting line, e.g. "Dear Ingrid Haugen,"


def person_name(display: str | None) -> str:
    """The display name of a mail as a name a draft may print, or "" when it is not one."""
    raw = display or ""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in raw):
        return ""  # a line break or control character: text a sender smuggled in
    name = " ".join(raw.split()).strip(_QUOTES + " ")
    if not name or _NOT_A_NAME.search(name):
        return ""
    if _CJK.search(name):
        return name if len(name) <= 12 and " " not in name.strip() else ""
    if name.count(",") == 1:  # "Haugen, Ingrid" -> "Ingrid Haugen"
        last, first = (p.strip() for p in name.split(","))
        if not (_WORDS.match(last) and _WORDS.match(first)):
            return ""
        name = f"{first} {last}"
    elif "," in name:
        return ""  # "Sales, Birch & Co, UK": not a person
    if not _WORDS.match(name) or not any(ch.isalpha() for ch in name):
        return ""
    if name.isupper() and len(name) > 3:  # "INGRID HAUGEN" -> "Ingrid Haugen"
        name = " ".join(w.capitalize() for w in name.split())
    return name


def greeting(
    address: str,
    display: str | None,
    language: str | None,
    customer: str = "",
    rule: Any = None,
) -> Greeting:
    """How a draft to `address` (display name `display`) opens. `rule`: the customer's
    customers.yaml entry, whose `contacts` win over the display name."""
    forms = _GREETINGS.get((language or "en").split("-")[0].lower(), _GREETINGS["en"])
    for c in getattr(rule, "contacts", ()) or ():
        if c.address == address.lower():
            name = c.name or ""
            if c.salutation:
                return Greeting(name, c.salutation)
            return Greeting(name, forms[0].format(name=name))
    name = person_name(display)
    local = re.sub(r"[._-]", "", address.partition("@")[0]).casefold()
    if name and re.sub(r"[ ._-]", "", name).casefold() == local and len(name.split()) == 1:
        name = ""  # "info <info@...>", "jdoe <jdoe@...>": the mailbox's name, not a person's
    if name:
        return Greeting(name, forms[0].format(name=name))
    if _team_name(customer):
        return Greeting("", forms[1].format(customer=customer))
    return Greeting("", forms[2])


def _team_name(customer: str) -> bool:
    """A customer name that reads well in "Dear NAME team," (not a domain, not odd text)."""
    text = customer.strip()
    return bool(text) and not (
        _NOT_A_NAME.search(text)
        or re.search(r"\.[a-z]{2,}\b", text)  # a domain such as birch.co.uk
        or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)
    )
