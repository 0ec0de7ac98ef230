"""Precision and recall of the detection rules on the labelled sets (tests/labelled/).

    python bench/detect_eval.py [--split tune|holdout|all] [--misses]

"Needs an answer" is judged as a scan judges an inbound message: auto-replies, bounces and
campaign mail never need one (parse decides those), the rest by the phrase rules on the
subject and new text (quotes and signature stripped). Corpus entries are read from
../shared/corpus and skipped when it is absent. --misses lists what the rules got wrong (only
ever look at the tune split's misses to change a rule: tests/labelled/README.md).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
LABELLED = ROOT / "tests" / "labelled"


def load_messages() -> list[dict[str, Any]]:
    return yaml.safe_load((LABELLED / "needs_answer.yaml").read_text())["messages"]


def load_promises() -> list[dict[str, Any]]:
    return yaml.safe_load((LABELLED / "promises.yaml").read_text())["sentences"]


def message_text(entry: dict[str, Any]) -> tuple[str, str | None, bool] | None:
    """(new text, language, auto or bulk) as the pipeline would store them; None: no corpus."""
    from mailkeeper.parse.message import parse
    from mailkeeper.parse.mime import fetched_from_bytes

    if entry["source"] == "written":
        raw = _written_message(entry)
    else:
        path = CORPUS / entry["source"]
        if not path.exists():
            return None
        raw = path.read_bytes()
    m = parse(fetched_from_bytes(raw, "INBOX", 1))
    text = m.reply_text if m.reply_text.strip() else m.text
    from mailkeeper.detect.judge import judged_text

    text = judged_text(m.subject, text)
    # The labels judge mailing-list discussion as if a customer had written it (README of
    # tests/labelled), so a List-Id alone does not make it "bulk" here; in the product such
    # mail is bulk and never opens an issue. Campaign mail and auto-replies never need one.
    machine = m.is_auto or (m.is_bulk and m.bulk_reason != "List-Id")
    return text, m.language, machine


def _written_message(entry: dict[str, Any]) -> bytes:
    """A written entry as a real message, so it takes the same path as real mail."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = entry.get("from") or "customer@example.com"
    msg["To"] = "rep@lumen-furniture.example"
    msg["Subject"] = entry.get("subject") or ""
    msg["Date"] = "Mon, 05 Oct 2026 09:00:00 +0800"
    msg.set_content(entry.get("body") or "")
    return msg.as_bytes()


def judge_all(entries: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    from mailkeeper.config.issues import read_issue_rules
    from mailkeeper.detect.judge import Judge, Verdict

    problems: list[str] = []
    judge = Judge(read_issue_rules(ROOT / "rules", problems))
    if problems:
        raise SystemExit("\n".join(problems))
    out = []
    for e in entries:
        got = message_text(e)
        if got is None:
            continue
        text, lang, machine = got
        verdict = Verdict(False, rule="auto-reply or bulk") if machine else judge.judge(text, lang)
        out.append((e, verdict))
    return out


def prf(pairs: list[tuple[bool, bool]]) -> tuple[float, float, int]:
    tp = sum(1 for truth, got in pairs if truth and got)
    fp = sum(1 for truth, got in pairs if not truth and got)
    fn = sum(1 for truth, got in pairs if truth and not got)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, len(pairs)


def report(results: list[tuple[dict[str, Any], Any]]) -> dict[str, tuple[float, float, int]]:
    groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for e, v in results:
        pair = (bool(e["needs_answer"]), v.needs_answer)
        groups["all"].append(pair)
        groups[f"language {e['language']}"].append(pair)
        groups["source " + ("written" if e["source"] == "written" else "corpus")].append(pair)
        if e["needs_answer"]:
            groups[f"category {e['category']} (recall)"].append(pair)
    return {k: prf(v) for k, v in sorted(groups.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="holdout", choices=["tune", "holdout", "all"])
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args()
    entries = [e for e in load_messages() if args.split == "all" or e["split"] == args.split]
    results = judge_all(entries)
    print(f"needs an answer, split {args.split}: {len(results)} messages")
    print(f"{'':32} {'precision':>9} {'recall':>7} {'n':>5}")
    for k, (p, r, n) in report(results).items():
        print(f"{k:32} {p:9.2f} {r:7.2f} {n:5}")
    if args.misses:
        for e, v in results:
            if bool(e["needs_answer"]) != v.needs_answer:
                print(
                    f"\n{e['id']} truth={e['needs_answer']} {e.get('category')} "
                    f"got={v.needs_answer} {v.rule} | {str(v.sentence)[:120]!r}"
                )
                if e["source"] != "written":
                    print("  ", e["source"], e.get("note", ""))
                else:
                    print("  ", (e.get("subject") or "")[:80], "|", (e.get("body") or "")[:200])


if __name__ == "__main__":
    main()
