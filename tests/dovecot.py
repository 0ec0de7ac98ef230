"""A private Dovecot IMAP server on 127.0.0.1 for tests and benchmarks.

Everything lives under one root folder: config, runtime state, logs, users' Maildirs.
Messages are delivered by writing files straight into the Maildir (far faster than
APPEND); `index()` pre-builds Dovecot's index. Needs root (Dovecot drops privileges
to the `dovecot` / `dovenull` users that the Debian package creates).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

MAIL_UID = 65534
MAIL_GID = 65534

SPECIAL_FOLDERS = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk"}


def dovecot_available() -> str | None:
    """The reason Dovecot cannot run here, or None when it can."""
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    if os.geteuid() != 0:
        return "the private Dovecot needs root to drop privileges"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """One Dovecot instance. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        root: Path,
        users: dict[str, str] | None = None,
        tls: bool = True,
        extra_config: str = "",
    ) -> None:
        self.root = Path(root)
        self.users = users or {"amy": "secret"}
        self.tls = tls
        self.extra_config = extra_config
        self.host = "127.0.0.1"
        self.port = free_port()
        self.ssl_port = free_port() if tls else None
        self.config_path = self.root / "dovecot.conf"
        self.base_dir = self.root / "run"
        self.log_path = self.root / "dovecot.log"
        self.home_root = self.root / "home"
        self.cert_path = self.root / "cert.pem"
        self._dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self._doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Dovecot:
        self.root.mkdir(parents=True, exist_ok=True)
        self.base_dir.mkdir(exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        self.home_root.mkdir(exist_ok=True)
        os.chmod(self.root, 0o755)
        if self.tls:
            self._make_cert()
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        )
        for user in self.users:
            self._make_maildir(user)
        self.config_path.write_text(self._config())
        subprocess.run([self._dovecot, "-c", str(self.config_path)], check=True)
        self._wait_listening()
        self._wait_auth()
        return self

    def stop(self) -> None:
        pid_file = self.base_dir / "master.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def restart(self) -> None:
        """Stop and start on the same ports (mail and indexes kept). The server must be whole
        again afterwards, its auth process included: the rest of the session uses it (a start
        racing the old processes' shutdown once left the auth socket dead for every later
        test), so it waits for the old master to be gone and for a user lookup to answer, and
        tries again when the new server is not whole."""
        for attempt in range(3):
            self.stop()
            pid_file = self.base_dir / "master.pid"
            for _ in range(100):  # dovecot removes its pid file when its children are gone
                if not pid_file.exists():
                    break
                time.sleep(0.05)
            time.sleep(0.3 + attempt)
            subprocess.run([self._dovecot, "-c", str(self.config_path)], check=False)
            try:
                self._wait_listening()
                self._wait_auth()
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def _wait_auth(self, timeout: float = 10.0) -> None:
        """Until the auth process answers a user lookup (doveadm user)."""
        user = next(iter(self.users))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(
                [self._doveadm, "-c", str(self.config_path), "user", user],
                capture_output=True,
                text=True,
            )
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot's auth does not answer on {self.base_dir}")

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ mailboxes
    def maildir(self, user: str = "amy") -> Path:
        return self.home_root / user / "Maildir"

    def folder_dir(self, folder: str, user: str = "amy") -> Path:
        base = self.maildir(user)
        if folder.upper() == "INBOX":
            return base
        return base / ("." + folder.replace("/", "."))

    def create_folder(self, folder: str, user: str = "amy") -> Path:
        d = self.folder_dir(folder, user)
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        if folder.upper() != "INBOX":
            subs = self.maildir(user) / "subscriptions"
            names = set(subs.read_text().split("\n")) if subs.exists() else set()
            names.add(folder)
            subs.write_text("\n".join(sorted(n for n in names if n)) + "\n")
        self._chown_tree(self.maildir(user))
        return d

    def deliver(self, folder: str, raw: bytes, user: str = "amy", flags: str = "") -> Path:
        """Write one message file into `folder` (made when missing); flags: Maildir letters."""
        d = self.folder_dir(folder, user)
        if not (d / "cur").exists():
            self.create_folder(folder, user)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.mk:2,{''.join(sorted(flags))}"
        path = d / "cur" / name
        path.write_bytes(raw)
        os.chown(path, MAIL_UID, MAIL_GID)
        return path

    def reset_uidvalidity(self, folder: str, user: str = "amy") -> None:
        """Force a new UIDVALIDITY for a folder (as a server rebuild would)."""
        d = self.folder_dir(folder, user)
        for name in (
            "dovecot-uidlist",
            "dovecot.index",
            "dovecot.index.cache",
            "dovecot.index.log",
            "dovecot.index.log.2",
        ):
            p = d / name
            if p.exists():
                p.unlink()
        # Dovecot derives a fresh UIDVALIDITY from the clock: make sure it moves.
        time.sleep(1.1)

    def index(self, user: str = "amy") -> None:
        r = subprocess.run(
            [self._doveadm, "-c", str(self.config_path), "index", "-u", user, "*"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"doveadm index failed ({r.returncode}): {r.stderr.strip()}")

    def doveadm(self, *args: str) -> str:
        out = subprocess.run(
            [self._doveadm, "-c", str(self.config_path), *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    # -------------------------------------------------------------------- helpers
    def _make_maildir(self, user: str) -> None:
        self.create_folder("INBOX", user)
        for folder in SPECIAL_FOLDERS:
            self.create_folder(folder, user)

    def _chown_tree(self, path: Path) -> None:
        home = path.parent
        for p in [home, *home.rglob("*")]:
            try:
                os.chown(p, MAIL_UID, MAIL_GID)
            except FileNotFoundError:
                pass

    def _make_cert(self) -> None:
        key = self.root / "key.pem"
        if self.cert_path.exists():
            return
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(key),
                "-out",
                str(self.cert_path),
            ],
            check=True,
            capture_output=True,
        )

    def _config(self) -> str:
        mailboxes = "\n".join(
            f"  mailbox {name} {{\n    special_use = {use}\n    auto = subscribe\n  }}"
            for name, use in SPECIAL_FOLDERS.items()
        )
        ssl = "ssl = no"
        listeners = (
            f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}\n"
        )
        if self.tls:
            ssl = f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.root / 'key.pem'}\n"
            listeners += (
                f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.ssl_port}\n"
                "    ssl = yes\n  }\n"
            )
        else:
            listeners += "  inet_listener imaps {\n    port = 0\n  }\n"
        return f"""# written by mailkeeper's test suite
protocols = imap
listen = 127.0.0.1
base_dir = {self.base_dir}
state_dir = {self.root / "state"}
log_path = {self.log_path}
info_log_path = {self.log_path}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 100
disable_plaintext_auth = no
auth_mechanisms = plain login
{ssl}
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {self.root / "passwd"}
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={self.home_root}/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}
service imap-login {{
{listeners}}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{self.extra_config}
"""

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        log = self.log_path.read_text() if self.log_path.exists() else "(no log)"
        raise RuntimeError(f"dovecot did not start listening on {self.port}:\n{log[-2000:]}")
