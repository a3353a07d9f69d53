"""What a try-it request looks like: methods and operations with their samples, the editor's
input parsed into requests, secrets redacted for the audit log, and copyable commands."""

import json
import re
import shlex
from dataclasses import dataclass, field

import yaml
from google.protobuf import json_format, message_factory

from portal.errors import ValidationFailed

from .openapi import METHODS
from .samples import cached_pool, openapi_sample, proto_sample, resolve_ref

MAX_TIMEOUT_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 10.0
SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|private[-_]?key|"
    r"session|signature",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
AUDIT_TEXT_LIMIT = 4000


# --- gRPC ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrpcMethod:
    full_name: str  # package.Service.Method
    service: str
    name: str
    file: str
    request_type: str
    response_type: str
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def supported(self) -> bool:
        return not self.client_streaming

    @property
    def kind(self) -> str:
        if self.client_streaming and self.server_streaming:
            return "bidirectional streaming"
        if self.client_streaming:
            return "client streaming"
        return "server streaming" if self.server_streaming else "unary"


def grpc_method(version, full_name: str) -> GrpcMethod | None:
    """The method `full_name` of a stored protobuf version, or None."""
    if not version.descriptor_set:
        return None
    pool = cached_pool(version.pk, bytes(version.descriptor_set))
    try:
        method = pool.FindMethodByName(full_name)
    except KeyError:
        return None
    return GrpcMethod(
        full_name=method.full_name,
        service=method.containing_service.full_name,
        name=method.name,
        file=method.containing_service.file.name,
        request_type=method.input_type.full_name,
        response_type=method.output_type.full_name,
        client_streaming=method.client_streaming,
        server_streaming=method.server_streaming,
    )


def _message_class(version, type_name: str):
    pool = cached_pool(version.pk, bytes(version.descriptor_set))
    return pool, message_factory.GetMessageClass(pool.FindMessageTypeByName(type_name))


def grpc_sample(version, method: GrpcMethod) -> str:
    pool = cached_pool(version.pk, bytes(version.descriptor_set))
    return json.dumps(proto_sample(pool.FindMessageTypeByName(method.request_type)), indent=2)


def grpc_encode(version, method: GrpcMethod, body: str) -> bytes:
    """The request JSON as protobuf bytes; ValidationFailed naming the problem otherwise."""
    pool, cls = _message_class(version, method.request_type)
    try:
        message = json_format.Parse(body or "{}", cls(), descriptor_pool=pool)
    except json_format.ParseError as error:
        raise ValidationFailed(f"The request is not a valid {method.request_type}: {error}")
    return message.SerializeToString()


def grpc_decode(version, method: GrpcMethod, data: bytes) -> str:
    pool, cls = _message_class(version, method.response_type)
    try:
        message = cls.FromString(data)
        as_dict = json_format.MessageToDict(message, descriptor_pool=pool)
    except Exception as error:  # noqa: BLE001 - a server may answer anything
        return f"(the response is not a valid {method.response_type}: {error})"
    return json.dumps(as_dict, indent=2)


def status_details_json(data: bytes) -> str:
    """The google.rpc.Status carried in grpc-status-details-bin, as JSON ("" when absent)."""
    if not data:
        return ""
    from google.rpc import error_details_pb2, status_pb2  # noqa: F401 - registers detail types

    try:
        status = status_pb2.Status.FromString(data)
        return json.dumps(json_format.MessageToDict(status), indent=2)
    except Exception as error:  # noqa: BLE001
        return f"(unreadable status details: {error})"


def parse_metadata(text: str) -> tuple[tuple[str, str], ...]:
    """'key: value' lines as gRPC metadata (lower-case ASCII keys; reserved keys refused)."""
    pairs = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or not re.fullmatch(r"[0-9a-z_.-]+", key):
            raise ValidationFailed(f"Metadata line {number} is not 'key: value'.")
        if key.startswith("grpc-") or key.endswith("-bin"):
            raise ValidationFailed(f"Metadata key {key!r} cannot be set in try-it.")
        pairs.append((key, value.strip()))
    return tuple(pairs)


