"""Read a YAML file and report its problems as "FILE:LINE: what; expected ...".

Files are composed with PyYAML's SafeLoader (`yaml.compose`), so every node keeps the line it
came from. Problems are collected, never raised one by one; type errors describe the kind of a
value, never the value itself (it may be a secret). `YamlReader` is public so that other files
(settings, rules, issue phrases, orders) are validated the same way. Also here: the generic value
checks and normalizers (domains, addresses, times of day, sizes) and the did-you-mean helper.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from datetime import time
from pathlib import Path
from typing import BinaryIO

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mailkeeper.domains import is_public_suffix

# libyaml's parser keeps line numbers too and is ~10x faster on a 300-customer file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_WHERE = re.compile(r"^(.*?):(\d+): ")


def _in_file_order(messages: list[str]) -> list[str]:
    """Sorted by file (in order of first mention), then line; a message without a line first."""
    files: dict[str, int] = {}

    def key(message: str) -> tuple[int, int]:
        m = _WHERE.match(message)
        name, line = (m.group(1), int(m.group(2))) if m else (message.split(":")[0], 0)
        return files.setdefault(name, len(files)), line

    return sorted(messages, key=key)


def _summary(where: Path, problems: list[str]) -> str:
    n = len(problems)
    return f"{n} problem{'s' if n != 1 else ''} in the configuration ({where})"


# ----------------------------------------------------------------------------- whose file
class RefusedFile(Exception):
    """A configuration or rules file mailkeeper will not read; the message says why."""


def _shipped(real: Path) -> bool:
    """Whether `real` is one of mailkeeper's own shipped defaults (root-owned in a system
    install, and trusted like the code beside them)."""
    from mailkeeper.config import defaults

    try:
        root = defaults.rules_dir().resolve()
    except Exception:  # noqa: BLE001 - no shipped defaults: nothing is shipped
        return False
    return real.is_relative_to(root)


def open_own_file(path: Path) -> BinaryIO:
    """`path` opened for reading when it is a regular file owned by the user running
    mailkeeper (a symlink to such a file is fine) or one of the shipped defaults; else
    RefusedFile. A symlink to someone else's file (/etc/shadow), a device or a FIFO is
    refused before a byte is read, so no error can quote what it holds. The file is
    checked after opening (fstat), so it cannot be swapped in between; O_NONBLOCK keeps a
    FIFO from blocking the open."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else _special_kind(st.st_mode)
            raise RefusedFile(f"is {what}, not a regular file")
        me = os.getuid() if hasattr(os, "getuid") else st.st_uid
        if st.st_uid != me and not _shipped(path.resolve()):
            real = path.resolve()
            via = f" (a link to {real})" if real != path.absolute() else ""
            raise RefusedFile(f"belongs to another user{via}, not to you")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


_NAME_LIKE = re.compile(r"^\w[\w .-]{0,39}$")
_VALUE_LIKE = 60


def key_excerpt(key: str) -> str:
    """A key as an error may quote it: `'name'` when it looks like a YAML key someone
    wrote (a short name), else only its length. A line of some other file read by mistake
    (`root:$6$...`) never reaches the terminal."""
    if _NAME_LIKE.match(key):
        return f"'{key}'"
    return f"that is not a name ({len(key)} characters)"


def value_excerpt(raw: str) -> str:
    """A value as an error may quote it: printable and short, else cut, with control
    characters shown as '?'."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in raw)
    if len(clean) <= _VALUE_LIKE:
        return f"'{clean}'"
    return f"'{clean[:24]}…' ({len(raw)} characters)"


# ----------------------------------------------------------------------------- YAML reading
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _kind(node: Node) -> str:
    """What a node is, in words, without its value (it may be a secret)."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        _NULL: "empty",
        _BOOL: "true/false",
        _INT: "a number",
        _FLOAT: "a number",
        _STR: "text" if node.value.strip() else "empty text",
    }.get(node.tag, f"tagged {node.tag}")


def _suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


