"""Reading and checking RFC 3161 timestamp tokens (with rfc3161-client, not hand-written ASN.1).

A token is accepted when: the authority granted it, its message imprint is the expected SHA-256
digest, its CMS signature is valid, and the signer's certificate chains to one of the configured
root certificates, was valid at the token's time and is marked for time stamping only
(extendedKeyUsage critical, id-kp-timeStamping; RFC 3161 §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    PKIStatus,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

SHA256_OID = "2.16.840.1.101.3.4.2.1"

# What the verifier's (OpenSSL's) messages mean, in the user's words; first match wins.
_REASONS = (
    ("certificate has expired", "certificat de l'autorité expiré à la date du jeton"),
    ("certificate is not yet valid", "certificat de l'autorité pas encore valide à la date du jeton"),
    ("unable to get local issuer", "certificat de l'autorité non reconnu par les certificats racines configurés"),
    ("unable to get issuer", "certificat de l'autorité non reconnu par les certificats racines configurés"),
    ("self-signed certificate", "certificat de l'autorité non reconnu par les certificats racines configurés"),
    ("signature failure", "signature invalide : le jeton a été modifié"),
    ("digest failure", "signature invalide : le jeton a été modifié"),
    ("EKU", "le certificat signataire n'est pas un certificat d'horodatage"),
    ("Nonce mismatch", "réponse à une autre demande (nonce différent)"),
    ("PKIStatus", "l'autorité a refusé la demande"),
)


class TokenError(Exception):
    """A token that cannot be read or does not prove what it should; the message says why."""


@dataclass(frozen=True)
class TokenFacts:
    """What a checked token says."""

    gen_time: datetime
    serial_number: str
    policy: str
    digest: str


def read_token(data: bytes) -> TimeStampResponse:
    try:
        response = decode_timestamp_response(data)
    except ValueError as exc:
        raise TokenError("jeton d'horodatage illisible") from exc
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        detail = " ; ".join(response.status_string) or f"statut {response.status}"
        raise TokenError(f"l'autorité a refusé la demande ({detail})")
    return response


def load_certificates(path: Path) -> list[x509.Certificate]:
    """The PEM certificates of a file (a root, possibly with intermediates)."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise TokenError(f"certificats racines illisibles : {path} ({exc.strerror})") from exc
    return parse_certificates(pem, str(path))


def parse_certificates(pem: bytes, source: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TokenError(f"certificats racines illisibles : {source} (PEM attendu)") from exc


def check_token(
    data: bytes, digest: bytes, roots: list[x509.Certificate], nonce: int | None = None
) -> TokenFacts:
    """Check a token (TimeStampResp bytes) over `digest`; raise TokenError saying what is wrong."""
    response = read_token(data)
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm.dotted_string != SHA256_OID:
        raise TokenError("le jeton n'utilise pas SHA-256")
    if imprint.message != digest:
        raise TokenError(
            f"le jeton porte sur une autre empreinte ({imprint.message.hex()}, attendue {digest.hex()})"
        )
    if not roots:
        raise TokenError("aucun certificat racine configuré pour vérifier le jeton")
    builder = VerifierBuilder(roots=list(roots))
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify(response, digest)
    except VerificationError as exc:
        raise TokenError(_reason(str(exc))) from exc
    return token_facts(response)


def token_facts(response: TimeStampResponse) -> TokenFacts:
    info = response.tst_info
    return TokenFacts(
        gen_time=info.gen_time,
        serial_number=str(info.serial_number),
        policy=info.policy.dotted_string,
        digest=info.message_imprint.message.hex(),
    )


def _reason(message: str) -> str:
    for marker, reason in _REASONS:
        if marker in message:
            return reason
    return f"jeton invalide ({message})"
