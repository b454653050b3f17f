"""Names whose QuerySet is read more than once in a function.

MongoEngine's QuerySet keeps the documents of its first full read: iterating it
again (or ``len``, ``list``, ``qs[0]``, returning it) gives the same document
objects, with any change made to them. mongomotor's QuerySet queries again each
time. A name bound to a QuerySet, iterated, and read again is therefore read
once into a list by the port (``await qs.to_list(None)``), which keeps
MongoEngine's meaning; a name also used as a QuerySet (``qs.filter(...)``,
``qs.count()``) is left alone.

    names_to_read_once(node)   # {"posts"}: posts = ...; for p in posts: ...; return posts
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import libcst as cst


@dataclass
class _Uses:
    iterations: int = 0
    reads: int = 0
    other: int = 0
    assigned_depths: list[int] = field(default_factory=list)


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.uses: dict[str, _Uses] = defaultdict(_Uses)
        self.depth = 0  # loops around the current node
        self.classified: set[int] = set()
        self.pending: list[tuple[str, int]] = []

    # Nested scopes see the name too: count any use there as unknown.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._mark_unknown(node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._mark_unknown(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._mark_unknown(node)
        return False

    def _mark_unknown(self, node: cst.CSTNode) -> None:
        names: list[str] = []

        class Names(cst.CSTVisitor):
            def visit_Name(self, name: cst.Name) -> None:
                names.append(name.value)

        node.visit(Names())
        for name in names:
            self.uses[name].other += 1

    def visit_For(self, node: cst.For) -> bool:
        self._classify(node.iter, "iteration")
        self._target(node.target)
        node.iter.visit(self)
        self.depth += 1
        node.body.visit(self)
        if node.orelse is not None:
            node.orelse.visit(self)
        self.depth -= 1
        return False

    def visit_While(self, node: cst.While) -> bool:
        self._classify(node.test, "read")
        node.test.visit(self)
        self.depth += 1
        node.body.visit(self)
        self.depth -= 1
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.classified.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.classified.add(id(node.keyword))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._classify(node.iter, "iteration")

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._classify(node.target, "other")

    def _target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.uses[target.value].assigned_depths.append(self.depth)
            self.classified.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            self._classify(arg.value, "read")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._classify(node.value, "read")

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self._classify(node.value, "read")

    def visit_If(self, node: cst.If) -> None:
        self._classify(node.test, "read")

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._classify(node.test, "read")

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._classify(node.expression, "read")

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        if isinstance(node.operator, (cst.In, cst.NotIn)):
            self._classify(node.comparator, "read")

    def _classify(self, node: cst.BaseExpression, how: str) -> None:
        if isinstance(node, cst.IfExp):
            self._classify(node.body, how)
            self._classify(node.orelse, how)
            return
        if isinstance(node, (cst.Tuple, cst.List)) and how == "read":
            for element in node.elements:
                self._classify(element.value, how)
            return
        if isinstance(node, cst.Name) and id(node) not in self.classified:
            self.classified.add(id(node))
            self.pending.append((node.value, self.depth))
            uses = self.uses[node.value]
            if how == "iteration":
                uses.iterations += 1
                self.pending[-1] = (node.value, -self.depth - 1)  # iterations remember depth
            elif how == "read":
                uses.reads += 1
            else:
                uses.other += 1

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.classified:
            self.classified.add(id(node))
            self.uses[node.value].other += 1


def names_to_read_once(function: cst.FunctionDef) -> set[str]:
    """Names a QuerySet bound to them would be read more than once from."""
    collector = _Collector()
    function.body.visit(collector)
    found = set()
    for name, uses in collector.uses.items():
        if not uses.iterations or uses.other or not uses.assigned_depths:
            continue
        assigned = min(uses.assigned_depths)
        weight = uses.reads + sum(
            2 if -depth - 1 > assigned else 1
            for pending, depth in collector.pending
            if pending == name and depth < 0
        )
        if weight >= 2:
            found.add(name)
    return found
