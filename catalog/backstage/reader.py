"""Read Backstage descriptor files: multi-document YAML, line numbers, Location fan-out.

Every problem becomes a `Problem(file, line, message)`; nothing here raises on bad input.
"""

import glob
import hashlib
import json
import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # libyaml is ~10x faster; the pure-Python loader gives the same nodes and marks.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader

_REMOTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_GLOB_CHARS = re.compile(r"[*?\[]")
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Skipped:
    kind: str
    ref: str
    file: str
    line: int | None
    reason: str

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Source:
    """A descriptor file's text; `base_dir` is None for uploads (relative targets can't resolve)."""

    name: str
    text: str
    base_dir: Path | None = None
    # False for entities mirrored from a catalog that has read its Locations' targets already.
    follow_locations: bool = True


@dataclass
class RawEntity:
    """One YAML document that is a mapping, with the line of each top-level field."""

    data: dict
    file: str
    line: int
    lines: dict = field(default_factory=dict)
    base_dir: Path | None = None

    def line_of(self, *path) -> int:
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.lines:
                return self.lines[path[:depth]]
        return self.line


@dataclass
class ReadResult:
    entities: list[RawEntity] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    missing: list[Problem] = field(default_factory=list)  # named paths that do not exist
    # What was read, fingerprinted ("file:<path>" -> SHA-256, "dir:"/"glob:" -> its listing's):
    # an import whose inputs all keep their fingerprints reads the same entities (`digest`).
    inputs: dict[str, str] = field(default_factory=dict)


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Expanded size limit of one document: aliases are cheap to write and expensive to expand.
MAX_DOCUMENT_NODES = 200_000


class _TooLarge(ValueError):
    pass


def _scalar(node, loader):
    value = loader.construct_object(node, deep=True)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.loads(json.dumps(value, default=str))  # dates, timestamps, binary


def _to_python(node, loader, memo: dict):
    """Node -> JSON-safe value (what a JSON column gives back), sharing aliased nodes.

    Faster than PyYAML's generic constructor, which matters at 10,000 entities; anything unusual
    (merge keys, custom tags) goes through the constructor.
    """
    found = memo.get(id(node))
    if found is not None:
        memo["size"] += found[1]
        if memo["size"] > MAX_DOCUMENT_NODES:
            raise _TooLarge
        return found[0]
    before = memo["size"]
    if isinstance(node, ScalarNode):
        value = node.value if node.tag == _STR_TAG else _scalar(node, loader)
        memo["size"] += 1
        return value
    if isinstance(node, SequenceNode):
        value = [_to_python(item, loader, memo) for item in node.value]
    elif node.tag != _MAP_TAG or any(k.tag == _MERGE_TAG for k, _ in node.value):
        value = json.loads(json.dumps(loader.construct_object(node, deep=True), default=str))
    else:
        value = {}
        for key, item in node.value:
            key = _to_python(key, loader, memo)
            value[key if isinstance(key, str) else json.dumps(key)] = _to_python(item, loader, memo)
    memo["size"] += 1
    if memo["size"] > MAX_DOCUMENT_NODES:
        raise _TooLarge
    memo[id(node)] = (value, memo["size"] - before)
    return value


def _line_index(node) -> dict:
    """(section, key[, index or subkey]) -> 1-based line, for metadata.* and spec.* fields."""
    lines: dict = {}
    if not isinstance(node, MappingNode):
        return lines
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            continue
        lines[(key.value,)] = key.start_mark.line + 1
        if not isinstance(value, MappingNode):
            continue
        for key2, value2 in value.value:
            if not isinstance(key2, ScalarNode):
                continue
            lines[(key.value, key2.value)] = key2.start_mark.line + 1
            if isinstance(value2, SequenceNode):
                for i, item in enumerate(value2.value):
                    lines[(key.value, key2.value, i)] = item.start_mark.line + 1
            elif isinstance(value2, MappingNode):
                for key3, _ in value2.value:
                    if isinstance(key3, ScalarNode):
                        lines[(key.value, key2.value, key3.value)] = key3.start_mark.line + 1
    return lines