class YamlReader:
    """One YAML file: composes it and records problems as "FILE:LINE: name: what; expected ..."."""

    def __init__(self, path: Path, problems: list[str], warnings: list[str] | None = None) -> None:
        self.path = path
        self.problems = problems
        self.warnings: list[str] = warnings if warnings is not None else []

    # -- whole file
    def compose(self) -> Node | None:
        """The root node; None (with a problem recorded) when unreadable, None too when empty."""
        try:
            with open_own_file(self.path) as fh:
                return yaml.compose(fh, Loader=_LOADER)
        except RefusedFile as exc:
            self.problems.append(
                f"{self.path}: refused: it {exc}; expected a regular file you own "
                "(a symlink to one is fine)"
            )
        except FileNotFoundError:
            self.problems.append(f"{self.path}: does not exist; expected a YAML file")
        except IsADirectoryError:
            self.problems.append(f"{self.path}: is a folder; expected a YAML file")
        except OSError as exc:
            self.problems.append(f"{self.path}: cannot be read ({exc.strerror})")
        except yaml.MarkedYAMLError as exc:
            self.problems.append(self._syntax_problem(exc))
        except yaml.reader.ReaderError as exc:
            self.problems.append(
                f"{self.path}: not readable text ({exc.reason}); expected UTF-8 YAML"
            )
        except yaml.YAMLError:
            self.problems.append(f"{self.path}: not valid YAML; expected a YAML file")
        return None

    def _syntax_problem(self, exc: yaml.MarkedYAMLError) -> str:
        # Never str(exc): it quotes the offending line, which may hold a password.
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return (
            f"{self.path}:{line}: YAML syntax error: {what}{context}; "
            "expected valid YAML (check indentation, colons and quotes)"
        )

    # -- reporting
    def line(self, node: Node) -> int:
        return int(node.start_mark.line) + 1

    def where(self, node: Node) -> str:
        return f"{self.path}:{self.line(node)}"

    def problem(self, node: Node, what: str, expected: str | None = None) -> None:
        tail = f"; expected {expected}" if expected else ""
        self.problems.append(f"{self.where(node)}: {what}{tail}")

    def warn(self, node: Node | None, what: str) -> None:
        where = self.where(node) if node is not None else str(self.path)
        self.warnings.append(f"{where}: {what}")

    # -- mappings
    def entries(self, node: Node, name: str, expected: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) of a mapping, duplicates reported and dropped."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{name} is {_kind(node)}", expected)
            return []
        seen: dict[str, int] = {}
        out: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            key = self._key(key_node, name)
            if key is None:
                continue
            if key in seen:
                self.problem(
                    key_node,
                    f"{name}: duplicate key {key_excerpt(key)} (first on line {seen[key]})",
                    "each key once",
                )
                continue
            seen[key] = self.line(key_node)
            out.append((key, key_node, value_node))
        return out

    def _key(self, key_node: Node, name: str) -> str | None:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
            self.problem(key_node, f"{name}: a key is {_kind(key_node)}", "a plain name as key")
            return None
        if key_node.value == "<<":
            self.problem(
                key_node,
                f"{name}: YAML merge keys ('<<') are not supported",
                "the keys written out",
            )
            return None
        return str(key_node.value)

    def mapping(
        self,
        node: Node,
        name: str,
        keys: Sequence[str],
        required: Sequence[str] = (),
    ) -> dict[str, Node] | None:
        """A mapping with a fixed set of keys: unknown keys and missing required keys reported."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{name} is {_kind(node)}", f"a mapping with keys {', '.join(keys)}")
            return None
        out: dict[str, Node] = {}
        for key, key_node, value_node in self.entries(node, name, "a mapping"):
            if key in keys:
                out[key] = value_node
                continue
            hint = _did_you_mean(key, keys) if _NAME_LIKE.match(key) else ""
            expected = None if hint else f"one of: {', '.join(keys)}"
            self.problem(key_node, f"{name}: unknown key {key_excerpt(key)}{hint}", expected)
        for key in required:
            if key not in out:
                self.problem(node, f"{name} has no '{key}'", f"a '{key}:' entry")
        return out

    # -- scalars
    def text(self, node: Node, name: str, expected: str = "text", strip: bool = True) -> str | None:
        """Any non-empty scalar as written (so `10:00` and `yes` stay text)."""
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT, _BOOL):
            value = node.value.strip() if strip else node.value.rstrip("\n")
            if value.strip():
                return str(value)
        self.problem(node, f"{name} is {_kind(node)}", expected)
        return None

    def integer(self, node: Node, name: str, low: int, high: int | None = None) -> int | None:
        value = self._int_value(node)
        expected = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
        if value is None:
            self.problem(node, f"{name} is {_kind(node)}", expected)
        elif value < low or (high is not None and value > high):
            self.problem(node, f"{name} is {value}, out of range", expected)
            return None
        return value

    def _int_value(self, node: Node) -> int | None:
        if not isinstance(node, ScalarNode):
            return None
        if node.tag == _INT:
            return int(_CONSTRUCTOR.construct_yaml_int(node))
        if node.tag == _STR and re.fullmatch(r"\s*\d+\s*", node.value):
            return int(node.value)
        return None

    def number(self, node: Node, name: str, minimum: float) -> float | None:
        value: float | None = None
        if isinstance(node, ScalarNode) and node.tag == _FLOAT:
            value = float(_CONSTRUCTOR.construct_yaml_float(node))
        else:
            integer = self._int_value(node)
            value = float(integer) if integer is not None else None
        if value is None or value != value:  # NaN
            self.problem(node, f"{name} is {_kind(node)}", f"a number of at least {minimum:g}")
            return None
        if value < minimum:
            self.problem(node, f"{name} is {value:g}, too small", f"at least {minimum:g}")
            return None
        return value

    def boolean(self, node: Node, name: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        self.problem(node, f"{name} is {_kind(node)}", "true or false")
        return None

    def text_list(self, node: Node, name: str, example: str) -> list[tuple[str, Node]]:
        """A list of texts, each with its node (for per-item lines). Empty value = empty list."""
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{name} is {_kind(node)}", f"a list, e.g. [{example}]")
            return []
        out: list[tuple[str, Node]] = []
        for item in node.value:
            value = self.text(item, f"{name} item", f"text, e.g. {example}")
            if value is not None:
                out.append((value, item))
        return out

    def sequence(self, node: Node, name: str, expected: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{name} is {_kind(node)}", expected)
            return []
        return list(node.value)


# ----------------------------------------------------------------------------- naming a line
def key_lines(path: Path) -> dict[str, int]:
    """The line of every mapping key of a YAML file by its dotted path
    (`accounts.work.host` -> 31); {} when the file cannot be read. For errors found after
    the file was loaded (a login refused, a folder missing), so they can name the line."""
    try:
        with open_own_file(path) as fh:
            root = yaml.compose(fh, Loader=_LOADER)
    except (OSError, RefusedFile, yaml.YAMLError):
        return {}
    out: dict[str, int] = {}

    def walk(node: Node, prefix: str) -> None:
        if not isinstance(node, MappingNode):
            return
        for key_node, value in node.value:
            if isinstance(key_node, ScalarNode):
                name = f"{prefix}{key_node.value}"
                out.setdefault(name, int(key_node.start_mark.line) + 1)
                walk(value, name + ".")

    if root is not None:
        walk(root, "")
    return out


_DOTTED = re.compile(r"^[\w-]+(?:\.[\w.-]+)*")


def locate(path: Path, text: str, lines: dict[str, int] | None = None) -> str:
    """`text` with "FILE:LINE: " in front when it starts with a dotted key of the file (the
    longest prefix of it that the file has: `accounts.work.extra_folders` ... falls back to
    `accounts.work`); unchanged when it names no key or already starts with the file."""
    if text.startswith(str(path)):
        return text
    m = _DOTTED.match(text)
    if not m:
        return text
    lines = key_lines(path) if lines is None else lines
    parts = m.group(0).rstrip(".").split(".")
    for n in range(len(parts), 0, -1):
        line = lines.get(".".join(parts[:n]))
        if line is not None:
            return f"{path}:{line}: {text}"
    return text


# ----------------------------------------------------------------------------- value checks
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_PART = re.compile(r"^[^@\s<>()\[\],;:\"]+$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _in_domains(domain: str, domains: frozenset[str] | set[str]) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def normalize_domain(raw: str) -> tuple[str | None, str | None]:
    """(domain, None) in lower-case ASCII (IDNA), or (None, why it is not a domain)."""
    domain = raw.strip().lower().rstrip(".")
    if domain.startswith(("@", "*.")) or "/" in domain:
        return None, "not a bare domain (write it like birch.co.uk)"
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None, "not a valid international domain name"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None, "not a domain name"
    if labels[-1].isdigit():
        return None, "an IP address, not a domain name"
    if is_public_suffix(domain):
        return None, "a public suffix (like co.uk), not one company's domain"
    return domain, None


def normalize_address(raw: str) -> tuple[str | None, str | None]:
    """(address, None) in lower case, or (None, why it is not an address)."""
    value = raw.strip().lower()
    local, at, domain_part = value.rpartition("@")
    if not at or not local or not _LOCAL_PART.match(local):
        return None, "not an e-mail address"
    domain, why = normalize_domain(domain_part)
    if domain is None:
        return None, f"its domain is {why}"
    return f"{local}@{domain}", None


_UTC_OFFSET = re.compile(r"^\s*(?:GMT|UTC)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)
# A well-known zone per UTC offset (hours, minutes), for "timezone: GMT+8" and the like.
_ZONE_FOR_OFFSET = {
    (-10, 0): "Pacific/Honolulu",
    (-8, 0): "America/Los_Angeles",
    (-7, 0): "America/Denver",
    (-6, 0): "America/Chicago",
    (-5, 0): "America/New_York",
    (-3, 0): "America/Sao_Paulo",
    (0, 0): "Europe/London",
    (1, 0): "Europe/Berlin",
    (2, 0): "Europe/Athens",
    (3, 0): "Europe/Moscow",
    (4, 0): "Asia/Dubai",
    (5, 0): "Asia/Karachi",
    (5, 30): "Asia/Kolkata",
    (7, 0): "Asia/Bangkok",
    (8, 0): "Asia/Shanghai",
    (9, 0): "Asia/Tokyo",
    (10, 0): "Australia/Sydney",
    (12, 0): "Pacific/Auckland",
}


def timezone_hint(name: str) -> str:
    """' (did you mean ...?)' for an unknown time zone. An offset such as GMT+8 or UTC-5
    gets a city zone and the Etc/ name, whose sign is reversed (POSIX): GMT+8 is
    Etc/GMT-8; never the nearest spelling (GMT+0)."""
    import zoneinfo

    m = _UTC_OFFSET.match(name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        choices = []
        note = ""
        city = _ZONE_FOR_OFFSET.get((sign * hours, minutes))
        if city:
            choices.append(city)
        if minutes == 0 and 0 < hours <= 14:
            etc = f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"
            choices.append(etc)
            ahead = "ahead of" if sign > 0 else "behind"
            note = f" The sign of an Etc/ name is reversed: {etc} is {hours} h {ahead} UTC."
        return f" (did you mean {' or '.join(choices)}?{note})" if choices else ""
    return _suggest(name, sorted(zoneinfo.available_timezones()))


def _parse_time(raw: str) -> time | None:
    m = _TIME.match(raw.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _parse_size(raw: str) -> int | None:
    """'25 MB', '256k', '1048576' -> bytes (binary multiples)."""
    m = _SIZE.match(raw)
    if not m:
        return None
    unit = (m.group(2) or "").lower()[:1]
    return int(float(m.group(1)) * _UNITS[unit])


# ----------------------------------------------------------------------------- lists of values
def _addresses(r: YamlReader, node: Node | None, name: str) -> list[str]:
    return _normalized(r, node, name, normalize_address, "amy@example.com", "an address")


def _domains(r: YamlReader, node: Node | None, name: str) -> list[str]:
    return _normalized(r, node, name, normalize_domain, "example.com", "a domain")


def _normalized(
    r: YamlReader,
    node: Node | None,
    name: str,
    normalize: Callable[[str], tuple[str | None, str | None]],
    example: str,
    kind: str,
) -> list[str]:
    """A list of addresses or domains, normalized, without duplicates; each bad one a problem."""
    out: list[str] = []
    for raw, item in r.text_list(node, name, example) if node is not None else []:
        value, why = normalize(raw)
        if value is None:
            r.problem(item, f"{name}: {value_excerpt(raw)} is {why}", f"{kind} like {example}")
        elif value not in out:
            out.append(value)
    return out
