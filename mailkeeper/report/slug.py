"""File names of the customer pages: lower-case ASCII, runs of anything else one hyphen."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_OTHER = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """'Delta Retail' -> 'delta-retail'; accents are dropped (Café -> cafe); '' when the name
    has no ASCII letter or digit."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _OTHER.sub("-", ascii_name.lower()).strip("-")


def slugs(customers: Iterable[tuple[int, str]]) -> dict[int, str]:
    """customer id -> a unique slug: the name's, else the id (a name with no ASCII letters,
    e.g. 华美家居); a slug taken already by another customer gets its id appended."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for cid, name in sorted(customers):
        s = slug(name) if re.search(r"[a-z]", slug(name)) else str(cid)
        if s in taken:
            s = f"{s}-{cid}"
        taken.add(s)
        out[cid] = s
    return out
