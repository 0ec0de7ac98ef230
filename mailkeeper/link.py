"""Link messages to customers; discover new customer accounts.

A message links to a customer by exact address first, then by domain (subdomains included),
then by thread (a reply inherits the customers of the message it answers). Freemail domains
link by exact address only. The rep's own addresses and company domains never make a
customer; bulk mail never makes or touches one. An external registrable domain that the rep
has exchanged real mail with both ways (not auto-replies, not bulk) becomes a discovered
customer, which the rep confirms, renames, merges or ignores in rules/customers.yaml.

Linking also decides whether the rep sent a message (direction_of), so that a relink follows
the rules as they are now: only mail the rep actually sent counts as contact. And it decides
who a customer's people are (is_contact): the addresses its own rules name, never the rep's,
a colleague's or an automatic sender's. Each link records whether they are the other party
of the message (`contact`); detection counts only such messages, so mail in a customer's
thread from an outsider who knows its Message-ID is history, never a finding or contact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mailkeeper.domains import domain_of, in_domains, name_from_domain, parents
from mailkeeper.store import Store

if TYPE_CHECKING:
    from mailkeeper.config.rules import Rules
    from mailkeeper.config.settings import Settings

logger = logging.getLogger(__name__)

CHUNK = 5000  # messages linked at a time: memory stays flat at any mailbox size
# Part of the rules fingerprint: a change in how linking decides makes the next linking a
# full relink, so old messages follow the new logic.
LINK_VERSION = 3  # 3: sent only from a Sent folder; contacts and links.contact

# Local parts of automatic senders: bounces, DSNs, no-reply addresses. They may link a
# message to a customer (its history) but are never someone a draft is addressed to.
_AUTOMATIC_LOCAL = re.compile(
    r"(mailer-?daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply"
    r"|autoresponder|mail-?delivery-?(subsystem|system))([-+.].*)?",
    re.IGNORECASE,
)


@dataclass
class LinkStats:
    messages: int = 0
    linked: int = 0
    links: int = 0
    discovered: list[str] = field(default_factory=list)
    by_method: dict[str, int] = field(default_factory=dict)
    full: bool = False
    notes: list[str] = field(default_factory=list)  # why a discovered name reads as it does


@dataclass(frozen=True)
class Party:
    """Who is the rep, who is internal, what never links by domain."""

    own: frozenset[str]
    internal: frozenset[str]
    freemail: frozenset[str]
    ignore_domains: frozenset[str]
    ignore_addresses: frozenset[str]

    def is_external(self, email: str) -> bool:
        return email not in self.own and not in_domains(domain_of(email), self.internal)

    def is_ignored(self, email: str) -> bool:
        return email in self.ignore_addresses or in_domains(domain_of(email), self.ignore_domains)

    def is_freemail(self, domain: str | None) -> bool:
        return in_domains(domain, self.freemail)


def party_from(settings: Settings, rules: Rules) -> Party:
    return Party(
        own=frozenset(a.lower() for a in settings.me.addresses),
        internal=frozenset(d.lower() for d in settings.me.company_domains),
        freemail=frozenset(rules.freemail),
        ignore_domains=frozenset(rules.ignore_domains),
        ignore_addresses=frozenset(rules.ignore_addresses),
    )


def direction_of(sender: str | None, party: Party, draft: bool = False, sent: bool = False) -> str:
    """Whether the rep sent a message: `outbound` when the sender is one of the rep's own
    addresses, the message is not a draft (no \\Draft flag, not only in the Drafts, Trash or
    Junk folder: that is `draft`) and it was seen in a folder whose role is sent (`sent`);
    `internal` from a colleague (company domains); `inbound` from anyone else, and from the
    rep's own address when nothing shows the rep sent it: anyone can write that address in
    a From line, but only the rep's mail client puts mail in the Sent folder. Only outbound
    mail counts as the rep's contact."""
    if sender and sender in party.own:
        if draft:
            return "draft"
        return "outbound" if sent else "inbound"
    if sender and not party.is_external(sender):
        return "internal"
    return "inbound"


def is_automatic_address(email: str) -> bool:
    """A bounce, DSN or no-reply address (mailer-daemon@, postmaster@, no-reply@,
    bounces+123@ ...): never a customer's contact."""
    return _AUTOMATIC_LOCAL.fullmatch(email.rpartition("@")[0]) is not None


