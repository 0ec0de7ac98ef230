"""A loopback TCP proxy that can cut connections, to test dropped connections for real."""

from __future__ import annotations

import socket
import threading


class CutProxy:
    """Forwards 127.0.0.1:port to a target. The first `cut_connections` connections are
    closed after `cut_after` bytes have flowed from the server to the client."""

    def __init__(self, target_port: int, cut_after: int, cut_connections: int = 1) -> None:
        self.target = ("127.0.0.1", target_port)
        self.cut_after = cut_after
        self.cut_left = cut_connections
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.cuts = 0
        self.refuse = False  # close new connections at once (a server that is down)
        self._open: set[socket.socket] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> CutProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.refuse:
                client.close()
                continue
            limit = None
            if self.cut_left > 0:
                self.cut_left -= 1
                limit = self.cut_after
            server = socket.create_connection(self.target, timeout=10)
            self._open |= {client, server}
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, limit), daemon=True).start()

    def cut_all(self) -> int:
        """Cut every connection open now (both ways), as a network drop would; returns how
        many connections were cut."""
        open_now = list(self._open)
        for s in open_now:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.cuts += len(open_now) // 2
        return len(open_now) // 2

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: max(0, limit - sent)])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
                self._open.discard(s)
