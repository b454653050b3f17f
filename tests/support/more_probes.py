"""Probes of what a second server implementation (FerretDB) showed to vary between servers.

    from tests.support.more_probes import FEATURES, PROBES   # merged into capabilities.py

Each probe raises (the server's own error, or ProbeFailed saying what came back)
when the server cannot do what its feature line says; capabilities.py runs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

FEATURES: dict[str, str] = {
    "capped_max": "keep at most `max` documents in a capped collection, dropping the oldest",
    "geo_indexes": "create 2dsphere and 2d indexes (mongoengine makes them for geo fields)",
    "unique_updates": "refuse an update that breaks a unique index with DuplicateKeyError",
    "group_after_unwind": "$sum a field in $group after $unwind",
    "group_average": "compute $avg in $group (QuerySet.average)",
    "if_null": "evaluate $ifNull in $project (QuerySet.item_frequencies)",
    "no_cursor_timeout": "open a find cursor with no_cursor_timeout (QuerySet.timeout(False))",
    "find_and_modify_projection": "apply a projection in findAndModify (modify() with only())",
    "elem_match_fields": "match $elemMatch with several plain fields",
    "concurrent_updates": "apply every $inc of concurrent clients on one document (none lost)",
    "concurrent_upserts": "let concurrent upserts of one _id meet without DuplicateKeyError",
    "nested_arrays": "store an array of arrays (a ListField of ListFields)",
}

THREADS = 8


class ProbeFailed(AssertionError):
    """The server answered, but not as MongoDB would."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ProbeFailed(message)


def _probe_capped_max(client: Any, db: Any) -> None:
    coll = db.create_collection("probe_capped_max", capped=True, size=4096, max=3)
    for n in range(6):
        coll.insert_one({"_id": n})
    kept = sorted(d["_id"] for d in coll.find())
    _expect(kept == [3, 4, 5], f"max=3 after 6 inserts kept _ids {kept!r}, expected [3, 4, 5]")


def _probe_geo_indexes(client: Any, db: Any) -> None:
    db["probe_geo_indexes"].create_index([("point", "2dsphere")])
    db["probe_geo_indexes"].create_index([("legacy", "2d")])


def _probe_unique_updates(client: Any, db: Any) -> None:
    coll = db["probe_unique_updates"]
    coll.create_index("e", unique=True)
    coll.insert_many([{"_id": 1, "e": "a"}, {"_id": 2, "e": "b"}])
    try:
        coll.update_one({"_id": 2}, {"$set": {"e": "a"}})
    except DuplicateKeyError:
        return
    raise ProbeFailed(f"the update gave no DuplicateKeyError; stored: {list(coll.find())!r}")


def _probe_group_after_unwind(client: Any, db: Any) -> None:
    coll = db["probe_group_after_unwind"]
    coll.insert_many([{"_id": 1, "n": 2, "t": ["x"]}, {"_id": 2, "n": 3, "t": ["x", "y"]}])
    pipeline = [{"$unwind": "$t"}, {"$group": {"_id": "$t", "total": {"$sum": "$n"}}}]
    got = {row["_id"]: row["total"] for row in coll.aggregate(pipeline)}
    _expect(got == {"x": 5, "y": 3}, f"$sum of n per tag gave {got!r}, expected {{'x': 5, 'y': 3}}")


def _probe_group_average(client: Any, db: Any) -> None:
    coll = db["probe_group_average"]
    coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 4}])
    got = [row["avg"] for row in coll.aggregate([{"$group": {"_id": None, "avg": {"$avg": "$n"}}}])]
    _expect(got == [2.5], f"$avg of 1 and 4 gave {got!r}")


def _probe_if_null(client: Any, db: Any) -> None:
    coll = db["probe_if_null"]
    coll.insert_many([{"_id": 1, "a": 5}, {"_id": 2}])
    rows = coll.aggregate([{"$project": {"v": {"$ifNull": ["$a", 0]}}}, {"$sort": {"_id": 1}}])
    got = [row.get("v") for row in rows]
    _expect(got == [5, 0], f"$ifNull ['$a', 0] gave {got!r}, expected [5, 0]")


