"""`team admin-sql`: the SQL an administrator runs once (or to upgrade), checked names."""

from __future__ import annotations

from collections.abc import Sequence

from mailkeeper.errors import UserError
from mailkeeper.store.team import VERSION
from mailkeeper.store.team.schema import admin_sql as _admin_sql
from mailkeeper.store.team.schema import role_problems
from mailkeeper.store.team.schema import upgrade_sql as _upgrade_sql


def admin_sql(reps: Sequence[str], manager: str, upgrade_from: int | None = None) -> str:
    problems = role_problems(reps, manager)
    if upgrade_from is not None and not 1 <= upgrade_from <= VERSION:
        problems.append(
            f"--upgrade-from {upgrade_from}: this mailkeeper knows versions 1 to {VERSION}"
        )
    if problems:
        raise UserError("cannot write the team SQL", problems)
    if upgrade_from is not None:
        return _upgrade_sql(upgrade_from, reps, manager)
    return _admin_sql(reps, manager)
