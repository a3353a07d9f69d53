"""SSRF safety of integrations.egress, against real HTTP servers on loopback."""

import pytest

from integrations.egress import egress_resolve, http_request, request_path
from integrations.errors import IntegrationError


def refused(base_url, **kwargs):
    with pytest.raises(IntegrationError) as caught:
        egress_resolve(base_url, **kwargs)
    assert caught.value.transient is False
    return caught.value.message


def test_private_and_loopback_names_are_refused():
    assert "loopback" in refused("http://api.internal", resolver=lambda h, p: ["127.0.0.1"])
    assert "private address" in refused("http://api.internal", resolver=lambda h, p: ["10.1.2.3"])
    assert "link-local" in refused("http://api.internal", resolver=lambda h, p: ["169.254.1.1"])
    assert "loopback" in refused("http://api.internal", resolver=lambda h, p: ["::ffff:127.0.0.1"])
    assert "private" in refused("http://api.internal", resolver=lambda h, p: ["fd12::1"])


def test_any_forbidden_answer_refuses_the_name():
    message = refused("http://api.example.com", resolver=lambda h, p: ["93.184.215.14", "10.0.0.1"])
    assert "10.0.0.1" in message


def test_metadata_addresses_are_refused_even_when_their_range_is_allowed():
    assert "metadata" in refused("http://169.254.169.254/latest")
    assert "metadata" in refused("http://[fd00:ec2::254]")
    assert "metadata" in refused(
        "http://meta.internal", resolver=lambda h, p: ["169.254.169.254"],
        allowed_networks=["169.254.0.0/16"],
    )  # fmt: skip


def test_private_address_allowed_when_configured_literally_or_in_allowed_networks():
    assert egress_resolve("http://127.0.0.1:8080", allow_loopback=True).address == "127.0.0.1"
    assert egress_resolve("grpc://10.0.0.5:9000").address == "10.0.0.5"
    pinned = egress_resolve(
        "https://payments.staging.svc", resolver=lambda h, p: ["10.20.1.7"],
        allowed_networks=["10.20.0.0/16"],
    )  # fmt: skip
    assert (pinned.address, pinned.host, pinned.port, pinned.tls) == (
        "10.20.1.7", "payments.staging.svc", 443, True,
    )  # fmt: skip
    assert "private" in refused(
        "http://payments.staging.svc", resolver=lambda h, p: ["10.30.0.1"],
        allowed_networks=["10.20.0.0/16"],
    )  # fmt: skip


def test_bad_base_urls_are_refused():
    assert "only http" in refused("file:///etc/passwd")
    assert "credentials" in refused("http://user:pw@example.com")
    assert "no usable host" in refused("http://{component}.staging/")


def test_public_answer_is_accepted():
    target = egress_resolve("http://api.example.com/base/", resolver=lambda h, p: ["93.184.215.14"])
    assert target.address == "93.184.215.14" and target.base_path == "/base"


def test_dns_answer_is_pinned_and_host_header_kept(http_servers):
    """The name resolves once (to loopback, allowed for this test); the request goes to that
    address even though a second lookup would now answer the metadata address."""
    pets, recorder, _, _ = http_servers
    answers = [["127.0.0.1"], ["169.254.169.254"]]
    lookups = []

    def rebinding_resolver(host, port):
        lookups.append(host)
        return answers[len(lookups) - 1]

    target = egress_resolve(
        f"http://pets.rebind.invalid:{pets.server_port}", resolver=rebinding_resolver,
        allowed_networks=["127.0.0.1/32"],
    )  # fmt: skip
    result = http_request(target, method="GET", path="/v1/pets/7")
    assert result.status == 200 and lookups == ["pets.rebind.invalid"]
    assert recorder.requests[0][3]["Host"] == f"pets.rebind.invalid:{pets.server_port}"


def test_redirect_to_another_host_is_not_followed(http_servers):
    pets, recorder, other, other_recorder = http_servers
    target = egress_resolve(f"http://127.0.0.1:{pets.server_port}", allow_loopback=True)
    result = http_request(target, method="GET", path="/v1/redirect")
    assert result.status == 302
    assert dict(result.headers)["Location"].endswith("/steal")
    assert other_recorder.requests == []


def test_oversized_response_is_cut(http_servers):
    pets = http_servers[0]
    target = egress_resolve(f"http://127.0.0.1:{pets.server_port}", allow_loopback=True)
    result = http_request(target, method="GET", path="/v1/big", max_response_bytes=100_000)
    assert result.truncated and len(result.body) == 100_000


def test_oversized_request_is_refused(http_servers):
    target = egress_resolve(f"http://127.0.0.1:{http_servers[0].server_port}", allow_loopback=True)
    with pytest.raises(IntegrationError, match="larger than"):
        http_request(target, method="POST", path="/v1/pets", body=b"x" * 20, max_request_bytes=10)
    assert http_servers[1].requests == []


def test_path_stays_under_the_base_url():
    target = egress_resolve("http://10.0.0.5/api")
    assert request_path(target, "//evil.example.com/x") == "/api/evil.example.com/x"
    assert request_path(target, "http://evil/x") == "/api/http:/evil/x"
    assert request_path(target, "/a b", {"q": "1&2"}) == "/api/a%20b?q=1%262"


def test_unreachable_server_is_a_transient_error():
    target = egress_resolve("http://127.0.0.1:9", allow_loopback=True)
    with pytest.raises(IntegrationError) as caught:
        http_request(target, method="GET", path="/", timeout=2)
    assert caught.value.transient is True


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("2002:7f00:1::1", "6to4"),  # 6to4 wrapping 127.0.0.1
        ("2002:a9fe:a9fe::1", "6to4"),  # 6to4 wrapping 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("64:ff9b::7f00:1", "NAT64"),
        ("64:ff9b:1::a00:1", "NAT64"),
        ("fec0::1", "site-local"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_tunnel_translation_and_non_unicast_answers_are_refused(answer, why):
    assert why in refused("http://api.example.com", resolver=lambda h, p: [answer])
    # Not even an environment that allows everything may call them.
    assert why in refused(
        "http://api.example.com", resolver=lambda h, p: [answer],
        allowed_networks=["0.0.0.0/0", "::/0"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("base_url", "why"),
    [
        ("http://0.0.0.0:8080", "unspecified"),
        ("http://[::]:8080", "unspecified"),
        ("http://255.255.255.255", "broadcast"),
        ("http://224.0.0.1", "multicast"),
        ("http://169.254.10.10", "link-local"),
        ("http://[fe80::1]", "link-local"),
        ("http://127.0.0.1:6379", "loopback"),
        ("http://[::1]:6379", "loopback"),
        ("http://[2002:7f00:1::1]", "6to4"),
    ],
)
def test_the_configured_address_exception_is_only_for_private_unicast(base_url, why):
    assert why in refused(base_url)


def test_loopback_literal_only_where_the_sandbox_is_allowed():
    assert egress_resolve("http://127.0.0.1:8080", allow_loopback=True).address == "127.0.0.1"
    # The exception is the configured address itself, never a name resolving to loopback.
    assert "loopback" in refused(
        "http://api.internal", resolver=lambda h, p: ["127.0.0.1"], allow_loopback=True
    )
    assert "link-local" in refused("http://169.254.10.10", allow_loopback=True)
