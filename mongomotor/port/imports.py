"""Import lines: names mongomotor has come from mongomotor, the rest stay MongoEngine's.

from mongoengine import Document, connect   ->  from mongomotor import Document, connect
from mongoengine.base import BaseDocument    (kept: mongomotor has no such module)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import PositionProvider

from mongomotor.port import knowledge
from mongomotor.port.project import dotted
from mongomotor.port.report import REVIEW, REWRITTEN, Finding


@dataclass
class ImportRewriter(cst.CSTTransformer):
    path: Path
    add_asyncio: bool = False
    add_coroutine_types: bool = False
    findings: list[Finding] = field(default_factory=list)

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __post_init__(self) -> None:
        super().__init__()
        self.module_aliases: dict[
            str, bool
        ] = {}  # local name of ``import mongoengine`` -> rewritten
        self.has_asyncio = False
        self.imported: set[tuple[str, str]] = set()  # (module, name) of from-imports

    def note(self, node: cst.CSTNode, action: str, message: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.findings.append(Finding(self.path, line, "import", action, message))

    # -- import mongoengine ---------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        used: dict[str, set[str]] = {}

        class Uses(cst.CSTVisitor):
            def visit_Attribute(self, attribute: cst.Attribute) -> None:
                if isinstance(attribute.value, cst.Name):
                    used.setdefault(attribute.value.value, set()).add(attribute.attr.value)

        node.visit(Uses())
        self.uses = used

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        names = []
        for alias in updated.names:
            name = dotted(alias.name)
            if name == "asyncio":
                self.has_asyncio = True
            if name != "mongoengine":
                names.append(alias)
                continue
            local = alias.asname.name.value if alias.asname else "mongoengine"  # type: ignore[union-attr]
            missing = sorted(self.uses.get(local, set()) - knowledge.TOP_LEVEL)
            if missing:
                self.note(
                    original,
                    REVIEW,
                    f"kept `import mongoengine`: mongomotor has no {', '.join(missing)}",
                )
                names.append(alias)
                continue
            self.module_aliases[local] = alias.asname is None
            self.note(original, REWRITTEN, "import mongoengine -> import mongomotor")
            names.append(alias.with_changes(name=cst.Name("mongomotor")))
        return updated.with_changes(names=names)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        value = updated.value
        if isinstance(value, cst.Name) and self.module_aliases.get(value.value):
            return updated.with_changes(value=cst.Name("mongomotor"))
        return updated

    # -- from mongoengine... import ----------------------------------------------------------
    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.ImportFrom):
            return updated
        statement = updated.body[0]
        if statement.relative or statement.module is None:
            return updated
        module = dotted(statement.module) or ""
        if not isinstance(statement.names, cst.ImportStar):
            self.imported.update((module, a.name.value) for a in statement.names)  # type: ignore[union-attr]
        if module == "asyncio":
            self.has_asyncio = True
        if module.split(".")[0] == "flask_mongoengine":
            self.note(
                original,
                REVIEW,
                "flask_mongoengine's documents are MongoEngine's, which mongomotor does not "
                "make awaitable: derive the documents from mongomotor's Document",
            )
        if module not in knowledge.MODULES:
            return updated
        target, available = knowledge.MODULES[module]
        new_module = cst.parse_expression(target)
        if isinstance(statement.names, cst.ImportStar):
            self.note(original, REWRITTEN, f"from {module} import * -> from {target} import *")
            return updated.with_changes(body=[statement.with_changes(module=new_module)])
        moved = [a for a in statement.names if a.name.value in available]  # type: ignore[union-attr]
        kept = [a for a in statement.names if a.name.value not in available]  # type: ignore[union-attr]
        if not moved:
            return updated
        self.note(original, REWRITTEN, f"from {module} import ... -> from {target} import ...")
        if not kept:
            return updated.with_changes(body=[statement.with_changes(module=new_module)])
        first = updated.with_changes(body=[_from_import(statement, new_module, moved)])
        second = updated.with_changes(
            body=[_from_import(statement, statement.module, kept)], leading_lines=[]
        )
        return cst.FlattenSentinel([first, second])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        lines = []
        if self.add_asyncio and not self.has_asyncio:
            lines.append("import asyncio")
        if self.add_coroutine_types:
            for module, name in (("collections.abc", "Coroutine"), ("typing", "Any")):
                if (module, name) not in self.imported:
                    lines.append(f"from {module} import {name}")
        if not lines:
            return updated
        body = list(updated.body)
        index = 0
        while index < len(body) and _is_docstring_or_future(body[index]):
            index += 1
        body[index:index] = [cst.parse_statement(line + "\n") for line in lines]
        return updated.with_changes(body=body)


def _from_import(
    statement: cst.ImportFrom, module: cst.BaseExpression, names: list[cst.ImportAlias]
) -> cst.ImportFrom:
    names = [*names[:-1], names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return statement.with_changes(module=module, names=names)


def _is_docstring_or_future(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(
        small.value, (cst.SimpleString, cst.ConcatenatedString)
    ):
        return True
    return isinstance(small, cst.ImportFrom) and dotted(small.module) == "__future__"
