"""The benchmark: mailkeeper's sync against raw imapclient, mbsync and STATUS, at several sizes.

    python bench/run.py --sizes 10000,30000,100000 --repeat 3 [--latency-ms 20] [--profile html]

For each size: generate the mailbox once into a fresh private Dovecot (timed, not a
figure), index it, then measure every figure --repeat times (median, min, max) and write
bench/RESULTS.md and bench/RESULTS.json. Needs root (the private Dovecot). Only loopback
traffic; every child process has a timeout. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate
import measure
import report
from world import World, build_world, write_customers_yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "tests"))
import dovecot  # noqa: E402  (tests/dovecot.py, reused without making tests/ a package)

USER, PASSWORD = "amy", "secret"
NEW_MESSAGES = 100
SKIPPABLE = ("raw", "status", "mbsync", "mailkeeper")

CONFIG = """\
# written by bench/run.py
me:
  name: Amy Chen
  addresses: [amy@lumen-furniture.com]
  company_domains: [lumen-furniture.com]
timezone: Asia/Shanghai
database: ./mailkeeper.db
rules: ./rules
templates: ./templates
accounts:
  work:
    host: 127.0.0.1
    port: {port}
    tls: none
    username: {user}
    password_env: MK_BENCH_PASSWORD
"""
# The same, reading the Maildir mbsync pulled from the same Dovecot (issue 10: local Maildir).
MAILDIR_CONFIG = CONFIG.split("accounts:", 1)[0] + "accounts:\n  work:\n    maildir: {maildir}\n"


# ---------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One measured thing, repeated: wall time of the process, plus what it reports."""

    name: str
    messages: int = 0
    wall: list[float] = field(default_factory=list)
    inproc: list[float] = field(default_factory=list)  # seconds the program itself reports
    max_rss_kb: list[int] = field(default_factory=list)
    tree_rss_kb: list[int] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, run: measure.Run, inproc: float | None = None) -> None:
        self.wall.append(run.wall)
        if inproc is not None:
            self.inproc.append(inproc)
        if run.max_rss_kb:
            self.max_rss_kb.append(run.max_rss_kb)
        if run.tree_rss_kb:
            self.tree_rss_kb.append(run.tree_rss_kb)

    def fail(self, run: measure.Run) -> None:
        self.error = run.reason()

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _json_out(run: measure.Run) -> Any:
    try:
        return json.loads(run.stdout)
    except ValueError:
        return None


def find_timings(obj: Any) -> dict[str, float] | None:
    """The first `timings` object (seconds per step) anywhere in mailkeeper's --json output."""
    if isinstance(obj, dict):
        t = obj.get("timings")
        if isinstance(t, dict):
            return {k: float(v) for k, v in t.items() if isinstance(v, int | float)}
        items: list[Any] = list(obj.values())
    elif isinstance(obj, list):
        items = obj
    else:
        return None
    for item in items:
        found = find_timings(item)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------ the context


@dataclass
class Bench:
    size: int
    root: Path
    server: dovecot.Dovecot
    port: int  # what the clients connect to: the proxy or Dovecot
    world: World
    args: argparse.Namespace
    maildir: Path | None = None  # mbsync's last pull, kept for mailkeeper's Maildir row

    @property
    def timeout(self) -> float:
        return max(300.0, self.size / 100)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILKEEPER_")}
        xdg = self.root / "xdg"
        env.update(
            MK_BENCH_PASSWORD=PASSWORD,
            XDG_CONFIG_HOME=str(xdg / "config"),
            XDG_DATA_HOME=str(xdg / "data"),
            XDG_STATE_HOME=str(xdg / "state"),
            XDG_CACHE_HOME=str(xdg / "cache"),
            **extra,
        )
        return env

    def repeat(self, body: Callable[[int], object]) -> None:
        for i in range(self.args.repeat):
            body(i)


def python_cmd(script: str, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / script), *args]


# ---------------------------------------------------------------------------- baselines


def measure_raw(b: Bench) -> dict[str, Figure]:
    cold, warm = Figure("raw imapclient, first fetch (cold server cache)"), Figure("raw imapclient")
    argv = python_cmd("baselines.py", "raw", "--port", str(b.port))
    for i in range(b.args.repeat + 1):
        fig = cold if i == 0 else warm
        run = measure.run(argv, timeout=b.timeout, env=b.env())
        out = _json_out(run)
        if not run.ok or not isinstance(out, dict):
            fig.fail(run)
            break
        fig.add(run, out["seconds"])
        fig.messages = out["messages"]
    return {"raw_cold": cold, "raw": warm}


