"""From one Backstage entity to the fields of one Switchyard row (and back, for export).

`EntityFields` holds what an entity says: scalar fields (`row`), references to other entities
(`refs`, resolved later) and list relations. A field the entity does not mention is left out of
`row`, so that re-importing keeps what was set in Switchyard (tier without an annotation, ...).
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from portal.links import is_http_url

from .reader import _REMOTE, Problem, RawEntity
from .refs import DEFAULT_NAMESPACE, Key, RefError, entity_key, parse_ref

DEFAULT_API_VERSION = "backstage.io/v1alpha1"
MODELLED_KINDS = ("domain", "system", "component", "api", "resource", "group", "user")
# Backstage writes these itself; they are not part of a descriptor.
GENERATED_TOP_LEVEL = ("relations", "status")
TIER_ANNOTATION = "switchyard.dev/tier"
DEPENDENCY_KINDS_ANNOTATION = "switchyard.dev/dependency-kinds"
SWITCHYARD_ANNOTATIONS = (TIER_ANNOTATION, DEPENDENCY_KINDS_ANNOTATION)

NAME_RE = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")
NAMESPACE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
COMPONENT_TYPE_TO_KIND = {
    "service": "service",
    "website": "website",
    "library": "library",
    "worker": "worker",
    "cron-job": "cron-job",
    "cronjob": "cron-job",
    "cron": "cron-job",
    "kafka-consumer": "kafka-consumer",
    "consumer": "kafka-consumer",
    "data-contract": "data-contract",
}
DEPENDENCY_KINDS = ("sync", "event", "data")
_DEP_ENTRY = re.compile(r"^(?P<ref>[^=\s]+)\s*=\s*(?P<kind>[a-z]+)(?:@(?P<topic>\S+))?$")


@dataclass
class EntityFields:
    raw: RawEntity
    kind: str
    namespace: str
    name: str
    key: Key
    row: dict = field(default_factory=dict)
    refs: dict = field(default_factory=dict)  # fk field -> Key | None
    deps: set = field(default_factory=set)  # (target key, kind, topic)
    apis: set = field(default_factory=set)  # (api key, "provides" | "consumes")
    member_of: set = field(default_factory=set)  # team keys (users)
    children: list = field(default_factory=list)  # (team key, line) (groups)
    members: list = field(default_factory=list)  # (user key, line) (groups)
    dependency_of: list = field(default_factory=list)  # component/resource keys that depend on it
    parent_line: int | None = None
    # References to entities that are neither in the run nor in the catalog (tolerant import):
    # (spec field, target key, line, detail); detail is "kind@topic" for dependsOn.
    unresolved: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # this entity's invalid fields
    notes: list = field(default_factory=list)  # what was left out of a valid entity, and why

    @property
    def metadata(self) -> dict:
        return self.raw.data["metadata"]

    @property
    def spec(self) -> dict:
        spec = self.raw.data.get("spec")
        return spec if isinstance(spec, dict) else {}


def identify(raw: RawEntity, errors: list[Problem]) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of a well-formed entity, or None after recording why not."""
    data = raw.data
    kind, api_version, metadata = data.get("kind"), data.get("apiVersion"), data.get("metadata")
    if not isinstance(api_version, str) or "/" not in api_version:
        errors.append(Problem(raw.file, raw.line, "missing or invalid apiVersion"))
        return None
    if not isinstance(kind, str) or not kind:
        errors.append(Problem(raw.file, raw.line, "missing or invalid kind"))
        return None
    if not isinstance(metadata, dict):
        errors.append(Problem(raw.file, raw.line, f"{kind} has no metadata mapping"))
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace", DEFAULT_NAMESPACE)
    if not isinstance(name, str) or len(name) > 63 or not NAME_RE.match(name):
        errors.append(
            Problem(
                raw.file,
                raw.line_of("metadata", "name"),
                f"{kind} metadata.name {name!r} is not a valid name (letters, digits and - _ . "
                "between them, at most 63 characters)",
            )
        )
        return None
    if not isinstance(namespace, str) or len(namespace) > 63 or not NAMESPACE_RE.match(namespace):
        errors.append(
            Problem(
                raw.file,
                raw.line_of("metadata", "namespace"),
                f"{kind} {name}: metadata.namespace {namespace!r} is not a valid namespace",
            )
        )
        return None
    if "spec" in data and not isinstance(data["spec"], dict):
        errors.append(
            Problem(raw.file, raw.line_of("spec"), f"{kind} {name}: spec is not a mapping")
        )
        return None
    return kind, namespace, name


