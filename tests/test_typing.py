"""The typed API: mypy --strict and pyright --strict pass on the typing tests, the demo
and the README example, and both report a forgotten ``await``.

The checks themselves are in tests/typing/ (``assert_type`` lines, and deliberate
errors each marked with the code both checkers must report); docs/guide/typing.rst.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING = ROOT / "tests" / "typing"
EXAMPLES = [
    ROOT / "examples" / name
    for name in ("blog.py", "watch.py", "logging_driver.py", "fastapi_app")
]
STUBS = sorted((ROOT / "mongomotor").glob("*.pyi"))


def readme_example(directory: Path) -> Path:
    """The README's example, as a module of its own."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "README.md has no ```python block under ## Example"
    path = directory / "readme_example.py"
    path.write_text(code.group(1))
    return path


def check(tool: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYRIGHT_PYTHON_IGNORE_WARNINGS="1")
    if tool == "mypy":
        command = ["-m", "mypy", "--config-file", str(TYPING / "mypy.ini"), "--no-incremental"]
    else:
        command = [
            "-m",
            "pyright",
            "-p",
            str(TYPING / "pyrightconfig.json"),
            "--pythonpath",
            sys.executable,
        ]
    done = subprocess.run(
        [sys.executable, *command, *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "No module named" not in done.stderr, (
        f"{tool} is not installed: pip install -e '.[test]' (make test does)\n{done.stderr}"
    )
    return done


@pytest.mark.parametrize("tool", ["mypy", "pyright"])
def test_stubs_typing_tests_examples_and_readme_check_clean(tool, tmp_path):
    done = check(tool, TYPING, *STUBS, *EXAMPLES, readme_example(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


FORGOTTEN = """\
from mongomotor import Document
from mongomotor.fields import StringField


class Post(Document):
    title = StringField(required=True)


async def publish(post: Post) -> None:
    post.save()
    Post.objects(title="x").count()
    await post.save()
"""


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("mypy", r"forgotten\.py:10: error: .*\[unused-coroutine\]"),
        ("pyright", r"forgotten\.py:10:5 - error: .*\(reportUnusedCoroutine\)"),
    ],
)
def test_a_forgotten_await_is_a_type_error(tool, expected, tmp_path):
    source = tmp_path / "forgotten.py"
    source.write_text(FORGOTTEN)
    done = check(tool, source)
    assert done.returncode == 1, done.stdout + done.stderr
    report = done.stdout
    assert re.search(expected, report), report
    assert re.search(expected.replace(":10", ":11"), report), report
    assert ":12" not in report, report  # the awaited call is fine


def stub_names(stub: Path) -> set[str]:
    """The public names a stub declares at its top level."""
    names: set[str] = set()
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.names[0].name == "*":
            # A star import re-exports what the other module exports.
            names.update(importlib.import_module(node.module or "").__all__)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            # Only ``import x as x`` re-exports from a stub.
            names.update(a.asname for a in node.names if a.asname and a.asname == a.name)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("stub", STUBS, ids=lambda path: path.stem)
def test_each_stub_declares_what_its_module_exports_and_nothing_it_lacks(stub):
    # With a .pyi beside it, a module's .py is invisible to the checkers: a
    # name missing from the stub would be an error in user code that runs.
    name = "mongomotor" if stub.stem == "__init__" else f"mongomotor.{stub.stem}"
    module = importlib.import_module(name)
    declared = stub_names(stub)
    assert set(module.__all__) <= declared, set(module.__all__) - declared
    assert not [n for n in declared if not hasattr(module, n)]


def stub_methods(stub: Path) -> dict[str, list[str]]:
    """Public class name -> the methods (and properties) its stub declares."""
    classes = {}
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            classes[node.name] = sorted({
                item.name
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                and (not item.name.startswith("_") or item.name.startswith("__"))
            })
    return classes


# Mixins whose stubs also declare what MongoEngine's classes add beside them.
CONCRETE = {
    "NoDerefInitMixin": ("Document", "EmbeddedDocument", "DynamicEmbeddedDocument"),
    "AsyncQuerySetMixin": ("QuerySet", "QuerySetNoCache"),
}
# Declared for the checkers only: a dynamic document's undeclared attributes are
# ``Any`` (MongoEngine sets them as attributes, no __getattr__).
TYPING_ONLY = {
    "DynamicDocument.__getattr__",
    "DynamicEmbeddedDocument.__getattr__",
}


@pytest.mark.parametrize("stub", STUBS, ids=lambda path: path.stem)
def test_each_stub_method_exists_at_run_time(stub):
    name = "mongomotor" if stub.stem == "__init__" else f"mongomotor.{stub.stem}"
    module = importlib.import_module(name)
    missing = [
        f"{cls}.{method}"
        for cls, methods in stub_methods(stub).items()
        for concrete in CONCRETE.get(cls, (cls,))
        for method in methods
        if not hasattr(getattr(module, concrete), method)
        and f"{cls}.{method}" not in TYPING_ONLY
    ]
    assert not missing
