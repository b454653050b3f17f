"""Rules for attributes, subscripts and comparisons: references are loaded before their
attributes are read, ``qs[i]`` is awaited, ``ref is None`` becomes a truth test.

    post.author.name  ->  (await post.author).name        Post.objects[0]  ->  await Post.objects[0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mongomotor.port import build, knowledge
from mongomotor.port.kinds import QS, File, Ref, RefList
from mongomotor.port.report import REVIEW, REWRITTEN

if TYPE_CHECKING:
    from mongomotor.port.rewrite import ModuleRewriter


def attribute(
    rw: ModuleRewriter, original: cst.Attribute, updated: cst.Attribute
) -> cst.BaseExpression:
    value_kind = rw.kind(original.value)
    attribute = original.attr.value
    if attribute == "objects" and value_kind is None and isinstance(original.value, cst.Name):
        name = original.value.value
        rw.note(
            original,
            "unknown",
            REVIEW,
            f"cannot tell what {name} is: if it is a document class, annotate it "
            f"({name}: type[Document]) and run the tool again",
        )
    if (
        isinstance(value_kind, Ref)
        and attribute not in knowledge.REFERENCE_FREE_ATTRIBUTES
        and not rw.is_awaited(original.value)
        and rw.can_await(original, "reference", f"reading .{attribute} of a reference")
    ):
        rw.note(
            original,
            "reference",
            REWRITTEN,
            f"reading .{attribute} of a reference loads it: (await ...).{attribute}",
        )
        updated = updated.with_changes(value=build.awaited(updated.value))
    if (
        isinstance(value_kind, File)
        and attribute not in knowledge.FILE_FREE_ATTRIBUTES
        and attribute not in knowledge.FILE_IO
        and not (value_kind.image and attribute in knowledge.IMAGE_IO_PROPERTIES)
        and rw.functions
    ):
        rw.note(
            original,
            "file",
            REVIEW,
            f"reading .{attribute} of a file reads GridFS in MongoEngine: "
            f"read the stored file first (gridout = await doc.field.get(); gridout.{attribute})",
        )
    if (
        isinstance(value_kind, File)
        and value_kind.image
        and attribute in knowledge.IMAGE_IO_PROPERTIES
        and not rw.is_awaited(original)
        and rw.can_await(original, "file", f"image .{attribute}")
    ):
        rw.note(original, "file", REWRITTEN, f"an image's .{attribute} reads GridFS: await")
        return build.awaited(updated.with_changes(value=build.parenthesized(updated.value)))
    return updated.with_changes(value=build.parenthesized(updated.value))


def subscript(
    rw: ModuleRewriter, original: cst.Subscript, updated: cst.Subscript
) -> cst.BaseExpression:
    value_kind = rw.kind(original.value)
    is_slice = any(isinstance(s.slice, cst.Slice) for s in original.slice)
    if isinstance(value_kind, RefList) and not rw.is_awaited(original.value):
        if rw.can_await(original, "reference", "indexing a list of references"):
            rw.note(
                original,
                "reference",
                REWRITTEN,
                "indexing a list of references: (await ...)[i]",
            )
            updated = updated.with_changes(value=build.awaited(updated.value))
    updated = updated.with_changes(value=build.parenthesized(updated.value))
    if isinstance(value_kind, QS) and not is_slice and not rw.is_awaited(original):
        if rw.can_await(original, "await", "qs[i] (a query)"):
            rw.note(original, "await", REWRITTEN, "qs[i] runs a query: await")
            return build.awaited(updated)
    return updated


def comparison(
    rw: ModuleRewriter, original: cst.Comparison, updated: cst.Comparison
) -> cst.BaseExpression:
    if len(original.comparisons) != 1:
        return updated
    target = original.comparisons[0]
    left_kind = rw.kind(original.left)
    if (
        isinstance(target.operator, (cst.Is, cst.IsNot))
        and isinstance(target.comparator, cst.Name)
        and target.comparator.value == "None"
        and isinstance(left_kind, Ref)
    ):
        rw.note(
            original,
            "reference",
            REWRITTEN,
            "an empty reference is a falsy placeholder, never None: test its truth",
        )
        if isinstance(target.operator, cst.Is):
            return cst.UnaryOperation(
                operator=cst.Not(),
                expression=updated.left,
                lpar=updated.lpar,
                rpar=updated.rpar,
            )
        return cst.Call(
            func=cst.Name("bool"),
            args=[cst.Arg(updated.left)],
            lpar=updated.lpar,
            rpar=updated.rpar,
        )
    if isinstance(target.operator, (cst.In, cst.NotIn)) and isinstance(
        rw.kind(target.comparator), QS
    ):
        if rw.can_await(original, "iterate", "`in` on a QuerySet"):
            rw.note(
                original,
                "iterate",
                REWRITTEN,
                "`x in qs` reads the QuerySet: x in await qs.to_list(None)",
            )
            new_target = updated.comparisons[0].with_changes(
                comparator=build.to_list_all(updated.comparisons[0].comparator)
            )
            return updated.with_changes(comparisons=[new_target])
    return updated


def unary(
    rw: ModuleRewriter, original: cst.UnaryOperation, updated: cst.UnaryOperation
) -> cst.BaseExpression:
    if isinstance(original.operator, cst.Not) and isinstance(rw.kind(original.expression), QS):
        if rw.can_await(original, "truth", "a QuerySet's truth value (I/O)"):
            rw.note(
                original,
                "truth",
                REWRITTEN,
                "`not qs` asks the server: `(await qs.first()) is None`",
            )
            first = build.awaited(build.method_call(updated.expression, "first"))
            return build.is_none(first, negate=False)
    return updated
