"""Countries: ISO 3166 alpha-2 codes, a country's main time zone and its hemisphere.

Offline: the codes come from the system's tz database (iso3166.tab) when it is there, else
from the `holidays` package's list; both are ISO 3166.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_TZ_DIRS = (Path("/usr/share/zoneinfo"), Path("/usr/lib/zoneinfo"), Path("/usr/share/lib/zoneinfo"))
# countries spread over several zones: the zone most of their business keeps (zone.tab lists
# a country's zones in no such order: Australia's first is Lord Howe Island)
_MAIN_ZONE = {
    "AU": "Australia/Sydney", "BR": "America/Sao_Paulo", "CA": "America/Toronto",
    "CN": "Asia/Shanghai", "ID": "Asia/Jakarta", "KZ": "Asia/Almaty", "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland", "RU": "Europe/Moscow", "US": "America/New_York",
    "ES": "Europe/Madrid", "PT": "Europe/Lisbon", "DE": "Europe/Berlin", "CL": "America/Santiago",
    "AR": "America/Argentina/Buenos_Aires", "EC": "America/Guayaquil", "MY": "Asia/Kuala_Lumpur",
    "UA": "Europe/Kyiv", "GB": "Europe/London", "FR": "Europe/Paris", "NL": "Europe/Amsterdam",
    "IN": "Asia/Kolkata", "VN": "Asia/Ho_Chi_Minh", "AE": "Asia/Dubai", "SA": "Asia/Riyadh",
}  # fmt: skip
# wholly or mostly south of the equator: their seasons are the other way round
SOUTHERN = frozenset(
    "AR AU BO BW CL LS MG MU MZ NA NZ PE PY UY ZA ZM ZW BR AO MW SZ FJ PG NC".split()
)


def _tab(name: str) -> list[list[str]]:
    for folder in _TZ_DIRS:
        path = folder / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return [ln.split("\t") for ln in lines if ln and not ln.startswith("#")]
    return []


@lru_cache(maxsize=1)
def codes() -> frozenset[str]:
    """Every ISO 3166 alpha-2 code known here."""
    found = {row[0].upper() for row in _tab("iso3166.tab") if row}
    if not found:
        import holidays

        found = {c for c in holidays.list_supported_countries() if len(c) == 2}
    return frozenset(found)


def normalize(value: str) -> str | None:
    """`de`, ` DE ` -> DE; `UK` (a common slip) -> GB; None when it is no ISO 3166 code."""
    code = value.strip().upper()
    code = {"UK": "GB", "EL": "GR"}.get(code, code)
    return code if code in codes() else None


@lru_cache(maxsize=512)
def main_zone(country: str) -> str:
    """The IANA zone a customer in `country` most likely keeps; UTC when none is known."""
    if country in _MAIN_ZONE:
        return _MAIN_ZONE[country]
    for row in _tab("zone.tab"):
        if len(row) >= 3 and row[0] == country:
            return row[2]
    return "UTC"


def southern(country: str | None) -> bool:
    return country in SOUTHERN
