"""A delaying TCP proxy on 127.0.0.1: every chunk waits `delay` before it is passed on, in
each direction, so a loopback server behaves like one `2 x delay` of round trip away.

Bandwidth is not limited (chunks are delayed, not serialised); the queue per direction is
bounded; the proxy stops by itself after --max-seconds, or after --idle-seconds without
any connection. It prints "listening HOST:PORT" once ready.

    python bench/proxy.py --target 127.0.0.1:1143 --delay-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

CHUNK = 64 * 1024
QUEUE_CHUNKS = 512  # at most 32 MB in flight per direction


class Stats:
    def __init__(self) -> None:
        self.active = 0
        self.last_activity = time.monotonic()


async def _reader(
    reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]], delay: float
) -> None:
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(CHUNK):
            await queue.put((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    finally:
        await queue.put((loop.time() + delay, b""))


async def _writer(writer: asyncio.StreamWriter, queue: asyncio.Queue[tuple[float, bytes]]) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUE_CHUNKS)
    await asyncio.gather(_reader(reader, queue, delay), _writer(writer, queue))


async def _handle(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    target: tuple[str, int],
    delay: float,
    stats: Stats,
) -> None:
    stats.active += 1
    try:
        server_r, server_w = await asyncio.open_connection(*target)
    except OSError:
        client_w.close()
        stats.active -= 1
        return
    try:
        await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w, delay))
    finally:
        for w in (client_w, server_w):
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()
        stats.active -= 1
        stats.last_activity = time.monotonic()


async def serve(
    target: tuple[str, int], delay: float, port: int, max_seconds: float, idle_seconds: float
) -> None:
    stats = Stats()
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, target, delay, stats), "127.0.0.1", port
    )
    host, bound = server.sockets[0].getsockname()[:2]
    print(f"listening {host}:{bound}", flush=True)
    deadline = time.monotonic() + max_seconds
    async with server:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if stats.active == 0 and time.monotonic() - stats.last_activity > idle_seconds:
                break


def parse_target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise argparse.ArgumentTypeError("the bench proxy only forwards to loopback")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--target", type=parse_target, required=True, help="HOST:PORT on loopback")
    ap.add_argument("--delay-ms", type=float, default=20.0, help="added each way (default 20)")
    ap.add_argument("--port", type=int, default=0, help="listen port (default: any free one)")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long")
    ap.add_argument(
        "--idle-seconds",
        type=float,
        default=900.0,
        help="stop after this long without a connection",
    )
    args = ap.parse_args(argv)
    asyncio.run(
        serve(args.target, args.delay_ms / 1000, args.port, args.max_seconds, args.idle_seconds)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
