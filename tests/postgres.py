"""A private PostgreSQL on 127.0.0.1 for tests and benchmarks (Debian's `postgresql` package).

`initdb` into a temp folder, a free loopback port, the unix socket in the same folder, stopped
at the end. The server refuses to run as root, so when the tests run as root (as they do for
Dovecot) initdb and pg_ctl run as the `postgres` user the package creates, over a folder
chowned to it. The superuser (`postgres`) connects over the unix socket without a password;
every other role logs in over TCP with a password (scram-sha-256), as a rep would.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

SUPERUSER = "postgres"


def pg_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin holding initdb (Debian's layout), or PATH's."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_available() -> str | None:
    """The reason a private PostgreSQL cannot run here, or None when it can."""
    if pg_bindir() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """One PostgreSQL cluster. Use as a context manager or call start()/stop()."""

    def __init__(self, root: Path, durable: bool = False) -> None:
        """`durable`: fsync as a production server does (benchmarks); tests skip it."""
        self.root = Path(root)
        self.durable = durable
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"
        self.cert_path = self.root / "server.crt"  # self-signed: also the CA a client trusts
        self.key_path = self.root / "server.key"
        self.host = "127.0.0.1"
        self.port = free_port()
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed")
        self.bin = bindir
        self._as_user: list[str] = []
        self._owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam(SUPERUSER)
            self._as_user = ["runuser", "-u", SUPERUSER, "--"]
            self._owner = (pw.pw_uid, pw.pw_gid)

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Postgres:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._owner:
            for p in (self.root, self.socket_dir):
                os.chown(p, *self._owner)
        os.chmod(self.root, 0o755)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            self._make_cert()
            with open(self.data / "postgresql.conf", "a") as f:
                f.write(
                    f"ssl = on\nssl_cert_file = '{self.cert_path}'\n"
                    f"ssl_key_file = '{self.key_path}'\n"
                    f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.socket_dir}'\n"
                    + (
                        ""
                        if self.durable
                        else "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    )
                    + "max_connections = 100\n"
                    + f"shared_buffers = {'256MB' if self.durable else '64MB'}\n"
                )
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_path))
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", mode, check=False)

    def restart(self) -> None:
        self.stop()
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_path))

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ admin
    def psql(self, database: str, sql: str | None = None, file: Path | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """psql as the superuser over the unix socket, ON_ERROR_STOP as an admin would run it."""
        args = [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER,
                "-d", database]  # fmt: skip
        if file is not None:
            if self._owner:
                os.chmod(file, 0o644)
            args += ["-f", str(file)]
        else:
            args += ["-c", sql or ""]
        r = subprocess.run(args, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def create_database(self, name: str) -> None:
        self.psql("postgres", f'CREATE DATABASE "{name}"')

    def set_password(self, role: str, password: str) -> None:
        quoted = '"' + role.replace('"', '""') + '"'
        self.psql("postgres", f"ALTER ROLE {quoted} PASSWORD '{password}'")

    def superuser_dsn(self, database: str) -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    # ------------------------------------------------------------------ helpers
    def _make_cert(self) -> None:
        """A self-signed certificate for 127.0.0.1 and localhost (TLS with verify-full)."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.key_path), "-out", str(self.cert_path)],
            check=True, capture_output=True,
        )  # fmt: skip
        os.chmod(self.key_path, 0o600)
        os.chmod(self.cert_path, 0o644)
        if self._owner:
            for p in (self.key_path, self.cert_path):
                os.chown(p, *self._owner)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args, check=check)

    def _run(self, *args: str, check: bool = True) -> None:
        r = subprocess.run([*self._as_user, *args], capture_output=True, text=True, cwd="/")
        if check and r.returncode != 0:
            log = self.log_path.read_text()[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {r.stdout}{r.stderr}{log}")

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", self.host, "-p", str(self.port)],
                capture_output=True,
            )
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL does not answer")