def measure_status(b: Bench) -> Figure:
    fig = Figure("STATUS per folder (new connection + LOGIN)")
    argv = python_cmd("baselines.py", "status", "--port", str(b.port))

    def once(_: int) -> None:
        run = measure.run(argv, timeout=120, env=b.env())
        out = _json_out(run)
        if run.ok and isinstance(out, dict):
            fig.add(run, out["seconds"])
        else:
            fig.fail(run)

    b.repeat(once)
    return fig


def measure_mbsync(b: Bench) -> dict[str, Figure]:
    full, again = Figure("mbsync full pull"), Figure("mbsync no-change resync")
    if shutil.which("mbsync") is None:
        full.error = again.error = "mbsync is not installed (apt-get install isync)"
        return {"mbsync": full, "mbsync_nochange": again}
    from baselines import write_mbsyncrc

    work = b.root / "mbsync"

    def fresh() -> list[str]:
        shutil.rmtree(work, ignore_errors=True)
        (work / "Maildir").mkdir(parents=True)
        return write_mbsyncrc(
            work / "mbsyncrc", "127.0.0.1", b.port, USER, PASSWORD, work / "Maildir"
        )

    for _ in range(b.args.repeat):
        argv = fresh()
        run = measure.run(argv, timeout=b.timeout, env=b.env())
        if not run.ok:
            full.fail(run)
            break
        full.add(run)
        full.messages = count_maildir(work / "Maildir")
    if full.error is None:
        measure.run(argv, timeout=b.timeout, env=b.env())  # the first resync settles state
        for _ in range(b.args.repeat):
            run = measure.run(argv, timeout=b.timeout, env=b.env())
            if not run.ok:
                again.fail(run)
                break
            again.add(run)
        b.maildir = work / "Maildir"  # mailkeeper's Maildir row reads it; gone with b.root
    else:
        shutil.rmtree(work, ignore_errors=True)
    return {"mbsync": full, "mbsync_nochange": again}


def count_maildir(root: Path) -> int:
    return sum(1 for sub in ("cur", "new") for p in root.glob(f"*/{sub}/*") if p.is_file())


# --------------------------------------------------------------------------- mailkeeper


class Mailkeeper:
    """mailkeeper driven through its command line, as a rep would run it."""

    def __init__(self, b: Bench, command: str | None, maildir: Path | None = None) -> None:
        self.b = b
        self.maildir = maildir  # a `maildir:` account instead of IMAP
        self.dir = b.root / ("mk-maildir" if maildir else "mk")
        self.config = self.dir / "mailkeeper.yaml"
        if command:
            self.argv = shlex.split(command)
        elif exe := shutil.which("mailkeeper"):
            self.argv = [exe]
        else:
            self.argv = [sys.executable, "-m", "mailkeeper"]
        self.env = b.env(PYTHONPATH=str(REPO))

    def write_config(self) -> None:
        rules, templates = self.dir / "rules", self.dir / "templates"
        rules.mkdir(parents=True, exist_ok=True)
        for src in (REPO / "rules").glob("*.yaml"):
            if src.name != "customers.yaml":
                shutil.copy(src, rules / src.name)
        shutil.copytree(REPO / "templates", templates, dirs_exist_ok=True)
        write_customers_yaml(self.b.world, rules / "customers.yaml", 0)
        if self.maildir:
            self.config.write_text(MAILDIR_CONFIG.format(maildir=self.maildir))
        else:
            self.config.write_text(CONFIG.format(port=self.b.port, user=USER))

    def unavailable(self) -> str | None:
        """Why mailkeeper cannot be measured, or None when its CLI answers."""
        run = measure.run([*self.argv, "--help"], timeout=60, env=self.env, cwd=self.dir)
        if not run.ok:
            return f"`{' '.join(self.argv)} --help` failed: {run.reason()}"
        if "sync" not in run.stdout or "relink" not in run.stdout:
            return "the mailkeeper CLI has no `sync` / `relink` command yet"
        return None

    def fresh_db(self) -> None:
        for p in self.dir.glob("mailkeeper.db*"):
            p.unlink()
        shutil.rmtree(self.dir / "maildir-state", ignore_errors=True)  # Maildir UID maps

    def run(self, *command: str) -> measure.Run:
        argv = [*self.argv, "--config", str(self.config), *command, "--json"]
        return measure.run(argv, timeout=self.b.timeout, env=self.env, cwd=self.dir)


