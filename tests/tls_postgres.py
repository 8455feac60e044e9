"""A throwaway PostgreSQL server with TLS on, for the DATABASE_URL tests.

Its own CA and server certificate (made with `cryptography`), `ssl=on`, and a pg_hba.conf that
admits TCP connections only over TLS, so a URL whose `sslmode` was ignored is refused by the
server rather than passing by accident. Started once per test session, stopped at exit.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.fault.conftest import PgCluster, launch, new_cluster


def _key():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(folder: Path, cn: str):  # type: ignore[no-untyped-def]
    """A self-signed CA: (its PEM path, key, certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = folder / f"{cn}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_server_cert(folder: Path, ca_key, ca_cert) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A server certificate for 127.0.0.1 (an IP SAN, so verify-full can check it), signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, key_path = folder / "server.crt", folder / "server.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return crt, key_path


@dataclass
class TlsPostgres:
    cluster: PgCluster
    ca: Path  # the CA that signed the server's certificate
    other_ca: Path  # a CA that did not

    def url(self, query: str = "", *, scheme: str = "postgresql", password: str = "") -> str:
        creds = f"hplj:{password}" if password else "hplj"
        return f"{scheme}://{creds}@127.0.0.1:{self.cluster.port}/hplj" + (f"?{query}" if query else "")


_SERVER: TlsPostgres | None = None


def tls_postgres() -> TlsPostgres:
    global _SERVER
    if _SERVER is not None:
        return _SERVER
    cluster = new_cluster("hplj-pgtls-", owned=("certs",))
    certs = cluster.tmp / "certs"
    ca, ca_key, ca_cert = make_ca(certs, "hplj-test-ca")
    other_ca, _, _ = make_ca(certs, "someone-else-ca")
    crt, key = make_server_cert(certs, ca_key, ca_cert)
    if cluster.run_as:  # the key must belong to the server's user (and be readable by it alone)
        for p in (crt, key):
            shutil.chown(p, "postgres")
    cluster.opts += f" -c ssl=on -c ssl_cert_file={crt} -c ssl_key_file={key}"
    # TCP only over TLS: a client that did not encrypt is turned away by the server itself.
    (cluster.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "hostssl all all 127.0.0.1/32 trust\n"
        "hostnossl all all 127.0.0.1/32 reject\n")
    _SERVER = TlsPostgres(launch(cluster), ca, other_ca)
    return _SERVER
