"""Find the ```python snippets of the documentation (docs/**/*.md and README.md).

A snippet is run alone, as a reader would paste it into a fresh interpreter. The line before
its opening fence may hold a marker:

* ``<!-- snippet: skip: REASON -->`` an illustrative snippet that is not run (say why);
* ``<!-- snippet: needs-data -->`` it reads the real datasets (``GLASSNET_DATA`` or
  ../shared/data beside the repository), and is skipped when they are absent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"<!--\s*snippet:\s*(?P<kind>skip|needs-data)\s*(?::\s*(?P<reason>.*?))?\s*-->")


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int          # 1-based line of the opening fence
    code: str
    marker: str | None  # "skip", "needs-data" or None
    reason: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO).as_posix()}:{self.line}"


def markdown_files() -> list[Path]:
    return sorted((REPO / "docs").rglob("*.md")) + [REPO / "README.md"]


def snippets(path: Path) -> list[Snippet]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            m = MARKER.search(prev)
            found.append(Snippet(path, start + 1, "\n".join(lines[start + 1:j]) + "\n",
                                 m.group("kind") if m else None,
                                 (m.group("reason") or "") if m else ""))
            i = j + 1
        else:
            i += 1
    return found


def all_snippets() -> list[Snippet]:
    return [s for p in markdown_files() for s in snippets(p)]
