"""GX Data Docs that load nothing from another host.

Great Expectations' page templates pull jQuery, Bootstrap, bootstrap-table, Vega and Font
Awesome from public CDNs and the logo from a cloud bucket (with the data context id in the
query string). Offline, behind a firewall, or where those hosts are slow or blocked, an
auditor sees an unstyled, empty page. After each build the site gets local copies of those
assets (``static/vendor``, the npm packages at the pinned versions) and every page's
references are pointed at them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"

# Each CDN address the Data Docs templates use, and the local copy under static/vendor.
CDN_COPIES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6/vega-embed.min.js",
}
# The logo and its tracking query come from a cloud bucket; the site ships the same logo.
_BUCKET_IMAGE = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z0-9_.-]*(\?[^\"']*)?"
)
# Subresource-integrity and CORS attributes were written for the CDN copies; a file:// page
# cannot load a script marked crossorigin.
_CDN_ATTRIBUTES = re.compile(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")')
# A reference into the site's own static folder, however deep GX thought the page was (its
# validation pages point their favicon one level short).
_STATIC_REF = re.compile(r"""((?:src|href)=["'])(?:\./|(?:\.\./)+)?static/""")
# What makes a browser fetch: script and img src, link href (anchors are only followed on a click).
_LOADS = re.compile(r"<(?:script|img|link|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.I)


def remote_loads(html: str) -> list[str]:
    """The addresses a page would fetch from another host as it opens (should be none)."""
    return [url for url in _LOADS.findall(html) if re.match(r"(https?:)?//", url)]


def _localise(html: str, static: str) -> str:
    for url, local in CDN_COPIES.items():
        html = html.replace(f'"{url}"', f'"{static}/vendor/{local}"')
    html = _BUCKET_IMAGE.sub(f"{static}/images/logo-long.png", html)
    html = _STATIC_REF.sub(lambda m: f"{m[1]}{static}/", html)
    return _CDN_ATTRIBUTES.sub("", html)


def make_offline(site: Path) -> list[Path]:
    """Copy the vendored assets into the site and point every page at them; returns the pages."""
    static = site / "static"
    shutil.copytree(VENDOR, static / "vendor", dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        local = _localise(html, Path(os.path.relpath(static, page.parent)).as_posix())
        if local != html:
            page.write_text(local, encoding="utf-8")
    return pages
