"""An HTTP/1.1 load generator on bare asyncio streams, so that the client costs little beside
the server on the same two cores (httpx costs several times what the routes do). The service's
own `/healthz` is measured with it in the same run, so a ratio says what a route costs.

Keep-alive connections, one request in flight on each; answers are read by `Content-Length`
(the services do not send chunked bodies to these GETs)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _summary(latencies: list[float], seconds: float, errors: int) -> Load:
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Load(len(latencies), seconds, statistics.median(ordered) * 1000, p99 * 1000, errors)


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self._host, self._port = host, port
        self._head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """The status of one GET on this connection (opened again if the server closed it)."""
        return (await self.request("GET", path))[0]

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """The status and body of one request on this connection."""
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if body:
            extra += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n{self._head}{extra}\r\n".encode()
            + body
        )
        status_line = await self._reader.readline()
        if not status_line:
            self._writer = None
            return await self.request(method, path, body, headers)
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def pool(base_url: str | Sequence[str], headers: dict[str, str], size: int) -> list[Connection]:
    """`size` connections, spread in turn over the replicas when given several URLs."""
    urls = [urlsplit(u) for u in ([base_url] if isinstance(base_url, str) else base_url)]
    return [
        Connection(url.hostname or "", url.port or 80, headers)
        for url in (urls[n % len(urls)] for n in range(size))
    ]


async def callers(
    connections: list[Connection],
    call: Callable[[Connection, int], Awaitable[float]],
    seconds: float,
) -> tuple[list[float], float]:
    """One caller a connection, each making its next call when the last is answered, for
    `seconds`: every call's seconds, and the seconds they all took. Call `i` is the i-th of
    all, so callers spread over what `i` selects."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def caller(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            latencies.append(await call(connections[n], i))
            i += len(connections)

    started = time.perf_counter()
    await asyncio.gather(*(caller(n) for n in range(len(connections))))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return latencies, elapsed


async def closed_loop(
    base_url: str | Sequence[str],
    path: Callable[[int], str],
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float,
) -> Load:
    """`connections` callers, each sending its next request when the last is answered."""
    connected = pool(base_url, headers, connections)
    for c in connected:
        await c.get(path(0))  # warm: connection, caches
    errors = 0

    async def get(c: Connection, i: int) -> float:
        nonlocal errors
        started = time.perf_counter()
        errors += await c.get(path(i)) >= 400
        return time.perf_counter() - started

    latencies, elapsed = await callers(connected, get, seconds)
    return _summary(latencies, elapsed, errors)


async def paced(
    base_url: str | Sequence[str],
    path: Callable[[int], str],
    headers: dict[str, str],
    *,
    rate: float,
    seconds: float,
    connections: int = 32,
) -> Load:
    """Requests started at a steady `rate` whatever the answers do (open loop); latency counts
    from when each request was due, so a queue shows."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for c in pool(base_url, headers, connections):
        await c.get(path(0))
        idle.put_nowait(c)
    latencies: list[float] = []
    errors = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors
        c = await idle.get()
        try:
            status = await c.get(path(i))
        finally:
            idle.put_nowait(c)
        latencies.append(time.perf_counter() - due)
        errors += status >= 400

    tasks = []
    started = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    while not idle.empty():
        idle.get_nowait().close()
    return _summary(latencies, elapsed, errors)
