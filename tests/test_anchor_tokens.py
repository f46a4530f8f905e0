"""Tokens as real authorities make them: accepted whatever their valid encoding, refused with the reason.

Each authority is OpenSSL's `ts -reply` set up as such authorities are (its CA certificates in its
replies or not, an intermediate CA, ESS v1 or v2, the whole chain in the ESS attribute, SHA-384 and
SHA-512 signer digests). Every token accepted here is also accepted by `openssl ts -verify` against
the root alone: the check stays the one a reader of the dossier can make.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from evidence.timestamps import (
    MODIFIED,
    NOT_FOR_TIME_STAMPING,
    UNTRUSTED,
    TokenError,
    check_token,
    load_certificates,
    read_token,
)
from evidence.tsa_client import ask_for_token
from tests.token_rewrites import (
    CONTEXT_0,
    as_ber,
    parse,
    signed_again,
    signed_data_of,
    with_certificate,
    with_certificates_reversed,
)
from tests.tsa_helpers import AuthorityKeys, LocalTsa, TsaProfile, another_certificate, make_authority

DIGEST = hashlib.sha256(b"racine de Merkle du journal").digest()
NONCE = 424242

PROFILES = {
    "seul son certificat": TsaProfile(),
    "avec sa racine (certs)": TsaProfile(send_chain=True),
    "intermédiaire envoyé": TsaProfile(intermediate=True, send_chain=True),
    "ESS v1 (SHA-1)": TsaProfile(ess_alg="sha1", send_chain=True),
    "ESS v2 de toute la chaîne": TsaProfile(intermediate=True, send_chain=True, ess_chain=True),
    "ESS v1 de toute la chaîne": TsaProfile(intermediate=True, send_chain=True, ess_chain=True, ess_alg="sha1"),
    "signature SHA-384": TsaProfile(signer_digest="sha384", send_chain=True),
    "signature SHA-512": TsaProfile(signer_digest="sha512", intermediate=True, send_chain=True),
}


@pytest.fixture(scope="module", params=list(PROFILES))
def authority(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthorityKeys, bytes]]:
    """An authority of each profile and one token it made over DIGEST."""
    keys = make_authority(tmp_path_factory.mktemp("tsa"), f"TSA {request.param}", profile=PROFILES[request.param])
    with LocalTsa(keys) as server:
        yield keys, ask_for_token(server.url, DIGEST, NONCE, 10)


def _roots(keys: AuthorityKeys) -> list[x509.Certificate]:
    return load_certificates(keys.ca_file)


def _openssl_verifies(token: bytes, ca_file: Path, tmp_path: Path) -> bool:
    (tmp_path / "jeton.tsr").write_bytes(token)
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", DIGEST.hex(), "-in", str(tmp_path / "jeton.tsr"), "-CAfile", str(ca_file)],
        capture_output=True, text=True,
    )
    return done.returncode == 0 and "Verification: OK" in done.stdout


def _certificate_count(token: bytes) -> int:
    return len(tsp.TimeStampResp.load(token)["time_stamp_token"]["content"]["certificates"])


def test_every_authority_profile_is_accepted(authority, tmp_path):
    keys, token = authority
    facts = check_token(token, DIGEST, _roots(keys), NONCE)
    assert facts.digest == DIGEST.hex() and facts.policy == "1.3.6.1.4.1.99999.1"
    assert _openssl_verifies(token, keys.ca_file, tmp_path)


@pytest.mark.parametrize("authority", [name for name, p in PROFILES.items() if p.send_chain], indirect=True)
def test_certificates_in_any_order_are_accepted(authority, tmp_path):
    keys, token = authority
    assert _certificate_count(token) > 1
    reversed_token = with_certificates_reversed(token)
    assert reversed_token != token and len(reversed_token) == len(token)
    assert check_token(reversed_token, DIGEST, _roots(keys), NONCE) == check_token(token, DIGEST, _roots(keys), NONCE)
    assert _openssl_verifies(reversed_token, keys.ca_file, tmp_path)


def test_a_ber_encoded_token_is_accepted(authority, tmp_path):
    keys, token = authority
    ber = as_ber(token)
    assert b"\x30\x80" in ber and b"\x24\x80" in ber  # indefinite lengths, the TSTInfo in chunks
    assert check_token(ber, DIGEST, _roots(keys), NONCE) == check_token(token, DIGEST, _roots(keys), NONCE)
    assert _openssl_verifies(ber, keys.ca_file, tmp_path)


def test_the_openssl_reply_with_its_ca_is_out_of_der_order(tmp_path):
    """The reply that revealed the bug: OpenSSL puts the signer first, whatever DER's order."""
    keys = make_authority(tmp_path / "tsa", profile=TsaProfile(send_chain=True))
    with LocalTsa(keys) as server:
        token = ask_for_token(server.url, DIGEST, NONCE, 10)
    [certificates] = [c for c in signed_data_of(parse(token)).children if c.tag == CONTEXT_0]
    encoded = [cert.encoded for cert in certificates.children]
    assert len(encoded) == 2 and encoded != sorted(encoded)
    assert check_token(token, DIGEST, _roots(keys), NONCE).digest == DIGEST.hex()


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> AuthorityKeys:
    """An authority under an intermediate CA that sends only its own certificate."""
    return make_authority(tmp_path_factory.mktemp("chained"), "TSA sous intermédiaire", profile=TsaProfile(intermediate=True))


