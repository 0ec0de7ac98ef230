"""The issue phrase files (issues.<lang>.yaml: what needs an answer, per language), read into
typed, frozen LanguageRules with FILE:LINE problems. Split out of `config.rules` (issue 17: no
module past 900 lines)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from mailkeeper.config import defaults
from mailkeeper.config.rules import _LANGUAGE, ISSUE_CATEGORIES
from mailkeeper.config.yamlreader import YamlReader


# ----------------------------------------------------------------------------- issue phrases
@dataclass(frozen=True)
class CategoryRule:
    name: str
    severity: str
    phrases: tuple[str, ...]
    patterns: tuple[tuple[dict[str, Any], ...], ...]
    # `force: true`: a match opens an issue whatever the model's probability (the rep's word)
    force: bool = False


@dataclass(frozen=True)
class LanguageRules:
    """rules/issues.<lang>.yaml: what makes a customer's sentence need an answer."""

    language: str
    categories: tuple[CategoryRule, ...]
    question: tuple[str, ...]
    question_patterns: tuple[tuple[dict[str, Any], ...], ...]
    ignore: tuple[str, ...]
    ignore_patterns: tuple[tuple[dict[str, Any], ...], ...]
    source: Path
    marketing: tuple[str, ...] = ()  # anywhere in a message: no customer wrote it


SEVERITIES = ("low", "normal", "high", "critical")
_ISSUES_KEYS = ("categories", "question", "ignore", "marketing")
_CATEGORY_KEYS = ("severity", "phrases", "patterns", "force")
_PHRASE_KEYS = ("phrases", "patterns")


def issue_rule_files(rules_dir: Path) -> dict[str, Path]:
    """language -> its issues.<lang>.yaml: the rep's, else the shipped one."""
    found: dict[str, Path] = {}
    for folder in (defaults.rules_dir(), rules_dir):  # the rep's copy wins
        for path in sorted(folder.glob("issues.*.yaml")):
            found[path.name.split(".")[1]] = path
    return found


def read_issue_rules(rules_dir: Path, problems: list[str]) -> dict[str, LanguageRules]:
    out = {}
    for lang, path in issue_rule_files(rules_dir).items():
        if not _LANGUAGE.match(lang):
            problems.append(f"{path}:1: '{lang}' is not a language code; name it issues.en.yaml")
            continue
        rules = _read_issue_file(YamlReader(path, problems), lang, path)
        if rules is not None:
            out[lang] = rules
    return out


def _read_issue_file(r: YamlReader, lang: str, path: Path) -> LanguageRules | None:
    root = r.compose()
    if root is None:
        return None
    keys = r.mapping(root, path.name, _ISSUES_KEYS, required=("categories",))
    if keys is None or "categories" not in keys:
        return None
    categories = []
    for name, name_node, node in r.entries(
        keys["categories"], "categories", "a mapping of category names, e.g. complaint: {...}"
    ):
        if name not in ISSUE_CATEGORIES:
            r.problem(
                name_node, f"unknown category '{name}'", f"one of {', '.join(ISSUE_CATEGORIES)}"
            )
            continue
        ck = r.mapping(node, f"categories.{name}", _CATEGORY_KEYS, required=("severity",))
        if ck is None or "severity" not in ck:
            continue
        severity = r.text(ck["severity"], f"categories.{name}.severity", "low|normal|high|critical")
        if severity not in SEVERITIES:
            r.problem(
                ck["severity"],
                f"categories.{name}.severity is '{severity}'",
                f"one of {', '.join(SEVERITIES)}",
            )
            continue
        phrases, patterns = _phrases_and_patterns(r, ck, f"categories.{name}")
        force = r.boolean(ck["force"], f"categories.{name}.force") if "force" in ck else False
        categories.append(CategoryRule(name, severity, phrases, patterns, bool(force)))
    extra: dict[str, tuple[tuple[str, ...], tuple[tuple[dict[str, Any], ...], ...]]] = {}
    for key in ("question", "ignore", "marketing"):
        extra[key] = ((), ())
        if key in keys:
            sub = r.mapping(keys[key], key, _PHRASE_KEYS)
            if sub is not None:
                extra[key] = _phrases_and_patterns(r, sub, key)
    return LanguageRules(
        lang,
        tuple(categories),
        *extra["question"],
        *extra["ignore"],
        source=path,
        marketing=extra["marketing"][0],
    )


def _phrases_and_patterns(
    r: YamlReader, keys: dict[str, Node], where: str
) -> tuple[tuple[str, ...], tuple[tuple[dict[str, Any], ...], ...]]:
    phrases = tuple(
        p.strip()
        for p, _ in (
            r.text_list(keys["phrases"], f"{where}.phrases", "'not acceptable'")
            if "phrases" in keys
            else []
        )
        if p.strip()
    )
    patterns: list[tuple[dict[str, Any], ...]] = []
    if "patterns" in keys:
        import yaml

        node = keys["patterns"]
        value = yaml.safe_load(yaml.serialize(node)) if node is not None else None
        if not isinstance(value, list) or not all(
            isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in value
        ):
            r.problem(
                node,
                f"{where}.patterns is not a list of spaCy token patterns",
                "a list of lists of token attributes, e.g. - [{LOWER: not}, {LOWER: happy}]",
            )
        else:
            patterns = [tuple(p) for p in value]
    return phrases, tuple(patterns)