class FieldReader:
    """Reads typed values out of one entity, recording a Problem (with line) for each bad one."""

    def __init__(self, entity: EntityFields, known: set, file_cache: dict, *, strict: bool = True):
        self.entity, self.known, self.file_cache = entity, known, file_cache
        self.raw, self.strict = entity.raw, strict

    def error(self, line: int | None, message: str) -> None:
        label = f"{self.entity.raw.data['kind']} {self.entity.namespace}/{self.entity.name}"
        self.entity.problems.append(Problem(self.raw.file, line, f"{label}: {message}"))

    def _section(self, section: str) -> dict:
        return self.entity.metadata if section == "metadata" else self.entity.spec

    def text(self, *path: str, max_length: int = 0) -> str | None:
        """The text at `path` (e.g. "spec", "profile", "email"), None when absent or bad."""
        value = self.raw.data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
        label = ".".join(path)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(self.raw.line_of(*path), f"{label} must be text")
            return None
        value = str(value)
        if max_length and len(value) > max_length:
            self.error(self.raw.line_of(*path), f"{label} is longer than {max_length} characters")
            return None
        return value

    def string_list(self, section: str, key: str) -> list | None:
        value = self._section(section).get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(self.raw.line_of(section, key), f"{section}.{key} must be a list of strings")
            return None
        return value

    def links(self) -> list | None:
        value = self.entity.metadata.get("links")
        if value is None:
            return None
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("$yaml", "$json"):
            value = self._substitute(value, self.raw.line_of("metadata", "links"))
            if value is None:
                return None
        if not isinstance(value, list) or not all(
            isinstance(v, dict) and isinstance(v.get("url"), str) for v in value
        ):
            self.error(
                self.raw.line_of("metadata", "links"),
                "metadata.links must be a list of {url, title, icon}",
            )
            return None
        # Backstage takes any string; we never link to anything but http(s): such a link is left
        # out (with a note in the report), the entity stays, as real descriptors carry
        # unrendered placeholders like `${GIT_BASE_URL}/x`.
        kept = [link for link in value if is_http_url(link["url"])]
        label = f"{self.entity.raw.data['kind']} {self.entity.namespace}/{self.entity.name}"
        for link in value:
            if link not in kept:
                self.entity.notes.append(
                    Problem(
                        self.raw.file,
                        self.raw.line_of("metadata", "links"),
                        f"{label}: metadata.links: {link['url'][:80]!r} is not an http(s) URL: "
                        "the link is left out",
                    )
                )
        return kept

    def _resolve(self, value, spec_field: str, line: int) -> Key | None:
        try:
            key = parse_ref(value, field=spec_field, namespace=self.entity.namespace)
        except RefError as exc:
            self.error(line, str(exc))
            return None
        if key not in self.known and not self.strict:
            self.entity.unresolved.append((spec_field, key, line, ""))
            return None
        if key not in self.known:
            self.error(
                line,
                f"spec.{spec_field}: unknown entity {key[0]}:{key[1]}/{key[2]} "
                "(not in this import and not in the catalog)",
            )
            return None
        return key

    def ref(self, spec_field: str) -> Key | None:
        value = self.entity.spec.get(spec_field)
        if value is None:
            return None
        return self._resolve(value, spec_field, self.raw.line_of("spec", spec_field))

    def refs(self, spec_field: str) -> list[tuple[Key, int]]:
        value = self.entity.spec.get(spec_field)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(self.raw.line_of("spec", spec_field), f"spec.{spec_field} must be a list")
            return []
        found = []
        for i, item in enumerate(value):
            line = self.raw.line_of("spec", spec_field, i)
            key = self._resolve(item, spec_field, line)
            if key is not None:
                found.append((key, line))
        return found

    def definition(self) -> tuple[str | None, bool]:
        """(API definition text, whether the placeholder stays in `extra` as a remote reference)."""
        value = self.entity.spec.get("definition")
        line = self.raw.line_of("spec", "definition")
        if value is None or isinstance(value, str):
            return value, False
        if isinstance(value, dict) and len(value) == 1:
            ((placeholder, target),) = value.items()
            if placeholder in ("$text", "$json", "$yaml") and isinstance(target, str):
                if _REMOTE.match(target):
                    return "", True
                return self._read_relative(target, line), False
        self.error(line, "spec.definition must be text or {$text: ./file}")
        return None, False

    def _substitute(self, placeholder: dict, line: int):
        """A `{$yaml: ./file}` / `{$json: ./file}` placeholder (Backstage's), read and parsed."""
        ((how, target),) = placeholder.items()
        if not isinstance(target, str) or _REMOTE.match(target):
            self.error(line, f"{how} placeholder must name a file of the same repository")
            return None
        text = self._read_relative(target, line)
        if text is None:
            return None
        try:
            return json.loads(text) if how == "$json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            self.error(line, f"{how} {target!r} does not parse: {exc}")
            return None

    def _read_relative(self, target: str, line: int) -> str | None:
        if self.raw.base_dir is None:
            self.error(
                line,
                f"spec.definition $text {target!r} is relative to a file on disk and cannot be "
                "resolved from an upload: inline the definition or use `manage.py import_catalog`",
            )
            return None
        path = (self.raw.base_dir / target).resolve()
        if path not in self.file_cache:
            try:
                self.file_cache[path] = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.error(line, f"spec.definition: cannot read {target!r} ({exc})")
                self.file_cache[path] = None
        return self.file_cache[path]


