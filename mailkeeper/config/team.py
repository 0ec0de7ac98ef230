"""The `team:` section of mailkeeper.yaml: this rep's connection to the team record on
PostgreSQL (issue 23), read with file and line like the rest of the file.

```yaml
team:
  rep: amy                 # this rep's team name: the PostgreSQL role the admin created
  host: db.example.com
  port: 5432
  database: mailkeeper_team
  user: amy                # default: rep
  password_command: pass show mailkeeper/team   # or password_env: VAR (or neither: ~/.pgpass)
  sslmode: verify-full     # disable | allow | prefer | require | verify-ca | verify-full
  sslrootcert: ./team-ca.pem
  share: full              # full (headers and text) | headers (text stays on this laptop)
```
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yaml.nodes import Node

from mailkeeper.config.yamlreader import YamlReader

TEAM_KEYS = (
    "rep",
    "host",
    "port",
    "database",
    "user",
    "password_command",
    "password_env",
    "sslmode",
    "sslrootcert",
    "share",
)
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SHARES = ("full", "headers")


@dataclass(frozen=True)
class TeamSettings:
    rep: str
    host: str
    database: str
    user: str
    port: int = 5432
    password_command: str | None = None
    password_env: str | None = None
    sslmode: str = "prefer"
    sslrootcert: Path | None = None
    share: Literal["full", "headers"] = "full"


def _loopback(host: str) -> bool:
    if host == "localhost" or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_team(r: YamlReader, node: Node, base: Path) -> TeamSettings | None:
    """The `team:` mapping, every problem reported with its line; None when it is wrong."""
    keys = r.mapping(node, "team", TEAM_KEYS, required=("rep", "host", "database"))
    if keys is None:
        return None
    before = len(r.problems)
    text: dict[str, str] = {}
    for key in ("rep", "host", "database", "user", "password_command", "password_env"):
        if key in keys:
            value = r.text(keys[key], f"team.{key}")
            if value is not None:
                text[key] = value
    port = r.integer(keys["port"], "team.port", 1, 65535) if "port" in keys else 5432
    if "password_command" in keys and "password_env" in keys:
        r.problem(keys["password_env"], "team: both password_command and password_env",
                  "one of them")  # fmt: skip
    sslmode = "prefer"
    if "sslmode" in keys:
        sslmode = r.text(keys["sslmode"], "team.sslmode") or sslmode
        if sslmode not in SSLMODES:
            r.problem(keys["sslmode"], f"team.sslmode: unknown mode '{sslmode}'",
                      f"one of {', '.join(SSLMODES)}")  # fmt: skip
    cert = None
    if "sslrootcert" in keys:
        raw = r.text(keys["sslrootcert"], "team.sslrootcert", "a PEM file with the CA")
        if raw is not None:
            cert = Path(os.path.normpath(base / Path(raw).expanduser()))
            if not cert.is_file():
                r.problem(keys["sslrootcert"], f"team.sslrootcert: {cert} does not exist",
                          "the CA certificate (PEM) that signed the server's")  # fmt: skip
    share = "full"
    if "share" in keys:
        share = r.text(keys["share"], "team.share") or share
        if share not in SHARES:
            r.problem(keys["share"], f"team.share: unknown value '{share}'",
                      "full (headers and text) or headers (text stays local)")  # fmt: skip
    host = text.get("host", "")
    if host and not _loopback(host) and sslmode not in ("verify-ca", "verify-full"):
        r.warn(keys.get("sslmode", node), f"team: the connection to {host} is not verified "
               "(sslmode: verify-full with sslrootcert: CA file checks the server)")  # fmt: skip
    if len(r.problems) > before or port is None or not {"rep", "host", "database"} <= set(text):
        return None
    return TeamSettings(
        rep=text["rep"],
        host=host,
        port=port,
        database=text["database"],
        user=text.get("user", text["rep"]),
        password_command=text.get("password_command"),
        password_env=text.get("password_env"),
        sslmode=sslmode,
        sslrootcert=cert,
        share="headers" if share == "headers" else "full",
    )
