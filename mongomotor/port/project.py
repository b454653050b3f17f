"""The project as a whole: its modules, their imports, classes (documents among them),
fields and functions, read once from the paths given to the tool.

    project = Project.load([Path("app")])
    project.classes["app.models.Post"].kind   # "document"
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from mongomotor.port import knowledge

SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


@dataclass
class FieldInfo:
    kind: str  # ref, reflist, lazyref, file, image, emb, emblist
    target: str  # class qualname, or "?" when the tool cannot tell


@dataclass
class FunctionInfo:
    qualname: str
    module: str
    node: cst.FunctionDef
    owner: str | None  # qualname of the class it is defined in
    decorators: list[str]
    is_async: bool
    is_generator: bool

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def flavour(self) -> str:
        for name in ("staticmethod", "classmethod", "property", "queryset_manager"):
            if name in self.decorators:
                return name
        if any(
            d.endswith((".setter", ".getter", ".deleter", "cached_property"))
            for d in self.decorators
        ):
            return "property"
        return "method" if self.owner else "function"


@dataclass
class ClassInfo:
    qualname: str
    module: str
    node: cst.ClassDef
    bases: list[str] = field(default_factory=list)
    kind: str = "plain"  # document, embedded, queryset or plain
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    querysets: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass
class ModuleInfo:
    name: str
    path: Path
    source: str
    tree: cst.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted target
    symbols: dict[str, str] = field(default_factory=dict)  # top-level name -> qualname
    star_imports: list[str] = field(default_factory=list)  # modules of ``from m import *``
    wrapper: cst.MetadataWrapper | None = None  # kept across the rewrite passes
    is_package: bool = False


def dotted(node: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def python_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Each Python file under ``paths``, with the folder its imports are relative to."""
    for path in paths:
        if path.is_file():
            yield path, import_root(path.resolve().parent)
            continue
        root = import_root(path.resolve())
        for found in sorted(path.rglob("*.py")):
            parts = found.relative_to(path).parts
            if any(p in SKIPPED_DIRS or p.startswith(".") or p.endswith("venv") for p in parts):
                continue
            yield found, root


