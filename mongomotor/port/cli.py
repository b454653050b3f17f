"""The command line: ``mongomotor port [--diff | --write | --check] PATH...``.

mongomotor port --check app/   # exit 1 and list every sync I/O site still there
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from mongomotor.port.engine import port_paths
from mongomotor.port.report import REVIEW, REWRITTEN, render, summary

NO_NEWLINE = "\\ No newline at end of file"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mongomotor", description="mongomotor's tools")
    commands = top.add_subparsers(dest="command", required=True)
    port = commands.add_parser(
        "port",
        help="port a MongoEngine codebase to mongomotor",
        description=(
            "Rewrite MongoEngine code for mongomotor: imports, await on every call that "
            "does I/O, async for over QuerySets, async def up the call graph. Sites the "
            "tool cannot decide are listed for review with file:line and why."
        ),
    )
    mode = port.add_mutually_exclusive_group()
    mode.add_argument(
        "--diff",
        action="store_const",
        dest="mode",
        const="diff",
        help="print the change as a unified diff, write nothing (the default)",
    )
    mode.add_argument(
        "--write",
        action="store_const",
        dest="mode",
        const="write",
        help="rewrite the files in place",
    )
    mode.add_argument(
        "--check",
        action="store_const",
        dest="mode",
        const="check",
        help="exit 1 if any sync I/O site is left; write nothing",
    )
    port.add_argument("--quiet", action="store_true", help="print only the summary line")
    port.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    port.set_defaults(mode="diff")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"mongomotor port: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = port_paths(args.paths)
    root = Path.cwd()
    if args.mode == "check":
        pending = render(result.findings, root, actions=(REWRITTEN,))
        reviews = render(result.findings, root, actions=(REVIEW,))
        if pending:
            print("sync I/O left (mongomotor port --write rewrites these):")
            print(pending.replace(f": {REWRITTEN} [", ": sync I/O ["))
        if reviews and not args.quiet:
            print("for review:")
            print(reviews)
        print(f"{len(result.changed)} file(s) would change; {summary(result.findings)}")
        return 1 if result.changed else 0
    if args.mode == "diff":
        for path, new in sorted(result.changed.items()):
            old = result.originals[path]
            lines = difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=str(path),
                tofile=str(path),
            )
            for line in lines:
                sys.stdout.write(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}\n")
    else:
        for path, new in sorted(result.changed.items()):
            path.write_text(new, encoding="utf-8")
    if not args.quiet:
        listing = render(result.findings, root)
        if listing:
            print(listing, file=sys.stderr)
    verb = "changed" if args.mode == "write" else "would change"
    print(f"{len(result.changed)} file(s) {verb}; {summary(result.findings)}", file=sys.stderr)
    return 0
