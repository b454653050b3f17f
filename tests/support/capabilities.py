"""Probe once what a MongoDB wire server can do, so tests can skip precisely.

Run ``python -m tests.support.capabilities [URI]`` to print the table; without
a URI (and without ``$MONGOMOTOR_TEST_URI``) a throwaway server is started.
"""

from __future__ import annotations

import dataclasses
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

from . import more_probes
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
    "concurrent_transactions": "run two transactions at the same time",
    "text_search": "run $text queries on a text index",
    "capped": "create capped collections",
    "collation": "apply a case-insensitive collation",
    "gridfs": "store and read back multi-chunk GridFS files",
    "gridfs_metadata": "keep contentType, custom fields and a datetime uploadDate on GridFS files",
    "gridfs_delete_missing": "delete a GridFS file that is not (or no longer) stored",
    "aggregation_lookup": "run a $lookup aggregation stage",
    "array_filters": "update with arrayFilters",
    "push_subdocument": "$push a subdocument onto an array and read it back as one",
    "group_sort": "$sort the output of $unwind then $group",
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
    # change streams (watch)
    "change_streams": "open a collection change stream and report an insert with its document",
    "change_stream_filters": "apply a $match stage with $or to change events",
    "change_stream_updates": (
        "report an update with its updateDescription, and no fullDocument unless asked"
    ),
    "change_stream_replace": "report a replace_one as a 'replace' event",
    "change_stream_deletes": "report a delete with no fullDocument (no pre-images)",
    "change_stream_ids": "keep the BSON type of _id in fullDocument and documentKey",
    "change_stream_drop": "report a drop as 'drop' then 'invalidate' events",
    "change_stream_resume": (
        "fail a getMore on a killed change-stream cursor as CursorNotFound, so drivers resume"
    ),
    "change_stream_pre_images": (
        "send fullDocumentBeforeChange once collMod enables changeStreamPreAndPostImages"
    ),
    "atomic_failed_updates": "leave a document unchanged when an update of it fails",
    **more_probes.FEATURES,
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
    concurrent_transactions: bool = False
    text_search: bool = False
    capped: bool = False
    collation: bool = False
    gridfs: bool = False
    gridfs_metadata: bool = False
    gridfs_delete_missing: bool = False
    aggregation_lookup: bool = False
    array_filters: bool = False
    push_subdocument: bool = False
    group_sort: bool = False
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
    change_streams: bool = False
    change_stream_filters: bool = False
    change_stream_updates: bool = False
    change_stream_replace: bool = False
    change_stream_deletes: bool = False
    change_stream_ids: bool = False
    change_stream_drop: bool = False
    change_stream_pre_images: bool = False
    change_stream_resume: bool = False
    atomic_failed_updates: bool = False
    capped_max: bool = False
    geo_indexes: bool = False
    unique_updates: bool = False
    group_after_unwind: bool = False
    group_average: bool = False
    if_null: bool = False
    no_cursor_timeout: bool = False
    find_and_modify_projection: bool = False
    elem_match_fields: bool = False
    concurrent_updates: bool = False
    concurrent_upserts: bool = False
    nested_arrays: bool = False
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


def _probe_push_subdocument(client: Client, db: Db) -> None:
    coll = db["probe_push_subdocument"]
    coll.insert_one({"_id": 1, "a": []})
    coll.update_one({"_id": 1}, {"$push": {"a": {"k": 1}}})
    doc = coll.find_one({"_id": 1})
    got = None if doc is None else doc.get("a")
    _expect(got == [{"k": 1}], f"array is {got!r} after $push, expected [{{'k': 1}}]")


def _probe_group_sort(client: Client, db: Db) -> None:
    coll = db["probe_group_sort"]
    coll.insert_many([{"k": ["a", "b"]}, {"k": ["b"]}])
    rows = coll.aggregate(
        [{"$unwind": "$k"}, {"$group": {"_id": "$k", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}]
    )
    got = [row["_id"] for row in rows]
    _expect(got == ["b", "a"], f"groups came back as {got!r}, expected ['b', 'a']")


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


def _changes(coll: Any, write: Callable[[], None], wanted: int, **options: Any) -> list[dict]:
    """The first ``wanted`` change events ``write()`` causes on ``coll`` (fewer if none come)."""
    events: list[dict] = []
    with coll.watch(max_await_time_ms=200, **options) as stream:
        write()
        for _ in range(wanted + 10):  # a replica set may need a few getMores
            event = stream.try_next()
            if event is not None:
                events.append(event)
                if len(events) == wanted:
                    break
    return events


def _probe_change_streams(client: Client, db: Db) -> None:
    coll = db["probe_change_streams"]
    events = _changes(coll, lambda: coll.insert_one({"_id": 1, "a": "x"}), 1)
    _expect(bool(events), "an insert gave no change event")
    got = events[0]
    _expect(
        got.get("operationType") == "insert" and (got.get("fullDocument") or {}).get("a") == "x",
        f"an insert of {{'_id': 1, 'a': 'x'}} gave {got!r}",
    )


def _probe_change_stream_filters(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_filters"]
    pipeline = [{"$match": {"$or": [{"fullDocument.a": 1}, {"fullDocument": None}]}}]

    def write() -> None:
        coll.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])
        coll.delete_one({"_id": 2})

    events = _changes(coll, write, 3, pipeline=pipeline)
    got = [(e.get("operationType"), (e.get("documentKey") or {}).get("_id")) for e in events]
    _expect(
        got == [("insert", 1), ("delete", 2)],
        f"$match {pipeline[0]['$match']!r} passed {got!r}, expected insert 1 and delete 2",
    )


