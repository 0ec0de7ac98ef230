"""The benchmark: mailkeeper's sync against raw imapclient, mbsync and STATUS, at several sizes.

    python bench/run.py --sizes 10000,100000 --repeat 3 --profile default,html [--latency-ms 20]

For each size and each mail mix: generate the mailbox once into a fresh private Dovecot
(timed, not a figure) and index it; then run the first syncs in --repeat interleaved rounds
(raw imapclient, mbsync's full pull, mailkeeper over IMAP, mailkeeper on that round's mbsync
Maildir, each once per round), then every other figure --repeat times; report median (min,
max). The mix's data is deleted before the next mailbox is generated (unless --keep). One
report for all mixes: bench/RESULTS.md and bench/RESULTS.json. Needs root (the private
Dovecot). Only loopback traffic; every child process has a timeout. See bench/README.md.
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
    profile: str | None = None  # the mail mix (None: args.profile, for detect_bench.py)

    @property
    def mix(self) -> str:
        return self.profile or getattr(self.args, "profile", None) or "default"

    @property
    def label(self) -> str:
        return f"size {self.size}, mix {self.mix}"

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


class Raw:
    """raw imapclient: one cold fetch before the rounds (it also warms Dovecot's cache for
    everyone), then one fetch per round."""

    def __init__(self, b: Bench) -> None:
        self.b = b
        self.cold = Figure("raw imapclient, first fetch (cold server cache)")
        self.fig = Figure("raw imapclient")
        self.argv = python_cmd("baselines.py", "raw", "--port", str(b.port))

    def figures(self) -> dict[str, Figure]:
        return {"raw_cold": self.cold, "raw": self.fig}

    def warm_up(self) -> None:
        self._once(self.cold)
        if self.cold.error:
            self.fig.error = self.cold.error

    def round(self) -> float | None:
        return self._once(self.fig) if self.fig.error is None else None

    def _once(self, fig: Figure) -> float | None:
        run = measure.run(self.argv, timeout=self.b.timeout, env=self.b.env(), cold=True)
        out = _json_out(run)
        if not run.ok or not isinstance(out, dict):
            fig.fail(run)
            return None
        fig.add(run, out["seconds"])
        fig.messages = out["messages"]
        return run.wall


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


class Mbsync:
    """mbsync's one-way pull into a fresh Maildir, once per round; the Maildir of the round's
    pull is what mailkeeper's Maildir row syncs in the same round, and the last one is kept
    for the no-change resyncs (and is deleted with the size's scratch folder)."""

    def __init__(self, b: Bench) -> None:
        self.b = b
        self.full, self.again = Figure("mbsync full pull"), Figure("mbsync no-change resync")
        self.work = b.root / "mbsync"
        self.maildir = self.work / "Maildir"
        self.pulled = False  # the Maildir holds a complete pull
        self.argv: list[str] = []
        if shutil.which("mbsync") is None:
            self.full.error = self.again.error = "mbsync is not installed (apt-get install isync)"

    def figures(self) -> dict[str, Figure]:
        return {"mbsync": self.full, "mbsync_nochange": self.again}

    def _fresh(self) -> list[str]:
        from baselines import write_mbsyncrc

        shutil.rmtree(self.work, ignore_errors=True)
        self.maildir.mkdir(parents=True)
        self.argv = write_mbsyncrc(
            self.work / "mbsyncrc", "127.0.0.1", self.b.port, USER, PASSWORD, self.maildir
        )
        return self.argv

    def round(self) -> float | None:
        self.pulled = False
        if self.full.error is not None:
            return None
        argv = self._fresh()
        run = measure.run(argv, timeout=self.b.timeout, env=self.b.env(), cold=True)
        if not run.ok:
            self.full.fail(run)
            self.again.error = "not measured: the full pull failed"
            shutil.rmtree(self.work, ignore_errors=True)
            return None
        self.full.add(run)
        self.full.messages = count_maildir(self.maildir)
        self.pulled = True
        return run.wall

    def nochange(self) -> None:
        if not self.pulled:
            return
        argv = self.argv
        measure.run(argv, timeout=self.b.timeout, env=self.b.env())  # the first resync settles
        for _ in range(self.b.args.repeat):
            run = measure.run(argv, timeout=self.b.timeout, env=self.b.env())
            if not run.ok:
                self.again.fail(run)
                break
            self.again.add(run)


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

    def run(self, *command: str, cold: bool = False) -> measure.Run:
        argv = [*self.argv, "--config", str(self.config), *command, "--json"]
        return measure.run(argv, timeout=self.b.timeout, env=self.env, cwd=self.dir, cold=cold)


def _mk_step(mk: Mailkeeper, fig: Figure, *command: str, cold: bool = False) -> float | None:
    """Run one mailkeeper command into fig; its wall time, or None when it failed."""
    run = mk.run(*command, cold=cold)
    if not run.ok:
        fig.fail(run)
        return None
    timings = find_timings(_json_out(run))
    fig.add(run, timings.get("total") if timings else None)
    if timings:
        fig.timings.append(timings)
    return run.wall


class MailkeeperFigures:
    """mailkeeper's figures: the two first syncs (one of each per round), then the rest."""

    def __init__(self, b: Bench, mbsync: Mbsync | None) -> None:
        self.b = b
        self.mbsync = mbsync
        self.figs = {
            k: Figure(n)
            for k, n in (
                ("mk_first", "mailkeeper first sync"),
                ("mk_maildir", "mailkeeper first sync, local Maildir (mbsync's pull)"),
                ("mk_nochange", "mailkeeper no-change sync"),
                ("mk_new", f"mailkeeper sync after {NEW_MESSAGES} new messages"),
                ("mk_relink", "mailkeeper relink after customers.yaml changed"),
            )
        }
        self.mk = Mailkeeper(b, b.args.mailkeeper)
        self.mk.write_config()
        self.ok = True  # the IMAP first sync has not failed
        reason = self.mk.unavailable()
        if reason:
            self.ok = False
            for f in self.figs.values():
                f.error = f"not available: {reason}"
            self.md = None
            return
        self.figs["mk_first"].messages = b.size
        self.md = Mailkeeper(b, b.args.mailkeeper, mbsync.maildir) if mbsync else None
        if self.md:
            self.md.write_config()
        else:
            self.figs["mk_maildir"].error = "not available: no mbsync Maildir (mbsync skipped)"

    def first_imap(self) -> float | None:
        if not self.ok:
            return None
        self.mk.fresh_db()
        wall = _mk_step(self.mk, self.figs["mk_first"], "sync", cold=True)
        self.ok = wall is not None
        return wall

    def first_maildir(self) -> float | None:
        fig = self.figs["mk_maildir"]
        if not self.md or fig.error is not None:
            return None
        if not (self.mbsync and self.mbsync.pulled):
            if not fig.wall:
                fig.error = "not available: mbsync's pull failed"
            return None
        fig.messages = self.mbsync.full.messages
        self.md.fresh_db()
        return _mk_step(self.md, fig, "sync", cold=True)

    def after_rounds(self) -> None:
        """No-change sync, sync after new messages, relink: each --repeat times, on the
        database of the last round's IMAP first sync."""
        if not self.ok:
            return
        b, mk, figs = self.b, self.mk, self.figs
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
                profile=b.mix,
            )
            b.server.index()  # as if delivered by the LDA, which keeps the index current
            base += NEW_MESSAGES
            if _mk_step(mk, figs["mk_new"], "sync") is None:
                break
        figs["mk_new"].messages = NEW_MESSAGES
        rules = mk.dir / "rules" / "customers.yaml"
        for i in range(b.args.repeat):
            write_customers_yaml(b.world, rules, variant=(i + 1) % 2)
            if _mk_step(mk, figs["mk_relink"], "relink") is None:
                break
        figs["mk_relink"].messages = base


