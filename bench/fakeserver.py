"""A wire server that answers from pre-encoded replies and stores nothing.

It speaks just enough of the MongoDB wire protocol (OP_MSG, plus OP_QUERY for
the legacy handshake) for every contestant of the benchmark to connect, find,
iterate, insert and count over the benchmark's fixed documents
(:mod:`bench.models`). Writes are acknowledged and dropped. With the server's
own work reduced to a dictionary look-up and a socket write, what the
benchmark measures is the client's cost.

    python -m bench.fakeserver [--posts N] [--big N] [--time-limit SECONDS] [--delay-ms MS]

It prints ``port <n>`` once it listens on 127.0.0.1, and stops when its stdin
closes (the benchmark ends or dies) or after the time limit. Cursors carry
their position in their id, so the server keeps no cursor state either.
"""

from __future__ import annotations

import argparse
import datetime
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import bson
from bson import Int64, ObjectId
from bson.raw_bson import RawBSONDocument

from bench import models

OP_REPLY = 1
OP_QUERY = 2004
OP_MSG = 2013
HEADER = struct.Struct("<iiii")
MORE_TO_COME = 1 << 1
CHECKSUM = 1 << 0

FIRST_BATCH = 101  # MongoDB's default size of a find's first batch
MAX_BATCH_BYTES = 16 * 1024 * 1024  # what a getMore without batchSize may fill
CURSOR_TAG = 1 << 62
MAX_WIRE_VERSION = 21  # MongoDB 7.0

BUILD_INFO = {
    "version": "7.0.0",
    "versionArray": [7, 0, 0, 0],
    "gitVersion": "fake",
    "bits": 64,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "ok": 1.0,
}


class Collection:
    """One collection's documents, each encoded once, addressable by ``_id``."""

    def __init__(self, index: int, ns: str, docs: list[dict[str, Any]]) -> None:
        self.index = index
        self.ns = ns
        self.docs = [RawBSONDocument(bson.encode(doc)) for doc in docs]
        self.by_id = {doc["_id"]: raw for doc, raw in zip(docs, self.docs)}


class Data:
    """The benchmark's collections and every reply built from them, cached by shape."""

    def __init__(self, n_posts: int, n_big: int) -> None:
        db = models.DB_NAME
        sets = [
            (models.AUTHORS, models.authors()),
            (models.POSTS, models.posts(n_posts)),
            (models.BIG, models.big_posts(n_big)),
        ]
        self.collections = {
            name: Collection(i, f"{db}.{name}", docs) for i, (name, docs) in enumerate(sets)
        }
        self.by_index = {c.index: c for c in self.collections.values()}
        self.replies: dict[Any, bytes] = {}

    def cached(self, key: Any, build: Callable[[], dict[str, Any]]) -> bytes:
        body = self.replies.get(key)
        if body is None:
            body = self.replies[key] = bson.encode(build())
        return body


def cursor_id(coll: Collection, offset: int, remaining: int) -> int:
    # The position is in the id: the next getMore needs no state on the server.
    return CURSOR_TAG | coll.index << 48 | offset << 24 | remaining


def from_cursor_id(value: int) -> tuple[int, int, int]:
    return (value >> 48) & 0x3FFF, (value >> 24) & 0xFFFFFF, value & 0xFFFFFF


