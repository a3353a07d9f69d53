"""Pages fit their width: long API addresses and commands wrap, the top bar fits a phone."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _tryit(live_server, version):
    return (
        f"{live_server.url}/apis/{version.definition_id}/v{version.number}/try/"
        "?op=helloworld.Greeter.SayHello"
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_service_and_try_it_pages_do_not_scroll_sideways(
    login_page, live_server, owner, grpc_version, width, tmp_path
):
    page = login_page(owner)
    page.set_viewport_size({"width": width, "height": 900})
    from catalog.models import ComponentEnvironment

    long_url = "http://" + "a-very-long-host-name-" * 6 + "example.com:8443/base/path"
    ComponentEnvironment.objects.filter(component=grpc_version.definition.component).update(
        api_base_url=long_url
    )
    for url in (
        f"{live_server.url}{grpc_version.definition.component.get_absolute_url()}",
        _tryit(live_server, grpc_version),
        f"{live_server.url}/",
    ):
        page.goto(url)
        page.screenshot(path=str(tmp_path / f"layout-{width}.png"), full_page=True)
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter(e =>
                e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5)
                .map(e => e.tagName + '.' + e.className)"""
        )
        assert page.evaluate(OVERFLOW) <= 0, (url, wide)
    if width == 1280:
        page.goto(f"{live_server.url}{grpc_version.definition.component.get_absolute_url()}")
        card, table = page.evaluate(
            """() => { const t = document.querySelector('#envs-h').parentNode;
                       return [t.clientWidth, t.querySelector('table').scrollWidth]; }"""
        )
        assert table <= card


def test_top_bar_fits_a_phone(login_page, live_server, owner):
    page = login_page(owner)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/")
    bar = page.evaluate(
        "() => { const b = document.querySelector('.topbar');"
        " return [b.scrollWidth, b.clientWidth]; }"
    )
    assert bar[0] <= bar[1]
    assert page.evaluate(OVERFLOW) <= 0