# ------------------------------------------------------------------------------ all figures


def measure_all(b: Bench) -> tuple[dict[str, Figure], list[dict[str, Any]]]:
    """Every figure of one mailbox, and what each first-sync round saw.

    The first syncs run in interleaved rounds: per round raw imapclient, mbsync's full pull,
    mailkeeper over IMAP, mailkeeper on that round's mbsync Maildir, each once, so a slow
    spell of the machine hits them alike. Then STATUS, mbsync's no-change resync and
    mailkeeper's no-change sync, sync after new messages and relink, each --repeat times."""
    skip = b.args.skip
    raw = None if "raw" in skip else Raw(b)
    pull = None if "mbsync" in skip else Mbsync(b)
    mk = None if "mailkeeper" in skip else MailkeeperFigures(b, pull)
    figs: dict[str, Figure] = {}
    for part in (raw, pull):
        if part:
            figs.update(part.figures())
    if mk:
        figs.update(mk.figs)
    if raw:
        log(f"{b.label}: raw imapclient, first (cold) fetch")
        raw.warm_up()
    runners: list[tuple[str, Callable[[], float | None]]] = []
    if raw:
        runners.append(("raw", raw.round))
    if pull:
        runners.append(("mbsync", pull.round))
    if mk:
        runners += [("mk_first", mk.first_imap), ("mk_maildir", mk.first_maildir)]
    rounds: list[dict[str, Any]] = []
    for r in range(b.args.repeat):
        one: dict[str, Any] = {"round": r + 1, "loadavg_1m": round(os.getloadavg()[0], 2)}
        walls: dict[str, float | None] = {}
        for key, runner in runners:
            walls[key] = runner()
        one["seconds"] = {k: round(w, 3) for k, w in walls.items() if w is not None}
        rounds.append(one)
        log(
            f"{b.label}: round {r + 1}/{b.args.repeat} (load {one['loadavg_1m']}): "
            + ", ".join(f"{k} {_secs(w)}" for k, w in walls.items())
        )
    after: list[tuple[str, Callable[[], object]]] = []
    if "status" not in skip:
        after.append(("status", lambda: figs.update(status=measure_status(b))))
    if pull:
        after.append(("mbsync no-change", pull.nochange))
    if mk:
        after.append(("mailkeeper no-change / new / relink", mk.after_rounds))
    for name, step in after:
        t0 = time.perf_counter()
        step()
        log(f"{b.label}: {name} done in {time.perf_counter() - t0:.1f} s")
    return figs, rounds


