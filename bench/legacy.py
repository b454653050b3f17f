"""mongomotor 0.17.3 from PyPI as a contestant: its venv and the process that runs it.

The venv (``bench/.venv-0173``, git-ignored) is made on first use, or by
``make bench-venv``. 0.17.3 imports only with ``blinker<1.8``; PyMongo and
MongoEngine are pinned to the versions this tree runs on, so the comparison
is between the two mongomotors and not between driver releases.
"""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import mongoengine
import pymongo

from bench.contestants import Contestant
from bench.harness import Run, Sizes

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-0173"
PYTHON = VENV / "bin" / "python"
RUNNER = HERE / "legacy_runner.py"
VERSION = "0.17.3"


def requirements() -> list[str]:
    return [
        f"mongomotor=={VERSION}",
        "blinker<1.8",
        f"pymongo=={pymongo.version}",
        f"mongoengine=={mongoengine.__version__}",
    ]


def ensure_venv(log: bool = True) -> str | None:
    """Make the 0.17.3 venv if it is missing; None when ready, else why it is not."""
    stamp = VENV / ".installed"
    if stamp.is_file():
        return None
    if log:
        print(f"making {VENV} for mongomotor {VERSION} ...", flush=True)
    try:
        venv.create(VENV, with_pip=True, clear=True)
        done = subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "-q", *requirements()],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not make its venv: {exc}"
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "WARNING" not in line]
        return "pip install failed: " + " | ".join(errors[-3:])
    stamp.write_text(" ".join(requirements()) + "\n")
    return None


class LegacyMongoMotor(Contestant):
    """mongomotor 0.17.3, driven line by line in its own process."""

    key = "mm 0.17.3"
    name = f"mongomotor {VERSION} (PyPI), own venv and process"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(PYTHON), "-I", str(RUNNER), self.uri, json.dumps(self.sizes.as_dict())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(HERE),
        )  # fmt: skip
        assert self.process.stdout
        for line in self.process.stdout:
            if line.strip() == "ready":
                return
        raise RuntimeError(f"the 0.17.3 runner exited ({self.process.wait()}); see its traceback")

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def run(self, method: str) -> Run:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(method + "\n")
        self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the 0.17.3 runner exited ({self.process.poll()})")
            if line.startswith("result "):
                break
        answer = json.loads(line[len("result ") :])
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return Run(**answer)


def legacy_contestant(uri: str, sizes: Sizes, build: bool) -> tuple[Contestant | None, str]:
    """The 0.17.3 contestant, or None and why it is left out."""
    if not build and not (VENV / ".installed").is_file():
        return None, f"mongomotor {VERSION}: left out (no {VENV.name}; `make bench-venv`)"
    problem = ensure_venv()
    if problem:
        return None, f"mongomotor {VERSION}: not measured, {problem}"
    return LegacyMongoMotor(uri, sizes), ""

