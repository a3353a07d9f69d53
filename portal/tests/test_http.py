import pytest
from django.test import RequestFactory

from portal.http import safe_next


@pytest.mark.parametrize(
    "candidate",
    ["https://evil.example/x", "//evil.example", "javascript:alert(1)", "\\\\evil.example",
     "http:evil.example", " https://evil.example"],
)  # fmt: skip
def test_next_to_another_site_falls_back(candidate):
    request = RequestFactory().post("/approvals/1/decide/", {"next": candidate})
    assert safe_next(request, "/approvals/1/") == "/approvals/1/"


def test_next_on_this_site_is_kept():
    request = RequestFactory().post("/x", {"next": "/catalog/default/ledger/?tab=releases"})
    assert safe_next(request, "/") == "/catalog/default/ledger/?tab=releases"
