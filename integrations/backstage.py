"""A running Backstage: its catalog's entities over the REST API (`/api/catalog/entities/by-query`).

Cursor pagination as the catalog backend documents it (spec: shared/specs/backstage), an optional
bearer token (a static external-access token, or a service token), and a timeout on every call.
Backstage has no official Python client; requests is the whole client.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import requests

from .errors import IntegrationError

SYSTEM = "backstage"
PAGE_SIZE = 500
# Backstage writes these itself on every entity; a mirror that kept them would see every entity
# "updated" whenever Backstage reprocesses it.
GENERATED_METADATA = ("uid", "etag", "generation")


@dataclass(frozen=True)
class EntityPage:
    items: list[dict]
    total: int
    next_cursor: str | None


class BackstageCatalog(Protocol):
    def entities(self, *, on_page: Callable[[int, int], None] | None = None) -> Iterator[dict]: ...


class BackstageRestCatalog:
    """The real client: the catalog backend's REST API through requests."""

    def __init__(self, *, base_url: str, token: str = "", timeout: float = 10.0):
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def page(self, cursor: str | None = None, *, limit: int = PAGE_SIZE) -> EntityPage:
        """One page of entities; the first one is ordered by reference, so pages are stable."""
        params = (
            {"cursor": cursor} if cursor else {"limit": limit, "orderField": "metadata.name,asc"}
        )
        if cursor:
            params["limit"] = limit
        body = self._get("/api/catalog/entities/by-query", params)
        try:
            items, total = body["items"], int(body["totalItems"])
            next_cursor = (body.get("pageInfo") or {}).get("nextCursor")
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrationError(
                f"unexpected answer from the catalog API ({exc!r}): is this a Backstage backend?",
                transient=False,
                system=SYSTEM,
            ) from exc
        return EntityPage([_clean(e) for e in items if isinstance(e, dict)], total, next_cursor)

    def entities(self, *, on_page: Callable[[int, int], None] | None = None) -> Iterator[dict]:
        """Every entity, page by page; `on_page(done, total)` after each page (progress)."""
        cursor, done = None, 0
        while True:
            page = self.page(cursor)
            done += len(page.items)
            yield from page.items
            if on_page is not None:
                on_page(done, page.total)
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor

    def _get(self, path: str, params: dict) -> dict:
        try:
            response = self._session.get(
                f"{self._base}{path}", params=params, timeout=self._timeout
            )
        except requests.Timeout as exc:
            raise IntegrationError(
                f"{self._base} did not answer within {self._timeout:g} s",
                transient=True,
                system=SYSTEM,
            ) from exc
        except requests.RequestException as exc:
            raise IntegrationError(
                f"cannot reach {self._base}: {exc.__class__.__name__}; check the source's URL",
                transient=True,
                system=SYSTEM,
            ) from exc
        if response.status_code in (401, 403):
            raise IntegrationError(
                f"{self._base} refused the token (HTTP {response.status_code}): set the source's "
                "token to a Backstage static or service token that may read the catalog",
                transient=False,
                system=SYSTEM,
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise IntegrationError(
                f"{self._base}{path} answered HTTP {response.status_code}: {response.text[:200]}",
                transient=response.status_code >= 500 or response.status_code == 429,
                system=SYSTEM,
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise IntegrationError(
                f"{self._base}{path} did not answer JSON", transient=False, system=SYSTEM
            ) from exc


def _clean(entity: dict) -> dict:
    metadata = entity.get("metadata")
    if isinstance(metadata, dict):
        entity = {
            **entity,
            "metadata": {k: v for k, v in metadata.items() if k not in GENERATED_METADATA},
        }
    return entity
