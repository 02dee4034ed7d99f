"""What closes the embedded SeaweedFS's internal ports to everyone but itself: a private CA,
a certificate per component, and the `security.toml` that makes every gRPC port demand a
client certificate of that CA (mutual TLS), every master/volume/filer HTTP port speak HTTPS
and demand one too, and the volume and filer check JWTs the master and S3 gateway sign.

Why all of that: the ports listen on 127.0.0.1, where every local user of the machine can
connect; JWT alone is not enough (the master's HTTP port hands tokens to whoever asks) and
the filer's gRPC port reads and writes every file (docs/security.md, "Buckets").

Everything is made anew at each start of the store (a few milliseconds): nothing of it is
stored data, so there is no expiry or rotation to manage, and a leaked key from an earlier
run opens nothing. Files are 0600 in the 0700 `<data_dir>/buckets/tls`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The components that serve (each presents its own certificate) and `client`: what the S3
# gateway and the filer present when they dial, and what the platform's readiness probe uses.
COMPONENTS = ("master", "volume", "filer", "s3", "client")
# Long enough for any run of the store; a restart makes new ones.
_VALIDITY = timedelta(days=3650)


@dataclass(frozen=True)
class SeaweedTls:
    directory: Path  # `<data_dir>/buckets/tls`

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    def cert(self, component: str) -> Path:
        return self.directory / f"{component}.crt"

    def key(self, component: str) -> Path:
        return self.directory / f"{component}.key"


def write_security(root: Path) -> SeaweedTls:
    """Makes the CA, the certificates and `<root>/security.toml` (read from the working
    directory of `weed server`, which is `root`)."""
    tls = SeaweedTls(root / "tls")
    tls.directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(tls.directory, 0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "neuro-platform seaweedfs CA")])
    now = datetime.now(UTC) - timedelta(minutes=5)  # valid at once, whatever the rounding
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(tls.ca, ca.public_bytes(serialization.Encoding.PEM))
    for component in COMPONENTS:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, component)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                # Every component both serves and dials the others.
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(tls.cert(component), cert.public_bytes(serialization.Encoding.PEM))
        _write_private(
            tls.key(component),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    _write_private(root / "security.toml", _security_toml(tls).encode())
    return tls


def _security_toml(tls: SeaweedTls) -> str:
    def component(section: str, name: str) -> str:
        return f'[{section}]\ncert = "{tls.cert(name)}"\nkey = "{tls.key(name)}"\n'

    def jwt(section: str) -> str:
        return f'[{section}]\nkey = "{secrets.token_hex(32)}"\nexpires_after_seconds = 10\n'

    parts = [
        # gRPC: mutual TLS on every port; `ca` verifies the peer in both directions.
        f'[grpc]\nca = "{tls.ca}"\n',
        *(component(f"grpc.{name}", name) for name in ("master", "volume", "filer", "s3")),
        component("grpc.client", "client"),
        # HTTP: HTTPS that demands a client certificate of the CA (`ca` set).
        *(
            component(f"https.{name}", name) + f'ca = "{tls.ca}"\n'
            for name in ("master", "volume", "filer")
        ),
        "[https.client]\nenabled = true\n"
        f'cert = "{tls.cert("client")}"\nkey = "{tls.key("client")}"\nca = "{tls.ca}"\n',
        # JWT on top: a volume or filer request also needs a token signed for it.
        jwt("jwt.signing"),
        jwt("jwt.signing.read"),
        jwt("jwt.filer_signing"),
        jwt("jwt.filer_signing.read"),
        # No unauthenticated UI or directory listing on the filer or volume ports.
        "[access]\nui = false\n",
        "[filer.expose_directory_metadata]\nenabled = false\n",
    ]
    return "\n".join(parts)


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(temporary, path)
