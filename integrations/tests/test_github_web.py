"""Links people open go to GitHub's web pages, on the GitHub the portal is configured with."""

import pytest
import requests

from integrations.github import web_url


@pytest.mark.parametrize(
    "api, page",
    [
        ("https://api.github.com", "https://github.com/o/r/compare/1.0.0...1.1.0"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/o/r/compare/1.0.0...1.1.0"),
        ("http://127.0.0.1:4321", "http://127.0.0.1:4321/o/r/compare/1.0.0...1.1.0"),
    ],
)
def test_web_url_is_the_web_host_of_the_configured_api(settings, api, page):
    settings.INTEGRATION_URLS = {"github": api}
    assert web_url("o/r/compare/1.0.0...1.1.0") == page


def test_no_github_configured_gives_no_link(settings):
    settings.INTEGRATION_URLS = {}
    assert web_url("o/r") == ""


def test_the_sandbox_serves_the_compare_page_of_two_versions(release_sandbox, settings):
    from sandbox.demo import demo_service_names, demo_versions

    name = demo_service_names(3)[1]
    versions = demo_versions(name)
    page = requests.get(
        web_url(f"example/{name}/compare/{versions[0]}...{versions[-1]}"), timeout=5
    )
    assert page.status_code == 200 and versions[-1] in page.text
    assert (
        requests.get(web_url(f"example/{name}/compare/0.0.0...9.9.9"), timeout=5).status_code == 404
    )
    assert (
        requests.get(web_url(f"example/{name}/actions/runs/424242"), timeout=5).status_code == 404
    )
