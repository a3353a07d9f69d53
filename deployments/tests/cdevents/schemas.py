"""Validate CDEvents against the official JSON schemas of CDEvents 0.5.1 (../shared/specs)."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


@cache
def _validators(root: str) -> dict[str, Draft202012Validator]:
    folder = Path(root) / "specs" / "cdevents" / "schemas"
    schemas = [json.loads(p.read_text()) for p in sorted(folder.glob("**/*.json"))]
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    by_type = {}
    for schema in schemas:
        kind = schema.get("properties", {}).get("context", {}).get("properties", {}).get("type")
        if kind and "enum" in kind:
            by_type[kind["enum"][0]] = Draft202012Validator(
                schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
    return by_type


def cdevent_problems(shared_dir: Path, event: dict) -> list[str]:
    """Every way `event` breaks the schema of its type (empty when it conforms)."""
    validators = _validators(str(shared_dir))
    kind = event.get("context", {}).get("type", "")
    if kind not in validators:
        return [f"no CDEvents 0.5.1 schema for type {kind!r}"]
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validators[kind].iter_errors(event)
    ]
