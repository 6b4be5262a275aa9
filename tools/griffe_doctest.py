"""A griffe extension for the documentation site (mkdocs.yml loads it): glassnet's
docstrings are numpydoc with doctest examples, so

* a section headed ``Example`` (singular, as many of glassnet's are) is read as numpydoc's
  ``Examples`` section, whose ``>>>`` lines griffe renders as code with their output;
* Sphinx roles (``:class:`~a.B` ``, ``:math:`x` ``) become inline code (``B``, ``x``);
* a doctest block that stands outside such a section (a class or function docstring that is
  only a sentence and an example) is fenced as a ``pycon`` code block, so its output lines
  (``[0, 1]``, ``(4, 3)``) are shown as code, not read as Markdown links.
"""
from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_HEADER = re.compile(r"^Example\n-------$", re.M)
# Sphinx roles (:class:`~glassnet.nn.Linear`, :math:`x^2`), which Markdown does not know
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|obj|exc|data|math):`(~?)([^`]+)`")


def _role(m: re.Match[str]) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"


def fence_doctests(text: str) -> str:
    """Return ``text`` with numpydoc's singular ``Example`` header made plural and every
    doctest block outside an ``Examples`` section fenced as ``pycon``."""
    text = _HEADER.sub("Examples\n--------", text)
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if (i + 1 < len(lines) and line.strip() and set(lines[i + 1].strip()) == {"-"}
                and not line.startswith(" ")):
            section = line.strip().lower()
        if line.lstrip().startswith(">>>") and section != "examples":
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += [indent + "```pycon", *block, indent + "```"]
            continue
        out.append(_ROLE.sub(_role, line))
        i += 1
    return "\n".join(out)


class DoctestBlocks(Extension):
    """Rewrite each object's docstring with :func:`fence_doctests` once it is loaded."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
