"""Render bench/RESULTS.json (written by bench/run.py) as Markdown.

python bench/report.py bench/RESULTS.json > bench/RESULTS.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from measure import Spread

Fig = dict[str, Any]
NA = "n/a"


# ---------------------------------------------------------------------------- cells


def spread(fig: Fig | None, key: str = "wall") -> Spread | None:
    return Spread.of(fig.get(key) or []) if fig else None


def failed(fig: Fig | None) -> str | None:
    if fig is None:
        return "not measured"
    if fig.get("error") and not fig.get("wall"):
        err = str(fig["error"])
        return err if err.startswith("not available") else f"failed: {err}"
    return None


def seconds(fig: Fig | None, key: str = "wall", scale: float = 1.0, digits: int = 2) -> str:
    s = spread(fig, key)
    return s.fmt(scale, digits) if s else (failed(fig) or NA)


def rate(fig: Fig | None) -> float | None:
    s = spread(fig)
    if s is None or not fig or not fig.get("messages") or s.median <= 0:
        return None
    return float(fig["messages"]) / s.median


def rate_cell(fig: Fig | None) -> str:
    r = rate(fig)
    return f"{r:,.0f}" if r else NA


def rss_cell(fig: Fig | None, key: str) -> str:
    s = spread(fig, key)
    return s.fmt(1 / 1024, 0) if s else NA


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def verdict(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return NA
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**missed**"


def fmt_ratio(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else NA


# ----------------------------------------------------------------------- sections


def header(r: dict[str, Any]) -> list[str]:
    m, v = r["machine"], r["versions"]
    latency = (
        f"{r['latency_ms']:g} ms each way (delaying proxy)"
        if r.get("latency_ms")
        else ("none (loopback)")
    )
    return [
        f"# Benchmark results ({_mix(r)})",
        "",
        f"Written by `bench/run.py` (started {r['started']}, {r.get('total_seconds', '?')} s in "
        "all). Each figure: median (min–max) of the repeated runs; times are wall-clock seconds "
        "of the whole process unless marked in-process. Peak RSS: the largest single process "
        "(GNU time) / the summed process tree (sampled every 50 ms).",
        "",
        "```",
        r["command"],
        "```",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {m['cpu']} × {m['nproc']} |",
        f"| memory | {m['memory_gb']} GB |",
        f"| OS | {m['os']} (kernel {m['kernel']}) |",
        f"| added latency | {latency} |",
        f"| repeats | {r['repeat']} |",
        "",
        "| software | version |",
        "|---|---|",
        *(f"| {k} | {val} |" for k, val in v.items()),
        "",
    ]


def _mix(r: dict[str, Any]) -> str:
    """The generator profile (results written before profiles existed used the default)."""
    return f"mail mix: {r.get('profile', 'default')}"


def mailboxes(r: dict[str, Any]) -> list[str]:
    rows = [
        f"## Generated mailboxes (seed {r['seed']}, {_mix(r)})",
        "",
        "| messages | Inbox / Sent | median KB | mean KB | total MB | with attachment | "
        "Chinese | newsletters / auto-replies / bounces | generate s | index s |",
        "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for size, data in r["sizes"].items():
        mb = data["mailbox"]
        rows.append(
            f"| {int(size):,} | {mb['inbox']:,} / {mb['sent']:,} ({mb['inbox_pct']}% Inbox) | "
            f"{mb['median_kb']} | {mb['mean_kb']} | {mb['total_mb']:,} | {mb['attachments_pct']}%"
            f" | {mb['chinese_pct']}% | {mb['newsletters']} / {mb['autoreplies']} / "
            f"{mb['bounces']} | {mb['generate_seconds']} | {mb['index_seconds']} |"
        )
    return [*rows, ""]


def first_sync(size: str, figs: dict[str, Fig]) -> list[str]:
    rows = [
        f"## {int(size):,} messages",
        "",
        "### First sync",
        "",
        "| what | seconds | msg/s | peak RSS MB (process) | peak RSS MB (tree) |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in ("mk_first", "mk_maildir", "raw", "raw_cold", "mbsync"):
        fig = figs.get(key)
        if fig is None:
            continue
        rows.append(
            f"| {fig['name']} | {seconds(fig)} | {rate_cell(fig)} | "
            f"{rss_cell(fig, 'max_rss_kb')} | {rss_cell(fig, 'tree_rss_kb')} |"
        )
    mk = rate(figs.get("mk_first"))
    vs_raw, vs_mbsync = ratio(mk, rate(figs.get("raw"))), ratio(mk, rate(figs.get("mbsync")))
    rows += [
        "",
        "| ratio of rates | value | target | |",
        "|---|---:|---:|---|",
        f"| mailkeeper ÷ raw imapclient | {fmt_ratio(vs_raw)} | ≥ 0.8× | "
        f"{verdict(vs_raw, 0.8, True)} |",
        f"| mailkeeper ÷ mbsync | {fmt_ratio(vs_mbsync)} | ≥ 2× | "
        f"{verdict(vs_mbsync, 2.0, True)} |",
    ]
    if figs.get("mk_maildir"):  # issue 10: a local Maildir at least as fast as IMAP
        vs_imap = ratio(rate(figs.get("mk_maildir")), mk)
        rows.append(
            f"| mailkeeper on mbsync's Maildir ÷ mailkeeper over IMAP | {fmt_ratio(vs_imap)} | "
            f"≥ 1× | {verdict(vs_imap, 1.0, True)} |"
        )
    return [*rows, ""]


def staying(figs: dict[str, Fig]) -> list[str]:
    rows = [
        "### Staying in sync",
        "",
        "| what | ms (whole process) | ms (in-process) | peak RSS MB (process) |",
        "|---|---:|---:|---:|",
    ]
    for key in ("mk_nochange", "status", "mbsync_nochange", "mk_new"):
        fig = figs.get(key)
        if fig is None:
            continue
        inproc = seconds(fig, "inproc", 1000, 0) if fig.get("inproc") else NA
        rows.append(
            f"| {fig['name']} | {seconds(fig, 'wall', 1000, 0)} | {inproc} | "
            f"{rss_cell(fig, 'max_rss_kb')} |"
        )
    mk, st = figs.get("mk_nochange"), figs.get("status")
    in_ratio = _median_ratio(mk, st, "inproc")
    wall_ratio = _median_ratio(mk, st, "wall")
    new = spread(figs.get("mk_new"))
    rows += [
        "",
        "| check | value | target | |",
        "|---|---:|---:|---|",
        f"| no-change sync ÷ STATUS per folder (in-process) | {fmt_ratio(in_ratio)} | ≤ 2× "
        f"| {verdict(in_ratio, 2.0, False)} |",
        f"| no-change sync ÷ STATUS per folder (whole process) | {fmt_ratio(wall_ratio)} | "
        f"≤ 2× | {verdict(wall_ratio, 2.0, False)} |",
        f"| sync after 100 new messages, s | {new.median:.2f} | < 2 s | "
        f"{verdict(new.median, 2.0, False)} |"
        if new
        else f"| sync after 100 new messages, s | {failed(figs.get('mk_new')) or NA} | < 2 s | |",
        "",
    ]
    return rows


def _median_ratio(a: Fig | None, b: Fig | None, key: str) -> float | None:
    sa, sb = spread(a, key), spread(b, key)
    return ratio(sa.median, sb.median) if sa and sb else None


def linking(figs: dict[str, Fig]) -> list[str]:
    first = figs.get("mk_first") or {}
    link = Spread.of([t["link"] for t in first.get("timings", []) if "link" in t])
    total = Spread.of([t["total"] for t in first.get("timings", []) if "total" in t])
    steps = sorted({k for t in first.get("timings", []) for k in t})
    rows = ["### Linking", "", "| what | seconds | |", "|---|---:|---|"]
    if link:
        share = f"{100 * link.median / total.median:.0f}% of the sync" if total else ""
        rows.append(f"| link step of the first sync | {link.fmt()} | {share} |")
    else:
        why = failed(figs.get("mk_first")) or "no `timings.link` in `sync --json`"
        rows.append(f"| link step of the first sync | {why} | |")
    rows.append(
        f"| relink of the whole database | {seconds(figs.get('mk_relink'))} | "
        f"{(figs.get('mk_relink') or {}).get('messages', 0):,} messages |"
    )
    if steps:
        rows += [
            "",
            "First sync by step (median seconds, from `sync --json` timings):",
            "",
            "| " + " | ".join(steps) + " |",
            "|" + "---:|" * len(steps),
            "| " + " | ".join(_step(first, s) for s in steps) + " |",
        ]
    return [*rows, ""]


def _step(fig: Fig, step: str) -> str:
    s = Spread.of([t[step] for t in fig.get("timings", []) if step in t])
    return f"{s.median:.2f}" if s else NA


def growth(r: dict[str, Any]) -> list[str]:
    rows = [
        "## Cost per message as the mailbox grows",
        "",
        "Flat columns mean linear total cost.",
        "",
        "| messages | mailkeeper µs/msg | mailkeeper KB RSS/msg (tree) | raw imapclient µs/msg "
        "| mbsync µs/msg | mailkeeper peak MB (tree) | raw peak MB | mbsync peak MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, data in r["sizes"].items():
        f = data["figures"]
        n = int(size)
        rows.append(
            f"| {n:,} | {_per_msg(f.get('mk_first'), n)} | "
            f"{_kb_per_msg(f.get('mk_first'), n)} | {_per_msg(f.get('raw'), n)} | "
            f"{_per_msg(f.get('mbsync'), n)} | {rss_cell(f.get('mk_first'), 'tree_rss_kb')}"
            f" | {rss_cell(f.get('raw'), 'max_rss_kb')} | "
            f"{rss_cell(f.get('mbsync'), 'max_rss_kb')} |"
        )
    return [*rows, ""]


def _per_msg(fig: Fig | None, n: int) -> str:
    s = spread(fig)
    return f"{s.median / n * 1e6:,.0f}" if s and n else NA


def _kb_per_msg(fig: Fig | None, n: int) -> str:
    s = spread(fig, "tree_rss_kb")
    return f"{s.median / n:.2f}" if s and n else NA


def render(r: dict[str, Any]) -> str:
    lines = header(r) + mailboxes(r)
    for size, data in r["sizes"].items():
        figs = data["figures"]
        lines += first_sync(size, figs) + staying(figs) + linking(figs)
    lines += growth(r)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python bench/report.py bench/RESULTS.json", file=sys.stderr)
        return 2
    sys.stdout.write(render(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
