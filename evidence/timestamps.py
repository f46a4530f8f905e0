"""Reading and checking RFC 3161 timestamp tokens.

A token is accepted when the authority granted it, its message imprint is the expected SHA-256
digest, and it is a valid CMS signature (RFC 5652 §5.4, §5.6) by a certificate that:
- is in the token, named by the signer's issuer and serial number or subject key identifier;
- is the one the ESS signing-certificate attribute names (v1, RFC 2634, or v2, RFC 5035; one of
  them is required, RFC 3161 §2.4.1 and RFC 5816);
- chains, through the token's other certificates, to one of the configured certificates, every
  certificate of the path valid at the token's time (RFC 5280; without network, revocation is
  not checked);
- is for time stamping only, with a critical extendedKeyUsage (RFC 3161 §2.3).

The token is read with asn1crypto, which takes BER as well as DER: real authorities send their
certificates in any order and some lengths in BER, which RFC 5652 allows outside the signed
attributes (rfc3161-client, used before, parses strict DER only, knows signers by issuer and
serial only and does not check the ESS attribute). The path validation and the signature's
cryptography are pyhanko-certvalidator's; what is here is the glue RFC 3161 and RFC 5652 define.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

if TYPE_CHECKING:
    from pyhanko_certvalidator.errors import PathValidationError

TIME_STAMPING_EKU = "time_stamping"
UNREADABLE = "jeton d'horodatage illisible"
MODIFIED = "signature invalide : le jeton a été modifié"
UNTRUSTED = "certificat de l'autorité non reconnu par les certificats racines configurés"
NOT_FOR_TIME_STAMPING = "le certificat signataire n'est pas un certificat d'horodatage"
# What asn1crypto raises on bytes that do not decode as they should.
_MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


class TokenError(Exception):
    """A token that cannot be read or does not prove what it should; the message says why."""


@dataclass(frozen=True)
class TokenFacts:
    """What a checked token says."""

    gen_time: datetime
    serial_number: str
    policy: str
    digest: str


@dataclass(frozen=True)
class Token:
    """The parts of a granted TimeStampResp that the checks read.

    The signed bytes are kept as they came: asn1crypto re-encodes a value once a default field
    of it has been read, which must never change what a signature or a hash is checked over."""

    content: bytes  # the encapsulated TSTInfo
    signed_attributes: bytes  # as the signature covers them: SET OF tag, not [0] (RFC 5652 §5.4)
    certificates: tuple[bytes, ...]  # each certificate of the token
    signer_info: cms.SignerInfo
    imprint_algorithm: str
    imprint: bytes
    nonce: int | None
    facts: TokenFacts


def read_token(data: bytes) -> Token:
    """The parts of a TimeStampResp (DER or BER); TokenError if unreadable or not granted."""
    try:
        # The status alone first: asn1crypto's TimeStampResp wants a token, which a refusal lacks.
        status = tsp.PKIStatusInfo.load(core.Sequence.load(data, strict=True)[0].dump())
        if status["status"].native not in ("granted", "granted_with_mods"):
            detail = " ; ".join(status["status_string"].native or []) or f"statut {status['status'].native}"
            raise TokenError(f"l'autorité a refusé la demande ({detail})")
        token = tsp.TimeStampResp.load(data, strict=True)["time_stamp_token"]
        signed_data = token["content"]
        signer_infos = signed_data["signer_infos"]
        encapsulated = signed_data["encap_content_info"]
        if (
            token["content_type"].native != "signed_data"
            or len(signer_infos) != 1
            or encapsulated["content_type"].native != "tst_info"
        ):
            raise TokenError(UNREADABLE)
        attributes = signer_infos[0]["signed_attrs"]
        signed_attributes = b"\x31" + attributes.dump()[1:] if attributes else b""
        certificates = tuple(
            choice.chosen.dump() for choice in signed_data["certificates"] or () if choice.name == "certificate"
        )
        content = bytes(encapsulated["content"])
        info = tsp.TSTInfo.load(content, strict=True)
        imprint = info["message_imprint"]
        return Token(
            content=content,
            signed_attributes=signed_attributes,
            certificates=certificates,
            signer_info=signer_infos[0],
            imprint_algorithm=imprint["hash_algorithm"]["algorithm"].native,
            imprint=imprint["hashed_message"].native,
            nonce=info["nonce"].native,
            facts=TokenFacts(
                gen_time=info["gen_time"].native,
                serial_number=str(info["serial_number"].native),
                policy=info["policy"].dotted,
                digest=imprint["hashed_message"].native.hex(),
            ),
        )
    except _MALFORMED as exc:
        raise TokenError(UNREADABLE) from exc


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
    """Check a token (TimeStampResp bytes) over `digest`; raise TokenError saying what is wrong.

    Every certificate of `roots` is trusted as it is (a root, or an intermediate the user chose
    to trust)."""
    token = read_token(data)
    if token.imprint_algorithm != "sha256":
        raise TokenError("le jeton n'utilise pas SHA-256")
    if token.imprint != digest:
        raise TokenError(f"le jeton porte sur une autre empreinte ({token.imprint.hex()}, attendue {digest.hex()})")
    if nonce is not None and token.nonce != nonce:
        raise TokenError("réponse à une autre demande (nonce différent)")
    if not roots:
        raise TokenError("aucun certificat racine configuré pour vérifier le jeton")
    try:
        signer, others = _signer_certificate(token)
        _check_signature(token, signer)
        _check_usage(signer)
        _check_path(signer, others, roots, token.facts.gen_time)
    except _MALFORMED as exc:  # asn1crypto parses lazily: a damaged certificate or attribute fails here
        raise TokenError(f"{UNREADABLE} (certificat ou attribut signé mal formé)") from exc
    return token.facts


def _signer_certificate(token: Token) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    """The certificate that signed (by the SignerInfo's sid, RFC 5652 §5.3), and the others."""
    certificates = [asn1_x509.Certificate.load(der, strict=True) for der in token.certificates]
    sid = token.signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        wanted = (sid.chosen["issuer"], sid.chosen["serial_number"].native)
        signers = [c for c in certificates if (c.issuer, c.serial_number) == wanted]
    else:
        signers = [c for c in certificates if c.key_identifier == sid.chosen.native]
    if not signers:
        raise TokenError("le jeton ne contient pas le certificat de l'autorité qui l'a signé")
    return signers[0], [c for c in certificates if c is not signers[0]]


def _attribute(attributes: cms.CMSAttributes, name: str) -> Any:
    """The value of a signed attribute, or None; an attribute must have a single value."""
    values = [attribute["values"] for attribute in attributes if attribute["type"].native == name]
    if len(values) > 1 or (values and len(values[0]) != 1):
        raise TokenError(f"{UNREADABLE} (attribut signé « {name} » en plusieurs exemplaires)")
    return values[0][0] if values else None


def _check_signature(token: Token, signer: asn1_x509.Certificate) -> None:
    """ESS signing-certificate, content type, message digest, then the signature itself."""
    # Imported here: pyhanko-certvalidator takes a tenth of a second, which no other command should wait.
    from pyhanko_certvalidator.errors import AlgorithmNotSupported
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidationContext

    attributes = token.signer_info["signed_attrs"]
    if not attributes:
        raise TokenError(f"{UNREADABLE} (pas d'attributs signés)")
    ess = _attribute(attributes, "signing_certificate_v2") or _attribute(attributes, "signing_certificate")
    if ess is None:
        raise TokenError("le jeton ne désigne pas son certificat signataire (attribut ESS absent)")
    if not _names(ess["certs"][0], signer):
        raise TokenError("le certificat désigné par le jeton (attribut ESS) n'est pas celui qui l'a signé")
    content_type = _attribute(attributes, "content_type")
    if content_type is None or content_type.native != "tst_info":
        raise TokenError(f"{UNREADABLE} (le contenu signé n'est pas un jeton d'horodatage)")
    algorithm = token.signer_info["digest_algorithm"]["algorithm"].native
    try:
        content_digest = hashlib.new(algorithm, token.content).digest()
    except ValueError as exc:
        raise TokenError(f"algorithme d'empreinte non pris en charge ({algorithm})") from exc
    message_digest = _attribute(attributes, "message_digest")
    if message_digest is None or message_digest.native != content_digest:
        raise TokenError(MODIFIED)
    try:
        DefaultSignatureValidator().validate_signature(
            token.signer_info["signature"].native,
            token.signed_attributes,
            signer.public_key,
            token.signer_info["signature_algorithm"],
            SignatureValidationContext(contextual_md_algorithm=algorithm),
        )
    except InvalidSignature as exc:
        raise TokenError(MODIFIED) from exc
    except (ValueError, TypeError, AssertionError, AlgorithmNotSupported) as exc:
        raise TokenError(f"algorithme de signature non pris en charge ({exc})") from exc


def _names(cert_id: tsp.ESSCertID | tsp.ESSCertIDv2, cert: asn1_x509.Certificate) -> bool:
    """Whether an ESSCertID (SHA-1 for v1; SHA-256 unless said otherwise for v2) names `cert`."""
    if isinstance(cert_id, tsp.ESSCertID):
        algorithm = "sha1"
    else:
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
    if hashlib.new(algorithm, cert.dump()).digest() != cert_id["cert_hash"].native:
        return False
    issuer_serial = cert_id["issuer_serial"]
    if not issuer_serial:
        return True
    return issuer_serial["serial_number"].native == cert.serial_number and any(
        name.name == "directory_name" and name.chosen == cert.issuer for name in issuer_serial["issuer"]
    )


def _check_usage(signer: asn1_x509.Certificate) -> None:
    """RFC 3161 §2.3: extendedKeyUsage critical, id-kp-timeStamping and nothing else."""
    usage = signer.extended_key_usage_value
    if (
        usage is None
        or "extended_key_usage" not in signer.critical_extensions
        or usage.native != [TIME_STAMPING_EKU]
    ):
        raise TokenError(NOT_FOR_TIME_STAMPING)


def _check_path(
    signer: asn1_x509.Certificate,
    others: list[asn1_x509.Certificate],
    roots: list[x509.Certificate],
    at: datetime,
) -> None:
    """A valid path from the signer to a configured certificate, at the token's time."""
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, PathBuildingError, ValidationError

    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root.public_bytes(Encoding.DER)) for root in roots],
        moment=at,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    validator = CertificateValidator(signer, intermediate_certs=others, validation_context=context)
    try:
        asyncio.run(validator.async_validate_path())
    except PathBuildingError as exc:
        raise TokenError(UNTRUSTED) from exc
    except ExpiredError as exc:
        raise TokenError(f"certificat {_whose(exc)} expiré à la date du jeton") from exc
    except NotYetValidError as exc:
        raise TokenError(f"certificat {_whose(exc)} pas encore valide à la date du jeton") from exc
    except ValidationError as exc:
        raise TokenError(f"chaîne de certificats de l'autorité invalide ({exc})") from exc


def _whose(error: PathValidationError) -> str:
    return "de l'autorité" if error.is_ee_cert else "d'une autorité de certification de la chaîne"
