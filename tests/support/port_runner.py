"""Runs the sample blog's scenario in a process of its own and prints its data as JSON.

    python tests/support/port_runner.py original|ported APP_DIR LANE URI DB

``original`` runs the sync code on plain MongoEngine (mongomotor is never imported);
``ported`` runs the code ``mongomotor port`` wrote, on mongomotor. A process each keeps
the two apps' document classes (same names) and connections apart.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from bson import ObjectId


def normalised(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The stored documents with each ObjectId named by the order it first appears in."""
    names: dict[ObjectId, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, ObjectId):
            return names.setdefault(value, f"oid{len(names)}")
        if isinstance(value, dict):
            return {k: walk(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {name: [walk(row) for row in found] for name, found in rows.items()}


ORDER = {"user": "name", "post": "title", "comment": "text"}


def run_original(db: str, lane: str, uri: str) -> dict[str, Any]:
    import mongoengine

    if lane == "memory":
        import mongomock
        import mongomock.gridfs

        mongomock.gridfs.enable_gridfs_integration()
        mongoengine.connect(
            db, host="mongodb://localhost", mongo_client_class=mongomock.MongoClient
        )
    else:
        mongoengine.connect(db, host=uri, uuidRepresentation="standard")
    from blog import app, models

    result = app.scenario()
    rows = {
        name: list(getattr(models, name.capitalize()).objects.order_by(key).as_pymongo())
        for name, key in ORDER.items()
    }
    mongoengine.disconnect()
    return {"result": result, "stored": normalised(rows)}


async def run_ported(db: str, lane: str, uri: str) -> dict[str, Any]:
    import mongomotor

    if lane == "memory":
        mongomotor.connect(db, host="mongomock://localhost")
    else:
        mongomotor.connect(db, host=uri, driver=lane, uuidRepresentation="standard")
    from blog import app, models

    result = await app.scenario()
    rows = {
        name: await getattr(models, name.capitalize())
        .objects.order_by(key)
        .as_pymongo()
        .to_list(None)
        for name, key in ORDER.items()
    }
    await mongomotor.disconnect()
    return {"result": result, "stored": normalised(rows)}


def main() -> None:
    side, app_dir, lane, uri, db = sys.argv[1:6]
    sys.path.insert(0, app_dir)
    if side == "original":
        data = run_original(db, lane, uri)
    else:
        data = asyncio.run(run_ported(db, lane, uri))
    print(json.dumps(data, sort_keys=True))


if __name__ == "__main__":
    main()
