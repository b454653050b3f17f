"""What the stubs declare beyond MongoEngine's plain values runs as declared, on every lane.

tests/typing/check_parity.py has the same code checked by mypy and pyright; here it runs.
"""

from __future__ import annotations

import pytest

from mongomotor import Document, EmbeddedDocument
from mongomotor.fields import (
    AwaitableContainer,
    EmbeddedDocumentList,
    EmbeddedDocumentListField,
    FileField,
    GenericReferenceField,
    LazyReferenceField,
    ListField,
    ReferenceField,
    StringField,
)
from mongomotor.odm.files.gridfs import GridOut


class SurfaceNote(EmbeddedDocument):
    who = StringField(required=True)
    text = StringField()


class SurfacePlayer(Document):
    name = StringField(required=True)


class SurfaceTeam(Document):
    name = StringField()
    members = ListField(GenericReferenceField())
    squad = ListField(ReferenceField("SurfacePlayer"))
    # Annotated as the typing guide shows for references by class name.
    coach: ReferenceField[SurfacePlayer | None] = ReferenceField("SurfacePlayer")
    bench: ListField[AwaitableContainer[SurfacePlayer]] = ListField(ReferenceField("SurfacePlayer"))
    star = LazyReferenceField(SurfacePlayer)
    rival = LazyReferenceField("SurfacePlayer")
    notes = EmbeddedDocumentListField(SurfaceNote)
    logo = FileField()


@pytest.mark.requires("dbref")
async def test_a_list_of_generic_references_awaits_to_a_list(lane):
    ann = await SurfacePlayer(name="Ann").save()
    team = await SurfaceTeam(members=[ann]).save()
    team = await SurfaceTeam.objects.get(pk=team.pk)
    members = await team.members
    assert isinstance(members, list) and [m.name for m in members] == ["Ann"]


async def test_an_embedded_document_list_filters_and_saves_its_parent(lane):
    notes = [SurfaceNote(who="ann"), SurfaceNote(who="bob")]
    team = await SurfaceTeam(name="t", notes=notes).save()
    team = await SurfaceTeam.objects.get(pk=team.pk)
    found = team.notes.filter(who="ann")
    assert isinstance(team.notes, EmbeddedDocumentList) and isinstance(found, EmbeddedDocumentList)
    assert [n.who for n in found] == ["ann"] and team.notes.exclude(who="ann").count() == 1
    assert team.notes.get(who="bob").who == "bob" and team.notes.first().who == "ann"
    team.notes.create(who="cy")
    assert team.notes.update(text="hi") == 3
    assert await team.notes.save() is team
    stored = await SurfaceTeam.objects.get(pk=team.pk)
    assert [(n.who, n.text) for n in stored.notes] == [("ann", "hi"), ("bob", "hi"), ("cy", "hi")]


async def test_field_attributes_the_stubs_declare(lane):
    assert isinstance(SurfaceTeam.squad.field, ReferenceField)
    assert SurfaceTeam.star.document_type is SurfacePlayer
    assert SurfaceTeam.rival.document_type is SurfacePlayer  # by class name too
    assert SurfaceTeam._fields_ordered[0] == "id" and "notes" in SurfaceTeam._fields_ordered
    ann = await SurfacePlayer(name="Ann").save()
    team = await SurfaceTeam(squad=[ann], coach=ann, bench=[ann]).save()
    team = await SurfaceTeam.objects.get(pk=team.pk)
    assert [p.name for p in await team.squad] == ["Ann"]  # a reference by class name
    assert (await team.coach).name == "Ann" and [p.name for p in await team.bench] == ["Ann"]


async def test_a_file_proxy_gridout_is_the_stored_file_once_got(lane):
    team = SurfaceTeam(name="t")
    await team.logo.put(b"png", filename="logo.png")
    await team.save()
    team = await SurfaceTeam.objects.get(pk=team.pk)
    gridout = await team.logo.get()
    assert isinstance(gridout, GridOut) and team.logo.gridout is gridout
    assert gridout.filename == "logo.png"
