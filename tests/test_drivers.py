"""Drivers of your own: ``register_driver(name, backend_class)`` and ``connect(driver=name)``."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

import mongomotor
from mongomotor import Document
from mongomotor.drivers import Backend, register_driver, registered_drivers
from mongomotor.drivers.memory import MemoryBackend
from mongomotor.drivers.pymongo_async import PyMongoAsyncBackend
from mongomotor.fields import IntField, ReferenceField, StringField

ROOT = Path(__file__).resolve().parents[1]


class DrvAuthor(Document):
    name = StringField()


class DrvBook(Document):
    title = StringField()
    pages = IntField(default=0)
    author = ReferenceField(DrvAuthor)


def backend_of(lane: Any) -> type[Backend]:
    if lane.driver == "motor":
        from mongomotor.drivers.motor import MotorBackend

        return MotorBackend
    return PyMongoAsyncBackend if lane.driver == "pymongo" else MemoryBackend


async def connect_with(lane: Any, driver: str) -> None:
    """Connect the default alias to the lane's server (or mongomock) through ``driver``."""
    await mongomotor.disconnect()
    # A mongomock:// host would pick the built-in memory driver: name a plain host.
    host = lane.host if lane.is_wire else "mongodb://localhost"
    mongomotor.connect(lane.db_name, host=host, driver=driver, uuidRepresentation="standard")


async def test_a_registered_driver_runs_crud_iteration_and_reference_loads(lane):
    calls: list[str] = []

    class Recording(backend_of(lane)):  # type: ignore[misc, valid-type]
        name = "recording"

        def create_client(self, settings: dict[str, Any]) -> Any:
            calls.append("create_client")
            return super().create_client(settings)

        def fetch_batch(self, cursor: Any) -> Any:
            calls.append("fetch_batch")
            return super().fetch_batch(cursor)

    register_driver(f"recording-{lane.name}", Recording)
    await connect_with(lane, f"recording-{lane.name}")
    ann = await DrvAuthor(name="ann").save()
    for n in range(5):
        await DrvBook(title=f"book {n}", author=ann).save()
    await DrvBook.objects(title="book 0").update_one(inc__pages=10)
    await DrvBook.objects(title="book 4").delete()
    titles = [book.title async for book in DrvBook.objects.order_by("title").batch_size(2)]
    assert titles == ["book 0", "book 1", "book 2", "book 3"]
    book = await DrvBook.objects.get(title="book 0")
    assert book.pages == 10
    assert (await book.author).name == "ann"
    assert calls.count("create_client") == 1
    assert calls.count("fetch_batch") >= 3  # batches of two, read one round trip at a time
    if lane.is_wire:  # it really went to the lane's server
        stored = lane.admin[lane.db_name]["drv_book"]
        assert stored.count_documents({}) == 4


def load_logging_driver() -> Any:
    spec = importlib.util.spec_from_file_location(
        "logging_driver", ROOT / "examples" / "logging_driver.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("logging_driver", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lane", ["pymongo", "motor"], indirect=True)
async def test_the_documented_logging_driver_logs_each_operation_with_its_duration(
    lane, caplog
):
    example = load_logging_driver()
    driver = "logged"
    if lane.driver == "motor":
        from mongomotor.drivers.motor import MotorBackend

        class MotorLogging(example.LogCommands, MotorBackend):
            name = "logged-motor"

        register_driver("logged-motor", MotorLogging)
        driver = "logged-motor"
    await connect_with(lane, driver)
    caplog.set_level(logging.INFO, logger="mongomotor.commands")
    await DrvAuthor(name="ann").save()
    assert [a.name async for a in DrvAuthor.objects] == ["ann"]
    logged = [r.getMessage() for r in caplog.records if r.name == "mongomotor.commands"]
    insert = [m for m in logged if m.startswith(f"insert {lane.db_name}.drv_author: ")]
    find = [m for m in logged if m.startswith(f"find {lane.db_name}.drv_author: ")]
    assert insert and find, logged
    assert all(m.endswith(" ms") for m in insert + find)

    # A registered driver sets the hooks the built-in ones use: before_call here.
    caplog.clear()
    await DrvAuthor.objects(name="ann").update(set__name="bob")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    await DrvAuthor.objects.update(set__name="cy")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == ["update_many with an empty filter: it touches every document"]
    assert [a.name async for a in DrvAuthor.objects] == ["cy"]


def test_register_driver_says_what_it_needs():
    with pytest.raises(ValueError, match="built-in"):
        register_driver("motor", PyMongoAsyncBackend)
    with pytest.raises(TypeError, match="subclass of mongomotor.drivers.Backend"):
        register_driver("mine", dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a word"):
        register_driver("two words", PyMongoAsyncBackend)
    with pytest.raises(ValueError, match="register_driver"):
        mongomotor.connect("x", alias="drv_unknown", driver="nope")
    assert registered_drivers()[:2] == ("pymongo", "motor")
