"""Fault injection for the wire lanes: a loopback TCP proxy and a restartable server.

    with FaultProxy(server_uri) as proxy:       # driver -> proxy -> server
        connect(db, host=proxy.uri, ...)
        proxy.stall()                           # accept, read, never answer
        proxy.resume()                          # held replies flow again
        proxy.reset()                           # RST every open connection

    with PrivateServer() as server:             # an nx-27017 of its own, on disk
        server.stop(); server.start()           # same port, same data

Both are bounded: the proxy stops by itself after ``lifetime`` seconds and
refuses connections past ``max_connections``; a private server is killed when
its ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from .server import HOST, WireServer, find_executable, free_port, spawn, terminate

PASS, DELAY, STALL = "pass", "delay", "stall"


class FaultProxy:
    """A TCP proxy on loopback between a driver and a wire server, faulty on command."""

    def __init__(
        self,
        target_uri: str,
        *,
        lifetime: float = 60.0,
        max_connections: int = 1000,
    ) -> None:
        parts = urlsplit(target_uri)
        self.target = (parts.hostname or HOST, parts.port or 27017)
        self.lifetime = lifetime
        self.max_connections = max_connections
        self.mode = PASS
        self.delay_seconds = 0.0
        self.accepted = 0
        self.resets = 0
        self.held = 0  # replies being held back right now (stall or delay)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._ready = threading.Event()
        self._resume: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}"

    # -- commands (from any thread) ----------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def passthrough(self) -> None:
        self._set(PASS)

    def delay(self, seconds: float) -> None:
        """Hold every reply ``seconds`` before passing it on."""
        self.delay_seconds = seconds
        self._set(DELAY)

    def stall(self) -> None:
        """Accept and read, but hold every reply until :meth:`resume`."""
        self._set(STALL)

    def resume(self) -> None:
        self._set(PASS)

    def reset(self) -> int:
        """Reset (RST) every open connection now; returns how many."""
        return self._call(self._reset_all)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inside the proxy's thread --------------------------------------------------
    def _set(self, mode: str) -> None:
        def apply() -> None:
            self.mode = mode
            assert self._resume is not None
            if mode == STALL:
                self._resume.clear()
            else:
                self._resume.set()

        self._call(apply)

    def _call(self, fn):  # type: ignore[no-untyped-def]
        done: list = []
        event = threading.Event()

        def run() -> None:
            done.append(fn())
            event.set()

        self._loop.call_soon_threadsafe(run)
        if not event.wait(10):
            raise RuntimeError("the fault proxy did not answer")
        return done[0]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._resume = asyncio.Event()
        self._resume.set()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, HOST, 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop.call_later(self.lifetime, self._loop.stop)  # bounded, whatever happens
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._reset_all()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    def _reset_all(self) -> int:
        count = 0
        for writer in list(self._writers):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            writer.transport.abort()
            count += 1
        self._writers.clear()
        self.resets += count
        return count

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.accepted > self.max_connections:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()  # the server is down: the driver sees a refusal-like reset
            return
        self._writers.update((writer, up_writer))
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer, replies=False)),
            asyncio.ensure_future(self._pump(up_reader, writer, replies=True)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            for pump in pumps:
                pump.cancel()
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replies: bool
    ) -> None:
        assert self._resume is not None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if replies and self.mode != PASS:
                    self.held += 1
                    try:
                        if self.mode == DELAY:
                            await asyncio.sleep(self.delay_seconds)
                        await self._resume.wait()
                    finally:
                        self.held -= 1
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            return


class PrivateServer:
    """An ``nx-27017`` process of its own, data on disk, stoppable and restartable."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="mongomotor-faults-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        (self.workdir / "data").mkdir(exist_ok=True)
        self.process = spawn(
            find_executable(), HOST, self.port, self.workdir, str(self.workdir / "data")
        )
        WireServer(self.process, HOST, self.port, self.workdir).wait_ready(timeout)

    def stop(self) -> None:
        """Stop the process as a deploy would (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        if process is not None:
            terminate(process)

    def __enter__(self) -> PrivateServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
