"""Candidate sentences for the need labelled set (tests/labelled/needs.yaml): sentences of the
new text of real train-split mail (tests/labelled/real/manifest.tsv, /work/labelset-raw) that
name a future time or a plan word, each message first cleared by the held-out guard.

usage: python bench/needs_candidates.py RAW_DIR OUT.jsonl
The population is "sentences with a time or plan word", drawn without looking at what the
extractor says; recall is measured on it.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from mailkeeper.detect.promises import sentences

GUARD = Path("/work/shared/heldout/guard.py")
MANIFEST = Path(__file__).resolve().parents[1] / "tests/labelled/real/manifest.tsv"
_TIME = re.compile(
    r"\b(?:next|this|coming|later|early|late|mid)\s+(?:year|month|quarter|season|spring|summer|"
    r"autumn|fall|winter|week)\b|\b(?:spring|summer|autumn|fall|winter|q[1-4]|quarter|"
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"20\d\d)\b|\b(?:plan|plans|planning|expect|intend|will need|anticipate|forecast)\b"
    r"|明年|今年|下半年|上半年|季度|下个?月|[春夏秋冬][季天]|年底|年初|计划|打算|准备|预计|还要",
    re.I,
)
_CUT = re.compile(r"^(?:-+\s*Original Message|-+\s*Forwarded by|From:\s|>|发件人|-----)", re.M)


def new_text(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts = []
    for p in msg.walk():
        if p.get_content_type() == "text/plain":
            payload = p.get_payload(decode=True) or b""
            parts.append(payload.decode(p.get_content_charset() or "gb18030", "replace"))
    text = "\n".join(parts)
    cut = _CUT.search(text)
    return (text[: cut.start()] if cut else text)[:6000]


def main(raw_dir: Path, out: Path) -> None:
    rows = [r for r in csv.DictReader(MANIFEST.open(), delimiter="\t") if r["split"] == "train"]
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            path = raw_dir / f"{r['id']}.eml"
            if not path.is_file():
                continue
            guard = subprocess.run([sys.executable, str(GUARD), str(path)], capture_output=True)
            if guard.returncode != 0:  # a held-out message: never used
                continue
            text = re.sub(r"[ \t]+", " ", new_text(path.read_bytes()))
            for i, s in enumerate(sentences(text)):
                s = s.strip()
                if 12 <= len(s) <= 300 and _TIME.search(s):
                    sha = hashlib.sha256(s.encode()).hexdigest()
                    source = r["mailbox"] if r["language"] == "en" else r["group"]
                    fh.write(json.dumps({"msg": r["id"], "lang": r["language"], "index": i,
                                         "source": source, "sha256": sha, "sentence": s},
                                        ensure_ascii=False) + "\n")  # fmt: skip
                    n += 1
    print(f"{n} candidate sentences", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
