"""The site's charts and pages, drawn by worker processes (pygal costs ~7 ms per sparkline and
~15 ms per history chart: most of a large site's time). The mail charts need only the monthly
counts, so they start at once and are drawn while the caller reads the listings; the pages
follow when those are ready. A small site (or `workers` 1) is drawn in this process."""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any

from mailkeeper.report import charts
from mailkeeper.report.health import month_span, months_back

SMALL_SITE = 40  # customers: fewer are drawn in this process (starting workers costs more)
Monthly = dict[str, list[int]]  # 'YYYY-MM' -> [received, sent]


def mail_charts(items: list[tuple[int, Monthly]], year: list[str]) -> dict[int, tuple[str, str]]:
    """customer id -> (the sparkline of the last 12 months, the whole history's chart or '')."""
    out = {}
    for cid, monthly in items:
        spark = charts.sparkline([monthly.get(m, [0, 0])[0] for m in year],
                                 [monthly.get(m, [0, 0])[1] for m in year])  # fmt: skip
        history = ""
        if monthly:
            months = month_span(min(monthly), max(monthly))
            history = charts.monthly(months, [monthly.get(m, [0, 0])[0] for m in months],
                                     [monthly.get(m, [0, 0])[1] for m in months])  # fmt: skip
        out[cid] = (spark, history)
    return out


class Painter:
    def __init__(self, monthly: dict[int, Monthly], now: datetime,
                 workers: int | None = None) -> None:  # fmt: skip
        self.year = months_back(now, 12)
        n = workers if workers is not None else min(os.cpu_count() or 1, 4)
        items = sorted(monthly.items())
        self.pool: ProcessPoolExecutor | None = None
        self.n = n
        self._drawn: list[Future[dict[int, tuple[str, str]]]] = []
        self._charts: dict[int, tuple[str, str]] | None = None
        if n > 1 and len(items) >= SMALL_SITE:
            import multiprocessing
            import threading

            # fork when this process has one thread (the workers start at once, nothing is
            # imported again); spawn in the daemon, which has threads (a fork could copy a
            # lock another thread holds)
            method = "fork" if threading.active_count() == 1 else "spawn"
            self.pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context(method))
            self._drawn = [self.pool.submit(mail_charts, chunk, self.year)
                           for chunk in self._chunks(items)]  # fmt: skip
        else:
            self._items = items

    def _chunks(self, items: list[Any]) -> list[list[Any]]:
        """A few chunks per worker, so a slow one does not hold up the rest."""
        size = max(1, len(items) // (self.n * 3))
        return [items[i : i + size] for i in range(0, len(items), size)]

    def charts(self) -> dict[int, tuple[str, str]]:
        """customer id -> (sparkline, history chart), as `mail_charts` draws them."""
        if self._charts is None:
            self._charts = {}
            if self.pool is None:
                self._charts = mail_charts(self._items, self.year)
            for f in self._drawn:
                self._charts.update(f.result())
        return self._charts

    def pages(self, render: Any, jobs: list[dict[str, Any]], now: datetime) -> list[int]:
        """`render(chunk, now)` over the jobs, in order: the bytes each page took."""
        if self.pool is None:
            return list(render(jobs, now))
        chunks = self._chunks(jobs)
        done = self.pool.map(render, chunks, [now] * len(chunks))
        return [n for chunk in done for n in chunk]

    def __enter__(self) -> Painter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
