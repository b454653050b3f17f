"""The port tool's tables of mongomotor's API agree with the package and its stubs, and
the tool reads code without importing mongomotor's runtime."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from mongomotor.port import knowledge

ROOT = Path(__file__).resolve().parents[1]
PORT = ROOT / "mongomotor" / "port"


@pytest.mark.parametrize(("source", "target"), sorted(knowledge.MODULES.items()))
def test_every_name_the_port_moves_exists_where_it_moves_it(source, target):
    module_name, names = target
    module = importlib.import_module(module_name)
    assert sorted(n for n in names if not hasattr(module, n)) == []


def coroutine_methods(cls: str) -> set[str]:
    """Methods of ``cls`` in mongomotor's stubs (wherever it is declared) that are async
    or return a Coroutine."""
    found = set()
    for stub in sorted((ROOT / "mongomotor").rglob("*.pyi")):
        for node in ast.parse(stub.read_text()).body:
            if not (isinstance(node, ast.ClassDef) and node.name == cls):
                continue
            for item in node.body:
                if isinstance(item, ast.AsyncFunctionDef):
                    found.add(item.name)
                elif isinstance(item, ast.FunctionDef) and item.returns is not None:
                    is_property = any(
                        isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list
                    )
                    if "Coroutine" in ast.unparse(item.returns) and not is_property:
                        found.add(item.name)
    assert found, f"no stub declares {cls}"
    return found


def test_every_awaitable_queryset_method_is_known():
    # qs[i] (__getitem__) has a rule of its own.
    methods = coroutine_methods("AsyncQuerySetMixin") - {"__getitem__"}
    assert methods <= knowledge.QUERYSET_IO


def test_every_awaitable_document_method_is_known():
    methods = coroutine_methods("Document") | coroutine_methods("NoDerefInitMixin")
    assert methods <= knowledge.DOCUMENT_IO | knowledge.CLASS_IO


def test_every_awaitable_file_method_is_known():
    methods = coroutine_methods("GridFSProxy") - {"__aenter__", "__aexit__"}
    assert methods <= knowledge.FILE_IO


def test_queryset_chain_methods_do_no_io():
    assert not knowledge.QUERYSET_CHAIN & knowledge.QUERYSET_IO
    assert not coroutine_methods("AsyncQuerySetMixin") & knowledge.QUERYSET_CHAIN


def test_the_tool_imports_nothing_of_mongomotors_runtime():
    for module in PORT.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert not node.module.startswith("mongomotor") or node.module.startswith(
                    "mongomotor.port"
                ), f"{module.name} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("mongomotor"), module.name


def test_the_command_line_runs_as_a_module(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(
        "from mongoengine import Document\n\n\ndef drop(cls: type[Document]):\n"
        "    cls.drop_collection()\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mongomotor.port", "--check", str(app)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "app.py:5: sync I/O [await] Document.drop_collection() is I/O: await" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "mongomotor.port", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr


def test_the_console_script_points_at_the_command_line():
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = dict(
        line.split(" = ")
        for line in config["options.entry_points"]["console_scripts"].split("\n")
        if line
    )
    module, _, function = scripts["mongomotor"].partition(":")
    assert getattr(importlib.import_module(module), function) is not None
    assert "libcst" in config["options.extras_require"]["port"]
