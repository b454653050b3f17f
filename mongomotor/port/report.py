"""What the tool did and what it leaves to a person: one finding per site, with file:line.

finding = Finding(Path("app/models.py"), 12, "await", "rewritten", "post.save() is I/O")
print(finding.line_text())   # app/models.py:12: rewritten [await] post.save() is I/O
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REWRITTEN = "rewritten"
REVIEW = "review"


@dataclass(frozen=True, order=True)
class Finding:
    path: Path
    line: int
    rule: str
    action: str  # REWRITTEN or REVIEW
    message: str

    def line_text(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return f"{path}:{self.line}: {self.action} [{self.rule}] {self.message}"


def summary(findings: Iterable[Finding]) -> str:
    """One line: how many sites were rewritten, left for review, and entry points."""
    findings = list(findings)
    counts = Counter(f.action for f in findings if f.rule != "entry")
    entries = sum(1 for f in findings if f.rule == "entry")
    rules = Counter(f.rule for f in findings if f.action == REWRITTEN)
    by_rule = ", ".join(f"{rule} {count}" for rule, count in sorted(rules.items()))
    return (
        f"{counts[REWRITTEN]} site(s) rewritten ({by_rule or 'none'}), "
        f"{counts[REVIEW]} left for review, {entries} entry point(s) to check"
    )


def render(
    findings: Iterable[Finding],
    root: Path | None = None,
    actions: tuple[str, ...] = (REWRITTEN, REVIEW),
) -> str:
    ordered = sorted(f for f in set(findings) if f.action in actions)
    return "\n".join(f.line_text(root) for f in ordered)
