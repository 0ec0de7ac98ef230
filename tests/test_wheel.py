"""The shipped rules and templates are inside the wheel: a non-editable install has them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling ('.[test]')")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
    )
    [whl] = out.glob("mailkeeper-*.whl")
    return whl


def test_wheel_contains_the_defaults(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "rules/customers.yaml",
        "rules/tiers.yaml",
        "rules/freemail.yaml",
        "templates/check_in.en.txt.j2",
    ):
        assert f"mailkeeper/_defaults/{name}" in names, name
    assert not any("corpus" in n or n.startswith("tests/") for n in names)


def test_non_editable_install_runs_init(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    dest = tmp_path / "cfg"
    probe = (
        "import mailkeeper.config.defaults as d, sys; "
        "assert d.defaults_root().is_relative_to(sys.argv[1]), d.defaults_root(); "
        "print(d.defaults_root())"
    )
    # Run from an empty folder so the source tree is not on sys.path.
    subprocess.run([sys.executable, "-c", probe, str(target)], check=True, cwd=tmp_path, env=env)
    subprocess.run(
        [sys.executable, "-m", "mailkeeper", "init", "--dir", str(dest)],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
    )
    assert (dest / "rules" / "freemail.yaml").read_text() == (
        REPO / "rules" / "freemail.yaml"
    ).read_text()
    assert (dest / "templates" / "check_in.zh.txt.j2").exists()
    assert (dest / "mailkeeper.yaml").stat().st_mode & 0o777 == 0o600
