"""Start a throwaway ``nx-27017`` wire-protocol server for the test session."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pymongo
from pymongo.errors import PyMongoError

URI_ENV = "MONGOMOTOR_TEST_URI"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 30
S = TypeVar("S", bound="WireServer")  # what launch() starts: nx-27017 or another server


class WireServerError(RuntimeError):
    """The wire server could not be found, started or reached."""


class WireServerExited(WireServerError):
    """The wire server process ended before it became ready."""


def find_executable() -> str:
    """Return the path of ``nx-27017``, preferring the one beside ``sys.executable``."""
    beside = Path(sys.executable).parent / "nx-27017"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("nx-27017")
    if found is None:
        raise WireServerError(
            f"nx-27017 not found beside {sys.executable} nor on PATH; "
            f"install it or set {URI_ENV}"
        )
    return found


def free_port(host: str = HOST) -> int:
    """Return a TCP port on ``host`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines))
    except OSError:
        return ""


class WireServer:
    """A running ``nx-27017`` child process with in-memory databases."""

    name = "nx-27017"  # the server's name in error messages

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        host: str,
        port: int,
        workdir: Path,
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.workdir = workdir

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "server.log"

    @property
    def output_file(self) -> Path:
        return self.workdir / "output.log"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "server.pid"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last lines of the console output (which has tracebacks)."""
        return _tail(self.output_file, lines) or _tail(self.log_file, lines)

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the server answers ``hello`` and ``ping``."""
        deadline = time.monotonic() + timeout
        last_error = "no attempt made"
        while time.monotonic() < deadline:
            if not self.running():
                raise WireServerExited(
                    f"{self.name} exited with code {self.process.returncode} "
                    f"before accepting connections on {self.uri}; "
                    f"log tail:\n{self.log_tail()}"
                )
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                self.uri,
                serverSelectionTimeoutMS=500,
                connectTimeoutMS=500,
                directConnection=True,
            )
            try:
                client.admin.command("hello")
                client.admin.command("ping")
                if self._answered_by_us(client):
                    return
                last_error = "another server answers on this port"
            except PyMongoError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            finally:
                client.close()
            time.sleep(0.1)
        raise WireServerError(
            f"{self.name} did not answer hello/ping on {self.uri} within {timeout:g}s "
            f"(last error: {last_error}); log tail:\n{self.log_tail()}"
        )

    def _answered_by_us(self, client: pymongo.MongoClient[dict[str, object]]) -> bool:
        """Guard against a foreign server already listening on our port."""
        try:
            pid = client.admin.command("buildInfo").get("pid")
        except PyMongoError:
            return True
        return not isinstance(pid, int) or pid == self.process.pid

    def stop(self) -> None:
        """Terminate the server (kill if it lingers) and remove its files."""
        try:
            terminate(self.process)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> WireServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else f"exited({self.process.returncode})"
        return f"<WireServer {self.uri} pid={self.process.pid} {state}>"


def start_wire_server(
    host: str = HOST, timeout: float = STARTUP_TIMEOUT, attempts: int = 3
) -> WireServer:
    """Launch ``nx-27017`` on a free loopback port and wait until it is ready.

    A server that dies at once (e.g. the port was taken meanwhile) is retried
    on another port, up to ``attempts`` times.
    """
    executable = find_executable()
    return launch(
        lambda port, workdir: spawn(executable, host, port, workdir),
        WireServer, executable, host, timeout, attempts, "mongomotor-nx27017-",
    )  # fmt: skip


def launch(
    start: Callable[[int, Path], subprocess.Popen[bytes]],
    server_class: type[S],
    what: object,
    host: str,
    timeout: float,
    attempts: int,
    prefix: str,
) -> S:
    """Start a server (``start(port, workdir)``) on a free port until one answers.

        server = launch(lambda port, d: spawn(exe, HOST, port, d), WireServer, exe, HOST, 9, 3, "x")

    A server that exits before it answers (the port was taken meanwhile) is
    retried on another port, ``attempts`` times in all; any other failure stops it.
    """
    for attempt in range(1, attempts + 1):
        workdir = Path(tempfile.mkdtemp(prefix=prefix))
        port = free_port(host)
        try:
            process = start(port, workdir)
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise WireServerError(f"cannot run {what}: {exc}") from exc
        server = server_class(process, host, port, workdir)
        try:
            server.wait_ready(timeout)
            return server
        except WireServerExited:
            server.stop()
            if attempt == attempts:
                raise
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


def spawn(
    executable: str, host: str, port: int, workdir: Path, data_dir: str = "memory"
) -> subprocess.Popen[bytes]:
    """Start ``nx-27017`` on ``host:port``, its log, pid file and output in ``workdir``."""
    command = [
        executable,
        "--data-dir", data_dir,
        "--host", host,
        "-p", str(port),
        "--log-file", str(workdir / "server.log"),
        "--pid-file", str(workdir / "server.pid"),
    ]  # fmt: skip
    with (workdir / "output.log").open("ab") as output:
        return subprocess.Popen(
            command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )


def terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` as a deploy would: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def with_database(uri: str, database: str | None) -> str:
    """``uri`` naming ``database`` (None: no database), its user authenticating as before.

    MongoEngine connects to the database a URI names, whatever name it is
    given: the test URI must name none, or every test would share one.
    """
    parts = urlsplit(uri)
    named = unquote(parts.path.lstrip("/"))
    query = parts.query
    has_source = any(p.lower().startswith("authsource=") for p in query.split("&"))
    if "@" in parts.netloc and not has_source and (named or parts.scheme == "mongodb"):
        # Without authSource a user authenticates on the URI's database (or admin).
        query = "&".join(filter(None, [query, f"authSource={quote(named or 'admin')}"]))
    path = "/" + quote(database) if database else "/"
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def wire_uri() -> tuple[str, WireServer | None]:
    """Return ``$MONGOMOTOR_TEST_URI`` (without its database) if set, else a new server's."""
    uri = os.environ.get(URI_ENV)
    if uri:
        return with_database(uri, None), None
    server = start_wire_server()
    return server.uri, server
