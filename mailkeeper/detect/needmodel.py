"""The learned part of "does this message need an answer?": features and a linear model.

The model is a logistic regression per language (trained by bench/labelset/train.py on the
labelled real mail of tests/labelled/real/) shipped as JSON in mailkeeper/detect/models/:
feature weights, an intercept and a Platt calibration. Scoring is a sum of weights in plain
Python: no scikit-learn, no pickle, no network at run time. The same `features()` function
is used to train and to judge, so the two cannot drift apart.

Features (all binary): words and word pairs of the zoned, line-flattened body; character
n-grams (within words for Latin script, of the CJK runs for Chinese: character n-grams need
no segmenter and measure as well as jieba here, see the README); what the rep's YAML rules
found (category or none); zones (quoted, signature, footer, a courtesy closing, content signs
of automatic mail, length) and a few header facts (reply/forward subject, a question in the
subject, many recipients).

A model file that is listed in models/index.json but missing, unreadable, not JSON, of
another format or whose sha256 differs from the index is a ModelError naming the file: the
judge never falls back silently to "nothing needs an answer".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailkeeper.detect.zones import Zones, flat
from mailkeeper.errors import MailkeeperError

FORMAT = "mailkeeper-needs-answer/1"
MODELS = Path(__file__).resolve().parent / "models"
INDEX = "index.json"

_WORD = re.compile(r"[a-z][a-z0-9']*|[0-9]+|[?？]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z']{2,}")
_REPLY = re.compile(r"^\s*(re|aw|sv|回复|答复)\s*[:：]", re.I)
_FORWARD = re.compile(r"^\s*(fw|fwd|wg|转发|轉發)\s*[:：]", re.I)
_QUESTION = re.compile(r"[?？]")
_MAX_TEXT = 6000  # characters of the body that make features: bounded time per message


class ModelError(MailkeeperError):
    """The shipped model cannot be used (missing, corrupt, of another format)."""


@dataclass(frozen=True)
class Scored:
    probability: float
    weighed: tuple[tuple[str, float], ...]  # the features that weighed most, strongest first


def features(
    body: str,
    subject: str,
    zones: Zones,
    rule_category: str | None,
    recipients: int,
    config: dict[str, Any],
) -> set[str]:
    """The binary features of one message. `body` is the zoned body (zones.body)."""
    text = flat(body)[:_MAX_TEXT].lower()
    out: set[str] = set()
    words = _WORD.findall(text)
    for i, w in enumerate(words):
        out.add(f"w:{w}")
        if i + 1 < len(words):
            out.add(f"w:{w} {words[i + 1]}")
    lo, hi = config.get("char_ngrams", (3, 4))
    for run in _CJK_RUN.findall(text):
        for n in (1, 2, 3):
            for j in range(len(run) - n + 1):
                out.add(f"c:{run[j : j + n]}")
    if hi:
        for w in set(_LATIN_WORD.findall(text)):
            padded = f" {w} "
            for n in range(lo, hi + 1):
                for j in range(len(padded) - n + 1):
                    out.add(f"c:{padded[j : j + n]}")
    out.add(f"rule:{rule_category or 'none'}")
    paras = [p for p in text.split("\n\n") if p.strip()]
    if paras and _QUESTION.search(paras[-1]):
        out.add("z:question in last paragraph")
    if _QUESTION.search(text):
        out.add("z:question mark")
    if zones.quoted:
        out.add("z:quoted text")
    if zones.signature:
        out.add("z:signature")
    if zones.footer:
        out.add("z:footer")
    if zones.closing:
        out.add("z:courtesy closing")
    if zones.automatic():
        out.add("z:automatic content")
    if zones.unsubscribe:
        out.add("z:unsubscribe line")
    if zones.links >= 3:
        out.add("z:links")
    n = len(text)
    out.add(
        "z:length " + ("<60" if n < 60 else "<250" if n < 250 else "<1000" if n < 1000 else "1000+")
    )
    subject = subject or ""
    if _REPLY.match(subject):
        out.add("h:reply subject")
    if _FORWARD.match(subject):
        out.add("h:forward subject")
    if _QUESTION.search(subject):
        out.add("h:question in subject")
    if recipients > 10:
        out.add("h:many recipients")
    return out


def describe(feature: str) -> str:
    """A feature as the rep reads it in `explain`."""
    kind, _, value = feature.partition(":")
    if kind == "w":
        return f"'{value}'"
    if kind == "c":
        return f"'{value.strip()}' (characters)"
    if kind == "rule":
        return f"rules: {value}"
    return value


class Model:
    """One language's model, loaded from its JSON file."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            self.language = str(data["language"])
            self.weights: dict[str, float] = {str(k): float(v) for k, v in data["weights"].items()}
            self.intercept = float(data["intercept"])
            a, b = data["calibration"]
            self.calibration = (float(a), float(b))
            self.config: dict[str, Any] = dict(data.get("config") or {})
            self.manifest_sha256 = str(data["manifest_sha256"])
            self.script_version = str(data["script_version"])
            self.trained_on = int(data["trained_on"])
            # below this probability a message is not even a "maybe" (train.py records it)
            self.floor = float(data.get("floor", 0.2))
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{path}: not a usable needs-answer model ({e})") from e
        self.path = path

    def score(self, feats: set[str], top: int = 5) -> Scored:
        w = self.weights
        hits = [(f, w[f]) for f in feats if f in w]
        z = self.intercept + sum(v for _, v in hits)
        a, b = self.calibration
        p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, a * z + b))))
        hits.sort(key=lambda h: -abs(h[1]))
        return Scored(p, tuple(hits[:top]))


def load_models(folder: Path = MODELS) -> dict[str, Model]:
    """Every model listed in folder/index.json, checked against its recorded sha256."""
    index_path = folder / INDEX
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entries = index["models"]
    except FileNotFoundError as e:
        raise ModelError(f"{index_path}: the needs-answer model index is missing") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{index_path}: unreadable model index ({e})") from e
    models = {}
    for lang, entry in entries.items():
        path = folder / str(entry.get("file", ""))
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ModelError(f"{path}: the needs-answer model for '{lang}' is missing ({e})") from e
        if hashlib.sha256(raw).hexdigest() != entry.get("sha256"):
            raise ModelError(f"{path}: corrupt (its sha256 differs from {index_path})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise ModelError(f"{path}: not JSON ({e})") from e
        if not isinstance(data, dict):
            raise ModelError(f"{path}: not a needs-answer model")
        models[lang] = Model(data, path)
    return models
