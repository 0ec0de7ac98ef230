"""rules/touches.yaml: the small touches. Which holidays deserve a greeting (per country, named
as the `holidays` package names them in en_US) and, per tier, how many days ahead a greeting is
drafted, whether dormant customers get one, and how many weeks ahead a customer's stated need
is recalled.

Every holiday name is checked against the package's calendar for that country this year and
next, so a misspelt name is a FILE:LINE problem at `check`, not a greeting that never comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from mailkeeper.config.countries import normalize
from mailkeeper.config.yamlreader import YamlReader

FILE = "touches.yaml"
_KEYS = ("greetings", "tiers")
_TIER_KEYS = ("greeting_days_before", "greet_dormant", "need_lead_weeks")


@dataclass(frozen=True)
class TierTouches:
    greeting_days_before: int = 5  # 0: no greetings for this tier
    greet_dormant: bool = False  # greet customers silent longer than dormant_after_days too
    need_lead_weeks: int = 6  # a need is recalled this long before its time


@dataclass(frozen=True)
class Touches:
    greetings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # country -> names
    tiers: dict[str, TierTouches] = field(default_factory=dict)
    source: Path | None = None

    def tier(self, name: str) -> TierTouches:
        return self.tiers.get(name) or TierTouches()


# ----------------------------------------------------------------------------- the calendar
def _split(value: str) -> list[str]:
    """The package joins two holidays on one day with '; '."""
    return [part.strip() for part in value.split(";") if part.strip()]


@lru_cache(maxsize=256)
def calendar(country: str, year: int, language: str = "en_US") -> tuple[tuple[date, str], ...]:
    """(day, name) of every holiday the package knows for `country` in `year`, every
    category it has (public, optional, ...), named in `language` where it can."""
    import holidays

    base = holidays.country_holidays(country)
    lang = language if language in (base.supported_languages or ()) else None
    cal = holidays.country_holidays(
        country, years=year, language=lang, categories=base.supported_categories
    )
    return tuple(sorted((d, n) for d, v in cal.items() for n in _split(v)))


def holiday_days(country: str, name: str, year: int) -> list[date]:
    """The days called `name` in `year` (an '(estimated)' Islamic date counts as the day)."""
    return [d for d, n in calendar(country, year) if n.removesuffix(" (estimated)") == name]


def local_names(country: str, day: date, name: str) -> dict[str, str]:
    """`name` (the en_US name of `day`) in each language the country's calendar speaks, by
    language code (zh_CN -> zh): the draft in Chinese wishes a happy 春节."""
    import holidays

    english = [n for d, n in calendar(country, day.year) if d == day]
    if name not in [n.removesuffix(" (estimated)") for n in english]:
        return {}
    at = [n.removesuffix(" (estimated)") for n in english].index(name)
    out: dict[str, str] = {}
    for lang in holidays.country_holidays(country).supported_languages or ():
        names = [n for d, n in calendar(country, day.year, lang) if d == day]
        if len(names) == len(english):
            out.setdefault(lang.split("_")[0].lower(), names[at].removesuffix(" (estimated)"))
    return out


def known_names(country: str, years: tuple[int, ...]) -> set[str]:
    return {n.removesuffix(" (estimated)") for y in years for _, n in calendar(country, y)}


# ----------------------------------------------------------------------------- reading
def read_touches(
    path: Path | None, tiers: tuple[str, ...], problems: list[str], today: date | None = None
) -> Touches:
    """The rules of `path` (None: no file, the built-in defaults). Problems as FILE:LINE."""
    if path is None or not path.is_file():
        return Touches()
    r = YamlReader(path, problems)
    root = r.compose()
    if root is None:
        return Touches(source=path)
    keys = r.mapping(root, FILE, _KEYS)
    if keys is None:
        return Touches(source=path)
    years = ((today or date.today()).year, (today or date.today()).year + 1)
    greetings = _greetings(r, keys["greetings"], years) if "greetings" in keys else {}
    per_tier = _tiers(r, keys["tiers"], tiers) if "tiers" in keys else {}
    return Touches(greetings, per_tier, path)


def _greetings(r: YamlReader, node: Node, years: tuple[int, ...]) -> dict[str, tuple[str, ...]]:
    import holidays

    out: dict[str, tuple[str, ...]] = {}
    supported = holidays.list_supported_countries()
    for raw, key_node, value in r.entries(node, "greetings", "country: [holiday, ...]"):
        country = normalize(raw)
        if country is None:
            r.problem(key_node, f"greetings: '{raw}' is not an ISO 3166 country code",
                      "a two-letter code like DE, CN or US")  # fmt: skip
            continue
        if country not in supported:
            r.problem(key_node, f"greetings: the holidays package has no calendar for {country}",
                      "a country the holidays package knows")  # fmt: skip
            continue
        known = known_names(country, years)
        names = []
        for name, item in r.text_list(value, f"greetings.{country}", "Christmas Day"):
            if name in known:
                names.append(name)
                continue
            import difflib

            close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
            r.problem(
                item,
                f"greetings.{country}: no holiday '{name}' in {country}'s calendar for "
                f"{years[0]}-{years[1]}",
                "a name as the holidays package writes it in en_US"
                + (f", e.g. {', '.join(repr(c) for c in close)}" if close else ""),
            )
        out[country] = tuple(dict.fromkeys(names))
    return out


def _tiers(r: YamlReader, node: Node, tiers: tuple[str, ...]) -> dict[str, TierTouches]:
    out: dict[str, TierTouches] = {}
    for name, key_node, value in r.entries(node, "tiers", "tier: {greeting_days_before: 5}"):
        if tiers and name not in tiers:
            r.problem(key_node, f"tiers: '{name}' is not one of the tiers in tiers.yaml",
                      f"one of {', '.join(tiers)}")  # fmt: skip
            continue
        keys = r.mapping(value, f"tiers.{name}", _TIER_KEYS)
        if keys is None:
            continue
        got: dict[str, Any] = {}
        if "greeting_days_before" in keys:
            off = _off(keys["greeting_days_before"])
            got["greeting_days_before"] = (
                0 if off else r.integer(keys["greeting_days_before"],
                                        f"tiers.{name}.greeting_days_before", 0, 120)
            )  # fmt: skip
        if "greet_dormant" in keys:
            got["greet_dormant"] = r.boolean(keys["greet_dormant"], f"tiers.{name}.greet_dormant")
        if "need_lead_weeks" in keys:
            got["need_lead_weeks"] = r.integer(
                keys["need_lead_weeks"], f"tiers.{name}.need_lead_weeks", 0, 52
            )
        if any(v is None for v in got.values()):
            continue
        out[name] = TierTouches(**got)
    return out


def _off(node: Node) -> bool:
    from yaml.nodes import ScalarNode

    return isinstance(node, ScalarNode) and str(node.value).strip().lower() in (
        "off",
        "false",
        "no",
    )


def load_touches(rules_dir: Path, tiers: tuple[str, ...]) -> Touches:
    """The rep's touches.yaml, else the shipped one; ConfigError with FILE:LINE problems."""
    from mailkeeper.config.rules import rule_file
    from mailkeeper.errors import ConfigError

    problems: list[str] = []
    path = rule_file(rules_dir, FILE)
    touches = _cached(path, _stamp(path), tiers, date.today(), problems)
    if problems:
        raise ConfigError("the touches rules have problems", problems)
    return touches


def _stamp(path: Path | None) -> tuple[int, int]:
    if path is None:
        return 0, 0
    st = path.stat()
    return st.st_mtime_ns, st.st_size


_CACHE: dict[tuple[object, ...], tuple[Touches, tuple[str, ...]]] = {}


def _cached(
    path: Path | None, stamp: tuple[int, int], tiers: tuple[str, ...], today: date,
    problems: list[str],
) -> Touches:  # fmt: skip
    """Read once per file version and day (a scan runs after every sync)."""
    key = (path, stamp, tiers, today)
    if key not in _CACHE:
        found: list[str] = []
        _CACHE.clear()
        _CACHE[key] = (read_touches(path, tiers, found, today), tuple(found))
    touches, seen = _CACHE[key]
    problems.extend(seen)
    return touches
