"""MongoEngine's counter field, whose next value needs the database.

    number = SequenceField()      # set on `await doc.save()`
"""

from __future__ import annotations

from typing import Any

from mongoengine import fields as me_fields

from mongomotor.runtime.bridge import awaitable_method, in_bridge

__all__ = ["SequenceField"]


class SequenceField(me_fields.SequenceField):
    """MongoEngine's counter field; the next value is taken when the document is saved.

        doc = await Ticket(title="x").save()
        doc.number  # 1, 2, ... (reading it before the save raises and says so)

    ``set_next_value`` and ``get_next_value`` are awaitable in user code.
    """

    def generate(self) -> Any:
        if not in_bridge():
            # MongoEngine generates on first read (or to_mongo) of an unset
            # value: that is a database round trip, which user code must await.
            owner = getattr(self.owner_document, "__name__", "the document")
            raise RuntimeError(
                f"{owner}.{self.name} has no value yet and taking the next one needs "
                f"the database: `await doc.save()` first (the value is set on save), "
                f"or set it yourself"
            )
        return super().generate()

    set_next_value = awaitable_method(me_fields.SequenceField.set_next_value)
    get_next_value = awaitable_method(me_fields.SequenceField.get_next_value)
