"""A real RFC 3161 timestamp authority for tests: OpenSSL's `ts -reply` behind http.server.

`make_authority` generates, with the `openssl` command, a root CA, optionally an intermediate CA,
and a TSA certificate (extendedKeyUsage critical, timeStamping), optionally already expired; a
`TsaProfile` says how the authority answers (which certificates its replies carry, ESS v1 or v2,
the signer's digest), as real authorities differ on each. `LocalTsa` serves `openssl ts -reply`
on 127.0.0.1. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

OPENSSL_CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa_loose ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/ca-serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/tsa-serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
{certs}signer_key = {dir}/tsa.key
signer_digest = {signer_digest}
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = {ess_chain}
ess_cert_id_alg = {ess_alg}
"""


@dataclass(frozen=True)
class TsaProfile:
    """How an authority is set up and answers.

    send_chain: its replies carry its CA certificates (OpenSSL's `certs`) besides its own, which
    OpenSSL puts first, out of DER order; intermediate: its certificate is issued by an
    intermediate CA, itself issued by the root; ess_chain: the ESS attribute names the CA
    certificates too; ess_alg: "sha1" gives an ESS signing-certificate v1, else v2."""

    send_chain: bool = False
    intermediate: bool = False
    ess_chain: bool = False
    ess_alg: str = "sha256"
    signer_digest: str = "sha256"
    expired: bool = False


@dataclass(frozen=True)
class AuthorityKeys:
    folder: Path
    ca_file: Path  # the root CA
    config: Path

    @property
    def tsa_cert(self) -> Path:
        return self.folder / "tsa.pem"

    @property
    def tsa_key(self) -> Path:
        return self.folder / "tsa.key"

    @property
    def intermediate(self) -> Path:
        """The intermediate CA's certificate (profiles with `intermediate` only)."""
        return self.folder / "intermediate.pem"


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _asn1_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def make_authority(
    folder: Path, name: str = "TSA de test", *, expired: bool = False, profile: TsaProfile | None = None
) -> AuthorityKeys:
    """A root CA, the TSA certificate (valid now, or valid only in 2020) and what `profile` asks.

    The validity periods are years wide: tokens come from `openssl ts`, on the machine's real clock, while a
    run made to believe it is a year later (test_a_year_ahead.py) checks them."""
    profile = replace(profile or TsaProfile(), expired=True) if expired else profile or TsaProfile()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "openssl.cnf"
    chain = ["intermediate.pem", "ca.pem"] if profile.intermediate else ["ca.pem"]
    config.write_text(
        OPENSSL_CONFIG.format(
            dir=folder,
            certs=f"certs = {folder}/chain.pem\n" if profile.send_chain else "",
            signer_digest=profile.signer_digest,
            ess_chain="yes" if profile.ess_chain else "no",
            ess_alg=profile.ess_alg,
        ),
        encoding="utf-8",
    )
    (folder / "index.txt").write_text("")
    (folder / "ca-serial").write_text("1000\n")
    (folder / "tsa-serial").write_text("01\n")
    now = datetime.now(UTC)
    valid = (now - timedelta(days=800), now + timedelta(days=800))
    _openssl("req", "-x509", *_EC, "-keyout", folder / "ca.key", "-out", folder / "ca.pem",
             "-days", "3650", "-subj", f"/CN=Racine {name}", "-config", config, "-extensions", "v3_ca")
    issuer = "ca"
    if profile.intermediate:
        _issue(folder, config, "intermediate", f"/CN=Intermédiaire {name}", "ca", "v3_intermediate", valid)
        issuer = "intermediate"
    expired_period = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))
    _issue(folder, config, "tsa", f"/CN={name}", issuer, "v3_tsa", expired_period if profile.expired else valid)
    (folder / "chain.pem").write_bytes(b"".join((folder / cert).read_bytes() for cert in chain))
    return AuthorityKeys(folder, folder / "ca.pem", config)