def _probe_no_cursor_timeout(client: Any, db: Any) -> None:
    coll = db["probe_no_cursor_timeout"]
    coll.insert_one({"_id": 1})
    got = [d["_id"] for d in coll.find({}, no_cursor_timeout=True)]
    _expect(got == [1], f"find gave {got!r}")


def _probe_find_and_modify_projection(client: Any, db: Any) -> None:
    coll = db["probe_find_and_modify_projection"]
    coll.insert_one({"_id": 1, "n": 1, "other": "x"})
    got = coll.find_one_and_update(
        {"_id": 1}, {"$inc": {"n": 1}}, projection={"n": 1}, return_document=ReturnDocument.AFTER
    )
    _expect(got == {"_id": 1, "n": 2}, f"projection {{'n': 1}} gave {got!r}")


def _probe_elem_match_fields(client: Any, db: Any) -> None:
    coll = db["probe_elem_match_fields"]
    coll.insert_many(
        [{"_id": 1, "l": [{"k": "a", "q": 1}, {"k": "b", "q": 2}]}, {"_id": 2, "l": [{"k": "b"}]}]
    )
    query = {"l": {"$elemMatch": {"k": "b", "q": 2}}}
    got = [d["_id"] for d in coll.find(query)]
    _expect(got == [1], f"find {query!r} gave _ids {got!r}, expected [1]")


def _probe_nested_arrays(client: Any, db: Any) -> None:
    coll = db["probe_nested_arrays"]
    coll.insert_one({"_id": 1, "a": [[1, 2], [3]]})
    got = (coll.find_one({"_id": 1}) or {}).get("a")
    _expect(got == [[1, 2], [3]], f"stored [[1, 2], [3]], read back {got!r}")


def _in_threads(work: Callable[[], None]) -> list[BaseException]:
    """Run ``work`` in THREADS threads released together; the exceptions they raised."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - reported by the probe
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _probe_concurrent_updates(client: Any, db: Any) -> None:
    coll = db["probe_concurrent_updates"]
    coll.insert_one({"_id": 1, "n": 0})
    each = 25

    def work() -> None:
        for _ in range(each):
            coll.update_one({"_id": 1}, {"$inc": {"n": 1}})

    errors = _in_threads(work)
    _expect(not errors, f"{len(errors)} threads failed, first: {errors[:1]!r}")
    got = (coll.find_one({"_id": 1}) or {}).get("n")
    _expect(
        got == THREADS * each,
        f"{THREADS} clients each sending {each} $inc of 1 to one document left n={got!r}, "
        f"expected {THREADS * each}",
    )


def _probe_concurrent_upserts(client: Any, db: Any) -> None:
    coll = db["probe_concurrent_upserts"]
    keys = 20

    def work() -> None:
        for key in range(keys):
            coll.find_one_and_update({"_id": key}, {"$inc": {"n": 1}}, upsert=True)

    errors = _in_threads(work)
    total = sum(d.get("n", 0) for d in coll.find())
    _expect(
        not errors and total == THREADS * keys,
        f"{THREADS} clients upserting the same {keys} _ids: {len(errors)} failed "
        f"(first: {errors[0] if errors else None!r}), total n={total}, expected {THREADS * keys}",
    )


PROBES: dict[str, Callable[[Any, Any], None]] = {
    "capped_max": _probe_capped_max,
    "geo_indexes": _probe_geo_indexes,
    "unique_updates": _probe_unique_updates,
    "group_after_unwind": _probe_group_after_unwind,
    "group_average": _probe_group_average,
    "if_null": _probe_if_null,
    "no_cursor_timeout": _probe_no_cursor_timeout,
    "find_and_modify_projection": _probe_find_and_modify_projection,
    "elem_match_fields": _probe_elem_match_fields,
    "concurrent_updates": _probe_concurrent_updates,
    "concurrent_upserts": _probe_concurrent_upserts,
    "nested_arrays": _probe_nested_arrays,
}
