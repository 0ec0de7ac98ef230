"""Micro-benchmark of mailkeeper.parse.textclean (one core): µs per call of

  * html_to_text   per HTML part (every text/html part, also those beside a text/plain one),
  * strip_reply    per message, on the text `parse` hands it,
  * guess_language per message, on the text `parse` hands it (the reply, or the whole text),

over (a) a generated mailbox, built in memory with bench/generate.py's threads and
bench/mime.py's rendering (nothing is written to disk), and (b) every message in
../shared/corpus (skipped when it is missing).

The inputs of strip_reply and guess_language are recorded by running `parse` once per message
with the two functions wrapped, so they are exactly what a sync passes them. Each function is
then timed over all its inputs; the best of --repeat passes is reported.

    python bench/textclean_speed.py [--count 3000] [--repeat 5] [--compare OTHER_textclean.py]

--compare loads another copy of textclean.py (for example the previous version, kept outside
the repo) and times it on the same inputs in the same run; it also counts the inputs on which
the two give different results.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import importlib.util
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import mailkeeper.parse.message as parse_mod  # noqa: E402
from mailkeeper.parse import textclean  # noqa: E402

try:  # where the MIME reader lives moved out of parse.py
    from mailkeeper.parse.mime import fetched_from_bytes  # noqa: E402
except ImportError:
    from mailkeeper.parse.message import fetched_from_bytes  # type: ignore[attr-defined,no-redef]  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
FUNCTIONS = ("html_to_text", "strip_reply", "guess_language")


def generated_messages(count: int, seed: int) -> Iterator[bytes]:
    from generate import build_thread, plan_threads  # bench/generate.py
    from mime import AttachmentPool, render
    from world import build_world

    world = build_world(seed)
    pool = AttachmentPool(seed, size=1 << 16)
    for plan in plan_threads(seed, count):
        _, mails = build_thread(world, seed, plan)
        rng = random.Random(f"render-{seed}-{plan.index}")
        for mail in mails:
            yield render(mail, rng, pool)


def corpus_messages() -> Iterator[bytes]:
    if not CORPUS.is_dir():
        return
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and path.suffix not in (".md", ".tsv", ".py", ".txt", ".json"):
            yield path.read_bytes()


def html_parts(raw: bytes) -> list[str]:
    """Every text/html part of a message, decoded (stdlib parser: setup only, not timed)."""
    out = []
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_type() != "text/html":
                continue
            data = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            if charset in ("gb2312", "gbk"):
                charset = "gb18030"
            try:
                out.append(data.decode(charset, "replace"))
            except LookupError:
                out.append(data.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - odd corpus files: no HTML from them
        pass
    return out


def collect(messages: Iterator[bytes]) -> dict[str, list[str]]:
    """Inputs per function, as a sync passes them."""
    inputs: dict[str, list[str]] = {name: [] for name in FUNCTIONS}
    real = {name: getattr(parse_mod, name) for name in ("strip_reply", "guess_language")}

    def recorder(name: str) -> Callable[[str], object]:
        def record(text: str) -> object:
            inputs[name].append(text)
            return real[name](text)

        return record

    parse_mod.strip_reply = recorder("strip_reply")  # type: ignore[assignment]
    parse_mod.guess_language = recorder("guess_language")  # type: ignore[assignment]
    try:
        for raw in messages:
            inputs["html_to_text"].extend(html_parts(raw))
            parse_mod.parse(fetched_from_bytes(raw))
    finally:
        for name, fn in real.items():
            setattr(parse_mod, name, fn)
    return inputs


def time_per_call(fn: Callable[[str], object], inputs: list[str], repeat: int) -> float:
    """Best of `repeat` passes over all inputs, in µs of CPU per call (process time: other
    jobs sharing the machine slow it less than they slow the wall clock)."""
    if not inputs:
        return float("nan")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for text in inputs:
            fn(text)
        best = min(best, time.process_time() - t0)
    return best / len(inputs) * 1e6


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("textclean_compare", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(label: str, inputs: dict[str, list[str]], other: ModuleType | None, repeat: int) -> None:
    html = inputs["html_to_text"]
    chars = sum(map(len, html)) // max(1, len(html))
    print(
        f"\n{label}: {len(inputs['strip_reply'])} messages, {len(html)} HTML parts "
        f"(mean {chars} chars)"
    )
    head = f"  {'function':<16}{'calls':>7}{'this µs':>11}"
    if other is not None:
        head += f"{'compare µs':>12}{'ratio':>8}{'differ':>8}"
    print(head)
    for name in FUNCTIONS:
        data = inputs[name]
        ours = getattr(textclean, name)
        line = f"  {name:<16}{len(data):>7}{time_per_call(ours, data, repeat):>11.1f}"
        if other is not None:
            theirs = getattr(other, name)
            t_other = time_per_call(theirs, data, repeat)
            t_ours = time_per_call(ours, data, repeat)  # again, after the other: less drift
            differ = sum(1 for text in data if ours(text) != theirs(text))
            line = (
                f"  {name:<16}{len(data):>7}{t_ours:>11.1f}{t_other:>12.1f}"
                f"{t_other / t_ours:>7.1f}x{differ:>8}"
            )
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=3000, help="generated messages")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="passes per function; best is kept")
    ap.add_argument("--no-corpus", action="store_true", help="skip ../shared/corpus")
    ap.add_argument("--compare", type=Path, help="another textclean.py to time on the same inputs")
    args = ap.parse_args(argv)
    other = load_module(args.compare) if args.compare else None
    print(f"textclean: {textclean.__file__}" + (f"\ncompare:   {args.compare}" if other else ""))
    report("generated", collect(generated_messages(args.count, args.seed)), other, args.repeat)
    if not args.no_corpus and CORPUS.is_dir():
        report(f"corpus ({CORPUS})", collect(corpus_messages()), other, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
