"""TLS for the sandbox servers whose real clients insist on https (the official PagerDuty client
refuses any other scheme): a throwaway certificate authority per sandbox directory and a
certificate for 127.0.0.1 and localhost signed by it. Clients trust `ca_path(directory)`."""

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def ca_path(directory: Path) -> Path:
    return directory / "tls" / "sandbox-ca.pem"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(subject, issuer, public_key, signer, *, ca: bool, names=None):
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer, hashes.SHA256())


def server_context(directory: Path) -> ssl.SSLContext:
    """The server side; writes the authority's certificate to `ca_path(directory)`."""
    folder = directory / "tls"
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "server.pem", folder / "server-key.pem"
    if not (cert_file.exists() and key_file.exists() and ca_path(directory).exists()):
        ca_key, key = (
            ec.generate_private_key(ec.SECP256R1()),
            ec.generate_private_key(ec.SECP256R1()),
        )
        authority = _name("Switchyard sandbox CA")
        ca = _certificate(authority, authority, ca_key.public_key(), ca_key, ca=True)
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        leaf = _certificate(_name("127.0.0.1"), authority, key.public_key(), ca_key, ca=False,
                            names=names)  # fmt: skip
        key_file.write_bytes(_pem(key))
        cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        ca_path(directory).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
