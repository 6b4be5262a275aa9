"""Render one page of the BUILT documentation site to a PNG, without a browser.

WeasyPrint lays the page out from its HTML and CSS (the Material theme's stylesheets, as
built by ``mkdocs build``; no JavaScript runs, so the search box and the navigation's
collapsing stay static) into a PDF, and PDFium (pypdfium2) rasterises its first page:

    mkdocs build --strict -d site
    python tools/screenshot_page.py site/api/nn/index.html docs/images/api_page.png

Needs ``pip install weasyprint pypdfium2`` (not an extra of glassnet: only this tool uses them).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# a screen-sized page, the theme's screen layout (not its print stylesheet), no margins
PAGE_CSS = """
@page { size: %(width)dpx %(height)dpx; margin: 0; }
html { font-size: 125%%; }
/* the theme's JavaScript-driven layout, made static for a paged renderer: the header and
   the navigation sidebars are position: sticky/fixed there */
.md-header { position: static !important; }
.md-container, .md-main, .md-main__inner, .md-content { display: block !important; }
.md-sidebar--secondary, .md-search, .md-header__option, .md-tabs { display: none !important; }
.md-sidebar--primary { display: none !important; }
.md-content { margin: 0 2rem !important; max-width: none !important; }
.md-grid { max-width: none !important; margin: 0 !important; }
.md-typeset pre, .md-typeset code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.md-skip, .md-banner { display: none !important; }
"""


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 1100,
               scale: float = 1.0) -> None:
    """Write the first ``height`` pixels of ``html`` laid out ``width`` pixels wide to ``png``."""
    import pypdfium2 as pdfium
    from weasyprint import CSS, HTML

    css = CSS(string=PAGE_CSS % {"width": width, "height": height})
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "page.pdf"
        HTML(filename=str(html), media_type="screen").write_pdf(pdf, stylesheets=[css])
        doc = pdfium.PdfDocument(str(pdf))
        # PDF points are 1/72 in, CSS pixels 1/96 in: scale 96/72 gives one pixel per px
        image = doc[0].render(scale=scale * 96 / 72).to_pil()
        png.parent.mkdir(parents=True, exist_ok=True)
        image.save(png)
        doc.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="render a built docs page to PNG")
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1100)
    args = ap.parse_args(argv)
    screenshot(args.html, args.png, args.width, args.height)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
