"""Dynamic gRPC calls (no generated stubs) to a pinned, SSRF-checked target, for API try-it.

Messages travel as serialized bytes: the caller builds them from stored descriptors. Unary and
server-streaming methods are supported; streams are cut at a message count, a byte total and the
deadline. The channel connects to the pinned address and sends the configured name as
`:authority` (and TLS server name).
"""

import time
from dataclasses import dataclass

import grpc

from .egress import EgressTarget
from .errors import IntegrationError

SYSTEM = "grpc"


@dataclass(frozen=True)
class GrpcResult:
    code: str  # grpc.StatusCode name: "OK", "NOT_FOUND", ...
    details: str
    messages: tuple[bytes, ...]
    initial_metadata: tuple[tuple[str, str], ...]
    trailing_metadata: tuple[tuple[str, str], ...]
    status_details: bytes  # the grpc-status-details-bin trailer (a google.rpc.Status), or b""
    latency_ms: int
    truncated: bool = False
    truncated_reason: str = ""


def _channel(target: EgressTarget, max_message_bytes: int) -> grpc.Channel:
    family = "ipv6" if ":" in target.address else "ipv4"
    address = f"{family}:{target.address_authority}"
    options = [
        ("grpc.default_authority", target.authority),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.enable_http_proxy", 0),
        ("grpc.enable_retries", 0),
    ]
    if target.tls:
        options.append(("grpc.ssl_target_name_override", target.host))
        return grpc.secure_channel(address, grpc.ssl_channel_credentials(), options=options)
    return grpc.insecure_channel(address, options=options)


def _pairs(metadata) -> tuple[tuple[str, str], ...]:
    out = []
    for key, value in metadata or ():
        if key == "grpc-status-details-bin":
            continue
        out.append((key, value.hex() if isinstance(value, bytes) else str(value)))
    return tuple(out)


def _status_details(metadata) -> bytes:
    for key, value in metadata or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            return value
    return b""


def grpc_call(
    target: EgressTarget,
    *,
    method_path: str,
    request: bytes,
    server_streaming: bool = False,
    metadata: tuple[tuple[str, str], ...] = (),
    timeout: float = 10.0,
    max_message_bytes: int = 1024 * 1024,
    max_messages: int = 100,
    max_total_bytes: int = 2 * 1024 * 1024,
) -> GrpcResult:
    """Call `method_path` ("/package.Service/Method") once; a non-OK status is a result, not an
    error. Raises IntegrationError only for a request that cannot be sent (too large)."""
    if len(request) > max_message_bytes:
        raise IntegrationError(
            f"the request is larger than {max_message_bytes} bytes", transient=False, system=SYSTEM
        )
    started = time.monotonic()
    with _channel(target, max_message_bytes) as channel:
        if server_streaming:
            return _stream(
                channel,
                method_path,
                request,
                metadata,
                timeout,
                started,
                max_messages,
                max_total_bytes,
            )
        call_unary = channel.unary_unary(method_path)
        try:
            response, call = call_unary.with_call(request, timeout=timeout, metadata=metadata)
            messages = (response,)
        except grpc.RpcError as error:
            call, messages = error, ()
        return _result(call, messages, started)


def _stream(channel, method_path, request, metadata, timeout, started, max_messages, max_bytes):
    call = channel.unary_stream(method_path)(request, timeout=timeout, metadata=metadata)
    messages, total, reason = [], 0, ""
    try:
        for message in call:
            messages.append(message)
            total += len(message)
            if len(messages) >= max_messages:
                reason = f"stopped after {max_messages} messages"
            elif total >= max_bytes:
                reason = f"stopped after {total} bytes"
            if reason:
                call.cancel()
                break
    except grpc.RpcError:
        pass  # the status is read from the call below
    result = _result(call, tuple(messages), started)
    if reason:
        return GrpcResult(**{**result.__dict__, "truncated": True, "truncated_reason": reason})
    return result


def _result(call, messages, started) -> GrpcResult:
    trailing = call.trailing_metadata() or ()
    return GrpcResult(
        code=call.code().name,
        details=call.details() or "",
        messages=messages,
        initial_metadata=_pairs(call.initial_metadata()),
        trailing_metadata=_pairs(trailing),
        status_details=_status_details(trailing),
        latency_ms=int((time.monotonic() - started) * 1000),
    )