def parse_timeout(value) -> float:
    try:
        seconds = float(value or DEFAULT_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        raise ValidationFailed("The deadline must be a number of seconds.") from None
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        raise ValidationFailed(f"The deadline must be between 0 and {MAX_TIMEOUT_SECONDS:g}s.")
    return seconds


# --- OpenAPI ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpParam:
    name: str
    location: str  # path, query, header
    required: bool
    sample: str


@dataclass(frozen=True)
class HttpOperation:
    anchor: str
    method: str
    path: str
    summary: str
    params: tuple[HttpParam, ...] = ()
    content_type: str = ""
    body_sample: str = ""


def openapi_document(version) -> dict:
    try:
        document = yaml.safe_load(next(iter(version.files.values()), "")) or {}
    except yaml.YAMLError:
        return {}
    return document if isinstance(document, dict) else {}


def openapi_operations(version) -> list[HttpOperation]:
    document = openapi_document(version)
    operations = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            if isinstance(item.get(method), dict):
                operations.append(_http_operation(document, path, method, item))
    return operations


def openapi_operation(version, anchor: str) -> HttpOperation | None:
    return next((op for op in openapi_operations(version) if op.anchor == anchor), None)


def _http_operation(document, path, method, item) -> HttpOperation:
    op = item[method]
    params = []
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        if isinstance(raw, dict) and "$ref" in raw:
            raw = resolve_ref(raw["$ref"], document)
        if not isinstance(raw, dict) or raw.get("in") not in ("path", "query", "header"):
            continue
        sample = openapi_sample(raw.get("schema") or raw, document)
        if sample is None and "example" in raw:
            sample = raw["example"]
        params.append(
            HttpParam(
                raw.get("name", ""),
                raw["in"],
                bool(raw.get("required")),
                "" if sample is None else str(sample),
            )
        )
    content_type, body_sample = "", ""
    content = (op.get("requestBody") or {}).get("content") or {}
    if content:
        content_type = "application/json" if "application/json" in content else next(iter(content))
        media = content[content_type] or {}
        value = media.get("example", openapi_sample(media.get("schema") or {}, document))
        body_sample = json.dumps(value, indent=2) if value is not None else ""
    return HttpOperation(
        anchor=op.get("operationId") or f"{method.upper()}-{path}",
        method=method.upper(),
        path=path,
        summary=op.get("summary", "") or op.get("description", ""),
        params=tuple(params),
        content_type=content_type,
        body_sample=body_sample,
    )


def fill_path(template: str, values: dict[str, str]) -> str:
    """`/pets/{id}` with `id` filled (percent-encoded, so a value cannot add path segments)."""
    from urllib.parse import quote

    def replace(match):
        value = values.get(match.group(1), "")
        if value == "":
            raise ValidationFailed(f"Fill in the path parameter {match.group(1)!r}.")
        return quote(value, safe="")

    return re.sub(r"\{([^}/]+)\}", replace, template)


def parse_headers(text: str) -> dict[str, str]:
    headers = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", key.strip()):
            raise ValidationFailed(f"Header line {number} is not 'Name: value'.")
        headers[key.strip()] = value.strip()
    return headers


# --- redaction and commands ---------------------------------------------------------------------


def redact(value):
    """`value` with the values of secret-looking keys replaced (dicts, lists, pairs)."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value) and value:
            return [[k, REDACTED if SECRET_KEY.search(str(k)) else v] for k, v in value]
        return [redact(v) for v in value]
    return value


def redact_lines(text: str) -> str:
    """'name: value' lines with the values of secret-looking names replaced."""
    lines = []
    for line in (text or "").splitlines():
        key, sep, _value = line.partition(":")
        lines.append(f"{key}: {REDACTED}" if sep and SECRET_KEY.search(key) else line)
    return "\n".join(lines)


def redact_text(text: str):
    """A body for the audit log: parsed and redacted when JSON, scrubbed and cut otherwise."""
    if not text:
        return ""
    try:
        return redact(json.loads(text))
    except ValueError:
        scrubbed = re.sub(
            r"((?:" + SECRET_KEY.pattern + r")\w*\s*[=:]\s*)[^\s&,;]+",
            rf"\1{REDACTED}",
            text,
            flags=re.IGNORECASE,
        )
        return scrubbed[:AUDIT_TEXT_LIMIT]


@dataclass(frozen=True)
class Snippet:
    label: str
    command: str
    notes: list = field(default_factory=list)


def grpcurl_command(
    *, authority: str, tls: bool, method: GrpcMethod, body: str, metadata, timeout: float
) -> str:
    parts = ["grpcurl"]
    if not tls:
        parts.append("-plaintext")
    parts += ["-import-path", ".", "-proto", method.file]
    for key, value in metadata:
        parts += ["-H", f"{key}: {value}"]
    parts += [
        "-max-time",
        f"{timeout:g}",
        "-d",
        _compact(body),
        authority,
        f"{method.service}/{method.name}",
    ]
    return " ".join(shlex.quote(p) for p in parts)


def curl_command(*, url: str, method: str, headers: dict, body: str, timeout: float) -> str:
    parts = ["curl", "-sS", "-i", "--max-time", f"{timeout:g}", "-X", method, url]
    for key, value in headers.items():
        parts += ["-H", f"{key}: {value}"]
    if body:
        parts += ["--data-raw", _compact(body)]
    return " ".join(shlex.quote(p) for p in parts)


def _compact(body: str) -> str:
    try:
        return json.dumps(json.loads(body or "{}"), separators=(",", ":"))
    except ValueError:
        return body
