"""The parse workers: lower priority than the process that fetches and stores."""

from __future__ import annotations

import os

from mailkeeper.link import Party
from mailkeeper.sync import WORKER_NICE, Parser


def test_parse_workers_run_below_the_main_process() -> None:
    party = Party(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
    parser = Parser(1, party, "inbox")
    try:
        assert parser.pool is not None
        worker_nice = parser.pool.apply(os.nice, (0,))
    finally:
        parser.close()
    assert worker_nice == min(19, os.nice(0) + WORKER_NICE)
