"""Sphinx configuration: ``make docs`` builds it with warnings as errors."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sphinx.util.docstrings import prepare_docstring  # noqa: E402

import mongomotor  # noqa: E402

project = "mongomotor"
author = "the mongomotor authors"
copyright = "mongomotor authors"
release = mongomotor.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

exclude_patterns = ["_build", "notes-nx-27017.md", "notes-ferretdb.md"]
master_doc = "index"
html_theme = "alabaster"
html_theme_options = {"description": "MongoEngine documents, awaited on asyncio"}
pygments_style = "sphinx"


def _keep_usage_indent(obj, lines):
    """Re-dedent ``obj``'s docstring by its closing-quote margin, not its least indent.

    Sphinx removes the smallest indentation after the summary line, so a
    docstring whose body is only an indented usage example loses the indent
    that marks it as an example.
    """
    raw = getattr(obj, "__doc__", None)
    if not isinstance(raw, str) or prepare_docstring(raw) != lines:
        return lines
    raw_lines = raw.expandtabs().splitlines()
    if len(raw_lines) < 2 or raw_lines[-1].strip():
        return lines
    margin = len(raw_lines[-1])
    body = [line[margin:] if line[:margin].isspace() else line.lstrip() for line in raw_lines[1:]]
    return [raw_lines[0].strip(), *body[:-1], ""]


def _usage_blocks_as_code(app, what, name, obj, options, lines):  # noqa: ARG001
    """Show our docstrings' indented usage examples as code.

    mongomotor docstrings indent a short usage example under the summary, as
    plain text reads best; reStructuredText needs ``::`` to keep it verbatim.
    """
    source = _keep_usage_indent(obj, list(lines))
    result: list[str] = []
    previous = ""
    for i, line in enumerate(source):
        starts_block = (
            line.startswith(" ")
            and line.strip()
            and i > 0
            and not source[i - 1].strip()
            and previous
            and not previous.startswith((" ", "..", ":", "* ", "- "))
            and not previous.rstrip().endswith("::")
        )
        if starts_block:
            result.extend(["::", ""])
        result.append(line)
        if line.strip():
            previous = line
    lines[:] = result


def setup(app):
    app.connect("autodoc-process-docstring", _usage_blocks_as_code)