def _secs(wall: float | None) -> str:
    return f"{wall:.2f} s" if wall is not None else "-"


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


def prepare(
    size: int, server: dovecot.Dovecot, args: argparse.Namespace, profile: str | None = None
) -> dict[str, Any]:
    """Generate the mailbox into the server's Maildir and index it (timed, not a figure).
    `profile` is the mail mix (default: args.profile, as compare_commits.py passes it)."""
    world = build_world(args.seed)
    mix = profile or args.profile
    t0 = time.perf_counter()
    stats = generate.generate(world, args.seed, size, server.maildir(), profile=mix)
    t1 = time.perf_counter()
    server.index()
    t2 = time.perf_counter()
    return {
        **stats.summary(),
        "generate_seconds": round(t1 - t0, 2),
        "index_seconds": round(t2 - t1, 2),
    }


def bench_size(size: int, profile: str, args: argparse.Namespace) -> dict[str, Any]:
    """One mix at one size: its own mailbox in its own fresh Dovecot. Everything it writes
    (Dovecot's Maildir and indexes, mbsync's Maildir, mailkeeper's databases) is under one
    scratch folder, deleted at the end unless --keep, so only one mailbox is on disk at a time
    (the html mix at 100k is ~14 GB in Dovecot plus as much again in mbsync's Maildir)."""
    label = f"size {size}, mix {profile}"
    root = args.workdir / f"{profile}-n{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"{label}: generating into a fresh Dovecot under {root} ({_free_gb(root)} GB free)")
    server = dovecot.Dovecot(root / "dovecot", users={USER: PASSWORD}, tls=False).start()
    proxy = None
    figures: dict[str, Figure] = {}
    rounds: list[dict[str, Any]] = []
    try:
        mailbox = prepare(size, server, args, profile)
        log(
            f"{label}: generated in {mailbox['generate_seconds']} s, indexed in "
            f"{mailbox['index_seconds']} s ({mailbox['total_mb']} MB, median "
            f"{mailbox['median_kb']} KB; {_free_gb(root)} GB free)"
        )
        if "mbsync" not in args.skip and _free_gb(root) * 1024 < 1.2 * mailbox["total_mb"]:
            log(f"{label}: warning: mbsync's copy of {mailbox['total_mb']} MB may not fit")
        if args.latency_ms:
            proxy = Proxy(server.port, args.latency_ms, lifetime=6 * 3600)
        port = proxy.port if proxy else server.port
        b = Bench(size, root, server, port, build_world(args.seed), args, profile=profile)
        t0 = time.perf_counter()
        figures, rounds = measure_all(b)
        log(f"{label}: measured in {time.perf_counter() - t0:.1f} s")
    finally:
        if proxy:
            proxy.stop()
        server.stop()
        if not args.keep:
            t0 = time.perf_counter()
            shutil.rmtree(root, ignore_errors=True)
            log(f"{label}: scratch deleted in {time.perf_counter() - t0:.1f} s")
    return {
        "mailbox": mailbox,
        "rounds": rounds,
        "figures": {k: f.to_json() for k, f in figures.items()},
    }


