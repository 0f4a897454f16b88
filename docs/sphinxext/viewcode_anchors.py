"""Fix the "[docs]" links of the source pages written by sphinx.ext.viewcode.

viewcode builds every back link of a source file as ``<refname>.<name>``,
with one ``refname`` per file: the module under which the first object of
that file was documented. Objects of one file documented under two module
names, e.g. ``braindecode_augnet.AugmentationLayer`` (re-exported at the top
level) and ``braindecode_augnet.layers.apply_grouped`` (documented where it
is defined), then get back links to anchors that do not exist
(``...layers.apply_grouped.html#braindecode_augnet.apply_grouped``).

After an HTML build, this extension rewrites each such back link whose anchor
is missing from its target page to the anchor the page has: the page of an
autosummary stub is named after the documented object, so the anchor is the
page's module followed by the object's name in its file. Links that already
work are left alone.
"""

import re
from pathlib import Path

_BACKLINK = re.compile(
    r'(?P<before><a class="viewcode-back" href=")'
    r'(?P<path>[^"#]+/(?P<page>[^"/#]+)\.html)#(?P<anchor>[^"]+)"'
)


def _ids(path, cache):
    if path not in cache:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        cache[path] = set(re.findall(r'\bid="([^"]+)"', text))
    return cache[path]


def _fixed_anchor(page, anchor, ids):
    """The anchor of ``ids`` that ``anchor`` meant, or None."""
    parts = anchor.split(".")
    page_parts = page.split(".")
    for start in range(1, len(parts)):
        name = parts[start:]  # the object's name in its file, e.g. AugNet.forward
        # the page documents name[0] (a class or function) in some module
        if page_parts[-1] != name[0]:
            continue
        candidate = ".".join(page_parts[:-1] + name)
        if candidate in ids:
            return candidate
    return None


def fix_backlinks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    cache = {}
    for source_page in (outdir / "_modules").rglob("*.html"):
        text = source_page.read_text(encoding="utf-8")

        def replace(match, source_page=source_page):
            target = (source_page.parent / match["path"]).resolve()
            ids = _ids(target, cache)
            if match["anchor"] in ids:
                return match.group(0)
            fixed = _fixed_anchor(match["page"], match["anchor"], ids)
            if fixed is None:
                return match.group(0)
            return f'{match["before"]}{match["path"]}#{fixed}"'

        new_text = _BACKLINK.sub(replace, text)
        if new_text != text:
            source_page.write_text(new_text, encoding="utf-8")


def setup(app):
    app.connect("build-finished", fix_backlinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
