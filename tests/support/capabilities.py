"""Probe once what a MongoDB wire server can do, so tests can skip precisely.

Run ``python -m tests.support.capabilities [URI]`` to print the table; without
a URI (and without ``$MONGOMOTOR_TEST_URI``) a throwaway server is started.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import gridfs
import pymongo
from bson import DBRef, Decimal128, ObjectId
from bson.binary import UuidRepresentation
from bson.code import Code
from bson.codec_options import CodecOptions
from pymongo.database import Database
from pymongo.errors import PyMongoError

from .server import wire_uri

PROBE_DB = f"mongomotor_probe_{os.getpid()}"  # private to this process
MAX_REASON = 300

Client = pymongo.MongoClient[dict[str, Any]]
Db = Database[dict[str, Any]]

# capability name -> what the server must be able to do (used in skip reasons)
FEATURES: dict[str, str] = {
    "dbref": "round-trip a bson.DBRef",
    "decimal128": "round-trip a Decimal128",
    "decimal128_order": "compare Decimal128 values in queries ($gt)",
    "geo": "answer $near/$geoWithin on a 2dsphere index",
    "javascript": "run $where JavaScript queries",
    "map_reduce": "run mapReduce with inline output",
    "transactions": "commit and abort multi-document transactions",
    "text_search": "run $text queries on a text index",
    "capped": "create capped collections",
    "collation": "apply a case-insensitive collation",
    "gridfs": "store and read back multi-chunk GridFS files",
    "gridfs_metadata": "keep contentType, custom fields and a datetime uploadDate on GridFS files",
    "gridfs_delete_missing": "delete a GridFS file that is not (or no longer) stored",
    "aggregation_lookup": "run a $lookup aggregation stage",
    "array_filters": "update with arrayFilters",
    "sessions": "run operations in a client session",
    "replica_set": "say in hello it is a replica set member or mongos (transactions need one)",
    "list_indexes": "report created indexes under their given names",
    "distinct": "run distinct",
    "explain": "explain a find cursor",
    "has_version_array": "report buildInfo.versionArray",
    # beyond the basics: gaps an ODM test suite is likely to hit
    "regex_objects": "match compiled regexes (as mongoengine's contains/startswith)",
    "not_operator": "evaluate $not",
    "array_index_paths": "update array elements by index path ('a.1')",
    "uuid_binary": "round-trip and query a UUID stored as BSON binary",
    "keyword_collections": "use collections named like SQL keywords ('order')",
    "nested_projection": "project a nested field ('sub.x') as a subdocument",
    "slice_projection": "apply a $slice projection",
    "reference_queries": "match an ObjectId stored in a field, a subdocument or a list",
    "dotted_collections": "use collections with a dot in their name ('mongoengine.counters')",
    "atomic_failed_updates": "leave a document unchanged when an update of it fails",
}


class ProbeFailed(Exception):
    """The server answered, but not as MongoDB would."""


@dataclass(frozen=True)
class Capabilities:
    """What the server at ``uri`` can do; ``reasons`` explains each ``False``."""

    uri: str
    dbref: bool = False
    decimal128: bool = False
    decimal128_order: bool = False
    geo: bool = False
    javascript: bool = False
    map_reduce: bool = False
    transactions: bool = False
    text_search: bool = False
    capped: bool = False
    collation: bool = False
    gridfs: bool = False
    gridfs_metadata: bool = False
    gridfs_delete_missing: bool = False
    aggregation_lookup: bool = False
    array_filters: bool = False
    sessions: bool = False
    replica_set: bool = False
    list_indexes: bool = False
    distinct: bool = False
    explain: bool = False
    has_version_array: bool = False
    regex_objects: bool = False
    not_operator: bool = False
    array_index_paths: bool = False
    uuid_binary: bool = False
    keyword_collections: bool = False
    nested_projection: bool = False
    slice_projection: bool = False
    reference_queries: bool = False
    dotted_collections: bool = False
    atomic_failed_updates: bool = False
    server_version: str | None = None
    reasons: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )

    def supports(self, name: str) -> bool:
        """Return the boolean capability ``name``."""
        if name not in FEATURES:
            raise KeyError(f"unknown capability {name!r}")
        return bool(getattr(self, name))

    def skip_reason(self, name: str) -> str | None:
        """Return why tests needing ``name`` must skip, or None if supported."""
        if self.supports(name):
            return None
        reason = self.reasons.get(name, "no reason recorded")
        return f"server at {self.uri} cannot {FEATURES[name]}: {reason}"

    def table(self) -> str:
        """Render the capabilities as a plain-text table."""
        names = [f.name for f in fields(self) if f.name in FEATURES]
        width = max(map(len, names))
        lines = [f"server: {self.uri} (version {self.server_version or '?'})"]
        for name in names:
            mark = "yes" if getattr(self, name) else "NO "
            reason = "" if getattr(self, name) else f"  {self.reasons.get(name, '')}"
            lines.append(f"  {name:<{width}}  {mark}{reason}")
        return "\n".join(lines)


# --- individual probes ----------------------------------------------------
# Each takes the client and the scratch database, uses its own "probe_*"
# collections (bare names like "distinct" are SQL keywords to some servers),
# returns normally on success and raises (anything) on failure.


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ProbeFailed(message)


def _probe_dbref(client: Client, db: Db) -> None:
    coll = db["probe_dbref"]
    refs = {
        1: DBRef("other", ObjectId()),
        2: DBRef("other", 42, "otherdb"),
    }
    coll.insert_many([{"_id": key, "ref": ref} for key, ref in refs.items()])
    for key, ref in refs.items():
        doc = coll.find_one({"_id": key})
        got = None if doc is None else doc.get("ref")
        _expect(
            isinstance(got, DBRef) and got == ref,
            f"stored {ref!r}, read back {got!r}",
        )


def _probe_decimal128(client: Client, db: Db) -> None:
    coll = db["probe_decimal128"]
    value = Decimal128("1.10")
    coll.insert_one({"_id": 1, "d": value})
    doc = coll.find_one({"_id": 1})
    got = None if doc is None else doc.get("d")
    _expect(
        isinstance(got, Decimal128) and str(got) == "1.10",
        f"stored {value!r}, read back {got!r}",
    )


def _probe_decimal128_order(client: Client, db: Db) -> None:
    coll = db["probe_decimal128_order"]
    coll.insert_many([{"_id": 1, "d": Decimal128("1.10")}, {"_id": 2, "d": Decimal128("20")}])
    got = [d["_id"] for d in coll.find({"d": {"$gt": Decimal128("2")}})]
    _expect(got == [2], f"$gt Decimal128('2') matched ids {got!r}, expected [2]")


def _probe_geo(client: Client, db: Db) -> None:
    coll = db["probe_geo"]
    coll.create_index([("loc", pymongo.GEOSPHERE)])
    coll.insert_many(
        [
            {"_id": "near", "loc": {"type": "Point", "coordinates": [0.0, 0.0]}},
            {"_id": "far", "loc": {"type": "Point", "coordinates": [40.0, 40.0]}},
        ]
    )
    point = {"type": "Point", "coordinates": [0.01, 0.01]}
    box = [[[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]]]
    queries = {
        "$near": {"$near": {"$geometry": point, "$maxDistance": 10_000}},
        "$geoWithin": {
            "$geoWithin": {"$geometry": {"type": "Polygon", "coordinates": box}}
        },
    }
    problems = []
    for operator, query in queries.items():
        try:
            got = [d["_id"] for d in coll.find({"loc": query})]
        except PyMongoError as exc:
            problems.append(describe_error(exc))
        else:
            if got != ["near"]:
                problems.append(f"{operator} returned {got!r}, expected ['near']")
    _expect(not problems, "; ".join(problems))


def _probe_javascript(client: Client, db: Db) -> None:
    coll = db["probe_javascript"]
    coll.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])
    got = [d["_id"] for d in coll.find({"$where": "this.a > 1"})]
    _expect(got == [2], f"$where 'this.a > 1' returned ids {got!r}, expected [2]")


def _probe_map_reduce(client: Client, db: Db) -> None:
    coll = db["probe_map_reduce"]
    coll.insert_many([{"k": "a"}, {"k": "b"}, {"k": "a"}])
    reply = db.command(
        "mapReduce",
        coll.name,
        map=Code("function () { emit(this.k, 1); }"),
        reduce=Code("function (key, values) { return Array.sum(values); }"),
        out={"inline": 1},
    )
    results = reply.get("results")
    _expect(isinstance(results, list), f"reply has no 'results' list: {reply!r}")
    got = {r["_id"]: r["value"] for r in results}
    _expect(got == {"a": 2, "b": 1}, f"results {got!r}, expected {{'a': 2, 'b': 1}}")


def _probe_transactions(client: Client, db: Db) -> None:
    coll = db["probe_transactions"]
    coll.insert_one({"_id": "before"})  # collections cannot be created in a txn
    with client.start_session() as session:
        with session.start_transaction():
            coll.insert_one({"_id": "committed"}, session=session)
        _expect(
            coll.find_one({"_id": "committed"}) is not None,
            "document inserted in a committed transaction is missing",
        )
        session.start_transaction()
        coll.insert_one({"_id": "aborted"}, session=session)
        session.abort_transaction()
    _expect(
        coll.find_one({"_id": "aborted"}) is None,
        "document inserted in an aborted transaction is still there",
    )


def _probe_text_search(client: Client, db: Db) -> None:
    coll = db["probe_text_search"]
    coll.create_index([("body", pymongo.TEXT)])
    coll.insert_many(
        [{"_id": 1, "body": "hello brave world"}, {"_id": 2, "body": "goodbye moon"}]
    )
    got = [d["_id"] for d in coll.find({"$text": {"$search": "world"}})]
    _expect(got == [1], f"$text 'world' returned ids {got!r}, expected [1]")


def _probe_capped(client: Client, db: Db) -> None:
    coll = db.create_collection("probe_capped", capped=True, size=4096, max=3)
    options = coll.options()
    _expect(options.get("capped") is True, f"options() is {options!r}")


def _probe_collation(client: Client, db: Db) -> None:
    coll = db["probe_collation"]
    coll.insert_many(
        [{"_id": 1, "n": "Abc"}, {"_id": 2, "n": "abc"}, {"_id": 3, "n": "abd"}]
    )
    cursor = coll.find({"n": "abc"}, collation={"locale": "en", "strength": 2})
    got = sorted(d["_id"] for d in cursor)
    _expect(got == [1, 2], f"'abc' at strength 2 matched ids {got!r}, expected [1, 2]")


def _probe_gridfs(client: Client, db: Db) -> None:
    if type(db).__module__.startswith("mongomock"):
        # mongomotor's in-memory driver runs sync gridfs over mongomock this way.
        import mongomock.gridfs

        mongomock.gridfs.enable_gridfs_integration()
    fs = gridfs.GridFS(db)  # default "fs" bucket, as mongoengine's FileField
    data = bytes(range(256)) * 1200  # 300 KiB
    file_id = fs.put(data, filename="probe.bin", chunkSize=64 * 1024)
    chunks = list(db["fs.chunks"].find({"files_id": file_id}, {"n": 1}))
    _expect(
        len(chunks) == 5,
        f"{len(data)} bytes stored in {len(chunks)} chunks, expected 5",
    )
    got = fs.get(file_id).read()
    _expect(got == data, f"read back {len(got)} bytes, not the {len(data)} stored")
    # mongomotor's FileField reads one chunk per round trip, by files_id and n
    chunk = db["fs.chunks"].find_one({"files_id": file_id, "n": 2})
    _expect(
        chunk is not None and bytes(chunk["data"]) == data[2 * 64 * 1024 : 3 * 64 * 1024],
        f"find_one by files_id and n=2 returned {chunk and sorted(chunk)!r}, not chunk #2",
    )


def _probe_gridfs_metadata(client: Client, db: Db) -> None:
    # mongoengine's FileField/ImageField keep metadata as top-level fields
    # of the files document (put(data, content_type=..., width=...)).
    fs = gridfs.GridFS(db, "probe_meta")
    file_id = fs.put(b"x", filename="a.txt", content_type="text/plain", mime_type="text/x")
    doc = db["probe_meta.files"].find_one({"_id": file_id}) or {}
    kept = {k: doc.get(k) for k in ("contentType", "mime_type")}
    _expect(
        kept == {"contentType": "text/plain", "mime_type": "text/x"},
        f"files document kept {kept!r} of contentType/mime_type (keys: {sorted(doc)})",
    )
    upload = doc.get("uploadDate")
    _expect(isinstance(upload, datetime.datetime), f"uploadDate came back as {upload!r}")


def _probe_gridfs_delete_missing(client: Client, db: Db) -> None:
    # GridIn.abort() and deleting an already deleted file both do this.
    fs = gridfs.GridFS(db, "probe_gone")
    fs.put(b"x")  # the bucket exists; the file deleted below does not
    fs.delete(ObjectId())
    grid_in = fs.new_file()
    grid_in.write(b"partial")
    grid_in.abort()


def _probe_aggregation_lookup(client: Client, db: Db) -> None:
    authors, books = db["probe_lookup_authors"], db["probe_lookup_books"]
    authors.insert_many([{"_id": 1, "name": "ann"}, {"_id": 2, "name": "bob"}])
    books.insert_many([{"_id": 10, "author": 1}, {"_id": 11, "author": 1}])
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": 1}},
        {"$lookup": {"from": books.name, "localField": "_id",
                     "foreignField": "author", "as": "books"}},
    ]  # fmt: skip
    got = list(authors.aggregate(pipeline))
    expected = [
        {
            "_id": 1,
            "name": "ann",
            "books": [{"_id": 10, "author": 1}, {"_id": 11, "author": 1}],
        }
    ]
    if got and isinstance(got[0].get("books"), list):
        got[0]["books"].sort(key=lambda b: repr(b.get("_id")))
    _expect(got == expected, f"$lookup returned {got!r}")


def _probe_array_filters(client: Client, db: Db) -> None:
    coll = db["probe_array_filters"]
    coll.insert_one({"_id": 1, "a": [1, 2, 3]})
    coll.update_one(
        {"_id": 1}, {"$set": {"a.$[e]": 0}}, array_filters=[{"e": {"$gte": 2}}]
    )
    doc = coll.find_one({"_id": 1})
    got = None if doc is None else doc.get("a")
    _expect(got == [1, 0, 0], f"array is {got!r} after update, expected [1, 0, 0]")


def _probe_sessions(client: Client, db: Db) -> None:
    coll = db["probe_sessions"]
    with client.start_session() as session:
        coll.insert_one({"_id": 1}, session=session)
        got = list(coll.find({}, session=session))
    _expect(got == [{"_id": 1}], f"find in session returned {got!r}")


def _probe_replica_set(client: Client, db: Db) -> None:
    hello = client.admin.command("hello")
    _expect(
        bool(hello.get("setName")) or hello.get("msg") == "isdbgrid",
        "hello reports a standalone server (no setName, not mongos)",
    )


def _probe_list_indexes(client: Client, db: Db) -> None:
    coll = db["probe_list_indexes"]
    coll.insert_one({"_id": 1, "x": 1})
    name = coll.create_index([("x", pymongo.ASCENDING)])
    info = coll.index_information()
    _expect(
        name in info, f"create_index returned {name!r} but indexes are {sorted(info)!r}"
    )
    _expect(info[name].get("key") == [("x", 1)], f"index {name!r} is {info[name]!r}")


def _probe_distinct(client: Client, db: Db) -> None:
    coll = db["probe_distinct"]
    coll.insert_many(
        [{"k": 1, "f": 0}, {"k": 2, "f": 1}, {"k": 1, "f": 1}, {"k": [2, 3], "f": 1}]
    )
    got = coll.distinct("k")
    _expect(sorted(got) == [1, 2, 3], f"distinct('k') gave {got!r}, expected [1, 2, 3]")
    for query in ({"f": 0}, {"f": {"$in": [0]}}):
        got = coll.distinct("k", query)
        _expect(got == [1], f"distinct('k', {query!r}) gave {got!r}, expected [1]")


def _probe_explain(client: Client, db: Db) -> None:
    coll = db["probe_explain"]
    coll.insert_one({"_id": 1})
    plan = coll.find({"_id": 1}).explain()
    _expect(isinstance(plan, dict) and bool(plan), f"explain() returned {plan!r}")


def _probe_regex_objects(client: Client, db: Db) -> None:
    coll = db["probe_regex_objects"]
    coll.insert_many([{"_id": 1, "s": "Hello"}, {"_id": 2, "s": "world"}])
    got = [d["_id"] for d in coll.find({"s": re.compile("^hel", re.IGNORECASE)})]
    _expect(got == [1], f"re.compile('^hel', I) matched ids {got!r}, expected [1]")


def _probe_not_operator(client: Client, db: Db) -> None:
    coll = db["probe_not_operator"]
    coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 5}])
    got = [d["_id"] for d in coll.find({"n": {"$not": {"$gt": 2}}})]
    _expect(got == [1], f"$not $gt 2 matched ids {got!r}, expected [1]")


def _probe_array_index_paths(client: Client, db: Db) -> None:
    coll = db["probe_array_index_paths"]
    coll.insert_one({"_id": 1, "a": [1, 2, 3], "o": [{"k": 1}, {"k": 2}]})
    coll.update_one({"_id": 1}, {"$set": {"a.1": 20, "o.0.k": 10}})
    doc = coll.find_one({"_id": 1}, {"_id": 0})
    expected = {"a": [1, 20, 3], "o": [{"k": 10}, {"k": 2}]}
    _expect(doc == expected, f"after $set a.1/o.0.k the doc is {doc!r}")


def _probe_uuid_binary(client: Client, db: Db) -> None:
    options = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)
    coll = db.get_collection("probe_uuid_binary", codec_options=options)
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    coll.insert_one({"_id": 1, "u": value})
    doc = coll.find_one({"_id": 1})
    got = None if doc is None else doc.get("u")
    _expect(got == value, f"stored {value!r}, read back {got!r}")
    _expect(coll.find_one({"u": value}) is not None, "query by the UUID found nothing")


def _probe_keyword_collections(client: Client, db: Db) -> None:
    for name in ("order", "group"):
        coll = db[name]
        coll.insert_one({"_id": 1})
        _expect(coll.find_one() == {"_id": 1}, f"collection {name!r} lost its document")


def _probe_nested_projection(client: Client, db: Db) -> None:
    coll = db["probe_nested_projection"]
    coll.insert_one({"_id": 1, "sub": {"x": 1, "y": 2}, "z": 3})
    doc = coll.find_one({"_id": 1}, {"sub.x": 1})
    _expect(
        doc == {"_id": 1, "sub": {"x": 1}}, f"projection {{'sub.x': 1}} gave {doc!r}"
    )


def _probe_slice_projection(client: Client, db: Db) -> None:
    coll = db["probe_slice_projection"]
    coll.insert_one({"_id": 1, "a": [1, 2, 3, 4]})
    problems = []
    for spec, expected in ((2, [1, 2]), (-1, [4]), ([1, 2], [2, 3])):
        try:
            doc = coll.find_one({"_id": 1}, {"a": {"$slice": spec}})
        except PyMongoError as exc:
            problems.append(f"$slice {spec!r}: {describe_error(exc)}")
            continue
        got = None if doc is None else doc.get("a")
        if got != expected:
            problems.append(f"$slice {spec!r} gave {got!r}, expected {expected!r}")
    _expect(not problems, "; ".join(problems))


def _probe_reference_queries(client: Client, db: Db) -> None:
    # mongoengine queries by reference (delete rules, CachedReferenceField sync)
    # compare ObjectIds stored outside _id: plain, in a subdocument, in a list.
    coll = db["probe_reference_queries"]
    ref = ObjectId()
    coll.insert_one({"_id": 1, "ref": ref, "cached": {"_id": ref}, "refs": [ref]})
    problems = [
        f"find {query}"
        for query in ({"ref": ref}, {"cached._id": ref}, {"refs": ref})
        if [d["_id"] for d in coll.find(query)] != [1]
    ]
    if coll.count_documents({"ref": {"$in": [ref]}}) != 1:
        problems.append("count_documents {'ref': {'$in': [<ObjectId>]}}")
    _expect(not problems, "no match for " + ", ".join(problems))


def _probe_dotted_collections(client: Client, db: Db) -> None:
    # mongoengine's SequenceField keeps its counters in "mongoengine.counters".
    coll = db["probe.dotted"]
    coll.insert_one({"_id": 1})
    _expect(coll.find_one() == {"_id": 1}, "collection 'probe.dotted' lost its document")


def _probe_atomic_failed_updates(client: Client, db: Db) -> None:
    coll = db["probe_atomic_failed_updates"]
    coll.insert_one({"_id": 1, "a": 1, "c": 2})
    try:
        coll.update_one({"_id": 1}, {"$rename": {"a": "b", "c": {}}})  # c's target is no name
    except Exception:  # noqa: BLE001 - any refusal; what matters is the document after it
        pass
    doc = coll.find_one({"_id": 1})
    _expect(doc == {"_id": 1, "a": 1, "c": 2}, f"after a refused $rename the doc is {doc!r}")


PROBES: dict[str, Callable[[Client, Db], None]] = {
    "dbref": _probe_dbref,
    "decimal128": _probe_decimal128,
    "decimal128_order": _probe_decimal128_order,
    "geo": _probe_geo,
    "javascript": _probe_javascript,
    "map_reduce": _probe_map_reduce,
    "transactions": _probe_transactions,
    "text_search": _probe_text_search,
    "capped": _probe_capped,
    "collation": _probe_collation,
    "gridfs": _probe_gridfs,
    "gridfs_metadata": _probe_gridfs_metadata,
    "gridfs_delete_missing": _probe_gridfs_delete_missing,
    "aggregation_lookup": _probe_aggregation_lookup,
    "array_filters": _probe_array_filters,
    "sessions": _probe_sessions,
    "replica_set": _probe_replica_set,
    "list_indexes": _probe_list_indexes,
    "distinct": _probe_distinct,
    "explain": _probe_explain,
    "regex_objects": _probe_regex_objects,
    "not_operator": _probe_not_operator,
    "array_index_paths": _probe_array_index_paths,
    "uuid_binary": _probe_uuid_binary,
    "keyword_collections": _probe_keyword_collections,
    "nested_projection": _probe_nested_projection,
    "slice_projection": _probe_slice_projection,
    "reference_queries": _probe_reference_queries,
    "dotted_collections": _probe_dotted_collections,
    "atomic_failed_updates": _probe_atomic_failed_updates,
}


def describe_error(exc: BaseException) -> str:
    """Return a short one-line account of ``exc``, preferring the server's errmsg."""
    details = getattr(exc, "details", None)
    message = ""
    if isinstance(details, dict):
        errors = details.get("writeErrors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            details = errors[0]
        message = str(details.get("errmsg") or "")
    if not message:
        message = str(exc)
    if not isinstance(exc, ProbeFailed):
        message = f"{type(exc).__name__}: {message}"
    message = " ".join(message.split())
    return message if len(message) <= MAX_REASON else message[: MAX_REASON - 3] + "..."


def _run(
    name: str,
    check: Callable[[Client, Db], None],
    client: Client,
    db: Db,
    reasons: dict[str, str],
) -> bool:
    try:
        check(client, db)
    except Exception as exc:  # noqa: BLE001 - every failure is a finding
        reasons[name] = describe_error(exc)
        return False
    return True


def _probe_build_info(client: Client, reasons: dict[str, str]) -> dict[str, Any]:
    """Ask ``buildInfo`` and ``server_info()`` (which sends ``buildinfo``)."""
    answers: dict[str, dict[str, Any]] = {}
    for label, ask in (
        ("buildInfo", lambda: client.admin.command("buildInfo")),
        ("server_info()", client.server_info),
    ):
        try:
            answers[label] = dict(ask())
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            answers[label] = {"error": describe_error(exc)}
    versions = [a.get("version") for a in answers.values()]
    version = next((v for v in versions if isinstance(v, str)), None)
    missing = {
        label: answer
        for label, answer in answers.items()
        if not (isinstance(answer.get("versionArray"), list) and answer["versionArray"])
    }
    if missing:
        reasons["has_version_array"] = "; ".join(
            f"{label} has no versionArray (keys: {sorted(answer)})"
            for label, answer in missing.items()
        )
    return {"server_version": version, "has_version_array": not missing}


def _drop_scratch(client: Client, name: str) -> None:
    try:
        client.drop_database(name)
    except PyMongoError:
        pass


def run_probes(uri: str, database: str = PROBE_DB) -> Capabilities:
    """Probe the server at ``uri`` now (uncached); see :func:`probe`."""
    client: Client = pymongo.MongoClient(
        uri,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        socketTimeoutMS=30_000,
    )
    try:
        client.admin.command("ping")  # fail loudly if there is no server at all
        return probe_client(client, uri, database)
    finally:
        client.close()


def probe_client(client: Any, label: str, database: str = PROBE_DB) -> Capabilities:
    """Probe any PyMongo-like client (a wire client, or the in-memory mongomock)."""
    reasons: dict[str, str] = {}
    _drop_scratch(client, database)
    db: Db = client[database]
    results: dict[str, Any] = {
        name: _run(name, check, client, db, reasons) for name, check in PROBES.items()
    }
    results.update(_probe_build_info(client, reasons))
    _drop_scratch(client, database)
    return Capabilities(uri=label, reasons=MappingProxyType(reasons), **results)


def probe_memory() -> Capabilities:
    """What the in-memory driver (mongomock) can do."""
    import mongomock

    key = "mongomock://"
    with _cache_lock:
        if key not in _cache:
            _cache[key] = probe_client(mongomock.MongoClient(), key)
        return _cache[key]


_cache: dict[str, Capabilities] = {}
_cache_lock = threading.Lock()


def probe(uri: str) -> Capabilities:
    """Return the capabilities of the server at ``uri``, probing it only once."""
    with _cache_lock:
        if uri not in _cache:
            _cache[uri] = run_probes(uri)
        return _cache[uri]


def main(argv: list[str]) -> int:
    """Print the capability table of ``argv[0]`` or of a freshly started server."""
    if argv:
        uri, server = argv[0], None
    else:
        uri, server = wire_uri()
    try:
        print(probe(uri).table())
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