def parse_documents(source: Source, result: ReadResult) -> list[RawEntity]:
    """All mapping documents of one file; a YAML syntax error rejects the whole file."""
    entities = []
    loader = _Loader(source.text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1
            try:
                data = _to_python(node, loader, {"size": 0})
            except _TooLarge:
                result.errors.append(
                    Problem(source.name, line, "YAML document is too large once aliases expand")
                )
                return []
            if data is None:
                continue
            if not isinstance(data, dict):
                result.errors.append(
                    Problem(source.name, line, "a YAML document here is not a mapping (entity)")
                )
                continue
            entities.append(RawEntity(data, source.name, line, _line_index(node), source.base_dir))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
        result.errors.append(Problem(source.name, mark.line + 1 if mark else None, message))
        return []
    except (ValueError, TypeError, RecursionError) as exc:  # odd constructs (e.g. bad timestamps)
        result.errors.append(Problem(source.name, None, f"invalid YAML: {exc}"))
        return []
    finally:
        loader.dispose()
    return entities


def _read_file(path: Path, result: ReadResult) -> Source | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        result.errors.append(Problem(str(path), None, f"not UTF-8 text: {exc.reason}"))
        return None
    except OSError as exc:
        result.errors.append(Problem(str(path), None, f"cannot read file: {exc.strerror}"))
        return None
    return Source(name=str(path), text=text, base_dir=path.parent)


def _is_entity(entity: RawEntity) -> bool:
    return "kind" in entity.data or "apiVersion" in entity.data


def _location_targets(entity: RawEntity, result: ReadResult) -> list[tuple[str, int]]:
    spec = entity.data.get("spec")
    if not isinstance(spec, dict):
        result.errors.append(Problem(entity.file, entity.line, "Location has no spec"))
        return []
    targets = []
    if "target" in spec:
        targets.append((spec["target"], entity.line_of("spec", "target")))
    raw = spec.get("targets", [])
    if not isinstance(raw, list):
        result.errors.append(
            Problem(entity.file, entity.line_of("spec", "targets"), "spec.targets must be a list")
        )
        raw = []
    targets += [(t, entity.line_of("spec", "targets", i)) for i, t in enumerate(raw)]
    if not targets:
        result.errors.append(Problem(entity.file, entity.line, "Location has no target(s)"))
    return targets


def _expand_location(entity: RawEntity, result: ReadResult) -> list[Path]:
    """The local files a Location points at; remote targets are listed as skipped."""
    spec = entity.data.get("spec") if isinstance(entity.data.get("spec"), dict) else {}
    location_type = spec.get("type") or "file"
    paths = []
    for target, line in _location_targets(entity, result):
        if not isinstance(target, str) or not target.strip():
            result.errors.append(Problem(entity.file, line, "Location target must be a string"))
            continue
        if location_type == "url" or _REMOTE.match(target):
            reason = "remote Location target (type: url) is not fetched; import it separately"
            result.skipped.append(Skipped("Location target", target, entity.file, line, reason))
            continue
        if location_type != "file":
            reason = f"Location type {location_type!r} is not supported"
            result.skipped.append(Skipped("Location target", target, entity.file, line, reason))
            continue
        if entity.base_dir is None:
            result.errors.append(
                Problem(
                    entity.file,
                    line,
                    f"Location target {target!r} is relative to a file on disk and cannot be "
                    "resolved from an upload: upload the target files themselves, or run "
                    "`manage.py import_catalog` on the directory",
                )
            )
            continue
        resolved = os.path.normpath(entity.base_dir / target)
        if _GLOB_CHARS.search(target):
            matches = glob_matches(resolved)
            result.inputs[f"glob:{resolved}"] = listing_fingerprint(matches)
            if not matches:
                result.errors.append(
                    Problem(entity.file, line, f"Location target {target!r} matches no files")
                )
            paths += [Path(m) for m in matches if os.path.isfile(m)]
        elif os.path.isfile(resolved):
            paths.append(Path(resolved))
        else:
            result.errors.append(
                Problem(
                    entity.file,
                    line,
                    f"Location target {target!r} not found (looked for {resolved})",
                )
            )
    return paths


def glob_matches(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern, recursive=True))


def directory_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def listing_fingerprint(names) -> str:
    return text_fingerprint("\n".join(str(n) for n in names))


def read_catalog(*, paths=(), sources=()) -> ReadResult:
    """Read files/directories (following Locations) and in-memory sources (uploads).

    A file reached twice (directly and through a Location, or through two Locations) is read once.
    Files found by scanning a directory that hold no Backstage entity (e.g. an OpenAPI document
    next to its API entity) are ignored; named files must hold entities.
    """
    result = ReadResult()
    seen: set[str] = set()
    queue: deque[tuple[Source, bool]] = deque((s, False) for s in sources)
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = directory_files(path)
            listing = [each.relative_to(path) for each in found]
            result.inputs[f"dir:{path.resolve()}"] = listing_fingerprint(listing)
            for each in found:
                queue.append((each, True))
        elif path.is_file():
            queue.append((path, False))
        else:
            result.missing.append(Problem(str(raw), None, "no such file or directory"))
    while queue:
        item, scanned = queue.popleft()
        if isinstance(item, Path):
            key = os.path.realpath(item)
            if key in seen:
                continue
            seen.add(key)
            item = _read_file(item, result)
            if item is None:
                continue
            result.inputs[f"file:{key}"] = text_fingerprint(item.text)
        else:
            result.inputs[f"source:{item.name}"] = text_fingerprint(item.text)
        follow = item.follow_locations
        if scanned:  # a scanned file that holds no entity is not ours: its problems neither
            own = ReadResult()
            entities = parse_documents(item, own)
            if not any(_is_entity(e) for e in entities):
                continue
            result.errors += own.errors
        else:
            entities = parse_documents(item, result)
        for entity in entities:
            kind = entity.data.get("kind")
            if isinstance(kind, str) and kind.lower() == "location":
                metadata = entity.data.get("metadata")
                name = metadata.get("name", "") if isinstance(metadata, dict) else ""
                reason = "Location: its targets are read, the Location itself is not stored"
                if not follow:
                    reason = "Location: its targets are read by the source that fetched it"
                result.skipped.append(
                    Skipped("Location", f"location:{name}", entity.file, entity.line, reason)
                )
                if follow:
                    queue.extend((p, False) for p in _expand_location(entity, result))
            else:
                result.entities.append(entity)
    return result
