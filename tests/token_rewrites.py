"""Tokens as other authorities encode them, made from an OpenSSL token without touching what is signed.

RFC 5652 lets a SignedData be BER (indefinite lengths, an eContent split in chunks) and its
certificates come in any order; only the signed attributes, the TSTInfo and each certificate must
stay as they were signed. `openssl cms -keyid` names the signer by its subject key identifier,
which `openssl ts -reply` never does.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, tsp

OCTET_STRING, CONSTRUCTED_OCTET_STRING, CONTEXT_0 = 0x04, 0x24, 0xA0
TST_INFO_OID = "1.2.840.113549.1.9.16.1.4"


@dataclass
class Node:
    """One DER TLV: its tag, its encoding as read, where it starts, and its children when constructed."""

    tag: int
    encoded: bytes
    value: bytes
    children: list[Node]
    offset: int

    @property
    def span(self) -> range:
        return range(self.offset, self.offset + len(self.encoded))


def parse(data: bytes) -> Node:
    node, end = _read(data, 0)
    assert end == len(data), "trailing bytes"
    return node


def _read(data: bytes, at: int) -> tuple[Node, int]:
    """The TLV at `at`, and where the next one starts."""
    tag, first = data[at], data[at + 1]
    if first < 0x80:
        start, length = at + 2, first
    else:
        count = first & 0x7F
        start, length = at + 2 + count, int.from_bytes(data[at + 2 : at + 2 + count], "big")
    end = start + length
    children = []
    if tag & 0x20:
        position = start
        while position < end:
            child, position = _read(data, position)
            children.append(child)
    return Node(tag, data[at:end], data[start:end], children, at), end


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _der(tag: int, children: list[bytes]) -> bytes:
    body = b"".join(children)
    return bytes([tag]) + _length(len(body)) + body


def _indefinite(tag: int, children: list[bytes]) -> bytes:
    return bytes([tag, 0x80]) + b"".join(children) + b"\x00\x00"


def signed_data_of(response: Node) -> Node:
    """TimeStampResp → timeStampToken (ContentInfo) → [0] → SignedData."""
    return response.children[1].children[1].children[0]


def with_certificates_reversed(token: bytes) -> bytes:
    """The same token, its SignedData.certificates in the reverse order (DER lengths kept)."""
    response = parse(token)
    signed_data = signed_data_of(response)
    [certificates] = [child for child in signed_data.children if child.tag == CONTEXT_0]
    assert len(certificates.children) > 1, "a single certificate: nothing to reorder"
    replaced = {id(certificates): _der(CONTEXT_0, [c.encoded for c in reversed(certificates.children)])}
    return _rebuild(response, replaced, _der)


def as_ber(token: bytes, chunk: int = 50) -> bytes:
    """The same token in BER: indefinite lengths around everything not signed, the TSTInfo's
    OCTET STRING cut into chunks of `chunk` bytes."""
    response = parse(token)
    signed_data = signed_data_of(response)
    verbatim: dict[int, bytes] = {}
    [certificates] = [child for child in signed_data.children if child.tag == CONTEXT_0]
    verbatim.update({id(cert): cert.encoded for cert in certificates.children})
    for signer_info in signed_data.children[-1].children:
        verbatim.update({id(part): part.encoded for part in signer_info.children})
    encapsulated = signed_data.children[2]
    octets = encapsulated.children[1].children[0]
    assert octets.tag == OCTET_STRING
    pieces = [octets.value[at : at + chunk] for at in range(0, len(octets.value), chunk)]
    verbatim[id(octets)] = _indefinite(CONSTRUCTED_OCTET_STRING, [_der(OCTET_STRING, [piece]) for piece in pieces])
    return _rebuild(response, verbatim, _indefinite)


def _rebuild(node: Node, replaced: dict[int, bytes], constructed: Callable[[int, list[bytes]], bytes]) -> bytes:
    """`node` encoded again: `replaced` nodes as given, other constructed ones by `constructed`."""
    if id(node) in replaced:
        return replaced[id(node)]
    if not node.children:
        return node.encoded
    return constructed(node.tag, [_rebuild(child, replaced, constructed) for child in node.children])


def signed_again(token: bytes, cert: Path, key: Path, *, key_id: bool = True, ess: bool = True) -> bytes:
    """The token's TSTInfo signed again by `openssl cms` with `cert` and `key`: with `key_id`, the
    signer is named by its subject key identifier; with `ess`, `-cades` adds an ESS
    signing-certificate v2 attribute."""
    response = tsp.TimeStampResp.load(token)
    content = bytes(response["time_stamp_token"]["content"]["encap_content_info"]["content"])
    options = [*(["-keyid"] if key_id else []), *(["-cades"] if ess else [])]
    with tempfile.TemporaryDirectory() as work:
        source, signed = Path(work) / "tst.der", Path(work) / "token.p7"
        source.write_bytes(content)
        subprocess.run(
            ["openssl", "cms", "-sign", "-binary", "-nodetach", "-in", str(source), "-econtent_type", TST_INFO_OID,
             "-signer", str(cert), "-inkey", str(key), "-nosmimecap", "-md", "sha256", *options,
             "-outform", "DER", "-out", str(signed)],
            check=True, capture_output=True,
        )
        content_info = cms.ContentInfo.load(signed.read_bytes())
    granted: bytes = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": content_info}).dump()
    return granted


def with_certificate(token: bytes, certificate_der: bytes) -> bytes:
    """The token with `certificate_der` instead of the certificates it carries (nothing signed changes)."""
    response = parse(token)
    signed_data = signed_data_of(response)
    [certificates] = [child for child in signed_data.children if child.tag == CONTEXT_0]
    return _rebuild(response, {id(certificates): _der(CONTEXT_0, [certificate_der])}, _der)
