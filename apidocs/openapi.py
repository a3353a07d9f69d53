"""A simple operations view of an OpenAPI (2 or 3) document: method, path, summary, params."""

import json
from dataclasses import dataclass, field

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    operation_id: str
    parameters: list = field(default_factory=list)  # (name, in, required, type, description)
    request_schema: str = ""
    responses: list = field(default_factory=list)  # (status, description)

    @property
    def anchor(self) -> str:
        return self.operation_id or f"{self.method}-{self.path}"


@dataclass
class OpenApiDoc:
    title: str
    version: str
    description: str
    operations: list
    schemas: dict  # name -> pretty JSON


class OpenApiError(ValueError):
    pass


def parse_openapi(text: str) -> OpenApiDoc:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise OpenApiError(f"not valid YAML/JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths", {}), dict):
        raise OpenApiError("not an OpenAPI document (no paths object)")
    info = document.get("info") or {}
    operations = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                operations.append(_operation(method, path, op, shared))
    schemas = (document.get("components") or {}).get("schemas") or document.get("definitions") or {}
    return OpenApiDoc(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        operations=operations,
        schemas={name: json.dumps(s, indent=2, default=str) for name, s in schemas.items()},
    )


def _operation(method, path, op, shared) -> Operation:
    params = []
    for p in [*shared, *(op.get("parameters") or [])]:
        if not isinstance(p, dict):
            continue
        if "$ref" in p:
            params.append((p["$ref"].rsplit("/", 1)[-1], "ref", False, "", ""))
            continue
        schema = p.get("schema") or {}
        kind = schema.get("type") or schema.get("$ref", "").rsplit("/", 1)[-1] or p.get("type", "")
        params.append(
            (p.get("name", ""), p.get("in", ""), bool(p.get("required")), kind,
             p.get("description", ""))
        )  # fmt: skip
    body = ((op.get("requestBody") or {}).get("content") or {}).values()
    request_schema = ""
    for media in body:
        schema = (media or {}).get("schema") or {}
        request_schema = schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", "")
        break
    responses = [
        (str(code), (r or {}).get("description", "") if isinstance(r, dict) else "")
        for code, r in (op.get("responses") or {}).items()
    ]
    return Operation(
        method=method.upper(),
        path=path,
        summary=op.get("summary", "") or op.get("description", ""),
        operation_id=op.get("operationId", ""),
        parameters=params,
        request_schema=request_schema,
        responses=responses,
    )
