"""Panels: the cards of the service, release and approval pages, one class per card.

A panel declares what it is (title, the permission to see it, its htmx fragment URL by name, its
refresh interval) and on which pages it sits. Apps register their panels from their own
`panels.py`, imported by their AppConfig.ready(); a page asks `panels_for(page, request, subject)`
and renders what comes back, in order, with `{% render_panels panels "slot" %}`. So the service
page (catalog) shows deployments' and approvals' cards without importing either app.

Every fragment URL is a plain `path()` in the owning app's urls.py (greppable); panels whose card
has no view of its own use `panel_fragment`, which checks the panel's permission (404 when the
user may not see it, like any object they may not see).
"""

from dataclasses import dataclass
from typing import Any, ClassVar

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

SERVICE = "service"  # catalog:component_detail, subject: a catalog Component
RELEASE = "release"  # deployments:release_detail, subject: a Release
APPROVAL = "approval"  # approvals:approval_detail, subject: an ApprovalRequest
PAGES = (SERVICE, RELEASE, APPROVAL)
SLOTS = ("main", "aside", "wide")  # where on the page; one-column pages use "main" and "wide"


class Panel:
    """One card. Subclass, set the class attributes, decorate with `@register`."""

    name: ClassVar[str] = ""  # one name: registry key, DOM id "panel-<name>", tests
    title: ClassVar[str] = ""
    permission: ClassVar[str] = ""  # checked as user.has_perm(permission, target)
    url_name: ClassVar[str] = ""  # the fragment URL, e.g. "deployments:panel_releases"
    refresh: ClassVar[int | None] = None  # seconds between htmx reloads; None: never
    lazy: ClassVar[bool] = False  # True: the page shows a link that htmx replaces on load
    template: ClassVar[str] = ""  # what the fragment renders ("app/page.html#partial" too)
    placeholder: ClassVar[str] = "portal/panel_placeholder.html"  # a lazy panel's stand-in
    model: ClassVar[Any] = None  # what `panel_fragment` loads by pk
    pages: ClassVar[dict[str, tuple[str, int]]] = {}  # page -> (slot, order)

    def target(self, subject):
        """What the panel is about on a page whose subject is `subject`; None hides it."""
        return subject

    def url_args(self, target) -> list:
        return [target.pk]

    def url(self, target) -> str:
        return reverse(self.url_name, args=self.url_args(target))

    def is_lazy(self, page: str) -> bool:
        """Override when a card is inline on its own page and lazy elsewhere."""
        return self.lazy

    def visible(self, user, target) -> bool:
        return user.has_perm(self.permission, target)

    def context(self, request, target, page) -> dict:
        """What the template needs besides the page's own context (`page`; empty for the
        fragment view). Reuse what the page already loaded, so the page's queries stay flat."""
        return {}

    def load(self, pk: int):
        return get_object_or_404(self.model, pk=pk)


registry: dict[str, Panel] = {}


def register(cls: type[Panel]) -> type[Panel]:
    """Class decorator: one instance per panel class, keyed by its name."""
    if not all((cls.name, cls.title, cls.permission, cls.url_name, cls.template, cls.pages)):
        raise ValueError(
            f"{cls.__name__} must declare name, title, permission, url_name, template and pages"
        )
    if cls.name in registry and type(registry[cls.name]) is not cls:
        raise ValueError(f"Two panels are called {cls.name!r}")
    if bad := [p for p, (slot, _) in cls.pages.items() if p not in PAGES or slot not in SLOTS]:
        raise ValueError(f"{cls.__name__}: unknown page or slot in {bad}")
    registry[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    registry.pop(name, None)


@dataclass(frozen=True)
class BoundPanel:
    """A panel placed on one page for one target, as the page template sees it."""

    panel: Panel
    target: Any
    slot: str
    order: int
    url: str
    lazy: bool = False

    @property
    def name(self) -> str:
        return self.panel.name

    @property
    def title(self) -> str:
        return self.panel.title

    @property
    def refresh(self) -> int | None:
        return self.panel.refresh

    @property
    def dom_id(self) -> str:
        return f"panel-{self.panel.name}"

    @property
    def hx_trigger(self) -> str:
        return "load" + (f", every {self.refresh}s" if self.refresh else "")


def panels_for(page: str, request, subject) -> list[BoundPanel]:
    """The panels of `page` that `request.user` may see, in order."""
    bound = []
    for panel in registry.values():
        if page not in panel.pages:
            continue
        target = panel.target(subject)
        if target is None or not panel.visible(request.user, target):
            continue
        slot, order = panel.pages[page]
        url = panel.url(target)
        bound.append(BoundPanel(panel, target, slot, order, url, panel.is_lazy(page)))
    return sorted(bound, key=lambda b: (b.order, b.name))


def panel_fragment(request, pk: int, *, panel: str):
    """The fragment of a panel that has no view of its own: `path(..., {"panel": name})`.

    Without htmx (the placeholder's `href`) the card comes on a page of its own."""
    found = registry.get(panel)
    if found is None:
        raise Http404("No such panel.")
    target = found.load(pk)
    if not found.visible(request.user, target):
        raise Http404("No such panel.")
    bound = BoundPanel(found, target, "", 0, request.path)
    context = found.context(request, target, {}) | {"panel": bound}
    if request.htmx:
        return render(request, found.template, context)
    context["panel_template"] = found.template
    return render(request, "portal/panel_page.html", context)
