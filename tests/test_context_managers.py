"""Context managers affect only the task that entered them (and the tasks it starts)."""

from __future__ import annotations

import asyncio

from mongomotor import Document, run_sync
from mongomotor.context_managers import (
    no_dereference,
    no_dereferencing_active_for_class,
    no_sub_classes,
    query_counter,
    switch_collection,
    switch_db,
)
from mongomotor.fields import IntField, ReferenceField, StringField


class CmUser(Document):
    name = StringField(required=True)
    n = IntField()


class CmAnimal(Document):
    name = StringField()
    meta = {"allow_inheritance": True}


class CmDog(CmAnimal):
    pass


class CmOwner(Document):
    name = StringField()


class CmPet(Document):
    name = StringField()
    owner = ReferenceField(CmOwner)


async def names_in(lane, alias):
    async with switch_db(CmUser, alias):
        return sorted(u.name for u in await CmUser.objects.to_list(None))


async def test_switch_db_is_task_local_under_200_concurrent_tasks(lane):
    lane.connect("archive")

    async def one(i):
        if i % 2:
            async with switch_db(CmUser, "archive") as User:
                user = await User(name=f"archive-{i}", n=i).save()
                await asyncio.sleep(0)
                again = await User.objects.get(id=user.id)
        else:
            user = await CmUser(name=f"default-{i}", n=i).save()
            await asyncio.sleep(0)
            again = await CmUser.objects.get(id=user.id)
        assert again.name == user.name

    await asyncio.gather(*(one(i) for i in range(200)))

    defaults = sorted(u.name for u in await CmUser.objects.to_list(None))
    archived = await names_in(lane, "archive")
    assert defaults == sorted(f"default-{i}" for i in range(0, 200, 2))
    assert archived == sorted(f"archive-{i}" for i in range(1, 200, 2))


async def test_switch_db_as_plain_with_and_restored_after(lane):
    lane.connect("archive")
    with switch_db(CmUser, "archive"):
        await CmUser(name="old").save()
    await CmUser(name="new").save()
    assert await names_in(lane, "archive") == ["old"]
    assert [u.name for u in await CmUser.objects.to_list(None)] == ["new"]


async def test_switch_db_reaches_tasks_started_inside(lane):
    lane.connect("archive")
    async with switch_db(CmUser, "archive"):
        await asyncio.create_task(CmUser(name="child").save())
    assert await names_in(lane, "archive") == ["child"]
    assert await CmUser.objects.count() == 0


async def test_switch_collection_does_not_leak_into_a_concurrent_task(lane):
    inside = asyncio.Event()
    other_done = asyncio.Event()

    async def switched():
        async with switch_collection(CmUser, "cm_user_2020"):
            inside.set()
            await other_done.wait()
            await CmUser(name="in-2020").save()
            return [u.name for u in await CmUser.objects.to_list(None)]

    async def plain():
        await inside.wait()
        await CmUser(name="current").save()
        other_done.set()
        return [u.name for u in await CmUser.objects.to_list(None)]

    in_2020, current = await asyncio.gather(switched(), plain())
    assert in_2020 == ["in-2020"]
    assert current == ["current"]
    async with switch_collection(CmUser, "cm_user_2020"):
        assert await CmUser.objects.count() == 1


async def test_no_sub_classes_does_not_leak_into_a_concurrent_task(lane):
    await CmAnimal(name="generic").save()
    await CmDog(name="rex").save()
    inside = asyncio.Event()
    other_done = asyncio.Event()

    async def restricted():
        async with no_sub_classes(CmAnimal) as Animal:
            inside.set()
            await other_done.wait()
            return sorted(a.name for a in await Animal.objects.to_list(None))

    async def everything():
        await inside.wait()
        names = sorted(a.name for a in await CmAnimal.objects.to_list(None))
        other_done.set()
        return names

    only_animals, all_animals = await asyncio.gather(restricted(), everything())
    assert only_animals == ["generic"]
    assert all_animals == ["generic", "rex"]
    assert await CmAnimal.objects.count() == 2


async def test_no_dereference_is_task_local(lane):
    owner = await CmOwner(name="ann").save()
    await CmPet(name="tom", owner=owner).save()
    inside = asyncio.Event()
    other_done = asyncio.Event()

    def owner_of_first_pet():
        return CmPet.objects.first().owner  # in the bridge: MongoEngine's own access

    async def without():
        async with no_dereference(CmPet):
            assert no_dereferencing_active_for_class(CmPet)
            inside.set()
            await other_done.wait()
            return await run_sync(owner_of_first_pet)

    async def with_():
        await inside.wait()
        assert not no_dereferencing_active_for_class(CmPet)
        value = await run_sync(owner_of_first_pet)
        other_done.set()
        return value

    raw, loaded = await asyncio.gather(without(), with_())
    assert not isinstance(raw, CmOwner)
    assert getattr(raw, "id", raw) == owner.id
    assert isinstance(loaded, CmOwner) and loaded.name == "ann"
    assert not no_dereferencing_active_for_class(CmPet)


async def test_document_switch_db_and_switch_collection_methods(lane):
    lane.connect("archive")
    user = await CmUser(name="moved").save()
    user.switch_db("archive", keep_created=False)
    await user.save()
    user = await CmUser.objects.get(name="moved")
    user.switch_collection("cm_user_old", keep_created=False)
    await user.save()
    assert await names_in(lane, "archive") == ["moved"]
    async with switch_collection(CmUser, "cm_user_old"):
        assert [u.name for u in await CmUser.objects.to_list(None)] == ["moved"]
    assert await CmUser.objects.count() == 1


async def test_query_counter_counts_only_its_own_task(lane):
    started = asyncio.Event()
    counted = asyncio.Event()

    async def counting():
        async with query_counter() as q:
            started.set()
            await CmUser(name="a").save()
            await counted.wait()
            return int(q)

    async def noisy():
        await started.wait()
        for i in range(5):
            await CmUser(name=f"n{i}").save()
        counted.set()

    mine, _ = await asyncio.gather(counting(), noisy())
    assert mine == 1