def rules_fingerprint(settings: Settings, rules: Rules) -> str:
    data = {
        "version": LINK_VERSION,
        "own": sorted(settings.me.addresses),
        "internal": sorted(settings.me.company_domains),
        "customers": [
            [
                c.name,
                sorted(c.domains),
                sorted(c.addresses),
                c.tier,
                c.language,
                c.owner,
                c.notes,
                sorted(c.aliases),
            ]
            for c in rules.customers
        ],
        "ignore": [sorted(rules.ignore_domains), sorted(rules.ignore_addresses)],
        "freemail": sorted(rules.freemail),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class Linker:
    """Keeps the customers table in step with the rules and links messages."""

    def __init__(self, store: Store, settings: Settings, rules: Rules) -> None:
        self.store = store
        self.rules = rules
        self.party = party_from(settings, rules)
        self.fingerprint = rules_fingerprint(settings, rules)
        # email -> (its domain, or None when the address never makes a link: the rep's own,
        # internal, ignored, or without a domain; whether the domain is freemail). A mailbox
        # has a few thousand distinct addresses and 100,000+ messages: classify each once.
        self._kinds: dict[str, tuple[str | None, bool]] = {}

    def _kind(self, email: str) -> tuple[str | None, bool]:
        kind = self._kinds.get(email)
        if kind is None:
            party = self.party
            dom = domain_of(email)
            if not dom or not party.is_external(email) or party.is_ignored(email):
                kind = (None, False)
            else:
                kind = (dom, party.is_freemail(dom))
            self._kinds[email] = kind
        return kind

    # ------------------------------------------------------------------ customers
    def rules_changed(self) -> bool:
        return self.store.state.rules_fingerprint() != self.fingerprint

    def apply_rules(self) -> None:
        """Write the configured customers; drop discovered ones the rules now claim."""
        store = self.store
        existing = {name: (cid, status) for cid, name, status in store.customers.by_status()}
        emails: dict[str, int] = {}
        domains: dict[str, int] = {}
        configured_names = set()
        for c in self.rules.customers:
            configured_names.add(c.name)
            for alias in c.aliases:  # rename / merge of a discovered account
                if (
                    alias in existing
                    and existing[alias][1] != "configured"
                    and c.name not in existing
                ):
                    store.customers.rename(existing[alias][0], c.name)
                    existing[c.name] = existing.pop(alias)
            cid = store.customers.upsert(
                c.name,
                "configured",
                tier=c.tier,
                language=c.language,
                owner=c.owner,
                notes=c.notes,
            )
            for d in c.domains:
                domains[d.lower()] = cid
            for a in c.addresses:
                emails[a.lower()] = cid
        stale = []
        _, old_domains, info = store.customers.maps()
        aliases = {a for c in self.rules.customers for a in c.aliases}
        for cid, (name, status) in info.items():
            if name in configured_names:
                continue
            if status == "configured" or name in aliases:
                stale.append(cid)  # removed from the rules, or merged into another customer
        configured = frozenset(domains)
        for d, cid in old_domains.items():
            if cid in stale or info.get(cid, ("", ""))[1] == "configured":
                continue
            if in_domains(d, configured):
                stale.append(cid)  # a discovered account the rep has now configured
                continue
            ignored = in_domains(d, self.party.ignore_domains)
            store.customers.set_status(cid, "ignored" if ignored else "discovered")
            if not ignored:
                domains.setdefault(d, cid)
        store.customers.delete(set(stale))
        store.customers.replace_keys(domains, emails)

    # ------------------------------------------------------------------ linking
    def newly_sent(self) -> list[str]:
        """Messages stored before from the rep's address, not counted as the rep's, that now
        have a copy in a Sent folder: to be linked again (store.links.sent_not_seen)."""
        return self.store.links.sent_not_seen(self.party.own)

    def link(self, keys: Sequence[str] | None) -> LinkStats:
        """Link `keys` (None: every message, a full relink), discovering customers first.

        Works through the messages oldest first, CHUNK at a time, so memory stays flat however
        large the mailbox: a reply finds its parent's customers in the links already written.
        The other messages of the threads of `keys` are linked again with them: a reply
        stored before its parent (an outage, a folder synced later) gets the links it would
        have had in date order, so the result does not depend on the order mail arrived in.
        """
        stats = LinkStats(full=keys is None)
        store = self.store
        with store.transaction():
            if keys is None or self.rules_changed():
                self.apply_rules()
                keys = None
                stats.full = True
            # A first sync links every message: whole-table queries instead of key lists.
            everything = keys is None or len(set(keys)) >= store.mail.message_count()
            if keys is None:
                ordered = store.links.keys_by_date(None)
                store.links.replace(None, [])
                store.links.replace_contacts(None)
            elif everything:
                ordered = store.links.keys_by_date(None)
            else:
                mates = store.links.thread_mates(keys)
                ordered = store.links.keys_by_date([*keys, *mates])
            self._directions(None if everything else ordered)
            new_domains = self._discover(None if everything else ordered, stats)
            if new_domains and not everything:
                # Older messages of a newly discovered customer get linked too.
                extra = store.links.keys_with_org_domains(new_domains) - set(ordered)
                if extra:
                    ordered = store.links.keys_by_date([*ordered, *extra])
            emails, domains, _ = store.customers.maps()
            by_email: dict[str, tuple[int, str, str] | None] = {}
            for i in range(0, len(ordered), CHUNK):
                chunk = ordered[i : i + CHUNK]
                inputs = list(store.links.inputs(chunk))
                contacts: dict[str, int] = {}
                links = self._links(inputs, emails, domains, by_email, stats, contacts)
                store.links.replace([] if keys is None else chunk, links)
                store.links.replace_contacts(contacts)
                stats.messages += len(inputs)
            store.state.set_rules_fingerprint(self.fingerprint)
        return stats

    def _directions(self, keys: list[str] | None) -> None:
        """Decide anew whether the rep sent each message in `keys` (None: all), and store
        the answers that changed."""
        changes, seen = [], []
        for key, sender, stored, draft, seen_before, in_sent in self.store.links.direction_inputs(
            keys
        ):
            direction = direction_of(sender, self.party, draft, seen_before or in_sent)
            if direction != stored:
                changes.append((key, direction))
            if in_sent and not seen_before:
                seen.append(key)  # kept: a copy moved out of Sent later still counts
        if changes:
            logger.info("direction of %d message(s) decided anew", len(changes))
            self.store.links.set_directions(changes)
        if seen:
            self.store.links.set_sent_seen(seen)

    def _discover(self, keys: list[str] | None, stats: LinkStats) -> list[str]:
        """Make a discovered customer of each new external org domain in `keys` (None: all
        messages) that has real mail both ways; returns the new domains."""
        emails, domains, info = self.store.customers.maps()
        candidates: set[str] = set()
        for email, org in self.store.links.real_mail_addresses(keys):
            if org in candidates or org in domains or email in emails:
                continue
            dom, freemail = self._kind(email)
            if dom is None or freemail or any(p in domains for p in parents(dom)):
                continue
            candidates.add(org)
        if not candidates:
            return []
        found = self.store.links.domain_directions(sorted(candidates))
        # Each customer's domains in one pass over the map (not one pass per customer: with
        # 20,000 customers that was 400 million steps).
        by_customer: dict[int, list[str]] = {}
        for domain, c in domains.items():
            by_customer.setdefault(c, []).append(domain)
        names = {n: by_customer.get(cid, []) for cid, (n, _) in info.items()}
        made = []
        for org in sorted(candidates):
            d = found.get(org)
            if not d or d["inbound"] == 0 or d["outbound"] == 0:
                continue
            name = name_from_domain(org)
            note = None
            if name in names:
                # Never two look-alike names without saying why: the domain tells them apart,
                # and the note says how to merge them if they are one company.
                other = names[name]
                note = (
                    f"named with its domain: '{name}' is already a customer"
                    + (f" ({', '.join(sorted(other))})" if other else "")
                    + f"; if it is the same company, add {org} to its domains in customers.yaml"
                )
                name = f"{name} ({org})"
            cid = self.store.customers.upsert(
                name, "discovered", tier=self.rules.default_tier, notes=note
            )
            self.store.customers.add_domain(org, cid)
            names[name] = [org]
            made.append(org)
            stats.discovered.append(name)
            if note:
                stats.notes.append(f"{name}: {note}")
        if made:
            logger.info("discovered %d customer(s): %s", len(made), ", ".join(stats.discovered))
        return made

    def _links(
        self,
        inputs: list[dict[str, Any]],
        emails: dict[str, int],
        domains: dict[str, int],
        by_email: dict[str, tuple[int, str, str] | None],
        stats: LinkStats,
        contacts: dict[str, int],
    ) -> list[tuple[str, int, str, str, bool]]:
        """The links of `inputs` (key, customer, method, via, contact: see _people); the
        customers' people met on real mail are added to `contacts` (email -> customer)."""
        wanted = set()
        for m in inputs:
            if m["in_reply_to"]:
                wanted.add(m["in_reply_to"])
            wanted.update(m["references"])
        relinked = {m["key"] for m in inputs}
        thread = self.store.links.thread_customers(wanted, relinked) if wanted else {}
        out: list[tuple[str, int, str, str, bool]] = []
        for m in inputs:  # oldest first, so a reply finds its parent linked already
            if m["is_bulk"]:
                continue
            found = self._by_address(m, emails, domains, by_email)
            if not found:
                for parent in [m["in_reply_to"], *reversed(m["references"])]:
                    if parent and thread.get(parent):
                        for cid in thread[parent]:
                            found.setdefault(cid, ("thread", parent))
                        break
            if found and m["message_id"]:
                thread.setdefault(m["message_id"], set()).update(found)
            if found:
                stats.linked += 1
                party = self._people(m, emails, domains, by_email, contacts)
            for cid, (method, via) in found.items():
                out.append((m["key"], cid, method, via, cid in party))
                stats.by_method[method] = stats.by_method.get(method, 0) + 1
        stats.links += len(out)
        return out

    def _people(
        self,
        m: dict[str, Any],
        emails: dict[str, int],
        domains: dict[str, int],
        by_email: dict[str, tuple[int, str, str] | None],
        contacts: dict[str, int],
    ) -> set[int]:
        """The customers whose own people are the other party of message `m`: its sender's
        customer, or for mail the rep sent, its To and Cc recipients' customers. A person is
        an address the customer's rules name (listed, or at one of its domains: what
        `_address_customer` answers), never an automatic sender. Those met on real mail (not
        an auto-reply) are added to `contacts`."""
        out: set[int] = set()
        outbound = m["direction"] == "outbound"
        for role, email, _ in m["addresses"]:
            if role == "reply_to":
                continue
            if email not in by_email:
                by_email[email] = self._address_customer(email, emails, domains)
            hit = by_email[email]
            if hit is None or is_automatic_address(email):
                continue
            if not m["is_auto"]:
                contacts[email] = hit[0]
            if (role == "from") != outbound:
                out.add(hit[0])
        return out

    def _by_address(
        self,
        m: dict[str, Any],
        emails: dict[str, int],
        domains: dict[str, int],
        by_email: dict[str, tuple[int, str, str] | None],
    ) -> dict[int, tuple[str, str]]:
        """Customers of a message by exact address, then by domain (most specific first).
        `by_email` caches each address's answer for one linking run (the maps are fixed)."""
        found: dict[int, tuple[str, str]] = {}
        for role, email, _ in m["addresses"]:
            if role == "reply_to":
                continue
            if email in by_email:
                hit = by_email[email]
            else:
                hit = by_email[email] = self._address_customer(email, emails, domains)
            if hit is not None:
                found.setdefault(hit[0], (hit[1], hit[2]))
        return found

    def _address_customer(
        self, email: str, emails: dict[str, int], domains: dict[str, int]
    ) -> tuple[int, str, str] | None:
        dom, freemail = self._kind(email)
        if dom is None:
            return None
        if email in emails:
            return emails[email], "address", email
        if freemail:
            return None
        for p in parents(dom):
            if p in domains:
                return domains[p], "domain", p
        return None


# ----------------------------------------------------------------------------- unlinked
# Why a message linked to no customer (`mailkeeper unlinked`), in the order they are tested.
UNLINKED_REASONS = {
    "bulk": "bulk mail (a list or a mailing service): never linked",
    "auto": "an auto-reply, bounce or receipt from no known customer",
    "internal": "only you and colleagues (company domains) on it",
    "ignored": "every outside address is under ignore: in customers.yaml",
    "freemail": "a freemail address not listed under a customer's addresses",
    "one_way": "an unknown domain with mail one way only (discovery needs both ways)",
}


def unlinked_reason(m: dict[str, Any], party: Party) -> str:
    """Why message `m` (store.links.unlinked's fields) is linked to no customer: one of
    UNLINKED_REASONS."""
    if m["bulk"]:
        return "bulk"
    outside = [
        email
        for role, email, _ in m["addresses"]
        if role != "reply_to" and domain_of(email) and party.is_external(email)
    ]
    if m["auto"] and outside:
        return "auto"
    if not outside:
        return "internal"
    kept = [e for e in outside if not party.is_ignored(e)]
    if not kept:
        return "ignored"
    if all(party.is_freemail(domain_of(e)) for e in kept):
        return "freemail"
    return "one_way"


def unlinked_messages(store: Store, party: Party, limit: int | None) -> list[dict[str, Any]]:
    """`unlinked` rows: message_id, date, from, subject, reason (newest first)."""
    return [
        {
            "message_id": m["message_id"],
            "date": m["date"],
            "from": m["from"],
            "subject": m["subject"],
            "reason": unlinked_reason(m, party),
        }
        for m in store.links.unlinked(limit)
    ]
