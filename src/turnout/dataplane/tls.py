"""TLS for HTTPS and TLS listeners (issue 13): one self-signed certificate per data directory, made with the
``cryptography`` library the first time a server needs it and kept in ``<data-dir>/tls/`` (``cert.pem``,
``key.pem``, the key readable by its owner only).

Turnout's choice (docs/dataplane.md, "Where listeners listen"): the certificates a listener names (ACM ARNs) are
not served; every HTTPS or TLS listener presents this one, whose names cover every load balancer's DNS name
(``*.<region>.elb.localhost``, one wildcard per Region of the ``aws`` partition), ``localhost`` and the loopback
addresses. Clients trust it with ``curl --cacert <data-dir>/tls/cert.pem`` (or skip the check: ``curl -k``).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..auth import regions

CERT = "cert.pem"
KEY = "key.pem"
VALID_DAYS = 3650  # a local test certificate: ten years, so that a data directory never sees it expire
COMMON_NAME = "Turnout local load balancers"


def names() -> list[x509.GeneralName]:
    """The certificate's subject alternative names."""
    dns = ["localhost", "*.elb.localhost", *(f"*.{region}.elb.localhost" for region in sorted(regions.known()))]
    found: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    found += [x509.IPAddress(ipaddress.ip_address(address)) for address in ("127.0.0.1", "::1")]
    return found


def ensure(directory: Path) -> tuple[Path, Path]:
    """The certificate and key files in ``directory``, made first when either is missing."""
    cert, key = directory / CERT, directory / KEY
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    # Written to temporary names and renamed: two servers starting at once never read half a file.
    key_bytes = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    partial_key = directory / f".{KEY}.{os.getpid()}"
    descriptor = os.open(partial_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_bytes)
    partial_cert = directory / f".{CERT}.{os.getpid()}"
    partial_cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    os.replace(partial_key, key)
    os.replace(partial_cert, cert)
    return cert, key


def server_context(directory: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting the data directory's certificate."""
    cert, key = ensure(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
