"""The component list's filters and facet counts.

One UNION ALL query of per-facet GROUP BYs over the rows matching the search gives every facet's
counts *and* the total for the pager: each facet counts the rows that match all the other chosen
filters. It returns one row per option (a few hundred), not one per component, so the list costs
the same handful of queries and Python work at 200 or 20,000 components.
"""

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast
from django.http import QueryDict

from .models import Component, Namespace, Team
from .selectors import catalog_version

PAGE_SIZE = 50
# The owner facet's value for components without an owning team (e.g. an owner defined in some
# other system, not in the catalog yet): they are the platform team's to chase.
UNOWNED = "-"
FACETS = ("kind", "lifecycle", "owner", "namespace")
FACET_COLUMNS = {
    "kind": "kind",
    "lifecycle": "lifecycle",
    "owner": "owner_id",
    "namespace": "namespace_id",
}
_REF = ("name", "title", "metadata_namespace")
# What a list row shows: no API definitions, annotations or JSON blobs are read for it.
LIST_COLUMNS = (
    *_REF,
    "entity_kind",
    "kind",
    "lifecycle",
    "tier",
    "description",
    "owner_id",
    "namespace_id",
    "parent_id",
    *(f"owner__{f}" for f in _REF),
    *(f"namespace__{f}" for f in _REF),
    *(f"parent__{f}" for f in (*_REF, "entity_kind")),
)


@dataclass(frozen=True)
class ComponentFilters:
    q: str = ""
    kind: str = ""
    lifecycle: str = ""
    owner: str = ""  # team name
    namespace: str = ""  # namespace name
    system: str = ""  # system name (not a facet: the namespace page links to it)
    sub: bool = False  # include subcomponents

    @classmethod
    def from_query(cls, params: QueryDict) -> "ComponentFilters":
        def one(key: str) -> str:
            return params.get(key, "").strip()[:200]

        return cls(
            q=one("q"),
            kind=one("kind"),
            lifecycle=one("lifecycle"),
            owner=one("owner"),
            namespace=one("namespace"),
            system=one("system"),
            sub=params.get("sub") == "1",
        )

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in ("q", "system", *FACETS)) or self.sub

    def querystring(self, **changes) -> str:
        """This filter set as a URL query, with `changes` applied (for pager and facet links)."""
        values = {
            "q": self.q,
            **{name: getattr(self, name) for name in FACETS},
            "system": self.system,
            "sub": "1" if self.sub else "",
        }
        values.update(changes)
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value:
                query[key] = value
        return query.urlencode()


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class ComponentFacets:
    filters: ComponentFilters
    base: QuerySet
    total: int
    options: dict[str, list[FacetOption]] = field(default_factory=dict)
    selection: Q = field(default_factory=Q)

    def page(self, number) -> Page:
        # Top-level rows have no parent: joining the whole table for it would cost a hash of
        # every component on each page.
        related = ("owner", "namespace", "parent") if self.filters.sub else ("owner", "namespace")
        columns = [c for c in LIST_COLUMNS if self.filters.sub or not c.startswith("parent__")]
        rows = self.base.filter(self.selection).select_related(*related).only(*columns)
        if self.filters.q:
            rows = rows.annotate(rank=search_rank(self.filters.q)).order_by("rank", "name", "pk")
        else:
            rows = rows.order_by("name", "pk")
        paginator = _CountedPaginator(rows, PAGE_SIZE, self.total)
        return paginator.get_page(number)


