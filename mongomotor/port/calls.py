"""Rules for calls: I/O methods get ``await``, builtins that read a QuerySet get its
awaitable form, and calls to functions that became async are awaited in turn.

    list(qs)  ->  await qs.to_list(None)        len(qs)   ->  await qs.count()
    qs.count() -> await qs.count(with_limit_and_skip=False)   (MongoEngine's meaning)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mongomotor.port import build, knowledge
from mongomotor.port.kinds import QS, Cursor, DocClass, File, LazyRef, RefList, document_of
from mongomotor.port.project import FunctionInfo, dotted
from mongomotor.port.report import REVIEW, REWRITTEN

if TYPE_CHECKING:
    from mongomotor.port.rewrite import ModuleRewriter

BUILTINS = frozenset({"list", "len", "bool"}) | knowledge.ITERATING_BUILTINS
# Method names every builtin container has: a project method of that name is no evidence.
CONTAINER_METHODS = frozenset(
    name for kind in (dict, list, str, set, bytes) for name in dir(kind)
) | {"get", "post", "put", "patch", "delete", "run", "close", "read", "write", "send"}


def rewrite_call(rw: ModuleRewriter, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
    _check_function_values(rw, original)
    _check_escaping_querysets(rw, original)
    if rw.is_awaited(original):
        return updated
    func = original.func
    if isinstance(func, cst.Name) and func.value in BUILTINS and _is_builtin(rw, func.value):
        return _builtin(rw, func.value, original, updated)
    callee = rw.inference.callee(original, rw.scope)
    if callee is not None:
        rw.referenced.add(callee.qualname)
    if callee is not None and not (isinstance(func, cst.Attribute) and overrides_io(rw, callee)):
        return _project_call(rw, callee, original, updated)
    if isinstance(func, cst.Attribute):
        return _method_call(rw, func, original, updated)
    if _is_disconnect(rw, func):
        if rw.can_await(original, "await", "disconnect()"):
            rw.note(
                original,
                "await",
                REWRITTEN,
                "mongomotor's disconnect() returns an awaitable: await",
            )
            return build.awaited(updated)
    return updated


def _is_builtin(rw: ModuleRewriter, name: str) -> bool:
    found, _ = rw.scope.lookup(name)
    return not found and rw.project.resolve(rw.module.name, name) == name


def _project_call(
    rw: ModuleRewriter, callee: FunctionInfo, original: cst.Call, updated: cst.Call
) -> cst.BaseExpression:
    if callee.qualname not in rw.inference.state.async_functions or callee.is_generator:
        return updated
    if not rw.functions and rw.main_guard:
        rw.note(
            original, "await", REWRITTEN, f"{callee.name}() is async now: asyncio.run() runs it"
        )
        rw.needs_asyncio = True
        return cst.Call(
            func=cst.Attribute(cst.Name("asyncio"), cst.Name("run")), args=[cst.Arg(updated)]
        )
    if rw.can_await(original, "await", f"{callee.name}() (async now)"):
        rw.note(original, "await", REWRITTEN, f"{callee.name}() is async now: await")
        return build.awaited(updated)
    return updated


def _io_description(receiver: object, method: str) -> str | None:
    if isinstance(receiver, QS) and method in knowledge.QUERYSET_IO:
        return f"QuerySet.{method}()"
    if document_of(receiver) and method in knowledge.DOCUMENT_IO:
        return f"document.{method}()"
    if isinstance(receiver, DocClass) and method in knowledge.CLASS_IO:
        return f"Document.{method}()"
    if isinstance(receiver, File) and method in knowledge.FILE_IO:
        return f"file.{method}() (GridFS)"
    if isinstance(receiver, LazyRef) and method == "fetch":
        return "lazy reference .fetch()"
    if isinstance(receiver, Cursor) and method in ("to_list", "next"):
        return f"cursor.{method}()"
    return None


def _method_call(
    rw: ModuleRewriter, func: cst.Attribute, original: cst.Call, updated: cst.Call
) -> cst.BaseExpression:
    method = func.attr.value
    receiver = rw.kind(func.value)
    if _returns_super_io(rw, func, original):
        return updated
    if isinstance(receiver, QS) and method == "next":
        rw.note(
            original,
            "iterate",
            REVIEW,
            "QuerySet.next() steps a sync iteration, which mongomotor has not: "
            "use await qs.first() (None when empty) or async for",
        )
        return updated
    what = _io_description(receiver, method)
    if what is None:
        if _is_disconnect(rw, func):
            what = f"{method}()"
        elif receiver is None and not _is_module(rw, func.value):
            _review_unknown_receiver(rw, method, original)
            return updated
        else:
            return updated
    if not rw.can_await(original, "await", what):
        return updated
    if isinstance(receiver, QS) and method == "count" and not original.args:
        if receiver.bounded is not False:
            rw.note(
                original,
                "count",
                REWRITTEN,
                "count() ignores skip/limit in MongoEngine: with_limit_and_skip=False keeps that",
            )
            updated = updated.with_changes(args=[build.keyword("with_limit_and_skip", "False")])
    rw.note(original, "await", REWRITTEN, f"{what} is I/O: await")
    return build.awaited(updated)


IO_METHODS = knowledge.DOCUMENT_IO | knowledge.CLASS_IO


def overrides_io(rw: ModuleRewriter, function: FunctionInfo) -> bool:
    """A document class's own save(), delete()... (its callers await it as the original)."""
    owner = rw.project.classes.get(function.owner or "")
    return owner is not None and owner.kind == "document" and function.name in IO_METHODS


