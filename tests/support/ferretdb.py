"""Build FerretDB once, from the project's own launcher, and start private instances of it.

    build = ensure_binary()             # go build of tests/support/ferretdb_launcher, cached
    server = start_ferretdb()           # on a free loopback port, data in a temporary folder

``python -m tests.support.ferretdb`` builds (or finds) the binary and prints its path;
``python -m tests.support.ferretdb probe`` prints a private server's capability table.
FerretDB's stock command cannot start when built from the module archive (it
wants a ``build/version/version.txt`` the archive lacks), so the tests build a
launcher of their own around FerretDB's embeddable package; see docs/testing.rst.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .server import HOST, STARTUP_TIMEOUT, WireServer, launch

LAUNCHER_DIR = Path(__file__).with_name("ferretdb_launcher")
URI_ENV = "MONGOMOTOR_TEST_FERRETDB_URI"
GO_FALLBACK = "/usr/local/go/bin/go"  # Go's own installer puts it here, often off PATH
BUILD_TIMEOUT = 1200.0
BUILD_LOG_LINES = 30


class FerretDBUnavailable(RuntimeError):
    """This machine cannot build FerretDB (no Go toolchain)."""


class FerretDBBuildError(RuntimeError):
    """``go build`` of the launcher failed."""


@dataclass(frozen=True)
class Build:
    """A FerretDB binary; ``seconds`` is how long building it took (None: it was cached)."""

    path: Path
    version: str
    seconds: float | None


def ferretdb_version() -> str:
    """The FerretDB release the launcher's ``go.mod`` requires, e.g. ``v1.24.2``."""
    text = (LAUNCHER_DIR / "go.mod").read_text()
    found = re.search(r"^\s*(?:require\s+)?github\.com/FerretDB/FerretDB\s+(v\S+)", text, re.M)
    if found is None:
        raise FerretDBBuildError(f"{LAUNCHER_DIR / 'go.mod'} names no FerretDB release")
    return found.group(1)


def find_go() -> str | None:
    """The ``go`` command: on PATH, else where Go's installer puts it; None if neither."""
    found = shutil.which("go")
    if found:
        return found
    return GO_FALLBACK if os.access(GO_FALLBACK, os.X_OK) else None


def launcher_digest() -> str:
    """A hash of the launcher's sources: a change to any of them makes a new binary."""
    digest = hashlib.sha256()
    for path in sorted(LAUNCHER_DIR.iterdir()):
        if path.suffix in (".go", ".mod", ".sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cache_dir() -> Path:
    """Where built binaries are kept between runs (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mongomotor"


def binary_path() -> Path:
    return cache_dir() / f"ferretdb-{ferretdb_version()}-{launcher_digest()}" / "ferretdb"


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def ensure_binary() -> Build:
    """Return the cached FerretDB binary, building it first if there is none.

    Concurrent callers (two test runs) wait for one build under a file lock.
    Raises FerretDBUnavailable without Go, FerretDBBuildError if the build fails.
    """
    path, version = binary_path(), ferretdb_version()
    if _usable(path):
        return Build(path, version, None)
    go = find_go()
    if go is None:
        raise FerretDBUnavailable(
            f"no `go` on PATH nor at {GO_FALLBACK}; install Go 1.24 or later "
            f"(https://go.dev/dl/) to run them"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _usable(path):
            return Build(path, version, None)
        started = time.monotonic()
        _go_build(go, path)
        return Build(path, version, time.monotonic() - started)


def _go_build(go: str, path: Path) -> None:
    partial = path.with_name(f"ferretdb.{os.getpid()}.partial")
    command = [go, "build", "-trimpath", "-buildvcs=false", "-o", str(partial), "."]
    # FerretDB's SQLite is pure Go: no C compiler needed.
    env = {**os.environ, "CGO_ENABLED": "0"}
    try:
        done = subprocess.run(
            command, cwd=LAUNCHER_DIR, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=BUILD_TIMEOUT,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        raise FerretDBBuildError(f"{' '.join(command)} in {LAUNCHER_DIR}: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-BUILD_LOG_LINES:])
        raise FerretDBBuildError(
            f"{' '.join(command)} in {LAUNCHER_DIR} exited with {done.returncode}:\n{tail}"
        )
    os.replace(partial, path)


class FerretDBServer(WireServer):
    """A private FerretDB process on the SQLite backend, its data in ``workdir``."""

    name = "FerretDB"


def spawn(binary: Path, host: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """Start FerretDB on ``host:port`` with its SQLite files and console output in ``workdir``."""
    (workdir / "data").mkdir(exist_ok=True)
    command = [
        str(binary),
        f"--listen-addr={host}:{port}",
        "--handler=sqlite",
        f"--sqlite-url=file:{workdir / 'data'}/",
        "--telemetry=disable",
        "--log-level=error",  # FerretDB logs every refused command at warn
    ]
    with (workdir / "output.log").open("ab") as output:
        return subprocess.Popen(
            command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )


def start_ferretdb(
    binary: Path | None = None,
    host: str = HOST,
    timeout: float = STARTUP_TIMEOUT,
    attempts: int = 3,
) -> FerretDBServer:
    """Launch FerretDB on a free loopback port and wait until it answers.

    A server that dies at once (the port was taken meanwhile) is retried on another port.
    """
    binary = binary or ensure_binary().path
    return launch(
        lambda port, workdir: spawn(binary, host, port, workdir),
        FerretDBServer, binary, host, timeout, attempts, "mongomotor-ferretdb-",
    )  # fmt: skip


def ferretdb_uri(binary: Path | None = None) -> tuple[str, FerretDBServer | None]:
    """Return ``$MONGOMOTOR_TEST_FERRETDB_URI`` if set, else a new private server's URI."""
    uri = os.environ.get(URI_ENV)
    if uri:
        return uri, None
    server = start_ferretdb(binary)
    return server.uri, server


def main(argv: list[str]) -> int:
    """Build (or find) the binary and print its path; with ``probe``, a server's capabilities."""
    try:
        build = ensure_binary()
    except (FerretDBUnavailable, FerretDBBuildError) as exc:
        print(f"FerretDB {ferretdb_version()}: {exc}", file=sys.stderr)
        return 1
    took = "cached" if build.seconds is None else f"built in {build.seconds:.1f} s"
    print(f"FerretDB {build.version}: {took}", file=sys.stderr)
    if argv[:1] != ["probe"]:
        print(build.path)
        return 0
    from .capabilities import probe  # only this command needs the probes

    server = start_ferretdb(build.path)
    try:
        print(probe(server.uri).table())
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
