"""File metadata on documents read from the database is never silently wrong.

Code written for MongoEngine reads ``doc.photo.content_type`` or
``getattr(doc.photo, "length", 0)`` with no await. Until the metadata is
loaded that raises FileMetadataNotLoaded (not an AttributeError, so ``getattr``
with a default and ``hasattr`` do not turn it into a wrong answer); once
loaded, by ``await doc.photo.get()`` or ``await load_file_metadata(docs)``, it
gives the stored values.
"""

from __future__ import annotations

import datetime

import pytest

from mongomotor import Document, GridFS, query_counter, run_sync
from mongomotor.fields import (
    FileField,
    FileMetadataNotLoaded,
    IntField,
    ListField,
    StringField,
    load_file_metadata,
)

pytestmark = pytest.mark.requires("gridfs")


class MetaPhoto(Document):
    name = StringField()
    photo = FileField()
    scans = ListField(FileField(collection_name="scans"))


async def stored(name: str, data: bytes, **metadata) -> MetaPhoto:
    doc = MetaPhoto(name=name)
    await doc.photo.put(data, filename=f"{name}.png", content_type="image/png", **metadata)
    await doc.save()
    return await MetaPhoto.objects.get(id=doc.id)


@pytest.mark.parametrize("name", [
    "length", "filename", "content_type", "upload_date", "md5", "chunk_size", "author",
])
async def test_unloaded_metadata_raises_what_getattr_and_hasattr_do_not_swallow(lane, name):
    doc = await stored("cat", b"meow")
    with pytest.raises(FileMetadataNotLoaded, match=r"await doc\.photo\.get\(\)"):
        getattr(doc.photo, name, "a default")
    with pytest.raises(FileMetadataNotLoaded):
        hasattr(doc.photo, name)


async def test_after_get_the_stored_values_are_read(lane):
    doc = await stored("cat", b"meow", author="ann")
    await doc.photo.get()
    assert (doc.photo.length, doc.photo.filename) == (4, "cat.png")
    assert getattr(doc.photo, "length", 0) == 4 and hasattr(doc.photo, "length")
    if lane.supports("gridfs_metadata"):  # nx-27017 drops contentType and custom fields
        assert doc.photo.content_type == "image/png"
        assert doc.photo.author == "ann"
        assert isinstance(doc.photo.upload_date, datetime.datetime)
    assert getattr(doc.photo, "no_such_field", None) is None  # loaded: a plain AttributeError


async def test_an_empty_field_and_probes_say_no_as_in_mongoengine(lane):
    doc = await MetaPhoto(name="none").save()
    again = await MetaPhoto.objects.get(id=doc.id)
    assert getattr(again.photo, "length", 0) == 0  # no file stored: nothing to load
    full = await stored("cat", b"meow")
    assert not hasattr(full.photo, "items") and not hasattr(full.photo, "to_mongo")
    assert not hasattr(full.photo, "_private")


async def test_metadata_of_many_documents_in_one_query_per_bucket(lane):
    for n in range(3):
        await stored(f"p{n}", b"x" * (n + 1))
    docs = await MetaPhoto.objects.order_by("name").to_list(None)
    docs[0].scans = []
    with query_counter() as counter:
        assert await load_file_metadata(docs) == 3
    assert counter == 1
    assert [doc.photo.length for doc in docs] == [1, 2, 3]
    assert [doc.photo.filename for doc in docs] == ["p0.png", "p1.png", "p2.png"]
    with query_counter() as counter:
        assert await load_file_metadata(docs) == 0  # already loaded: no query
    assert counter == 0


async def test_files_in_a_list_and_inside_the_bridge(lane):
    doc = MetaPhoto(name="scans")
    await doc.save()
    for n in range(2):
        proxy = MetaPhoto.scans.field.proxy_class(
            key="scans", instance=doc, db_alias="default", collection_name="scans"
        )
        await proxy.put(b"s" * (n + 5), filename=f"scan{n}")
        doc.scans.append(proxy)
    await doc.save()
    again = await MetaPhoto.objects.get(id=doc.id)
    assert await run_sync(load_file_metadata, [again]) == 2  # plain call in sync code
    assert [scan.length for scan in again.scans] == [5, 6]


# -- loaded with the documents: FileField(load_metadata=True) ---------------------------


class MetaAlbum(Document):
    n = IntField()
    cover = FileField(collection_name="covers", load_metadata=True)
    pages = ListField(FileField(collection_name="pages", load_metadata=True))
    raw = FileField(collection_name="raw")  # not declared: never loaded by the QuerySet


async def album(n: int) -> MetaAlbum:
    doc = MetaAlbum(n=n)
    await doc.cover.put(b"c" * (n + 1), filename=f"cover{n}")
    await doc.raw.put(b"r", filename="raw")
    await doc.save()
    return doc


async def test_declared_fields_come_with_their_metadata_one_query_per_batch(lane):
    for n in range(40):  # more than one build chunk, one server batch
        await album(n)
    with query_counter() as counter:
        docs = [doc async for doc in MetaAlbum.objects.order_by("n")]
    assert counter.operations == ["find", "find"]  # the documents, then their covers
    assert [doc.cover.length for doc in docs] == [n + 1 for n in range(40)]
    assert getattr(docs[0].cover, "filename", None) == "cover0"
    with pytest.raises(FileMetadataNotLoaded):
        getattr(docs[0].raw, "length", 0)


async def test_batches_each_load_their_files_once(lane):
    for n in range(5):
        await album(n)
    with query_counter() as counter:
        docs = await MetaAlbum.objects.order_by("n").batch_size(2).to_list(None)
    batches = 1 + counter.operations.count("getMore")  # the in-memory driver ignores batch_size
    assert counter.operations.count("find") == 1 + batches  # the query, then one per batch
    assert [doc.cover.length for doc in docs] == [1, 2, 3, 4, 5]


async def test_get_first_and_indexing_load_them_too(lane):
    stored_album = await album(3)
    for read in (
        MetaAlbum.objects.get(id=stored_album.id),
        MetaAlbum.objects.first(),
        MetaAlbum.objects.with_id(stored_album.id),
        MetaAlbum.objects[0],
    ):
        doc = await read
        assert doc.cover.length == 4 and doc.cover.filename == "cover3"


async def test_a_missing_file_reads_as_no_file(lane):
    doc = await album(1)
    await run_sync(lambda: GridFS("default", "covers").delete(doc.cover.grid_id))
    again = await MetaAlbum.objects.get(id=doc.id)
    assert getattr(again.cover, "length", None) is None  # as MongoEngine: get() gives None


async def test_as_pymongo_and_scalar_are_left_alone(lane):
    await album(2)
    with query_counter() as counter:
        rows = await MetaAlbum.objects.as_pymongo().to_list(None)
        covers = await MetaAlbum.objects.scalar("n").to_list(None)
    assert counter == 2 and isinstance(rows[0], dict) and covers == [2]


async def test_an_image_field_loads_its_metadata_too(lane):
    import io

    from PIL import Image

    from mongomotor.fields import ImageField

    class MetaPortrait(Document):
        image = ImageField(size=(20, 20, True), load_metadata=True)

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="PNG")
    buffer.seek(0)
    doc = MetaPortrait()
    await doc.image.put(buffer, filename="red.png")
    await doc.save()
    again = await MetaPortrait.objects.get(id=doc.id)
    assert again.image.filename == "red.png" and again.image.length > 0
    assert MetaPortrait.image.collection_name == "images"  # MongoEngine's default kept
