"""The port of a whole project: the call-graph fixed point, then the rewrite.

A function that awaits becomes ``async def``; every call to it, anywhere in the given
paths, is awaited in turn, which can make its caller async: the passes repeat until
no function changes.

    result = port_paths([Path("app")])
    result.changed        # {path: new source}
    result.findings       # what was rewritten, what is left for review
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from mongomotor.port.imports import ImportRewriter
from mongomotor.port.infer import Inference, State
from mongomotor.port.project import ModuleInfo, Project
from mongomotor.port.report import REVIEW, Finding
from mongomotor.port.rewrite import ModuleRewriter

MAX_PASSES = 50


@dataclass
class PortResult:
    originals: dict[Path, str] = field(default_factory=dict)
    changed: dict[Path, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def _rewrite(
    project: Project, state: State, module: ModuleInfo
) -> tuple[ModuleRewriter, cst.Module]:
    # One wrapper per module keeps the positions computed once for every pass.
    wrapper = module.wrapper
    if wrapper is None:
        wrapper = module.wrapper = cst.MetadataWrapper(module.tree, unsafe_skip_copy=True)
    rewriter = ModuleRewriter(project, Inference(project, state), module)
    tree = wrapper.visit(rewriter)
    return rewriter, tree


def propagate(project: Project) -> State:
    """Which functions become async (and what functions return), to a fixed point."""
    state = State({q for q, f in project.functions.items() if f.is_async})
    for _ in range(MAX_PASSES):
        before = state.snapshot()
        for module in project.modules.values():
            rewriter, _ = _rewrite(project, state, module)
            state.async_functions |= rewriter.needs_async
            state.returns.update(rewriter.returns)
        if state.snapshot() == before:
            break
    return state


def port_paths(paths: Iterable[Path]) -> PortResult:
    project = Project.load(list(paths))
    state = propagate(project)
    result = PortResult()
    for path, error in project.errors:
        result.findings.append(Finding(path, 1, "parse", REVIEW, f"not read: {error}"))
    made_async: list[tuple[Path, str, int]] = []
    referenced: set[str] = set()
    for module in project.modules.values():
        rewriter, tree = _rewrite(project, state, module)
        made_async.extend((module.path, name, line) for name, line in rewriter.made_async)
        referenced |= rewriter.referenced
        imports = ImportRewriter(
            module.path,
            add_asyncio=rewriter.needs_asyncio,
            add_coroutine_types=rewriter.needs_coroutine_types,
        )
        tree = cst.MetadataWrapper(tree).visit(imports)
        result.findings.extend(rewriter.findings)
        result.findings.extend(imports.findings)
        result.originals[module.path] = module.source
        if tree.code != module.source:
            result.changed[module.path] = tree.code
    result.findings.extend(_entry_points(made_async, referenced, result.findings))
    result.findings = sorted(set(result.findings))
    return result


def _entry_points(
    made_async: list[tuple[Path, str, int]], referenced: set[str], findings: list[Finding]
) -> list[Finding]:
    """Functions that became async and that nothing in the given paths calls: whatever
    calls them (a framework, another program) must await them now."""
    noted = {(f.path, f.line) for f in findings if f.action == REVIEW}
    return [
        Finding(
            path,
            line,
            "entry",
            REVIEW,
            f"{qualname.rsplit('.', 1)[-1]}() became async and nothing in the given paths "
            "calls it: whatever calls it must await it",
        )
        for path, qualname, line in made_async
        if qualname not in referenced and (path, line) not in noted
    ]
