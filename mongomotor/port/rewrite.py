"""The rewrite of one module: ``await`` where a call does I/O, ``async for`` over
QuerySets, ``async def`` for functions that now await, findings for everything else.

    rewriter = ModuleRewriter(project, inference, module_info)
    new_tree = wrapper.visit(rewriter)      # rewriter.findings, rewriter.needs_async
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import PositionProvider

from mongomotor.port import build, calls, expressions, knowledge
from mongomotor.port.infer import Inference, Scope
from mongomotor.port.kinds import (
    QS,
    Cursor,
    Doc,
    DocClass,
    ListOf,
    Ref,
    RefList,
    iterated_item,
)
from mongomotor.port.project import FunctionInfo, ModuleInfo, Project, dotted
from mongomotor.port.report import REVIEW, REWRITTEN, Finding
from mongomotor.port.reuse import names_to_read_once

SAFE_DECORATORS = frozenset({"staticmethod", "classmethod", "wraps", "functools.wraps"})
NOT_ASYNC_DECORATORS = frozenset({"contextmanager", "contextlib.contextmanager"})
LOOP_RUNNERS = frozenset(
    {
        "run",
        "create_task",
        "gather",
        "ensure_future",
        "run_until_complete",
        "wait_for",
        "shield",
    }
)
SIGNAL_CONNECTORS = frozenset({"connect", "connect_via", "connected_to"})


@dataclass
class FunctionContext:
    info: FunctionInfo
    scope: Scope
    blocked: str | None  # why this function cannot become async, or None
    read_once: set[str] = field(default_factory=set)  # QuerySet names read more than once


@dataclass
class ModuleRewriter(cst.CSTTransformer):
    project: Project
    inference: Inference
    module: ModuleInfo
    findings: list[Finding] = field(default_factory=list)
    needs_async: set[str] = field(default_factory=set)
    returns: dict[str, object] = field(default_factory=dict)
    needs_asyncio: bool = False
    needs_coroutine_types: bool = False
    referenced: set[str] = field(default_factory=set)  # project functions called or passed
    made_async: list[tuple[str, int]] = field(default_factory=list)  # (qualname, line)

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __post_init__(self) -> None:
        super().__init__()
        self.module_scope = Scope(self.module.name)
        self.functions: list[FunctionContext] = []
        self.containers: list[str] = []  # qualnames of the enclosing classes and functions
        self.async_generators: dict[int, cst.GeneratorExp] = {}
        self.awaited: set[int] = set()
        self.returned: set[int] = set()
        self.main_guard = 0
        self.lambda_depth = 0

    # -- context ------------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        return self.functions[-1].scope if self.functions else self.module_scope

    def note(self, node: cst.CSTNode, rule: str, action: str, message: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.findings.append(Finding(self.module.path, line, rule, action, message))

    def can_await(self, node: cst.CSTNode, rule: str, what: str) -> bool:
        """True if ``what`` can be awaited here; otherwise the site is reported."""
        if self.lambda_depth:
            self.note(node, rule, REVIEW, f"{what} inside a lambda: make the lambda an async def")
            return False
        if not self.functions:
            self.note(
                node,
                rule,
                REVIEW,
                f"{what} at module or class level: move it into an async function",
            )
            return False
        context = self.functions[-1]
        if context.blocked:
            self.note(
                node, rule, REVIEW, f"{what} in {context.info.name}(), which {context.blocked}"
            )
            return False
        self.needs_async.add(context.info.qualname)
        return True

    def is_awaited(self, node: cst.CSTNode) -> bool:
        return id(node) in self.awaited

    def kind(self, node: cst.BaseExpression) -> object:
        return self.inference.kind_of(node, self.scope)

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.returned.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        # A coroutine handed to the event loop (asyncio.run(main())) is awaited there.
        name = dotted(node.func) or ""
        if name.split(".")[-1] in LOOP_RUNNERS and (name.startswith("asyncio.") or "." in name):
            self.awaited.update(id(arg.value) for arg in node.args)

    # -- classes and functions ----------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.containers.append(self._qualname(node.name.value))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.containers.pop()
        return updated

    def _qualname(self, name: str) -> str:
        if not self.containers:
            return f"{self.module.name}.{name}"
        parent = self.containers[-1]
        if self.functions and parent == self.functions[-1].info.qualname:
            return f"{parent}.<locals>.{name}"
        return f"{parent}.{name}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualname = self._qualname(node.name.value)
        self.containers.append(qualname)
        info = self.project.functions.get(qualname)
        if info is None:  # a function the project reader did not see (class in a function)
            info = FunctionInfo(
                qualname, self.module.name, node, None, [], node.asynchronous is not None, False
            )
        if self.functions and ".<locals>." in qualname:
            self.scope.local_functions[node.name.value] = qualname
        scope = Scope(self.module.name, parent=self.scope, function=info, owner=info.owner)
        scope.names.update(self.inference.parameter_kinds(info))
        self.functions.append(
            FunctionContext(info, scope, self._blocked(info), names_to_read_once(node))
        )

    def _blocked(self, info: FunctionInfo) -> str | None:
        if info.is_async:
            return None
        name = info.name
        if name.startswith("__") and name.endswith("__"):
            return "Python calls synchronously (a special method)"
        if info.flavour == "property":
            return "is a property (a property cannot be awaited: make it an async method)"
        if info.flavour == "queryset_manager":
            return "is a queryset_manager (it must build a QuerySet without I/O)"
        owner = self.project.classes.get(info.owner or "")
        if owner is not None and owner.kind != "plain" and name in knowledge.BRIDGE_METHODS:
            return (
                "MongoEngine calls from its sync code (it runs inside the bridge, "
                "where sync I/O works: leave it sync)"
            )
        if any(d.split(".")[-1] in NOT_ASYNC_DECORATORS for d in info.decorators):
            return "is a @contextmanager (make it an @asynccontextmanager and its users async with)"
        return None

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        context = self.functions.pop()
        self.containers.pop()
        info = context.info
        if info.qualname in self.inference.state.async_functions and updated.asynchronous is None:
            self.note(original, "async-def", REWRITTEN, f"{info.name}() now awaits: async def")
            line = self.get_metadata(PositionProvider, original).start.line
            self.made_async.append((info.qualname, line))
            odd = [
                d
                for d in info.decorators
                if d.split(".")[-1] not in SAFE_DECORATORS and not _is_signal_decorator(d)
            ]
            if odd:
                self.note(
                    original,
                    "decorator",
                    REVIEW,
                    f"{info.name}() became async under {', '.join('@' + d for d in odd)}: "
                    "check each accepts a coroutine function",
                )
            self._review_framework_method(original, info)
            if calls.overrides_io(self, info):
                self.note(
                    original,
                    "override",
                    REVIEW,
                    f"MongoEngine calls {info.name}() from its own code (QuerySet.create, "
                    f"cascades) without await: keep the override sync, its other I/O "
                    f"sync-free, and return super().{info.name}(...)",
                )
            return updated.with_changes(asynchronous=build.asynchronous())
        returns = info.node.returns
        if (
            calls.overrides_io(self, info)
            and not info.is_async
            and returns is not None
            and dotted(returns.annotation) not in ("Any", "typing.Any", "Coroutine")
            and not _is_coroutine_annotation(returns.annotation)
        ):
            self.note(
                original,
                "override",
                REWRITTEN,
                f"{info.name}() stays sync and returns mongomotor's awaitable: "
                "its return type is a Coroutine",
            )
            self.needs_coroutine_types = True
            return updated.with_changes(returns=build.coroutine_of(returns))
        return updated

    def _review_framework_method(self, node: cst.FunctionDef, info: FunctionInfo) -> None:
        """A method that overrides one of a framework's classes is called by that framework."""
        owner = self.project.classes.get(info.owner or "")
        if owner is None or owner.kind != "plain" or info.name.startswith("_"):
            return
        for cls in self.project.lineage(owner.qualname):
            external = [b for b in cls.bases if b not in self.project.classes and b != "object"]
            if external:
                self.note(
                    node,
                    "framework",
                    REVIEW,
                    f"{info.name}() became async in a subclass of {external[0]}: "
                    "check that it awaits this method",
                )
                return

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambda_depth += 1

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.BaseExpression:
        self.lambda_depth -= 1
        return updated

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if (
            isinstance(test, cst.Comparison)
            and dotted(test.left) == "__name__"
            and isinstance(test.comparisons[0].comparator, cst.SimpleString)
        ):
            self.main_guard += 1

    def leave_If(self, original: cst.If, updated: cst.If) -> cst.BaseStatement:
        if isinstance(original.test, cst.Comparison) and dotted(original.test.left) == "__name__":
            self.main_guard -= 1
        return updated.with_changes(test=self._truth(original.test, updated.test))

    def leave_While(self, original: cst.While, updated: cst.While) -> cst.BaseStatement:
        return updated.with_changes(test=self._truth(original.test, updated.test))

    def leave_IfExp(self, original: cst.IfExp, updated: cst.IfExp) -> cst.BaseExpression:
        return updated.with_changes(test=self._truth(original.test, updated.test))

    def _truth(
        self, original: cst.BaseExpression, updated: cst.BaseExpression
    ) -> cst.BaseExpression:
        """A QuerySet tested for truth asks the server whether it has a first document."""
        if isinstance(original, cst.BooleanOperation) and isinstance(updated, cst.BooleanOperation):
            return updated.with_changes(
                left=self._truth(original.left, updated.left),
                right=self._truth(original.right, updated.right),
            )
        if not isinstance(self.kind(original), QS):
            return updated
        if not self.can_await(original, "truth", "a QuerySet's truth value (I/O)"):
            return updated
        self.note(
            original,
            "truth",
            REWRITTEN,
            "testing a QuerySet asks the server: `(await qs.first()) is not None`",
        )
        first = build.awaited(build.method_call(updated, "first"))
        return build.is_none(first, negate=True)

    # -- names and their kinds ----------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, kind: object) -> None:
        if isinstance(target, cst.Name):
            self.scope.names[target.value] = kind
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, None)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        kind = self.kind(original.value)
        single_name = len(original.targets) == 1 and isinstance(
            original.targets[0].target, cst.Name
        )
        if isinstance(kind, (Ref, RefList)) and single_name and not self.is_awaited(original.value):
            if self.can_await(
                original,
                "reference",
                "reading a reference into a variable (a query in MongoEngine)",
            ):
                self.note(
                    original,
                    "reference",
                    REWRITTEN,
                    "a reference read into a variable is loaded: await",
                )
                updated = updated.with_changes(value=build.awaited(updated.value))
                kind = Doc(kind.name) if isinstance(kind, Ref) else ListOf(Doc(kind.name))
        target = original.targets[0].target
        if (
            isinstance(target, cst.Name)
            and len(original.targets) == 1
            and isinstance(kind, QS)
            and self.functions
            and target.value in self.functions[-1].read_once
            and not self.is_awaited(original.value)
            and self.can_await(original, "cache", "reading a QuerySet more than once")
        ):
            self.note(
                original,
                "cache",
                REWRITTEN,
                "this QuerySet is read more than once: MongoEngine keeps the documents of the "
                "first read, mongomotor queries again; await qs.to_list(None) reads them once",
            )
            updated = updated.with_changes(value=build.to_list_all(updated.value))
            kind = ListOf(Doc(kind.name))
        for assigned in original.targets:
            self._bind(assigned.target, kind)
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        kind = self.inference.annotation_kind(original.annotation.annotation, self.module.name)
        if kind is None and original.value is not None:
            kind = self.kind(original.value)
        self._bind(original.target, kind)
        return updated

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, iterated_item(self.kind(node.iter)))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, iterated_item(self.kind(node.iter)))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        call = node.item
        if node.asname and isinstance(call, cst.Call) and call.args:
            name = (dotted(call.func) or "").split(".")[-1]
            kind = self.kind(call.args[0].value)
            if name in ("switch_db", "switch_collection") and isinstance(kind, DocClass):
                self._bind(node.asname.name, kind)

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        if original.value is None or not self.functions:
            return updated
        kind = self.kind(original.value)
        if isinstance(kind, (Ref, RefList)) and not self.is_awaited(original.value):
            if self.can_await(
                original, "reference", "returning a reference (a query in MongoEngine)"
            ):
                self.note(original, "reference", REWRITTEN, "a returned reference is loaded: await")
                updated = updated.with_changes(value=build.awaited(updated.value))
                kind = Doc(kind.name) if isinstance(kind, Ref) else ListOf(Doc(kind.name))
        if kind is not None:
            self.returns[self.functions[-1].info.qualname] = kind
        return updated

    # -- iteration --------------------------------------------------------------------------
    def _iteration(self, node: cst.CSTNode, iterable: cst.BaseExpression) -> str | None:
        """How iterating ``iterable`` changes: "async", "await" (a reference list) or None."""
        kind = self.kind(iterable)
        if isinstance(kind, (QS, Cursor)):
            return "async"
        if isinstance(kind, RefList) and not self.is_awaited(iterable):
            return "await"
        if isinstance(iterable, cst.Call):
            callee = self.inference.callee(iterable, self.scope)
            if (
                callee
                and callee.is_generator
                and callee.qualname in self.inference.state.async_functions
            ):
                return "async"
        return None

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        if original.asynchronous is not None:
            return updated
        change = self._iteration(original, original.iter)
        if change and self.can_await(original, "async-for", "iterating a QuerySet"):
            if change == "async":
                self.note(original, "async-for", REWRITTEN, "iterating a QuerySet: async for")
                return updated.with_changes(asynchronous=build.asynchronous())
            self.note(
                original, "reference", REWRITTEN, "iterating a list of references: await it first"
            )
            return updated.with_changes(iter=build.awaited(updated.iter))
        return updated

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        if original.asynchronous is not None:
            return updated
        change = self._iteration(original, original.iter)
        if change and self.can_await(original, "async-for", "a comprehension over a QuerySet"):
            if change == "async":
                self.note(
                    original, "async-for", REWRITTEN, "comprehension over a QuerySet: async for"
                )
                return updated.with_changes(asynchronous=build.asynchronous())
            self.note(
                original,
                "reference",
                REWRITTEN,
                "comprehension over a list of references: await it first",
            )
            return updated.with_changes(iter=build.awaited(updated.iter))
        return updated

    def leave_GeneratorExp(
        self, original: cst.GeneratorExp, updated: cst.GeneratorExp
    ) -> cst.BaseExpression:
        if updated.for_in.asynchronous is not None and original.for_in.asynchronous is None:
            self.async_generators[id(updated)] = original
        return updated

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        for generator in self.async_generators.values():
            self.note(
                generator,
                "async-for",
                REVIEW,
                "a generator expression over a QuerySet is now an async generator: "
                "its consumer must iterate it with async for",
            )
        return updated

    # -- attributes, subscripts, comparisons (rules in expressions.py) -----------------
    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        return expressions.attribute(self, original, updated)

    def leave_Subscript(
        self, original: cst.Subscript, updated: cst.Subscript
    ) -> cst.BaseExpression:
        return expressions.subscript(self, original, updated)

    def leave_Comparison(
        self, original: cst.Comparison, updated: cst.Comparison
    ) -> cst.BaseExpression:
        return expressions.comparison(self, original, updated)

    def leave_UnaryOperation(
        self, original: cst.UnaryOperation, updated: cst.UnaryOperation
    ) -> cst.BaseExpression:
        return expressions.unary(self, original, updated)

    # -- calls ---------------------------------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        updated = updated.with_changes(func=build.parenthesized(updated.func))
        return calls.rewrite_call(self, original, updated)


def _is_coroutine_annotation(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Subscript) and (dotted(node.value) or "").endswith("Coroutine")


def _is_signal_decorator(decorator: str) -> bool:
    parts = decorator.split(".")
    return len(parts) >= 2 and parts[-1] in SIGNAL_CONNECTORS and parts[-2] in knowledge.SIGNALS
