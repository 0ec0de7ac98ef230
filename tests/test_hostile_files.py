"""No file's content leaks into an error, and a rules file that is not a regular file the
rep owns is refused by name (README: "Which files mailkeeper reads")."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from test_config import CUSTOMERS, GOOD, write

from mailkeeper.check import check

SHADOW_LIKE = (
    "root:$6$Xq9saltSALT$8hJk2mNpQrStUvWxYz0123456789abcdefABCDEF:20228:0:99999:7:::\n"
    "daemon:*:20228:0:99999:7:::\n"
    "amy:$y$j9T$secretHASHvalue$moreHASH:20230:0:99999:7:::\n"
)


def _problems(cfg: Path) -> list[str]:
    result = check(cfg, offline=True)
    return result.problems


def test_a_file_of_another_format_is_never_quoted(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD, CUSTOMERS)
    (tmp_path / "rules" / "customers.yaml").write_text(SHADOW_LIKE)
    problems = _problems(cfg)
    text = "\n".join(problems)
    assert problems and "customers.yaml:1:" in text
    for secret in ("root:", "$6$", "Xq9salt", "secretHASH", "daemon:", "20228"):
        assert secret not in text, text
    assert "unknown key that is not a name" in text


def test_a_short_yaml_key_is_still_quoted_with_a_suggestion(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD, CUSTOMERS.replace("customers:", "customer:"))
    text = "\n".join(_problems(cfg))
    assert "unknown key 'customer'" in text and "did you mean 'customers'?" in text


def test_a_long_value_is_cut_and_control_characters_hidden(tmp_path: Path) -> None:
    long = "x" * 200 + ".example"
    bad = CUSTOMERS.replace("domains: [birch.co.uk]", f'domains: ["{long}", "a\\tb"]')
    cfg = write(tmp_path, GOOD, bad)
    text = "\n".join(_problems(cfg))
    assert "x" * 25 not in text and "(208 characters)" in text
    assert "'a?b'" in text and "\t" not in text


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a file to another user")
def test_a_symlink_to_another_users_file_is_refused_by_name(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD, CUSTOMERS)
    theirs = tmp_path / "theirs.yaml"
    theirs.write_text(CUSTOMERS)
    os.chown(theirs, 65534, 65534)  # nobody
    link = tmp_path / "rules" / "customers.yaml"
    link.unlink()
    link.symlink_to(theirs)
    [problem] = [p for p in _problems(cfg) if "customers.yaml" in p]
    assert problem.startswith(f"{link}: refused: it belongs to another user")
    assert str(theirs) in problem and "a symlink to one is fine" in problem


def test_a_symlink_to_a_file_of_the_rep_is_read(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD, CUSTOMERS)
    mine = tmp_path / "elsewhere" / "customers.yaml"
    mine.parent.mkdir()
    link = tmp_path / "rules" / "customers.yaml"
    link.rename(mine)
    link.symlink_to(mine)
    assert _problems(cfg) == []


def test_a_symlink_to_etc_shadow_leaks_nothing(tmp_path: Path) -> None:
    if not os.access("/etc/shadow", os.R_OK) and os.getuid() != 0:
        pytest.skip("/etc/shadow is not readable here; the ownership test covers it")
    cfg = write(tmp_path, GOOD, CUSTOMERS)
    link = tmp_path / "rules" / "customers.yaml"
    link.unlink()
    link.symlink_to("/etc/shadow")
    text = "\n".join(_problems(cfg))
    assert "customers.yaml" in text
    assert "root:" not in text and ":99999:" not in text, text


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_rules_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    cfg = write(tmp_path, GOOD, CUSTOMERS)
    path = tmp_path / "rules" / "customers.yaml"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(_problems(cfg)), daemon=True)
    worker.start()
    worker.join(20)  # a FIFO without a writer must not block the check
    assert not worker.is_alive(), "check blocked on the rules file"
    [problem] = [p for p in found if "customers.yaml" in p]
    words = {"fifo": "FIFO", "device": "a device", "folder": "folder"}[kind]
    assert problem.startswith(f"{path}:") and words in problem, problem


def test_a_broken_tier_is_reported_once_with_the_count_of_its_customers(tmp_path: Path) -> None:
    many = "customers:\n" + "".join(
        f"  - name: Customer {i}\n    domains: [c{i}.example.com]\n    tier: {t}\n"
        for i, t in enumerate("A" * 46 + "BB")
    )
    cfg = write(tmp_path, GOOD, many)
    tiers = tmp_path / "rules" / "tiers.yaml"
    from mailkeeper.config.defaults import rules_dir

    text = (rules_dir() / "tiers.yaml").read_text()
    tiers.write_text(text.replace("contact_interval_days: 14", "contact_intervall_days: 14", 1))
    problems = _problems(cfg)
    typo = next(n for n, ln in enumerate(tiers.read_text().splitlines(), 1) if "intervall" in ln)
    tier_line = next(n for n, ln in enumerate(tiers.read_text().splitlines(), 1) if ln == "  A:")
    assert len(problems) == 3, "\n".join(problems)
    assert any(p.startswith(f"{tiers}:{typo}:") and "contact_intervall_days" in p for p in problems)
    assert any(
        p.startswith(f"{tiers}:") and "tiers.A has no 'contact_interval_days'" in p
        for p in problems
    )
    [root] = [p for p in problems if "could not be read" in p]
    assert f"tier A could not be read (see {tiers}:{tier_line}); 46 customers use it" in root
    assert not any("is not defined" in p for p in problems)