class _CountedPaginator(Paginator):
    """A paginator told its count (already known from the facet query)."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _search(qs: QuerySet, query: str) -> QuerySet:
    # On PostgreSQL each UPPER(column) LIKE '%term%' is answered by a trigram GIN index
    # (migration 0005); on SQLite it is a scan, which the embedded default's size allows.
    for term in query.split():
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(title__icontains=term)
            | Q(description__icontains=term)
            | Q(tags__icontains=term)
        )
    return qs


def search_rank(query: str) -> Case:
    """What people expect first: the exact name, then names starting with it, then the rest."""
    query = query.strip()
    return Case(
        When(name__iexact=query, then=Value(0)),
        When(name__istartswith=query, then=Value(1)),
        When(title__icontains=query, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def _facet_counts(base: QuerySet, selections: dict[str, Q]) -> dict[str, Counter]:
    """Every facet's counts in one UNION ALL query of small GROUP BYs (a few hundred rows).

    Each facet counts the rows that match all the *other* chosen filters, so other values stay
    choosable. Grouping per facet (not by all four columns at once) keeps the rows returned at
    the number of options, not the number of components.
    """
    parts = []
    for name in FACETS:
        column = FACET_COLUMNS[name]
        others = [q for other, q in selections.items() if other != name]
        parts.append(
            base.filter(*others)
            .order_by()
            .annotate(facet=Value(name), value=Cast(column, CharField()))
            .values_list("facet", "value")
            .annotate(n=Count("*"))  # not COUNT(id): then the covering index alone answers
        )
    counters = {name: Counter() for name in FACETS}
    for name, value, n in parts[0].union(*parts[1:], all=True):
        counters[name][value] += n
    return counters


@dataclass(frozen=True)
class _Named:
    """A team or namespace as a facet option shows it."""

    pk: int
    name: str
    title: str

    def __str__(self):
        return self.title or self.name


_named: tuple[str, dict, dict] | None = None  # (catalog version, teams, namespaces)


def _teams_and_namespaces() -> tuple[dict, dict]:
    """Every team and namespace by pk: read once per catalog version and process (one query
    for the version then; the version changes with every write to either table)."""
    global _named
    version = catalog_version()
    if version is not None and _named is not None and _named[0] == version:
        return _named[1], _named[2]
    teams = {pk: _Named(pk, n, t) for pk, n, t in Team.objects.values_list("pk", "name", "title")}
    namespaces = {
        pk: _Named(pk, n, t) for pk, n, t in Namespace.objects.values_list("pk", "name", "title")
    }
    if version is not None:
        _named = (version, teams, namespaces)
    return teams, namespaces


# A search matching at most this many rows is resolved to their ids once: the facet counts and
# the page then look rows up by id instead of repeating the trigram search five times.
SEARCH_IDS_MAX = 2000


def _searched(base: QuerySet, q: str) -> QuerySet:
    if not q:
        return base
    found = _search(base, q)
    ids = list(found.values_list("pk", flat=True)[: SEARCH_IDS_MAX + 1])
    if len(ids) > SEARCH_IDS_MAX:
        return found
    return Component.objects.filter(pk__in=ids)


def component_facets(filters: ComponentFilters) -> ComponentFacets:
    """Facet options with counts, the total and the row selection for `filters` (3 queries,
    and the ids a search matches)."""
    base = Component.objects.all() if filters.sub else Component.objects.filter(parent__isnull=True)
    if filters.system:
        base = base.filter(system__name=filters.system)
    base = _searched(base, filters.q)
    teams, namespaces = _teams_and_namespaces()
    chosen = {
        "kind": {filters.kind} if filters.kind else None,
        "lifecycle": {filters.lifecycle} if filters.lifecycle else None,
        "owner": _chosen_owner(teams, filters.owner),
        "namespace": {pk for pk, n in namespaces.items() if n.name == filters.namespace}
        if filters.namespace
        else None,
    }
    selections = {
        name: Q(**{f"{FACET_COLUMNS[name]}__isnull": True})
        if None in ids  # "unowned": no owning team
        else Q(**{f"{FACET_COLUMNS[name]}__in": ids})
        for name, ids in chosen.items()
        if ids is not None
    }
    counters = _facet_counts(base, selections)
    # Keys are text (one UNION column); ids go back to integers for the named facets.
    # (an owner of None is the "unowned" facet's count.)
    counters["owner"] = Counter(
        {(int(k) if k is not None else None): n for k, n in counters["owner"].items()}
    )
    counters["namespace"] = Counter(
        {int(k): n for k, n in counters["namespace"].items() if k is not None}
    )
    kinds = chosen["kind"]
    total = sum(n for value, n in counters["kind"].items() if kinds is None or value in kinds)

    facets = ComponentFacets(filters=filters, base=base, total=total)
    facets.options = {
        "kind": _options(counters["kind"], dict(Component.Kind.choices), filters.kind),
        "lifecycle": _options(counters["lifecycle"], {}, filters.lifecycle),
        "owner": _owner_options(counters["owner"], teams, filters.owner),
        "namespace": _named_options(counters["namespace"], namespaces, filters.namespace),
    }
    for selection in selections.values():
        facets.selection &= selection
    return facets


def _chosen_owner(teams: dict, owner: str) -> set | None:
    if not owner:
        return None
    if owner == UNOWNED:
        return {None}
    return {pk for pk, t in teams.items() if t.name == owner}


def _owner_options(counter: Counter, teams: dict, selected: str) -> list[FacetOption]:
    options = _named_options(counter, teams, "" if selected == UNOWNED else selected)
    if counter.get(None) or selected == UNOWNED:
        unowned = FacetOption(UNOWNED, "Unowned", counter.get(None, 0), selected == UNOWNED)
        options.insert(0, unowned)
    return options


def _options(counter: Counter, labels: dict, selected: str) -> list[FacetOption]:
    values = set(counter) | set(labels) | ({selected} if selected else set())
    return [
        FacetOption(value, str(labels.get(value, value)), counter.get(value, 0), value == selected)
        for value in sorted(v for v in values if v)
    ]


def _named_options(counter: Counter, rows: dict, selected: str) -> list[FacetOption]:
    """Options for a facet over teams or namespaces, keyed by name (names are what URLs carry)."""
    by_name: dict[str, FacetOption] = {}
    for pk, row in rows.items():
        option = by_name.setdefault(
            row.name, FacetOption(row.name, str(row), 0, row.name == selected)
        )
        option.count += counter.get(pk, 0)
    if selected and selected not in by_name:
        by_name[selected] = FacetOption(selected, selected, 0, True)
    return sorted(by_name.values(), key=lambda o: o.label.lower())
