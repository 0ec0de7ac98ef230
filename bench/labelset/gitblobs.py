"""Read files out of a bare git mirror without a work tree (one `git cat-file --batch` process)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator


def list_files(git_dir: str, commit: str, prefixes: Iterable[str]) -> list[str]:
    """Paths of the blobs under the prefixes at that commit, sorted (deterministic order)."""
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            git_dir,
            "ls-tree",
            "-r",
            "-z",
            "--full-tree",
            commit,
            "--",
            *prefixes,
        ],
        check=True,
        capture_output=True,
    ).stdout
    paths = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        if meta.split()[1] == b"blob":
            paths.append(path.decode("utf-8", "surrogateescape"))
    return sorted(paths)


def read_blobs(
    git_dir: str, commit: str, paths: Iterable[str]
) -> Iterator[tuple[str, bytes | None]]:
    """Yield (path, raw bytes) for each path at the commit; None when the blob is missing
    (a snapshot leaves out files of 4 MiB and more)."""
    proc = subprocess.Popen(
        ["git", "--git-dir", git_dir, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    if proc.stdin is None or proc.stdout is None:  # only for the type checker: PIPE gives both
        raise RuntimeError("git cat-file started without pipes")
    try:
        for path in paths:
            proc.stdin.write(f"{commit}:{path}\n".encode("utf-8", "surrogateescape"))
            proc.stdin.flush()
            header = proc.stdout.readline()
            if header.endswith(b" missing\n"):
                yield path, None
                continue
            size = int(header.split()[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after each object
            yield path, data
    finally:
        proc.stdin.close()
        proc.wait()