def import_root(folder: Path) -> Path:
    """The folder above the outermost package that contains ``folder``."""
    while (folder / "__init__.py").exists():
        folder = folder.parent
    return folder


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of a file seen from ``root`` (namespace packages included)."""
    path = path.resolve()
    is_package = path.name == "__init__.py"
    try:
        parts = list(path.relative_to(root).with_suffix("").parts)
    except ValueError:
        parts = [path.stem]
    if is_package:
        parts = parts[:-1]
    return ".".join(parts) or path.parent.name, is_package


class Project:
    """Every module given to the tool, with what the analysis needs from each."""

    def __init__(self) -> None:
        self.modules: dict[str, ModuleInfo] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.functions: dict[str, FunctionInfo] = {}
        self.errors: list[tuple[Path, str]] = []

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Project:
        project = cls()
        for path, root in python_files(paths):
            try:
                source = path.read_text(encoding="utf-8")
                tree = cst.parse_module(source)
            except (UnicodeDecodeError, cst.ParserSyntaxError) as error:
                project.errors.append((path, str(error).splitlines()[0]))
                continue
            name, is_package = module_name(path, root)
            info = ModuleInfo(name, path, source, tree, is_package=is_package)
            project.modules[name] = info
        for info in project.modules.values():
            project._read_names(info)
        for info in project.modules.values():
            project._read_bodies(info)
        project._classify_classes()
        return project

    # -- reading one module ---------------------------------------------------------
    def _read_names(self, info: ModuleInfo) -> None:
        """Imports and top-level names first, so that bodies can resolve across modules."""
        for statement in _top_level_statements(info.tree.body):
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                self._read_import(info, statement)
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                info.symbols[statement.name.value] = f"{info.name}.{statement.name.value}"
            elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
                # flask_mongoengine's ``db = MongoEngine()`` offers MongoEngine's names.
                called = self.resolve(info.name, dotted(statement.value.func) or "")
                if called in knowledge.MONGOENGINE_NAMESPACES:
                    for target in statement.targets:
                        if isinstance(target.target, cst.Name):
                            info.symbols[target.target.value] = "mongoengine"

    def _read_bodies(self, info: ModuleInfo) -> None:
        for statement in _top_level_statements(info.tree.body):
            if isinstance(statement, cst.FunctionDef):
                qualname = f"{info.name}.{statement.name.value}"
                self._read_function(info, statement, qualname, None)
            elif isinstance(statement, cst.ClassDef):
                self._read_class(info, statement, f"{info.name}.{statement.name.value}")

    def _read_import(self, info: ModuleInfo, statement: cst.Import | cst.ImportFrom) -> None:
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                target = dotted(alias.name) or ""
                if alias.asname:
                    info.imports[alias.asname.name.value] = target  # type: ignore[union-attr]
                else:
                    head = target.split(".")[0]
                    info.imports[head] = head
            return
        base = self._import_base(info, statement)
        if base and isinstance(statement.names, cst.ImportStar):
            info.star_imports.append(base)
        if base is None or isinstance(statement.names, cst.ImportStar):
            return
        for alias in statement.names:
            name = alias.name.value  # type: ignore[union-attr]
            local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
            info.imports[local] = f"{base}.{name}" if base else name

    def _import_base(self, info: ModuleInfo, statement: cst.ImportFrom) -> str | None:
        module = dotted(statement.module) if statement.module else ""
        dots = len(statement.relative)
        if not dots:
            return module
        package = info.name.split(".")
        if not info.is_package:
            package = package[:-1]
        if dots > 1:
            package = package[: len(package) - (dots - 1)]
        return ".".join(p for p in [*package, module or ""] if p)

    def _read_function(
        self, info: ModuleInfo, node: cst.FunctionDef, qualname: str, owner: str | None
    ) -> FunctionInfo:
        decorators = [dotted(_decorator_target(d.decorator)) or "?" for d in node.decorators]
        function = FunctionInfo(
            qualname,
            info.name,
            node,
            owner,
            decorators,
            is_async=node.asynchronous is not None,
            is_generator=_is_generator(node),
        )
        self.functions[qualname] = function
        for inner in _nested_functions(node.body):
            self._read_function(info, inner, f"{qualname}.<locals>.{inner.name.value}", None)
        return function

    def _read_class(self, info: ModuleInfo, node: cst.ClassDef, qualname: str) -> None:
        cls = ClassInfo(qualname, info.name, node)
        cls.bases = [self.resolve(info.name, dotted(arg.value) or "?") for arg in node.bases]
        self.classes[qualname] = cls
        for statement in _top_level_statements(node.body.body):
            if isinstance(statement, cst.FunctionDef):
                method = self._read_function(
                    info, statement, f"{qualname}.{statement.name.value}", qualname
                )
                cls.methods[method.name] = method
                if "queryset_manager" in [d.split(".")[-1] for d in method.decorators]:
                    cls.querysets.add(method.name)
            elif isinstance(statement, cst.ClassDef):
                self._read_class(info, statement, f"{qualname}.{statement.name.value}")
            elif isinstance(statement, (cst.Assign, cst.AnnAssign)) and isinstance(
                statement.value, cst.Call
            ):
                targets = (
                    [t.target for t in statement.targets]
                    if isinstance(statement, cst.Assign)
                    else [statement.target]
                )
                described = self._describe_field(info, statement.value, qualname)
                for target in targets:
                    if described and isinstance(target, cst.Name):
                        cls.fields[target.value] = described

    def _describe_field(self, info: ModuleInfo, call: cst.Call, owner: str) -> FieldInfo | None:
        name = (dotted(call.func) or "").split(".")[-1]
        if name in knowledge.FILE_FIELDS:
            return FieldInfo("file", "?")
        if name in knowledge.IMAGE_FIELDS:
            return FieldInfo("image", "?")
        target = self._field_target(info, call, owner)
        if name in knowledge.REFERENCE_FIELDS:
            return FieldInfo("ref", target if name != "GenericReferenceField" else "?")
        if name in knowledge.LAZY_REFERENCE_FIELDS:
            return FieldInfo("lazyref", target)
        if name in knowledge.EMBEDDED_FIELDS:
            return FieldInfo("emb", target)
        if name in knowledge.EMBEDDED_LIST_FIELDS:
            return FieldInfo("emblist", target)
        if name in knowledge.LIST_FIELDS and call.args:
            inner = call.args[0].value
            if isinstance(inner, cst.Call):
                described = self._describe_field(info, inner, owner)
                if described and described.kind == "ref":
                    return FieldInfo("reflist", described.target)
                if described and described.kind == "emb":
                    return FieldInfo("emblist", described.target)
        return None

    def _field_target(self, info: ModuleInfo, call: cst.Call, owner: str) -> str:
        argument = next(
            (a.value for a in call.args if a.keyword is None or a.keyword.value == "document_type"),
            None,
        )
        if isinstance(argument, cst.SimpleString):
            text = argument.evaluated_value
            if not isinstance(text, str):
                return "?"
            if text == "self":
                return owner
            return self.class_by_simple_name(text) or "?"
        if argument is not None and dotted(argument):
            resolved = self.resolve(info.name, dotted(argument) or "")
            return resolved if resolved in self.classes or "." in resolved else "?"
        return "?"

    # -- names ----------------------------------------------------------------------
    def resolve(self, module: str, name: str, depth: int = 0) -> str:
        """The qualified name ``name`` stands for in ``module`` (project or external)."""
        head, _, rest = name.partition(".")
        info = self.modules.get(module)
        if info is None or depth > 8:
            return name
        if head in info.symbols:
            target = info.symbols[head]
        elif head in info.imports:
            target = self._chase(info.imports[head], depth)
        else:
            found = self._from_star_import(info, head, depth)
            if found is None:
                return name
            target = found
        return f"{target}.{rest}" if rest else target

    def _chase(self, target: str, depth: int) -> str:
        """Follow ``from a.b import c`` to where ``c`` is defined in the project."""
        owner, _, last = target.rpartition(".")
        info = self.modules.get(owner)
        if info is not None and (last in info.symbols or last in info.imports or info.star_imports):
            found = self.resolve(owner, last, depth + 1)
            return found if found != last else target
        return target

    def _from_star_import(self, info: ModuleInfo, head: str, depth: int) -> str | None:
        for star in info.star_imports:
            if star.split(".")[0] in knowledge.EXTERNAL_PACKAGES:
                if head in knowledge.STAR_NAMES:
                    return f"{star}.{head}"
            elif star in self.modules:
                found = self.resolve(star, head, depth + 1)
                if found != head:
                    return found
        return None

    def class_by_simple_name(self, name: str) -> str | None:
        found = [q for q, c in self.classes.items() if c.name == name]
        return found[0] if len(found) == 1 else None

    def _classify_classes(self) -> None:
        changed = True
        while changed:
            changed = False
            for cls in self.classes.values():
                kind = self._kind_from_bases(cls.bases)
                if kind != "plain" and cls.kind != kind:
                    cls.kind = kind
                    changed = True

    def _kind_from_bases(self, bases: list[str]) -> str:
        for base in bases:
            if base in self.classes and self.classes[base].kind != "plain":
                return self.classes[base].kind
            if base.split(".")[0] in knowledge.EXTERNAL_PACKAGES:
                last = base.split(".")[-1]
                if last in knowledge.DOCUMENT_BASES:
                    return "document"
                if last in knowledge.EMBEDDED_BASES:
                    return "embedded"
                if last in knowledge.QUERYSET_CLASSES:
                    return "queryset"
        return "plain"

    def lineage(self, qualname: str) -> Iterator[ClassInfo]:
        """The class and its project bases, nearest first."""
        seen: set[str] = set()
        todo = [qualname]
        while todo:
            current = todo.pop(0)
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            yield self.classes[current]
            todo.extend(self.classes[current].bases)

    def field(self, qualname: str, name: str) -> FieldInfo | None:
        for cls in self.lineage(qualname):
            if name in cls.fields:
                return cls.fields[name]
        return None

    def method(self, qualname: str, name: str) -> FunctionInfo | None:
        for cls in self.lineage(qualname):
            if name in cls.methods:
                return cls.methods[name]
        return None

    def queryset_method(self, name: str) -> FunctionInfo | None:
        """A method of the project's own QuerySet classes (``meta = {"queryset_class": ...}``)."""
        for cls in self.classes.values():
            if cls.kind == "queryset" and name in cls.methods:
                return cls.methods[name]
        return None

    def is_queryset_manager(self, qualname: str, name: str) -> bool:
        return any(name in cls.querysets for cls in self.lineage(qualname))

    def methods_named(self, name: str) -> list[FunctionInfo]:
        return [f for f in self.functions.values() if f.owner and f.name == name]


def _decorator_target(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.func if isinstance(node, cst.Call) else node


def _top_level_statements(body: Iterable[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Statements of a block, looking into ``if``/``try``/``with`` but not into defs."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, cst.If):
            yield from _top_level_statements(statement.body.body)
            if isinstance(statement.orelse, cst.If):
                yield from _top_level_statements([statement.orelse])
            elif statement.orelse is not None:
                yield from _top_level_statements(statement.orelse.body.body)
        elif isinstance(statement, (cst.Try, cst.With)):
            yield from _top_level_statements(statement.body.body)
            for handler in getattr(statement, "handlers", ()):
                yield from _top_level_statements(handler.body.body)
        else:
            yield statement


def _nested_functions(body: cst.BaseSuite) -> list[cst.FunctionDef]:
    found: list[cst.FunctionDef] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            found.append(node)
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    body.visit(Finder())
    return found


def _is_generator(node: cst.FunctionDef) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Yield(self, node: cst.Yield) -> None:
            nonlocal found
            found = True

        def visit_FunctionDef(self, inner: cst.FunctionDef) -> bool:
            return inner is node

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    node.visit(Finder())
    return found
