"""Strict validation at the edge: every machine request is checked against openapi.yaml before
any service sees it, so a malformed request is a 400 with a JSON error, never a 500."""

import json
from functools import cache
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest

OPENAPI = Path(__file__).with_name("openapi.yaml")
MAX_BODY_BYTES = 64 * 1024


class MalformedRequest(Exception):
    """The request does not match the machine API document; the message says where."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@cache
def _document() -> OpenAPI:
    return OpenAPI.from_file_path(str(OPENAPI))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def body_parse(raw: bytes):
    """The body as JSON: NaN, Infinity, deep nesting, bad UTF-8 and oversize are refused."""
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedRequest(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not valid JSON ({_short(exc)})") from None


def request_check(request) -> None:
    """Raise MalformedRequest unless `request` matches its operation in openapi.yaml."""
    if request.body:
        body_parse(request.body)
    errors = list(_document().iter_request_errors(DjangoOpenAPIRequest(request)))
    if errors:
        raise MalformedRequest(_describe(errors[0]))


def _describe(error: Exception) -> str:
    """A readable message out of openapi-core's exception chain (schema errors with paths)."""
    cause = error.__cause__ or error.__context__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if schema_errors:
        parts = []
        for schema_error in list(schema_errors)[:3]:
            where = "/".join(str(p) for p in schema_error.absolute_path) or "body"
            parts.append(f"{where}: {_short(schema_error.message)}")
        return "; ".join(parts)
    detail = f": {_short(cause)}" if cause else ""
    return f"{_short(error)}{detail}"


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
