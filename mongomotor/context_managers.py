"""Context managers that affect only the task that enters them.

    async with switch_db(User, "archive"):
        await User(name="old").save()        # lands in the "archive" alias
"""

from mongomotor.odm.context_managers import (
    no_dereference,
    no_sub_classes,
    query_counter,
    set_read_write_concern,
    set_write_concern,
    switch_collection,
    switch_db,
)
from mongomotor.odm.no_dereference import no_dereferencing_active_for_class
from mongomotor.runtime.naming import publish

__all__ = [
    "switch_db",
    "switch_collection",
    "no_dereference",
    "no_sub_classes",
    "query_counter",
    "set_write_concern",
    "set_read_write_concern",
    "no_dereferencing_active_for_class",
]

publish(
    __name__,
    no_dereference, no_dereferencing_active_for_class, no_sub_classes, query_counter,
    switch_collection, switch_db,
)  # fmt: skip
