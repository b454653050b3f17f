"""Delete rules (CASCADE, NULLIFY, PULL, DENY) on ``await doc.delete()`` / ``await qs.delete()``."""

from __future__ import annotations

import pytest
from mongoengine.errors import OperationError

from mongomotor import Document
from mongomotor.fields import ListField, ReferenceField, StringField
from mongomotor.queryset import CASCADE, DENY, NULLIFY, PULL


class DrOwner(Document):
    name = StringField()


class DrCascadePet(Document):
    name = StringField()
    owner = ReferenceField(DrOwner, reverse_delete_rule=CASCADE)


class DrToy(Document):
    name = StringField()
    pet = ReferenceField(DrCascadePet, reverse_delete_rule=CASCADE)


class DrNullifyCar(Document):
    name = StringField()
    owner = ReferenceField(DrOwner, reverse_delete_rule=NULLIFY)


class DrClub(Document):
    name = StringField()
    members = ListField(ReferenceField(DrOwner, reverse_delete_rule=PULL))


class DrGuarded(Document):
    name = StringField()


class DrGuard(Document):
    guarded = ReferenceField(DrGuarded, reverse_delete_rule=DENY)


class DrAuthor(Document):
    name = StringField()


class DrBook(Document):
    title = StringField()
    authors = ListField(ReferenceField(DrAuthor))


# registered after the fact, as MongoEngine allows for bi-directional rules
DrAuthor.register_delete_rule(DrBook, "authors", CASCADE)


@pytest.mark.requires("reference_queries")  # the rules query by reference
async def test_cascade_chain_on_document_delete(lane):
    ann = await DrOwner(name="ann").save()
    rex = await DrCascadePet(name="rex", owner=ann).save()
    await DrToy(name="ball", pet=rex).save()
    other = await DrCascadePet(name="kit", owner=await DrOwner(name="bob").save()).save()
    await DrToy(name="mouse", pet=other).save()

    await ann.delete()

    assert [p.name for p in await DrCascadePet.objects.to_list(None)] == ["kit"]
    assert [t.name for t in await DrToy.objects.to_list(None)] == ["mouse"]


@pytest.mark.requires("reference_queries")  # the rules query by reference
async def test_cascade_on_queryset_delete(lane):
    ann = await DrOwner(name="ann").save()
    bob = await DrOwner(name="bob").save()
    await DrCascadePet(name="rex", owner=ann).save()
    await DrCascadePet(name="kit", owner=bob).save()
    assert await DrOwner.objects(name="ann").delete() == 1
    assert [p.name for p in await DrCascadePet.objects.to_list(None)] == ["kit"]


async def test_nullify(lane):
    ann = await DrOwner(name="ann").save()
    await DrNullifyCar(name="vw", owner=ann).save()
    await ann.delete()
    car = await DrNullifyCar.objects.get(name="vw")
    assert await car.owner is None


@pytest.mark.requires("reference_queries")  # the rules query by reference
async def test_pull_from_list_of_references(lane):
    ann = await DrOwner(name="ann").save()
    bob = await DrOwner(name="bob").save()
    await DrClub(name="chess", members=[ann, bob]).save()
    await ann.delete()
    club = await DrClub.objects.get(name="chess")
    assert [m.name for m in await club.members] == ["bob"]


@pytest.mark.requires("reference_queries")  # the rules query by reference
async def test_deny_raises_and_deletes_nothing(lane):
    vault = await DrGuarded(name="vault").save()
    await DrGuard(guarded=vault).save()
    with pytest.raises(OperationError, match="DrGuard"):
        await vault.delete()
    with pytest.raises(OperationError):
        await DrGuarded.objects.delete()
    assert await DrGuarded.objects.count() == 1
    assert await DrGuard.objects.count() == 1


@pytest.mark.requires("reference_queries")  # the rules query by reference
async def test_registered_rule_on_a_list_field(lane):
    ann = await DrAuthor(name="ann").save()
    bob = await DrAuthor(name="bob").save()
    await DrBook(title="a", authors=[ann]).save()
    await DrBook(title="b", authors=[bob]).save()
    await ann.delete()
    assert [b.title for b in await DrBook.objects.to_list(None)] == ["b"]