def _mk_step(mk: Mailkeeper, fig: Figure, *command: str) -> bool:
    run = mk.run(*command)
    if not run.ok:
        fig.fail(run)
        return False
    timings = find_timings(_json_out(run))
    fig.add(run, timings.get("total") if timings else None)
    if timings:
        fig.timings.append(timings)
    return True


def measure_mailkeeper(b: Bench) -> dict[str, Figure]:
    figs = {
        k: Figure(n)
        for k, n in (
            ("mk_first", "mailkeeper first sync"),
            ("mk_maildir", "mailkeeper first sync, local Maildir (mbsync's pull)"),
            ("mk_nochange", "mailkeeper no-change sync"),
            ("mk_new", f"mailkeeper sync after {NEW_MESSAGES} new messages"),
            ("mk_relink", "mailkeeper relink after customers.yaml changed"),
        )
    }
    mk = Mailkeeper(b, b.args.mailkeeper)
    mk.write_config()
    reason = mk.unavailable()
    if reason:
        for f in figs.values():
            f.error = f"not available: {reason}"
        return figs
    figs["mk_first"].messages = b.size
    # The Maildir row runs interleaved with the IMAP one (IMAP, Maildir, IMAP, ...).
    md = Mailkeeper(b, b.args.mailkeeper, b.maildir) if b.maildir else None
    if md:
        md.write_config()
        figs["mk_maildir"].messages = count_maildir(b.maildir)
    else:
        figs["mk_maildir"].error = "not available: no mbsync Maildir (mbsync skipped or failed)"
    for _ in range(b.args.repeat):
        mk.fresh_db()
        if not _mk_step(mk, figs["mk_first"], "sync"):
            return figs
        if md and figs["mk_maildir"].error is None:
            md.fresh_db()
            _mk_step(md, figs["mk_maildir"], "sync")
    b.repeat(lambda _: _mk_step(mk, figs["mk_nochange"], "sync"))
    base = b.size
    for i in range(b.args.repeat):
        generate.generate_new(
            b.world,
            b.args.seed,
            b.size,
            NEW_MESSAGES,
            i + 1,
            b.server.maildir(),
            profile=b.args.profile,
        )
        b.server.index()  # as if delivered by the LDA, which keeps the index current
        base += NEW_MESSAGES
        if not _mk_step(mk, figs["mk_new"], "sync"):
            break
    figs["mk_new"].messages = NEW_MESSAGES
    rules = mk.dir / "rules" / "customers.yaml"
    for i in range(b.args.repeat):
        write_customers_yaml(b.world, rules, variant=(i + 1) % 2)
        if not _mk_step(mk, figs["mk_relink"], "relink"):
            break
    figs["mk_relink"].messages = base
    return figs


# ------------------------------------------------------------------------------ a size


class Proxy:
    def __init__(self, target_port: int, delay_ms: float, lifetime: float) -> None:
        argv = python_cmd(
            "proxy.py",
            "--target",
            f"127.0.0.1:{target_port}",
            "--delay-ms",
            str(delay_ms),
            "--max-seconds",
            str(lifetime),
        )
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the delaying proxy did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def prepare(size: int, server: dovecot.Dovecot, args: argparse.Namespace) -> dict[str, Any]:
    """Generate the mailbox into the server's Maildir and index it (timed, not a figure)."""
    world = build_world(args.seed)
    t0 = time.perf_counter()
    stats = generate.generate(world, args.seed, size, server.maildir(), profile=args.profile)
    t1 = time.perf_counter()
    server.index()
    t2 = time.perf_counter()
    return {
        **stats.summary(),
        "generate_seconds": round(t1 - t0, 2),
        "index_seconds": round(t2 - t1, 2),
    }