def _returns_super_io(rw: ModuleRewriter, func: cst.Attribute, original: cst.Call) -> bool:
    """``return super().save(...)`` in an override of save(): the override stays sync and
    hands back mongomotor's awaitable, which works from user code and inside the bridge."""
    if not (rw.functions and _is_super(func.value) and id(original) in rw.returned):
        return False
    function = rw.functions[-1].info
    return function.name == func.attr.value and overrides_io(rw, function)


def _is_super(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and dotted(node.func) == "super"


def _review_unknown_receiver(rw: ModuleRewriter, method: str, original: cst.Call) -> None:
    if not rw.functions or _reads_objects(original.func):
        return
    async_methods = [
        f
        for f in rw.project.methods_named(method)
        if f.qualname in rw.inference.state.async_functions and method not in CONTAINER_METHODS
    ]
    if async_methods:
        rw.note(
            original,
            "unknown",
            REVIEW,
            f"untyped receiver of .{method}(); {async_methods[0].qualname} is async now: "
            "await it if that is the one",
        )
    elif method in knowledge.DISTINCTIVE_IO and (method != "first" or not original.args):
        rw.note(
            original,
            "unknown",
            REVIEW,
            f"untyped receiver of .{method}(): await it if it is a document or QuerySet",
        )


def _reads_objects(node: cst.BaseExpression) -> bool:
    """True for a chain that starts from ``X.objects`` (already reported once)."""
    while isinstance(node, (cst.Call, cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value == "objects":
            return True
        node = node.func if isinstance(node, cst.Call) else node.value
    return False


def _is_module(rw: ModuleRewriter, node: cst.BaseExpression) -> bool:
    name = dotted(node)
    if not name:
        return False
    found, _ = rw.scope.lookup(name.split(".")[0])
    target = rw.project.resolve(rw.module.name, name)
    return not found and (
        target in rw.project.modules
        or "." not in target
        and name.split(".")[0] in rw.module.imports
    )


CONNECTION_MODULES = frozenset(
    {"mongoengine", "mongoengine.connection", "mongomotor", "mongomotor.connection"}
)


def _is_disconnect(rw: ModuleRewriter, func: cst.BaseExpression) -> bool:
    name = dotted(func)
    if not name or name.split(".")[-1] not in knowledge.CONNECTION_IO:
        return False
    owner, _, _ = rw.project.resolve(rw.module.name, name).rpartition(".")
    return owner in CONNECTION_MODULES


def _builtin(
    rw: ModuleRewriter, name: str, original: cst.Call, updated: cst.Call
) -> cst.BaseExpression:
    args = list(updated.args)
    if not args:
        return updated
    first_kind = rw.kind(original.args[0].value)
    first = args[0].value
    if name == "list" and len(args) == 1:
        if isinstance(first_kind, (QS, Cursor)) and rw.can_await(original, "list", "list(qs)"):
            rw.note(
                original, "list", REWRITTEN, "list(qs) reads every document: await qs.to_list(None)"
            )
            return build.to_list_all(first)
        if isinstance(first_kind, RefList) and rw.can_await(
            original, "reference", "list() of references"
        ):
            rw.note(
                original, "reference", REWRITTEN, "a list of references is loaded by awaiting it"
            )
            return build.awaited(first)
        if _is_async_generator_call(rw, original.args[0].value) and rw.can_await(
            original, "list", "list() of an async generator"
        ):
            rw.note(
                original,
                "list",
                REWRITTEN,
                "list() of an async generator: a list comprehension with async for",
            )
            return build.collect_async(first)
    if name == "len" and isinstance(first_kind, QS) and rw.can_await(original, "len", "len(qs)"):
        rw.note(
            original,
            "len",
            REWRITTEN,
            "len(qs) counts the results (skip/limit included): await qs.count()",
        )
        return build.awaited(build.method_call(first, "count"))
    if (
        name == "bool"
        and isinstance(first_kind, QS)
        and rw.can_await(original, "truth", "bool(qs)")
    ):
        rw.note(
            original, "truth", REWRITTEN, "bool(qs) asks the server: (await qs.first()) is not None"
        )
        return build.is_none(build.awaited(build.method_call(first, "first")), negate=True)
    if name not in knowledge.ITERATING_BUILTINS and name != "list":
        return updated
    changed = False
    for index, (before, arg) in enumerate(zip(original.args, args)):
        if arg.keyword is not None or arg.star:
            continue
        kind = rw.kind(before.value)
        if isinstance(kind, (QS, Cursor)) and rw.can_await(original, "iterate", f"{name}(qs)"):
            rw.note(
                original,
                "iterate",
                REWRITTEN,
                f"{name}() iterates the QuerySet: pass await qs.to_list(None)",
            )
            args[index] = arg.with_changes(value=build.to_list_all(arg.value))
            changed = True
        elif isinstance(kind, RefList) and rw.can_await(
            original, "reference", f"{name}() of references"
        ):
            rw.note(
                original,
                "reference",
                REWRITTEN,
                f"{name}() iterates a list of references: await it first",
            )
            args[index] = arg.with_changes(value=build.awaited(arg.value))
            changed = True
        elif isinstance(arg.value, cst.GeneratorExp) and id(arg.value) in rw.async_generators:
            del rw.async_generators[id(arg.value)]
            rw.note(
                original,
                "async-for",
                REWRITTEN,
                f"{name}() of a generator over a QuerySet: an async list comprehension",
            )
            args[index] = arg.with_changes(value=build.async_list_comprehension(arg.value))
            changed = True
    return updated.with_changes(args=args) if changed else updated


HARMLESS_CALLEES = frozenset(
    {"isinstance", "issubclass", "type", "id", "repr", "getattr", "hasattr"}
)


def _check_escaping_querysets(rw: ModuleRewriter, original: cst.Call) -> None:
    """A QuerySet handed to code the tool cannot see may be iterated there (TypeError)."""
    func = original.func
    name = dotted(func) or "a call"
    if name.split(".")[-1] in BUILTINS | HARMLESS_CALLEES or not rw.functions:
        return
    callee = rw.inference.callee(original, rw.scope)
    if callee is not None:
        _check_untyped_parameters(rw, original, callee)
        return
    target = rw.kind(func.value) if isinstance(func, cst.Attribute) else rw.kind(func)
    if target is not None:  # a document, QuerySet or class of the project: it knows QuerySets
        return
    for arg in original.args:
        values = [arg.value]
        if isinstance(arg.value, (cst.List, cst.Tuple, cst.Set)):
            values = [e.value for e in arg.value.elements]
        elif isinstance(arg.value, cst.Dict):
            values = [e.value for e in arg.value.elements if isinstance(e, cst.DictElement)]
        if any(isinstance(rw.kind(value), QS) for value in values):
            rw.note(
                original,
                "escape",
                REVIEW,
                f"a QuerySet is handed to {name}(): if that code iterates it, "
                "pass await qs.to_list(None)",
            )
            return


def _check_untyped_parameters(rw: ModuleRewriter, original: cst.Call, callee: FunctionInfo) -> None:
    """A QuerySet given to a project function whose parameter says nothing of it."""
    params = callee.node.params
    positional = [*params.posonly_params, *params.params]
    if callee.flavour in ("method", "classmethod") and isinstance(original.func, cst.Attribute):
        positional = positional[1:]
    by_name = {p.name.value: p for p in [*positional, *params.kwonly_params]}
    for index, arg in enumerate(original.args):
        if arg.star or not isinstance(rw.kind(arg.value), QS):
            continue
        if arg.keyword is not None:
            param = by_name.get(arg.keyword.value)
        else:
            param = positional[index] if index < len(positional) else None
        if param is not None and param.annotation is None:
            rw.note(
                original,
                "escape",
                REVIEW,
                f"a QuerySet is given to {callee.name}({param.name.value}=...), which has no "
                f"annotation: annotate it ({param.name.value}: QuerySet[...]) and run again",
            )


def _is_async_generator_call(rw: ModuleRewriter, node: cst.BaseExpression) -> bool:
    if not isinstance(node, cst.Call):
        return False
    callee = rw.inference.callee(node, rw.scope)
    return bool(
        callee and callee.is_generator and callee.qualname in rw.inference.state.async_functions
    )


def _check_function_values(rw: ModuleRewriter, original: cst.Call) -> None:
    """An async function passed as a value (a callback) must be awaited by its caller."""
    connector = isinstance(original.func, cst.Attribute) and original.func.attr.value in (
        "connect",
        "connect_via",
        "connected_to",
        "disconnect",
    )
    for arg in original.args:
        if not isinstance(arg.value, cst.Name):
            continue
        name = arg.value.value
        found, _ = rw.scope.lookup(name)
        qualname = rw.scope.local_function(name) or (
            None if found else rw.project.resolve(rw.module.name, name)
        )
        function = rw.project.functions.get(qualname or "")
        if function:
            rw.referenced.add(function.qualname)
        if (
            not connector
            and function
            and function.qualname in rw.inference.state.async_functions
            and not function.is_async
        ):
            rw.note(
                original,
                "callback",
                REVIEW,
                f"{name} is async now and is passed as a value: whoever calls it must await it",
            )
