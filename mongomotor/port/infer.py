"""Kinds of expressions, read from the code: which names hold documents, QuerySets,
references, files, instances of the project's classes, and what a call returns.

    inference = Inference(project, state)
    inference.kind_of(expression, scope)   # e.g. QS("app.models.Post", bounded=False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from mongomotor.port import knowledge
from mongomotor.port.kinds import (
    QS,
    UNKNOWN_DOCUMENT,
    ClassRef,
    Cursor,
    Doc,
    DocClass,
    File,
    Instance,
    LazyRef,
    ListOf,
    Module,
    Ref,
    RefList,
    iterated_item,
)
from mongomotor.port.project import FunctionInfo, Project, dotted

LIST_BUILDERS = frozenset({"list", "sorted", "tuple", "set", "reversed"})


@dataclass
class State:
    """What the fixed point has found so far: functions that become async, what they return."""

    async_functions: set[str] = field(default_factory=set)
    returns: dict[str, object] = field(default_factory=dict)

    def snapshot(self) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
        return frozenset(self.async_functions), tuple(
            sorted((k, repr(v)) for k, v in self.returns.items())
        )


class Scope:
    """The names of one function (or module) body and their kinds."""

    def __init__(
        self,
        module: str,
        parent: Scope | None = None,
        function: FunctionInfo | None = None,
        owner: str | None = None,
    ) -> None:
        self.module = module
        self.parent = parent
        self.function = function
        self.owner = owner  # the class a method belongs to
        self.names: dict[str, object] = {}
        self.local_functions: dict[str, str] = {}

    def lookup(self, name: str) -> tuple[bool, object]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True, scope.names[name]
            scope = scope.parent
        return False, None

    def local_function(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.local_functions:
                return scope.local_functions[name]
            scope = scope.parent
        return None


class Inference:
    def __init__(self, project: Project, state: State) -> None:
        self.project = project
        self.state = state
        self._attribute_guard: set[tuple[str, str]] = set()

    # -- names and annotations --------------------------------------------------------
    def global_kind(self, module: str, name: str) -> object:
        target = self.project.resolve(module, name)
        return self.kind_of_qualname(target)

    def kind_of_qualname(self, target: str) -> object:
        cls = self.project.classes.get(target)
        if cls is not None:
            return DocClass(target) if cls.kind == "document" else ClassRef(target)
        if target in self.project.modules:
            return Module(target)
        head, last = target.split(".")[0], target.split(".")[-1]
        if head in knowledge.EXTERNAL_PACKAGES and last in knowledge.DOCUMENT_BASES:
            return DocClass(UNKNOWN_DOCUMENT)
        return None

    def annotation_kind(self, node: cst.BaseExpression | None, module: str) -> object:
        if node is None:
            return None
        if isinstance(node, cst.SimpleString):
            text = node.evaluated_value
            try:
                parsed = cst.parse_expression(text) if isinstance(text, str) else None
            except cst.ParserSyntaxError:
                return None
            return self.annotation_kind(parsed, module)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            for side in (node.left, node.right):
                if not (isinstance(side, cst.Name) and side.value == "None"):
                    return self.annotation_kind(side, module)
            return None
        if isinstance(node, cst.Subscript):
            base = (dotted(node.value) or "").split(".")[-1]
            inner = node.slice[0].slice if node.slice else None
            argument = inner.value if isinstance(inner, cst.Index) else None
            if base == "Optional":
                return self.annotation_kind(argument, module)
            if base in ("type", "Type"):
                kind = self.annotation_kind(argument, module)
                if isinstance(kind, Doc) and not kind.embedded:
                    return DocClass(kind.name)
                return ClassRef(kind.name) if isinstance(kind, Instance) else None
            if base in knowledge.QUERYSET_CLASSES:
                kind = self.annotation_kind(argument, module)
                return QS(kind.name if isinstance(kind, Doc) else UNKNOWN_DOCUMENT, None)
            if base in ("list", "List", "Sequence", "Iterable", "Iterator", "tuple"):
                item = self.annotation_kind(argument, module)
                return ListOf(item) if item is not None else None
            return None
        name = dotted(node)
        if not name:
            return None
        target = self.project.resolve(module, name)
        cls = self.project.classes.get(target)
        if cls is not None:
            if cls.kind == "plain":
                return Instance(target)
            return Doc(target, embedded=cls.kind == "embedded")
        head, last = target.split(".")[0], target.split(".")[-1]
        if head in knowledge.EXTERNAL_PACKAGES and last in knowledge.DOCUMENT_BASES:
            return Doc(UNKNOWN_DOCUMENT)
        if last in knowledge.QUERYSET_CLASSES:
            return QS(UNKNOWN_DOCUMENT, None)
        return None

    def parameter_kinds(self, function: FunctionInfo) -> dict[str, object]:
        """Kinds of a function's parameters: annotations, ``self`` and ``cls``."""
        found: dict[str, object] = {}
        params = function.node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for index, param in enumerate(every):
            name = param.name.value
            annotation = param.annotation.annotation if param.annotation else None
            kind = self.annotation_kind(annotation, function.module)
            if kind is None and index == 0 and function.owner:
                owner = self.project.classes[function.owner]
                flavour = function.flavour
                if owner.kind == "queryset" and flavour == "method":
                    kind = QS(UNKNOWN_DOCUMENT, None)
                elif flavour in ("classmethod", "queryset_manager"):
                    kind = (
                        DocClass(owner.qualname)
                        if owner.kind == "document"
                        else ClassRef(owner.qualname)
                    )
                elif flavour != "staticmethod":
                    kind = (
                        Doc(owner.qualname, embedded=owner.kind == "embedded")
                        if owner.kind != "plain"
                        else Instance(owner.qualname)
                    )
            if function.flavour == "queryset_manager" and index == 1:
                kind = QS(function.owner or UNKNOWN_DOCUMENT, None)
            found[name] = kind
        return found

    def return_kind(self, function: FunctionInfo) -> object:
        annotation = function.node.returns.annotation if function.node.returns else None
        declared = self.annotation_kind(annotation, function.module)
        return declared if declared is not None else self.state.returns.get(function.qualname)

    # -- expressions ------------------------------------------------------------------
    def kind_of(self, node: cst.BaseExpression, scope: Scope) -> object:
        if isinstance(node, cst.Name):
            found, kind = scope.lookup(node.value)
            return kind if found else self.global_kind(scope.module, node.value)
        if isinstance(node, cst.Await):
            inner = self.kind_of(node.expression, scope)
            if isinstance(inner, Ref):
                return Doc(inner.name)
            if isinstance(inner, RefList):
                return ListOf(Doc(inner.name))
            return inner
        if isinstance(node, cst.Attribute):
            return self.attribute_kind(self.kind_of(node.value, scope), node.attr.value)
        if isinstance(node, cst.Call):
            return self.call_kind(node, scope)
        if isinstance(node, cst.Subscript):
            return self.subscript_kind(node, scope)
        if isinstance(node, cst.IfExp):
            return _join(self.kind_of(node.body, scope), self.kind_of(node.orelse, scope))
        if isinstance(node, (cst.Tuple, cst.List)) and node.elements:
            kinds = {self.kind_of(element.value, scope) for element in node.elements}
            if all(isinstance(kind, DocClass) for kind in kinds):
                return ListOf(kinds.pop() if len(kinds) == 1 else DocClass(UNKNOWN_DOCUMENT))
        return None

    def attribute_kind(self, owner: object, attribute: str) -> object:
        if isinstance(owner, DocClass):
            if attribute == "objects":
                return QS(owner.name, False)
            if self.project.is_queryset_manager(owner.name, attribute):
                return QS(owner.name, None)
            return None
        if isinstance(owner, Ref):
            owner = Doc(owner.name)
        if isinstance(owner, Doc):
            described = self.project.field(owner.name, attribute)
            if described is None:
                return None
            return {
                "ref": Ref(described.target),
                "reflist": RefList(described.target),
                "lazyref": LazyRef(described.target),
                "file": File(),
                "image": File(image=True),
                "emb": Doc(described.target, embedded=True),
                "emblist": ListOf(Doc(described.target, embedded=True)),
            }[described.kind]
        if isinstance(owner, Instance):
            return self.instance_attribute(owner.name, attribute)
        if isinstance(owner, Module):
            return self.global_kind(owner.name, attribute)
        return None

    def instance_attribute(self, cls: str, attribute: str) -> object:
        """``self.attribute`` set in ``__init__`` (or annotated in the class body)."""
        key = (cls, attribute)
        if key in self._attribute_guard:
            return None
        self._attribute_guard.add(key)
        try:
            for info in self.project.lineage(cls):
                for statement in _simple_statements(info.node.body.body):
                    if (
                        isinstance(statement, cst.AnnAssign)
                        and isinstance(statement.target, cst.Name)
                        and statement.target.value == attribute
                    ):
                        return self.annotation_kind(statement.annotation.annotation, info.module)
                init = info.methods.get("__init__")
                if init is None:
                    continue
                scope = Scope(init.module, function=init, owner=info.qualname)
                scope.names.update(self.parameter_kinds(init))
                for statement in _simple_statements(init.node.body.body):
                    kind = self._self_assignment(statement, attribute, scope)
                    if kind is not None:
                        return kind
            return None
        finally:
            self._attribute_guard.discard(key)

    def _self_assignment(self, statement: cst.CSTNode, attribute: str, scope: Scope) -> object:
        if isinstance(statement, cst.AnnAssign):
            target = statement.target
            if _is_self_attribute(target, attribute):
                return self.annotation_kind(statement.annotation.annotation, scope.module)
        if isinstance(statement, cst.Assign):
            for target in statement.targets:
                if _is_self_attribute(target.target, attribute):
                    return self.kind_of(statement.value, scope)
        return None

    def call_kind(self, node: cst.Call, scope: Scope) -> object:
        func = node.func
        if _is_super_call(node) and scope.owner in self.project.classes:
            owner = self.project.classes[scope.owner]
            if owner.kind == "document":
                return Doc(owner.qualname)
        callee = self.callee(node, scope)
        if callee is not None:
            kind = self.return_kind(callee)
            if (
                isinstance(kind, QS)
                and kind.name == UNKNOWN_DOCUMENT
                and isinstance(func, cst.Attribute)
            ):
                receiver = self.kind_of(func.value, scope)
                if isinstance(receiver, QS):  # a method of a QuerySet class of the project
                    return QS(receiver.name, None)
            return kind
        if isinstance(func, cst.Attribute):
            receiver = self.kind_of(func.value, scope)
            method = func.attr.value
            if isinstance(self.attribute_kind(receiver, method), QS):
                return self.attribute_kind(receiver, method)
            if isinstance(receiver, QS):
                if method in knowledge.QUERYSET_CHAIN:
                    bounded = True if method in knowledge.QUERYSET_BOUNDING else receiver.bounded
                    return QS(receiver.name, bounded)
                if method in knowledge.QUERYSET_ONE:
                    return Doc(receiver.name)
                if method in knowledge.QUERYSET_MANY:
                    return ListOf(Doc(receiver.name))
                if method == "aggregate":
                    return Cursor()
                return None
            if isinstance(receiver, (Doc, Ref)) and method in ("save", "reload", "select_related"):
                return Doc(receiver.name)
            if isinstance(receiver, LazyRef) and method == "fetch":
                return Doc(receiver.name)
            return None
        kind = self.kind_of(func, scope)
        if isinstance(kind, QS):
            return kind
        if isinstance(kind, DocClass):
            return Doc(kind.name)
        if isinstance(kind, ClassRef):
            cls = self.project.classes.get(kind.name)
            if cls is not None and cls.kind == "embedded":
                return Doc(kind.name, embedded=True)
            return Instance(kind.name)
        if isinstance(func, cst.Name) and func.value in LIST_BUILDERS and node.args:
            item = iterated_item(self.kind_of(node.args[0].value, scope))
            return ListOf(item) if item is not None else None
        return None

    def subscript_kind(self, node: cst.Subscript, scope: Scope) -> object:
        value = self.kind_of(node.value, scope)
        is_slice = any(isinstance(s.slice, cst.Slice) for s in node.slice)
        if isinstance(value, QS):
            return QS(value.name, True) if is_slice else Doc(value.name)
        if isinstance(value, ListOf):
            return value if is_slice else value.item
        if isinstance(value, RefList):
            return ListOf(Doc(value.name)) if is_slice else Doc(value.name)
        return None

    # -- calls --------------------------------------------------------------------------
    def callee(self, node: cst.Call, scope: Scope) -> FunctionInfo | None:
        """The project function a call runs, when the code says which."""
        func = node.func
        if isinstance(func, cst.Name):
            local = scope.local_function(func.value)
            if local:
                return self.project.functions.get(local)
            found, _ = scope.lookup(func.value)
            if found:
                return None
            return self.project.functions.get(self.project.resolve(scope.module, func.value))
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if _is_super_call(func.value) and scope.owner:
            for base in self.project.classes[scope.owner].bases:
                found_method = self.project.method(base, method)
                if found_method:
                    return found_method
            return None
        receiver = self.kind_of(func.value, scope)
        if isinstance(receiver, (Doc, Ref, DocClass, Instance, ClassRef)):
            return self.project.method(receiver.name, method)
        if (
            isinstance(receiver, QS)
            and method not in knowledge.QUERYSET_CHAIN | knowledge.QUERYSET_IO
        ):
            return self.project.queryset_method(method)
        if isinstance(receiver, Module):
            target = self.project.resolve(receiver.name, method)
            return self.project.functions.get(target)
        return None


def _join(first: object, second: object) -> object:
    """The kind of ``a if test else b``: what both branches agree on."""
    if first == second:
        return first
    if isinstance(first, QS) and isinstance(second, QS) and first.name == second.name:
        return QS(first.name, None)
    return None


def _simple_statements(body: object) -> list[cst.BaseSmallStatement]:
    found: list[cst.BaseSmallStatement] = []
    for statement in body:  # type: ignore[attr-defined]
        if isinstance(statement, cst.SimpleStatementLine):
            found.extend(statement.body)
    return found


def _is_self_attribute(target: cst.BaseExpression, attribute: str) -> bool:
    return (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
        and target.attr.value == attribute
    )


def _is_super_call(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "super"
    )