def test_an_intermediate_not_sent_must_be_configured(chained, tmp_path):
    with LocalTsa(chained) as server:
        token = ask_for_token(server.url, DIGEST, NONCE, 10)
    assert _certificate_count(token) == 1
    with pytest.raises(TokenError, match=f"^{UNTRUSTED}$"):
        check_token(token, DIGEST, _roots(chained), NONCE)
    with_intermediate = load_certificates(chained.ca_file) + load_certificates(chained.intermediate)
    assert check_token(token, DIGEST, with_intermediate, NONCE).digest == DIGEST.hex()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthorityKeys, bytes]]:
    keys = make_authority(tmp_path_factory.mktemp("plain"), "TSA simple")
    with LocalTsa(keys) as server:
        yield keys, ask_for_token(server.url, DIGEST, NONCE, 10)


def test_a_signer_named_by_its_key_identifier_is_accepted(plain):
    keys, token = plain
    by_key_id = signed_again(token, keys.tsa_cert, keys.tsa_key)
    signer_info = tsp.TimeStampResp.load(by_key_id)["time_stamp_token"]["content"]["signer_infos"][0]
    assert signer_info["sid"].name == "subject_key_identifier"
    assert check_token(by_key_id, DIGEST, _roots(keys), NONCE) == check_token(token, DIGEST, _roots(keys), NONCE)


def test_a_token_without_ess_attribute_is_refused(plain):
    keys, token = plain
    with pytest.raises(TokenError, match=r"^le jeton ne désigne pas son certificat signataire \(attribut ESS absent\)$"):
        check_token(signed_again(token, keys.tsa_cert, keys.tsa_key, key_id=False, ess=False), DIGEST, _roots(keys))


def test_a_certificate_swapped_for_a_twin_is_refused(plain):
    """Same key, another certificate: the signature still verifies, the ESS attribute tells."""
    keys, token = plain
    twin = x509.load_pem_x509_certificate(another_certificate(keys, "jumeau").read_bytes())
    swapped = with_certificate(signed_again(token, keys.tsa_cert, keys.tsa_key), twin.public_bytes(Encoding.DER))
    with pytest.raises(TokenError, match=r"^le certificat désigné par le jeton \(attribut ESS\) n'est pas celui qui l'a signé$"):
        check_token(swapped, DIGEST, _roots(keys))


def test_a_signer_without_the_time_stamping_restriction_is_refused(plain):
    keys, token = plain
    loose = another_certificate(keys, "sans-restriction", for_time_stamping_only=False)
    with pytest.raises(TokenError, match=f"^{NOT_FOR_TIME_STAMPING}$"):
        check_token(signed_again(token, loose, keys.tsa_key, key_id=False), DIGEST, _roots(keys))


def test_a_token_without_its_signer_certificate_is_refused(plain, tmp_path):
    keys, token = plain
    other = make_authority(tmp_path / "autre", "Autre TSA")
    stranger = x509.load_pem_x509_certificate(other.tsa_cert.read_bytes()).public_bytes(Encoding.DER)
    with pytest.raises(TokenError, match="^le jeton ne contient pas le certificat de l'autorité qui l'a signé$"):
        check_token(with_certificate(token, stranger), DIGEST, _roots(keys))


def test_a_changed_tstinfo_is_refused_in_ber_too(plain):
    keys, token = plain
    changed = bytearray(token)
    at = changed.index(DIGEST)
    changed[at] ^= 0x01
    ber = as_ber(bytes(changed))
    with pytest.raises(TokenError, match="^le jeton porte sur une autre empreinte"):
        check_token(ber, DIGEST, _roots(keys))
    with pytest.raises(TokenError, match=f"^{MODIFIED}$"):
        check_token(ber, bytes(changed[at : at + 32]), _roots(keys))


def test_a_refusal_and_garbage_are_told_apart():
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": ["Message digest algorithm is not supported."]}
    ).dump()
    refusal = bytes([0x30, len(status)]) + status  # a TimeStampResp without token
    with pytest.raises(TokenError, match=r"^l'autorité a refusé la demande \(Message digest algorithm is not supported.\)$"):
        read_token(refusal)
    for garbage in (b"", b"<html>erreur</html>", b"\x30\x03\x02\x01"):
        with pytest.raises(TokenError, match="^jeton d'horodatage illisible$"):
            read_token(garbage)


def _meaningless(token: bytes) -> set[int]:
    """The bytes of a token that nothing signs and no check needs: the status (read leniently), the
    versions of SignedData and SignerInfo, SignedData.digestAlgorithms, the NULL parameters of the
    SignerInfo's digest algorithm (RFC 5652 §5.1, §5.3)."""
    response = parse(token)
    signed_data = signed_data_of(response)
    signer_info = signed_data.children[-1].children[0]
    nodes = [response.children[0], *signed_data.children[:2], signer_info.children[0], *signer_info.children[2].children[1:]]
    return {at for node in nodes for at in node.span}


def test_damaged_tokens_are_refused_with_a_reason_never_a_crash(plain):
    """Every truncation of a token, DER and BER, and bytes changed at random (a fixed seed): a
    TokenError each time, unless the change hit only bytes that mean nothing."""
    keys, token = plain
    roots = _roots(keys)
    meaningless = _meaningless(token)
    damaged = [(base[:cut], ()) for base in (token, as_ber(token)) for cut in range(0, len(base), 7)]
    rng = random.Random(17)
    for _ in range(400):
        changed, where = bytearray(token), []
        for _ in range(rng.randint(1, 3)):
            where.append(rng.randrange(len(changed)))
            changed[where[-1]] ^= rng.randrange(1, 256)
        damaged.append((bytes(changed), tuple(where)))
    for data, where in damaged:
        try:
            check_token(data, DIGEST, roots, NONCE)
        except TokenError as exc:
            assert str(exc)
        else:
            assert where and meaningless.issuperset(where), where
