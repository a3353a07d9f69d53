import pytest
from django.template import Context, Template

from portal.links import is_http_url


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/acme/ledger/actions/runs/1", True),
        ("http://grafana.internal:3000/d/x", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,hi", False),
        ("//evil.example", False),
        ("https://", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_pass(url, ok):
    assert is_http_url(url) is ok


def test_template_filter_never_renders_a_script_href():
    html = Template('{% load links %}<a href="{{ u|http_url }}">x</a>').render(
        Context({"u": "javascript:alert(document.domain)"})
    )
    assert html == '<a href="">x</a>'
