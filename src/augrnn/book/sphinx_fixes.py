"""A Sphinx extension for the book build: drop repeated <script> tags; add the reading fixes.

`static/augrnn.css` and `static/augrnn.js` make the pandas tables fit the column: cells wrap on a wide
screen, and on a phone each row becomes a card whose cells carry their column's label.

With Sphinx 7.4, sphinx-thebe 0.3.1 (pulled in by Jupyter Book 1.0.4) registers its inline
`const THEBE_JS_URL = ...` script twice, and the second copy throws "Identifier 'THEBE_JS_URL' has
already been declared" in every page's console. Identical scripts are removed per page here.
"""

from pathlib import Path


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []  # the copies differ only in filename None vs ""
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def _add_static(app):
    app.config.html_static_path.append(str(Path(__file__).with_name("static")))


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("builder-inited", _add_static)
    app.add_css_file("augrnn.css")
    app.add_js_file("augrnn.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