_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def _issue(
    folder: Path, config: Path, stem: str, subject: str, issuer: str, extensions: str,
    period: tuple[datetime, datetime], key: str | None = None,
) -> None:
    """A certificate `stem`.pem issued by `issuer`.pem with the config's `extensions`, for a new
    key `stem`.key or the existing `key`.key."""
    new_key = ("-key", folder / f"{key}.key") if key else (*_EC, "-keyout", folder / f"{stem}.key")
    _openssl("req", "-new", *new_key, "-out", folder / f"{stem}.csr", "-subj", subject, "-config", config, "-utf8")
    _openssl("ca", "-batch", "-config", config, "-in", folder / f"{stem}.csr", "-cert", folder / f"{issuer}.pem",
             "-keyfile", folder / f"{issuer}.key", "-out", folder / f"{stem}.pem", "-extensions", extensions,
             "-startdate", _asn1_time(period[0]), "-enddate", _asn1_time(period[1]), "-notext", "-utf8")


def another_certificate(keys: AuthorityKeys, stem: str, *, for_time_stamping_only: bool = True) -> Path:
    """Another certificate for the TSA's own key, from the same issuer: a twin, or, without
    `for_time_stamping_only`, one whose extendedKeyUsage is not critical."""
    issuer = "intermediate" if keys.intermediate.exists() else "ca"
    now = datetime.now(UTC)
    _issue(keys.folder, keys.config, stem, f"/CN={stem}", issuer,
           "v3_tsa" if for_time_stamping_only else "v3_tsa_loose",
           (now - timedelta(days=800), now + timedelta(days=800)), key="tsa")
    return keys.folder / f"{stem}.pem"


class _Handler(BaseHTTPRequestHandler):
    server: _TsaServer

    def do_POST(self) -> None:
        query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests += 1
        self.server.queries.append(query)
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self._answer(415, b"", "text/plain")
            return
        with self.server.lock, tempfile.TemporaryDirectory() as work:
            query_file, reply_file = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.server.keys.config),
                 "-queryfile", str(query_file), "-out", str(reply_file)],
                capture_output=True,
            )
            if done.returncode != 0:
                self._answer(500, done.stderr, "text/plain")
                return
            self._answer(200, reply_file.read_bytes(), "application/timestamp-reply")

    def _answer(self, status: int, body: bytes, media_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _TsaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, keys: AuthorityKeys) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keys = keys
        self.lock = threading.Lock()
        self.requests = 0
        self.queries: list[bytes] = []  # every request body, as received


class LocalTsa:
    """`with LocalTsa(keys) as tsa:` serves tokens at `tsa.url` until the block ends."""

    def __init__(self, keys: AuthorityKeys) -> None:
        self._server = _TsaServer(keys)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsr"

    @property
    def requests(self) -> int:
        return self._server.requests

    @property
    def queries(self) -> list[bytes]:
        return self._server.queries

    def __enter__(self) -> LocalTsa:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def write_anchors_section(
    config: Path, *authorities: tuple[str, str, Path] | tuple[str, str, Path, bool], timeout: int | None = None
) -> None:
    """Replace the [anchors] section of a preuves.toml by these (name, url, ca_file[, fallback])."""
    base = re.sub(r"(?ms)^\[anchors\]\n.*?(?=^\[|\Z)", "", config.read_text(encoding="utf-8"))
    lines = ["", "[anchors]", "tsa = ["]
    for name, url, ca, *fallback in authorities:
        extra = ", fallback = true" if fallback and fallback[0] else ""
        lines.append(
            f"  {{ name = {json.dumps(name)}, url = {json.dumps(url)}, ca_file = {json.dumps(str(ca))}{extra} }},"
        )
    lines.append("]")
    if timeout is not None:
        lines.append(f"timeout_seconds = {timeout}")
    config.write_text(base + "\n".join(lines) + "\n", encoding="utf-8")


def unreachable_url() -> str:
    """A local address where nothing listens: what a TSA looks like without network."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsr"


class SilentServer:
    """Accepts connections and never answers: a TSA that hangs."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/tsr"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