class Handler:
    """Turns one command document into the bytes of its reply document."""

    def __init__(self, data: Data) -> None:
        self.data = data
        self.connections = 0
        self.commands: dict[str, Callable[[dict[str, Any], list[bytes]], bytes]] = {
            "hello": self.hello,
            "ismaster": self.hello,
            "isMaster": self.hello,
            "buildInfo": self.constant(BUILD_INFO),
            "buildinfo": self.constant(BUILD_INFO),
            "ping": self.ok,
            "endSessions": self.ok,
            "killCursors": self.kill_cursors,
            "listIndexes": self.list_indexes,
            "createIndexes": self.ok,
            "find": self.find,
            "getMore": self.get_more,
            "insert": self.insert,
            "update": self.update,
            "delete": self.update,
            "count": self.count,
            "aggregate": self.aggregate,
        }

    @staticmethod
    def constant(reply: dict[str, Any]) -> Callable[..., bytes]:
        body = bson.encode(reply)
        return lambda cmd, docs: body

    _ok = bson.encode({"ok": 1.0})

    def ok(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        return self._ok

    def __call__(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        name = next(iter(cmd))
        handler = self.commands.get(name)
        if handler is None:
            print(f"fakeserver: no answer for {name!r}", file=sys.stderr, flush=True)
            return bson.encode({
                "ok": 0.0, "code": 59, "codeName": "CommandNotFound",
                "errmsg": f"the benchmark's fake server does not answer {name!r}",
            })  # fmt: skip
        try:
            return handler(cmd, docs)
        except Exception as exc:  # the client must see it as a failed command
            print(f"fakeserver: {name!r} failed: {exc!r}", file=sys.stderr, flush=True)
            return bson.encode({"ok": 0.0, "code": 8, "errmsg": f"fake server: {exc!r}"})

    def hello(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        # Not cached: localTime and connectionId differ (hello is rare anyway).
        self.connections += 1
        return bson.encode({
            "helloOk": True,
            "isWritablePrimary": True,
            "ismaster": True,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "localTime": datetime.datetime.now(datetime.timezone.utc),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": self.connections,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
            "ok": 1.0,
        })  # fmt: skip

    def collection(self, cmd: dict[str, Any], name: str) -> Collection:
        coll = self.data.collections.get(cmd[name])
        if coll is None:
            raise KeyError(f"no collection {cmd[name]!r} in the fake data set")
        return coll

    def kill_cursors(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        ids = cmd.get("cursors", [])
        return bson.encode({
            "cursorsKilled": ids, "cursorsNotFound": [], "cursorsAlive": [],
            "cursorsUnknown": [], "ok": 1.0,
        })  # fmt: skip

    def list_indexes(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        coll = self.collection(cmd, "listIndexes")
        return self.data.cached(("listIndexes", coll.ns), lambda: {
            "cursor": {"id": Int64(0), "ns": coll.ns,
                       "firstBatch": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}]},
            "ok": 1.0,
        })  # fmt: skip

    def find(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        coll = self.collection(cmd, "find")
        query = cmd.get("filter") or {}
        limit = abs(int(cmd.get("limit", 0)))
        skip = int(cmd.get("skip", 0))
        batch = cmd.get("batchSize")
        batch = FIRST_BATCH if batch is None else int(batch)
        if cmd.get("singleBatch"):
            batch = limit or len(coll.docs)
        if not query:
            return self.batch(coll, skip, limit, batch, "firstBatch")
        found = self.matching(coll, query)[skip:]
        if limit:
            found = found[:limit]
        ids = tuple(found)
        if batch and len(ids) > batch:
            raise ValueError("a filtered find must fit in its first batch")
        return self.data.cached(("find", coll.ns, ids), lambda: {
            "cursor": {"firstBatch": [coll.by_id[i] for i in ids],
                       "id": Int64(0), "ns": coll.ns},
            "ok": 1.0,
        })  # fmt: skip

    def matching(self, coll: Collection, query: dict[str, Any]) -> list[ObjectId]:
        if list(query) != ["_id"]:
            raise ValueError(f"the fake server matches only on _id, not {query!r}")
        wanted = query["_id"]
        if isinstance(wanted, dict):
            if list(wanted) != ["$in"]:
                raise ValueError(f"the fake server matches _id by value or $in, not {wanted!r}")
            return [i for i in dict.fromkeys(wanted["$in"]) if i in coll.by_id]
        return [wanted] if wanted in coll.by_id else []

    def batch(self, coll: Collection, offset: int, remaining: int, size: int, kind: str) -> bytes:
        """``size`` documents (0: up to 16 MiB) from ``offset``, at most ``remaining`` (0: all)."""

        def build() -> dict[str, Any]:
            end = len(coll.docs)
            if remaining:
                end = min(end, offset + remaining)
            if size:
                stop = min(end, offset + size)
            else:
                stop, total = offset, 0
                while stop < end and total < MAX_BATCH_BYTES:
                    total += len(coll.docs[stop].raw)
                    stop += 1
            left = 0 if not remaining else remaining - (stop - offset)
            more = stop < end
            next_id = cursor_id(coll, stop, left) if more else 0
            return {
                "cursor": {kind: coll.docs[offset:stop], "id": Int64(next_id), "ns": coll.ns},
                "ok": 1.0,
            }

        return self.data.cached((kind, coll.ns, offset, remaining, size), build)

    def get_more(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        index, offset, remaining = from_cursor_id(int(cmd["getMore"]))
        coll = self.data.by_index[index]
        size = int(cmd.get("batchSize") or 0)
        return self.batch(coll, offset, remaining, size, "nextBatch")

    def insert(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        n = len(docs) + len(cmd.get("documents", ()))
        return self.data.cached(("n", n), lambda: {"n": n, "ok": 1.0})

    def update(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        n = len(docs) + len(cmd.get("updates", cmd.get("deletes", ())))
        return self.data.cached(("nModified", n), lambda: {"n": n, "nModified": n, "ok": 1.0})

    def count(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        coll = self.collection(cmd, "count")
        query = cmd.get("query") or {}
        n = len(self.matching(coll, query)) if query else len(coll.docs)
        return bson.encode({"n": n, "ok": 1.0})

    def aggregate(self, cmd: dict[str, Any], docs: list[bytes]) -> bytes:
        # Only the count_documents pipeline: [$match {}, ($skip/$limit), $group n: $sum 1].
        coll = self.collection(cmd, "aggregate")
        n = len(coll.docs)
        for stage in cmd["pipeline"]:
            (op, arg), = stage.items()
            if op == "$match":
                n = len(self.matching(coll, arg)) if arg else n
            elif op == "$skip":
                n = max(0, n - int(arg))
            elif op == "$limit":
                n = min(n, int(arg))
            elif op != "$group":
                raise ValueError(f"the fake server does not run {op!r}")
        batch = [{"_id": 1, "n": n}] if n else []
        return bson.encode({"cursor": {"firstBatch": batch, "id": Int64(0), "ns": coll.ns},
                            "ok": 1.0})


def parse_op_msg(body: memoryview) -> tuple[int, dict[str, Any], list[bytes]]:
    """(flags, command document, documents of kind-1 sections) of an OP_MSG body."""
    (flags,) = struct.unpack_from("<I", body, 0)
    end = len(body) - (4 if flags & CHECKSUM else 0)
    pos = 4
    command: dict[str, Any] = {}
    docs: list[bytes] = []
    while pos < end:
        kind = body[pos]
        pos += 1
        (size,) = struct.unpack_from("<i", body, pos)
        if kind == 0:
            command = bson.decode(body[pos : pos + size])
        else:
            section_end = pos + size
            pos = bytes(body[pos + 4 : section_end]).index(b"\0") + pos + 5
            while pos < section_end:
                (doc_size,) = struct.unpack_from("<i", body, pos)
                docs.append(bytes(body[pos : pos + doc_size]))
                pos += doc_size
            continue
        pos += size
    return flags, command, docs


def parse_op_query(body: memoryview) -> dict[str, Any]:
    pos = 4  # flags
    pos = bytes(body[pos:]).index(b"\0") + pos + 1 + 8  # collection name, skip, limit
    (size,) = struct.unpack_from("<i", body, pos)
    return bson.decode(body[pos : pos + size])


class Connection:
    """One client connection, served by its own thread with blocking socket calls.

    Threads rather than an event loop: with one request in flight per
    connection, a blocking ``recv``/``sendall`` round trip costs the server
    less than a trip through a selector loop.
    """

    def __init__(self, handler: Handler, sock: socket.socket, delay: float = 0.0) -> None:
        self.handler = handler
        self.sock = sock
        self.request_id = 0
        self.delay = delay  # seconds each reply waits: a network's latency

    def serve(self) -> None:
        sock = self.sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        try:
            while True:
                data = sock.recv(1 << 20)
                if not data:
                    return
                buffer += data
                while len(buffer) >= 16:
                    length, request_id, _, op = HEADER.unpack_from(buffer, 0)
                    if len(buffer) < length:
                        break
                    with memoryview(buffer) as view:
                        reply = self.reply(op, request_id, view[16:length])
                    del buffer[:length]
                    if reply is None and op not in (OP_MSG, OP_QUERY):
                        return
                    if reply:
                        if self.delay:
                            time.sleep(self.delay)
                        sock.sendall(reply)
        except OSError:
            return
        finally:
            sock.close()

    def reply(self, op: int, request_id: int, body: memoryview) -> bytes | None:
        self.request_id += 1
        if op == OP_MSG:
            flags, command, docs = parse_op_msg(body)
            answer = self.handler(command, docs)
            if flags & MORE_TO_COME:
                return None
            head = HEADER.pack(16 + 5 + len(answer), self.request_id, request_id, OP_MSG)
            return b"".join((head, b"\0\0\0\0\0", answer))
        if op == OP_QUERY:
            answer = self.handler(parse_op_query(body), [])
            prefix = struct.pack("<iqii", 0, 0, 0, 1)
            head = HEADER.pack(16 + len(prefix) + len(answer), self.request_id, request_id,
                               OP_REPLY)
            return b"".join((head, prefix, answer))
        print(f"fakeserver: opcode {op} not served", file=sys.stderr, flush=True)
        return None


def serve(n_posts: int, n_big: int, time_limit: float, delay: float = 0.0) -> None:
    handler = Handler(Data(n_posts, n_big))
    listener = socket.create_server(("127.0.0.1", 0), backlog=512)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            connection = Connection(handler, sock, delay)
            threading.Thread(target=connection.serve, daemon=True).start()

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=accept, daemon=True).start()
    threading.Thread(target=wait_for_eof, daemon=True).start()
    print(f"port {listener.getsockname()[1]}", flush=True)
    if not stop.wait(time_limit):
        print(f"fakeserver: stopping after its {time_limit:.0f} s limit", file=sys.stderr)
    listener.close()  # daemon threads end with the process


def round_trip(port: int, count: int) -> float:
    """Seconds per bare find-by-id round trip, from a socket with no client library.

    The floor under every per-op figure: what the server and the loopback cost.
    """
    body = bson.encode({
        "find": models.POSTS, "filter": {"_id": models.object_id(2, 0)}, "limit": 1,
        "singleBatch": True, "$db": models.DB_NAME,
    })  # fmt: skip
    payload = b"\0\0\0\0\0" + body
    message = HEADER.pack(16 + len(payload), 1, 0, OP_MSG) + payload
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        for _ in range(count):
            sock.sendall(message)
            (length,) = struct.unpack("<i", sock.recv(4, socket.MSG_WAITALL))
            sock.recv(length - 4, socket.MSG_WAITALL)
        return (time.perf_counter() - start) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fakeserver", description=__doc__)
    parser.add_argument("--posts", type=int, default=models.N_POSTS, help="documents in posts")
    parser.add_argument("--big", type=int, default=models.N_BIG, help="documents in the big set")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="seconds, then stop")
    parser.add_argument("--delay-ms", type=float, default=0.0,
                        help="each reply waits this long (per connection)")  # fmt: skip
    args = parser.parse_args(argv)
    serve(args.posts, args.big, args.time_limit, args.delay_ms / 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