def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    root = args.workdir / f"n{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"size {size}: generating into a fresh Dovecot under {root}")
    server = dovecot.Dovecot(root / "dovecot", users={USER: PASSWORD}, tls=False).start()
    proxy = None
    figures: dict[str, Figure] = {}
    try:
        mailbox = prepare(size, server, args)
        log(
            f"size {size}: generated in {mailbox['generate_seconds']} s, indexed in "
            f"{mailbox['index_seconds']} s ({mailbox['total_mb']} MB, median "
            f"{mailbox['median_kb']} KB)"
        )
        if args.latency_ms:
            proxy = Proxy(server.port, args.latency_ms, lifetime=6 * 3600)
        b = Bench(
            size, root, server, proxy.port if proxy else server.port, build_world(args.seed), args
        )
        steps: list[tuple[str, Callable[[], dict[str, Figure]]]] = [
            ("raw", lambda: measure_raw(b)),
            ("status", lambda: {"status": measure_status(b)}),
            ("mbsync", lambda: measure_mbsync(b)),
            ("mailkeeper", lambda: measure_mailkeeper(b)),
        ]
        for name, step in steps:
            if name in args.skip:
                continue
            log(f"size {size}: measuring {name}")
            t0 = time.perf_counter()
            figures.update(step())
            log(f"size {size}: {name} done in {time.perf_counter() - t0:.1f} s")
    finally:
        if proxy:
            proxy.stop()
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return {"mailbox": mailbox, "figures": {k: f.to_json() for k, f in figures.items()}}


# -------------------------------------------------------------------------- about


def _cmd_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "?"


def machine() -> dict[str, Any]:
    import psutil

    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "os": _os_name(),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def versions(mk_command: str | None) -> dict[str, str]:
    import imapclient

    rev = _cmd_version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "mailkeeper"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "imapclient": imapclient.__version__,
        "dovecot": _cmd_version(["dovecot", "--version"]),
        "mbsync": _cmd_version(["mbsync", "--version"]),
        "mailkeeper": rev + (" (with uncommitted changes)" if dirty else ""),
        "mailkeeper_command": mk_command or "mailkeeper (PATH) or python -m mailkeeper",
    }


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--sizes",
        default="10000,30000,100000",
        help="comma-separated mailbox sizes (default 10000,30000,100000)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="add this delay each way through a proxy (e.g. 20)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        help="Markdown report; the JSON goes next to it (default bench/RESULTS.md, "
        "bench/RESULTS-html.md with --profile html)",
    )
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument(
        "--profile",
        choices=generate.PROFILES,
        default="default",
        help="mail mix of the generated mailbox (default: default; html: HTML-heavy, "
        "Outlook/Foxmail style, larger attachments)",
    )
    ap.add_argument("--skip", default="", help=f"comma-separated, any of {', '.join(SKIPPABLE)}")
    ap.add_argument(
        "--mailkeeper",
        help="command that runs mailkeeper (default: `mailkeeper` "
        "on PATH, else python -m mailkeeper from this repo)",
    )
    ap.add_argument("--workdir", type=Path, default=BENCH / "out", help="scratch (deleted)")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args(argv)
    if args.out is None:
        suffix = "" if args.profile == "default" else f"-{args.profile}"
        args.out = BENCH / f"RESULTS{suffix}.md"
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if unknown := args.skip - set(SKIPPABLE):
        ap.error(f"--skip: unknown {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = dovecot.dovecot_available()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 1
    script = os.path.relpath(Path(sys.argv[0]).resolve(), REPO) if argv is None else "bench/run.py"
    command = "python " + " ".join(
        shlex.quote(a) for a in [script, *(argv if argv is not None else sys.argv[1:])]
    )
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "latency_ms": args.latency_ms,
        "repeat": args.repeat,
        "seed": args.seed,
        "profile": args.profile,
        "machine": machine(),
        "versions": versions(args.mailkeeper),
        "sizes": {},
    }
    t0 = time.perf_counter()
    for size in args.sizes:
        results["sizes"][str(size)] = bench_size(size, args)
        results["total_seconds"] = round(time.perf_counter() - t0, 1)
        write_results(results, args.out)  # after every size, so a long run leaves something
    log(
        f"wrote {args.out} and {args.out.with_suffix('.json')} "
        f"({results['total_seconds']} s in all)"
    )
    return 0


def write_results(results: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    out.write_text(report.render(results))


if __name__ == "__main__":
    sys.exit(main())