def _probe_change_stream_updates(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_updates"]
    coll.insert_one({"_id": 1, "a": 1, "b": 2})
    events = _changes(
        coll, lambda: coll.update_one({"_id": 1}, {"$set": {"a": 5}, "$unset": {"b": ""}}), 1
    )
    _expect(bool(events), "an update gave no change event")
    description = events[0].get("updateDescription") or {}
    _expect(
        description.get("updatedFields") == {"a": 5}
        and description.get("removedFields") == ["b"]
        and "fullDocument" not in events[0],
        f"$set a, $unset b gave updateDescription {events[0].get('updateDescription')!r}, "
        f"fullDocument {events[0].get('fullDocument', '(none)')!r}",
    )


def _probe_change_stream_replace(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_replace"]
    coll.insert_one({"_id": 1, "a": 1})
    events = _changes(coll, lambda: coll.replace_one({"_id": 1}, {"z": 1}), 1)
    got = events[0].get("operationType") if events else None
    _expect(got == "replace", f"replace_one gave a {got!r} event")


def _probe_change_stream_deletes(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_deletes"]
    coll.insert_one({"_id": 1, "a": 1})
    events = _changes(coll, lambda: coll.delete_one({"_id": 1}), 1)
    _expect(bool(events), "a delete gave no change event")
    _expect(
        "fullDocument" not in events[0],
        f"a delete carried fullDocument {events[0].get('fullDocument')!r}",
    )


def _probe_change_stream_ids(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_ids"]
    oid = ObjectId()

    def write() -> None:
        coll.insert_many([{"_id": oid}, {"_id": 7}])

    events = _changes(coll, write, 2)
    got = [(e.get("fullDocument", {}).get("_id"), e.get("documentKey", {}).get("_id"))
           for e in events]
    _expect(got == [(oid, oid), (7, 7)], f"inserts of _id {oid!r} and 7 gave _ids {got!r}")


def _probe_change_stream_drop(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_drop"]
    coll.insert_one({"_id": 1})
    events = _changes(coll, coll.drop, 2)
    got = [e.get("operationType") for e in events]
    _expect(got == ["drop", "invalidate"], f"drop gave events {got!r}")


def _probe_change_stream_pre_images(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_pre_images"]
    coll.insert_one({"_id": 1, "a": 1})
    db.command("collMod", coll.name, changeStreamPreAndPostImages={"enabled": True})
    events = _changes(
        coll, lambda: coll.update_one({"_id": 1}, {"$set": {"a": 2}}), 1,
        full_document_before_change="required",
    )
    before = events[0].get("fullDocumentBeforeChange") if events else None
    _expect(before == {"_id": 1, "a": 1}, f"an update of {{'a': 1}} gave pre-image {before!r}")


def _probe_change_stream_resume(client: Client, db: Db) -> None:
    coll = db["probe_change_stream_resume"]
    with coll.watch(max_await_time_ms=200) as stream:
        coll.insert_one({"_id": 1})
        first = None
        for _ in range(10):
            first = first or stream.try_next()
        _expect(first is not None, "an insert gave no change event")
        cursor_id = stream._cursor.cursor_id
        db.command("killCursors", coll.name, cursors=[cursor_id])
        coll.insert_one({"_id": 2})
        second = None
        for _ in range(10):
            if not stream.alive:
                break
            second = second or stream.try_next()
    got = (second or {}).get("documentKey")
    _expect(got == {"_id": 2}, f"after killCursors the stream gave {got!r}, alive={stream.alive}")


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
    "push_subdocument": _probe_push_subdocument,
    "group_sort": _probe_group_sort,
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
    "change_streams": _probe_change_streams,
    "change_stream_filters": _probe_change_stream_filters,
    "change_stream_updates": _probe_change_stream_updates,
    "change_stream_replace": _probe_change_stream_replace,
    "change_stream_deletes": _probe_change_stream_deletes,
    "change_stream_ids": _probe_change_stream_ids,
    "change_stream_drop": _probe_change_stream_drop,
    "change_stream_pre_images": _probe_change_stream_pre_images,
    "change_stream_resume": _probe_change_stream_resume,
    "atomic_failed_updates": _probe_atomic_failed_updates,
    **more_probes.PROBES,
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
    if not isinstance(exc, (ProbeFailed, more_probes.ProbeFailed)):
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
    results["concurrent_transactions"] = results["transactions"]
    if "transactions" in reasons:
        reasons["concurrent_transactions"] = reasons["transactions"]
    _drop_scratch(client, database)
    return Capabilities(uri=label, reasons=MappingProxyType(reasons), **results)


def probe_memory() -> Capabilities:
    """What the in-memory driver (mongomock) can do."""
    import mongomock

    key = "mongomock://"
    with _cache_lock:
        if key not in _cache:
            caps = probe_client(mongomock.MongoClient(), key)
            # mongomock has no transactions; mongomotor's memory driver emulates
            # them (tests/test_transactions.py checks it), one at a time.
            reasons = dict(caps.reasons)
            reasons["concurrent_transactions"] = (
                "mongomotor's in-memory transactions run one at a time per client"
            )
            for name in ("transactions", "replica_set"):
                reasons.pop(name, None)
            _cache[key] = dataclasses.replace(
                caps,
                transactions=True,
                replica_set=True,
                concurrent_transactions=False,
                reasons=MappingProxyType(reasons),
            )
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