def _free_gb(path: Path) -> float:
    return round(shutil.disk_usage(path).free / 2**30, 1)


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
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="interleaved first-sync rounds, and runs of every other figure (default 3)",
    )
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
        "bench/RESULTS-html.md with --profile html alone)",
    )
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument(
        "--profile",
        dest="profiles",
        default="default",
        help="comma-separated mail mixes, each its own mailbox per size, all in one report "
        f"(any of {', '.join(generate.PROFILES)}; default: default; html: HTML-heavy, "
        "Outlook/Foxmail style, larger attachments)",
    )
    ap.add_argument("--skip", default="", help=f"comma-separated, any of {', '.join(SKIPPABLE)}")
    ap.add_argument(
        "--mailkeeper",
        help="command that runs mailkeeper (default: `mailkeeper` "
        "on PATH, else python -m mailkeeper from this repo)",
    )
    ap.add_argument(
        "--cache",
        choices=("cold", "as-is"),
        help="page cache before each first sync (raw, mbsync, mailkeeper over IMAP and on the "
        "Maildir): cold = emptied (echo 1 > /proc/sys/vm/drop_caches; the default when "
        "writable), as-is = as the run before left it",
    )
    ap.add_argument("--workdir", type=Path, default=BENCH / "out", help="scratch (deleted)")
    ap.add_argument(
        "--keep", action="store_true", help="keep the generated data (of every mix and size)"
    )
    args = ap.parse_args(argv)
    args.profiles = list(dict.fromkeys(p.strip() for p in args.profiles.split(",") if p.strip()))
    if not args.profiles:
        ap.error("--profile: give at least one mix")
    if unknown := set(args.profiles) - set(generate.PROFILES):
        ap.error(f"--profile: unknown {', '.join(sorted(unknown))}")
    if args.out is None:
        only = args.profiles[0] if len(args.profiles) == 1 else "default"
        suffix = "" if only == "default" else f"-{only}"
        args.out = BENCH / f"RESULTS{suffix}.md"
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if unknown := args.skip - set(SKIPPABLE):
        ap.error(f"--skip: unknown {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.cache is None:
        args.cache = "cold" if measure.can_drop_caches() else "as-is"
    elif args.cache == "cold" and not measure.can_drop_caches():
        ap.error(f"--cache cold: {measure.DROP_CACHES} is not writable (run as root)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    measure.COLD = args.cache == "cold"
    reason = dovecot.dovecot_available()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 1
    script = os.path.relpath(Path(sys.argv[0]).resolve(), REPO) if argv is None else "bench/run.py"
    command = "python " + " ".join(
        shlex.quote(a) for a in [script, *(argv if argv is not None else sys.argv[1:])]
    )
    mixes: list[dict[str, Any]] = [{"profile": p, "sizes": {}} for p in args.profiles]
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "latency_ms": args.latency_ms,
        "repeat": args.repeat,
        "interleaved": True,  # the first syncs run in rounds (see measure_all)
        "cache": args.cache,  # the page cache before each first sync
        "seed": args.seed,
        "targets": report.TARGETS,
        "machine": machine(),
        "versions": versions(args.mailkeeper),
        "mixes": mixes,
    }
    t0 = time.perf_counter()
    for size in args.sizes:
        for mix in mixes:
            mix["sizes"][str(size)] = bench_size(size, mix["profile"], args)
            results["total_seconds"] = round(time.perf_counter() - t0, 1)
            write_results(results, args.out)  # after every mailbox: a long run leaves something
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
