"""Outbound calls to addresses people choose (API try-it), made SSRF-safe in one place.

`egress_resolve` turns a configured base URL into an `EgressTarget`: the host is resolved once
here, every address it resolves to is checked (private, loopback, link-local, reserved and cloud
metadata addresses are refused unless the environment allows that private range), and the call
then connects to that pinned address while sending the configured name as Host / SNI / gRPC
authority, so a second DNS answer (rebinding) is never used. `http_request` makes one HTTP
request to a target with size and time limits and never follows redirects.
"""

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from .errors import IntegrationError

SYSTEM = "egress"
# Cloud instance metadata endpoints: refused even when their range is allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
# Refused whatever the environment allows: nothing to call there, or a tunnel or translation
# prefix whose embedded IPv4 address would slip past the checks below.
NEVER_NETWORKS = tuple(
    (ipaddress.ip_network(cidr), why)
    for cidr, why in (
        ("0.0.0.0/8", "the unspecified (this-host) range"),
        ("255.255.255.255/32", "the broadcast address"),
        ("224.0.0.0/4", "not a unicast address (multicast)"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("ff00::/8", "not a unicast address (multicast)"),
        ("2002::/16", "a 6to4 address (it tunnels to an IPv4 address)"),
        ("2001::/32", "a Teredo address (it tunnels to an IPv4 address)"),
        ("64:ff9b::/96", "a NAT64 address (it translates to an IPv4 address)"),
        ("64:ff9b:1::/48", "a local NAT64 address (it translates to an IPv4 address)"),
        ("fec0::/10", "a site-local address"),
    )
)
DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 80, "grpcs": 443}
TLS_SCHEMES = {"https", "grpcs"}
HOP_BY_HOP = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
}

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class EgressTarget:
    """Where to connect (the pinned `address`) and what to call it (`host`)."""

    scheme: str
    host: str
    port: int
    address: str
    base_path: str = ""

    @property
    def tls(self) -> bool:
        return self.scheme in TLS_SCHEMES

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return host
        return f"{host}:{self.port}"

    @property
    def address_authority(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{address}:{self.port}"

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.authority}{self.base_path}"


