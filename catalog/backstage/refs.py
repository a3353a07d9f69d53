"""Backstage entity references: `[kind:][namespace/]name`, compared case-insensitively.

Which kind a reference may omit, and which kinds it may point at, depends on the field
(Backstage's BuiltinKindsEntityProcessor): spec.owner defaults to Group, spec.system to System,
spec.dependsOn has no default and must name its kind, and so on. The namespace defaults to the
referencing entity's own namespace.
"""

from dataclasses import dataclass
from functools import lru_cache

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    pass


@dataclass(frozen=True)
class FieldRule:
    default_kind: str | None
    allowed: frozenset[str]


def _rule(default, *allowed):
    return FieldRule(default, frozenset(allowed or (default,)))


# spec field -> how its references are read
FIELD_RULES = {
    "owner": _rule("group", "group", "user"),
    "system": _rule("system"),
    "domain": _rule("domain"),
    "subdomainOf": _rule("domain"),
    "subcomponentOf": _rule("component"),
    "dependsOn": _rule(None, "component", "resource"),
    "dependencyOf": _rule(None, "component", "resource"),
    "providesApis": _rule("api", "api"),
    # Backstage emits the relation for any kind; the examples consume a component's API this way.
    "consumesApis": _rule("api", "api", "component", "resource"),
    "memberOf": _rule("group"),
    "parent": _rule("group"),
    "children": _rule("group"),
    "members": _rule("user"),
}

Key = tuple[str, str, str]  # (kind, namespace, name), all lower case


def entity_key(kind: str, namespace: str, name: str) -> Key:
    return (kind.lower(), namespace.lower(), name.lower())


def parse_ref(value, *, field: str, namespace: str) -> Key:
    if isinstance(value, str):
        return _parse_cached(value, field, namespace)
    return _parse(value, field, namespace)


@lru_cache(maxsize=65536)
def _parse_cached(value: str, field: str, namespace: str) -> Key:
    return _parse(value, field, namespace)


def _parse(value, field: str, namespace: str) -> Key:
    """The key a reference in `field` of an entity in `namespace` points at, or RefError."""
    rule = FIELD_RULES[field]
    if not isinstance(value, str) or not value.strip():
        raise RefError(f"spec.{field}: {value!r} is not an entity reference")
    kind, sep, rest = value.strip().partition(":")
    if not sep:
        kind, rest = "", value.strip()
    ref_namespace, sep, name = rest.partition("/")
    if not sep:
        ref_namespace, name = "", rest
    kind = kind or rule.default_kind or ""
    if not kind:
        raise RefError(
            f"spec.{field}: {value!r} must name its kind "
            f"(e.g. component:{value} or resource:{value})"
        )
    if not name:
        raise RefError(f"spec.{field}: {value!r} has no name")
    kind = kind.lower()
    if kind not in rule.allowed:
        allowed = ", ".join(sorted(rule.allowed))
        raise RefError(
            f"spec.{field}: {value!r} points at a {kind}, but may only point at {allowed}"
        )
    return entity_key(kind, ref_namespace or namespace, name)


def format_ref(key_kind: str, namespace: str, name: str, *, field: str, own_namespace: str) -> str:
    """The shortest reference that reads back to the same entity from `own_namespace`."""
    rule = FIELD_RULES[field]
    text = name if namespace.lower() == own_namespace.lower() else f"{namespace}/{name}"
    return text if rule.default_kind == key_kind else f"{key_kind}:{text}"


def key_str(key: Key) -> str:
    return f"{key[0]}:{key[1]}/{key[2]}"
