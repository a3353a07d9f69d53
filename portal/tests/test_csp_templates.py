"""The Content-Security-Policy refuses inline code: no template may bring any back.

(The browser test, test_csp_browser.py, proves it on the rendered pages; this one names the
template line at once, also for pages the browser test does not open.)
"""

import re
from pathlib import Path

from django.conf import settings

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "an inline <style>"),
    (re.compile(r"\sstyle\s*=\s*[\"']", re.IGNORECASE), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"href\s*=\s*[\"']\s*javascript:", re.IGNORECASE), "a javascript: URL"),
]


def _templates():
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [path for path in Path(settings.BASE_DIR).glob("*/templates") if path.is_dir()]
    for root in roots:
        yield from root.rglob("*.html")


def test_no_template_has_inline_code():
    found = []
    for path in _templates():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found += [f"{path}:{number}: {why}" for pattern, why in INLINE if pattern.search(line)]
    assert found == []
    assert sum(1 for _ in _templates()) > 30