@dataclass(frozen=True)
class HttpResult:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    latency_ms: int


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in resolver order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise IntegrationError(
            f"cannot resolve {host}: {error.strerror}", transient=True, system=SYSTEM
        ) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def egress_parse(base_url: str) -> EgressTarget:
    """The configured base URL split into scheme, host, port and path (`address` not set yet)."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _refused(f"{base_url!r}: only http, https, grpc and grpcs base URLs are allowed")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise _refused(f"{base_url!r}: a base URL has no credentials, query or fragment")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or "{" in host:
        raise _refused(f"{base_url!r} has no usable host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise _refused(f"{base_url!r} has an invalid port") from None
    return EgressTarget(scheme, host, port, address="", base_path=parts.path.rstrip("/"))


def egress_resolve(
    base_url: str, *, allowed_networks: Iterable[str] = (), resolver: Resolver | None = None,
    allow_loopback: bool = False, trust_literal: bool = True,
) -> EgressTarget:  # fmt: skip
    """Check and pin `base_url`. Raises IntegrationError (not transient) when it is refused.

    A private address written literally in `base_url` is allowed, exactly that address and only
    if it is private unicast (the environment's configured address is itself private); loopback
    literals only with `allow_loopback` (the development sandbox). Names must resolve to public
    addresses or to `allowed_networks`. Every address the name resolves to is checked; the first
    is pinned. `trust_literal=False` (URLs typed by people, such as CDEvents sinks): a literal
    address gets no exception either, only `allowed_networks` admit an inside address.
    """
    target = egress_parse(base_url)
    networks = _networks(allowed_networks)
    literal = _ip_or_none(target.host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = (resolver or system_resolver)(target.host, target.port)
        if not addresses:
            raise IntegrationError(f"{target.host} has no address", transient=True, system=SYSTEM)
    for address in addresses:
        problem = address_problem(
            address, networks, configured=literal if trust_literal else None,
            allow_loopback=allow_loopback,
        )  # fmt: skip
        if problem:
            raise _refused(f"{target.host} resolves to {address}, {problem}")
    return replace(target, address=addresses[0])


def address_problem(
    address: str, networks: list, *, configured=None, allow_loopback: bool = False
) -> str:
    """Why `address` may not be called ("" when it may). `configured` is the address written
    literally in the configured base URL: that one address may be private (not loopback,
    link-local, multicast, broadcast or unspecified)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for network, why in NEVER_NETWORKS:
        if ip.version == network.version and ip in network:
            return why
    if ip.version == 6 and ip != ipaddress.ip_address("::1") and ip in _IPV4_COMPATIBLE:
        return "an IPv4-compatible IPv6 address"
    if any(ip.version == net.version and ip in net for net in networks):
        return ""
    if ip.is_loopback:
        exact = configured is not None and ip == _unmapped(configured)
        return "" if allow_loopback and exact else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "not a unicast address"
    if configured is not None and ip == _unmapped(configured) and ip.is_private:
        return ""
    if not ip.is_global:
        return "a private address not allowed for this environment"
    return ""


_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _unmapped(ip):
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _networks(cidrs: Iterable[str]) -> list:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise _refused(f"{cidr!r} is not an address range") from None
    return networks


def _ip_or_none(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refused(message: str) -> IntegrationError:
    return IntegrationError(message, transient=False, system=SYSTEM)


class _PinnedAdapter(HTTPAdapter):
    """Connects to the pinned address but verifies TLS (and sends SNI) for the configured name."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def request_path(target: EgressTarget, path: str, query: dict[str, str] | None = None) -> str:
    """The base path plus `path` (percent-encoded, always under the base URL) and query."""
    if not path.startswith("/"):
        path = "/" + path
    encoded = quote(path, safe="/:@!$&'()*+,;=-._~%")
    while "//" in encoded:
        encoded = encoded.replace("//", "/")
    return target.base_path + encoded + (f"?{urlencode(query, doseq=True)}" if query else "")


def http_request(
    target: EgressTarget,
    *,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 10.0,
    max_request_bytes: int = 256 * 1024,
    max_response_bytes: int = 1024 * 1024,
) -> HttpResult:
    """One HTTP request to the pinned target; redirects are returned, never followed.

    The response body is cut at `max_response_bytes` (`truncated`); the whole exchange is bounded
    by `timeout` seconds. Network failures raise IntegrationError(transient=True).
    """
    if len(body) > max_request_bytes:
        raise _refused(f"the request body is larger than {max_request_bytes} bytes")
    clean_headers = {k: v for k, v in (headers or {}).items() if k.lower() not in HOP_BY_HOP}
    clean_headers["Host"] = target.authority
    url = f"{'https' if target.tls else 'http'}://{target.address_authority}"
    url += request_path(target, path, query)
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment
    session.mount(url.split("/", 3)[0] + "//", _PinnedAdapter(target.host))
    started = time.monotonic()
    try:
        prepared = session.prepare_request(
            requests.Request(method.upper(), url, headers=clean_headers, data=body or None)
        )
        # requests re-quotes the URL and would turn "%2E%2E" back into "..": send it as built.
        prepared.url = url
        response = session.send(
            prepared, allow_redirects=False, stream=True, timeout=(min(timeout, 5.0), timeout)
        )
        with response:
            data, truncated = _read_limited(response, max_response_bytes, started + timeout)
    except requests.RequestException as error:
        raise IntegrationError(
            f"{method.upper()} {target.authority} failed: {error.__class__.__name__}: {error}",
            transient=True,
            system=SYSTEM,
        ) from None
    finally:
        session.close()
    return HttpResult(
        status=response.status_code,
        reason=response.reason or "",
        headers=tuple(response.headers.items()),
        body=data,
        truncated=truncated,
        latency_ms=int((time.monotonic() - started) * 1000),
    )


def _read_limited(response, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or time.monotonic() > deadline:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False
