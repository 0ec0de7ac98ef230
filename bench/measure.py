"""Run one child process under /usr/bin/time -v, with a timeout, and measure it.

Peak memory is reported two ways: GNU time's "Maximum resident set size" (the largest
single process of the tree, as the kernel's rusage gives it) and the peak of the summed
RSS of the whole process tree, sampled every 50 ms with psutil (what matters when the
program uses a helper process for parsing).
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

GNU_TIME = "/usr/bin/time"
SAMPLE_SECONDS = 0.05


@dataclass
class Run:
    argv: list[str]
    returncode: int
    wall: float  # seconds, fork to exit
    max_rss_kb: int | None  # GNU time: largest single process
    tree_rss_kb: int | None  # sampled peak of the summed tree
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def reason(self) -> str:
        if self.timed_out:
            return "timed out"
        lines = [ln for ln in (self.stderr or self.stdout).strip().splitlines() if ln.strip()]
        return f"exit {self.returncode}: {lines[-1][:200] if lines else 'no output'}"

    def brief(self) -> dict[str, Any]:
        d = asdict(self)
        d["stdout"], d["stderr"] = self.stdout[-2000:], self.stderr[-2000:]
        return d


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, self._sample(root))
            self.stop.wait(SAMPLE_SECONDS)

    @staticmethod
    def _sample(root: psutil.Process) -> int:
        total = 0
        try:
            procs = root.children(recursive=True)  # not GNU time itself
        except psutil.Error:
            return 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total // 1024


class CpuSampler(threading.Thread):
    """CPU seconds (user + system) of one process and of its descendants (the parse
    workers), read every SAMPLE_SECONDS with psutil; each process counts with its last
    reading, so its last < 50 ms are missed. Less disturbed by other jobs than wall time.
    The process is `pid`, or the first whose command line holds `marker` (one run under GNU
    time, whose own pid says nothing)."""

    def __init__(self, *, pid: int | None = None, marker: str | None = None) -> None:
        super().__init__(daemon=True)
        self.pid, self.marker = pid, marker
        self.seen: dict[int, float] = {}
        self.main_pid: int | None = None
        self.stop = threading.Event()

    def _find(self) -> psutil.Process | None:
        try:
            if self.pid is not None:
                return psutil.Process(self.pid)
            for proc in psutil.process_iter(["cmdline"]):
                if self.marker in (proc.info.get("cmdline") or []):
                    return proc
        except psutil.Error:
            pass
        return None

    def run(self) -> None:
        main = None
        while not self.stop.is_set():
            if main is None:
                main = self._find()
                self.main_pid = main.pid if main is not None else None
            if main is not None:
                try:
                    procs = [main, *main.children(recursive=True)]
                except psutil.Error:
                    procs = []
                for proc in procs:
                    try:
                        t = proc.cpu_times()
                        self.seen[proc.pid] = t.user + t.system
                    except psutil.Error:
                        continue
            self.stop.wait(SAMPLE_SECONDS)

    def total(self) -> float:
        return sum(self.seen.values())

    def main(self) -> float:
        """The process's own CPU seconds (the rest of total() is its descendants')."""
        return self.seen.get(self.main_pid, 0.0) if self.main_pid is not None else 0.0


def _max_rss(report: str) -> int | None:
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    return int(match.group(1)) if match else None


DROP_CACHES = Path("/proc/sys/vm/drop_caches")
# Whether `run(..., cold=True)` empties the page cache first: bench/run.py sets it (--cache).
COLD = False


def can_drop_caches() -> bool:
    return os.access(DROP_CACHES, os.W_OK)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    cold: bool = False,
) -> Run:
    """Run argv (no shell) under GNU time; on timeout the whole process group is killed.

    The page cache's dirty data is written out first (sync(2), not timed): the run before
    may have written gigabytes (mbsync's Maildir, a database), and its writeback must not
    land in this run's time. With `cold` (and COLD set) the page cache is then emptied, so
    every contender reads the mail from disk: a mailbox larger than the cache otherwise
    favours whoever runs right after a run that read the same files."""
    os.sync()
    if cold and COLD:
        DROP_CACHES.write_text("1\n")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        report, out, err = Path(tmp, "time"), Path(tmp, "out"), Path(tmp, "err")
        full = [GNU_TIME, "-v", "-o", str(report), *argv]
        with open(out, "wb") as fo, open(err, "wb") as fe:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                full,
                stdout=fo,
                stderr=fe,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
            sampler = _TreeSampler(proc.pid)
            sampler.start()
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's group
                proc.wait()
            wall = time.perf_counter() - t0
            sampler.stop.set()
            sampler.join()
        text = report.read_text(errors="replace") if report.exists() else ""
        return Run(
            list(argv),
            proc.returncode,
            wall,
            _max_rss(text),
            sampler.peak_kb or None,
            out.read_text(errors="replace"),
            err.read_text(errors="replace"),
            timed_out,
        )


# ------------------------------------------------------------------------ summaries


@dataclass
class Spread:
    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        vals = [v for v in values if v is not None]
        if not vals:
            return None
        return cls(statistics.median(vals), min(vals), max(vals), len(vals))

    def fmt(self, scale: float = 1.0, digits: int = 2) -> str:
        m, lo, hi = self.median * scale, self.min * scale, self.max * scale
        if self.n == 1:
            return f"{m:,.{digits}f}"
        return f"{m:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"