def extra_fields(entity: EntityFields, metadata_known, spec_known, profile_known=()) -> dict:
    """Everything the entity says that Switchyard does not model, kept for export."""
    data = entity.raw.data
    extra = {
        k: v
        for k, v in data.items()
        if k not in ("apiVersion", "kind", "metadata", "spec", *GENERATED_TOP_LEVEL)
    }
    if data["apiVersion"] != DEFAULT_API_VERSION:
        extra["apiVersion"] = data["apiVersion"]
    metadata = {
        k: v for k, v in entity.metadata.items() if k not in ("name", "namespace", *metadata_known)
    }
    spec = {k: v for k, v in entity.spec.items() if k not in spec_known}
    profile = entity.spec.get("profile")
    if profile_known and isinstance(profile, dict):
        rest = {k: v for k, v in profile.items() if k not in profile_known}
        if rest:
            spec["profile"] = rest
    if metadata:
        extra["metadata"] = metadata
    if spec:
        extra["spec"] = spec
    return extra


def parse_dependency_kinds(reader: FieldReader, annotations: dict) -> dict | None:
    """`switchyard.dev/dependency-kinds` -> {target key: [(kind, topic), ...]}."""
    value = annotations.get(DEPENDENCY_KINDS_ANNOTATION)
    if value is None:
        return {}
    line = reader.raw.line_of("metadata", "annotations", DEPENDENCY_KINDS_ANNOTATION)
    if not isinstance(value, str):
        reader.error(line, f"annotation {DEPENDENCY_KINDS_ANNOTATION} must be text")
        return None
    kinds: dict = {}
    for entry in re.split(r"[,\n]", value):
        entry = entry.strip()
        if not entry:
            continue
        match = _DEP_ENTRY.match(entry)
        if not match or match["kind"] not in DEPENDENCY_KINDS:
            reader.error(
                line,
                f"annotation {DEPENDENCY_KINDS_ANNOTATION}: {entry!r} is not "
                "<kind:name>=<sync|event|data>[@topic]",
            )
            continue
        try:
            key = parse_ref(match["ref"], field="dependsOn", namespace=reader.entity.namespace)
        except RefError as exc:
            reader.error(line, f"annotation {DEPENDENCY_KINDS_ANNOTATION}: {exc}")
            continue
        kinds.setdefault(key, []).append((match["kind"], match["topic"] or ""))
    return kinds


def new_entity(raw: RawEntity, kind: str, namespace: str, name: str) -> EntityFields:
    key_kind = kind.lower()
    return EntityFields(raw, key_kind, namespace, name, entity_key(key_kind, namespace, name))
