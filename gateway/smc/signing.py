"""SMC RPC request signing, SignatureVersion 1.0 (HMAC-SHA1).

The steps are the ones Alibaba documents for RPC APIs and its SDKs implement:

1. percent-encode every parameter name and value (UTF-8, RFC 3986: only
   ``A-Z a-z 0-9 - _ . ~`` stay literal, hex digits upper case, space is ``%20``);
2. sort by name and join as ``name=value`` with ``&``: the canonical query;
3. string to sign = ``METHOD & %2F & percent_encode(canonical query)``;
4. signature = base64(HMAC-SHA1(secret + "&", string to sign)).

Each step is a function of its own so tests can check every intermediate string.
The secret is used only by :func:`signature` (which keeps the HMAC keyed with it, in
memory, for the next signature); the string to sign is safe to log.
"""

from __future__ import annotations

import base64
import functools
import hmac
from collections.abc import Mapping
from urllib.parse import quote

__all__ = [
    "canonical_query",
    "percent_encode",
    "sign_rpc_v1",
    "signature",
    "signed_query",
    "string_to_sign",
]

# RFC 3986's unreserved set, which stays literal; every other ASCII byte becomes %XX.
_UNRESERVED_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_ESCAPES = {byte: f"%{byte:02X}" for byte in range(128)}
_PERCENT = ord("%")
# The canonical query is escaped in one pass, names and values together, with these two
# bytes standing for "=" and "&" until the end (a request whose names or values hold one
# takes the pair-by-pair path).
_EQUALS, _AMPERSAND = "\x00", "\x01"
_KEEP_MARKS = (_EQUALS + _AMPERSAND).encode("ascii")


def _escape_ascii(text: str, keep: bytes = b"") -> str:
    """Percent-encode ASCII ``text``, leaving ``keep`` bytes as they are.

    One C pass finds the reserved characters present (deleting the unreserved ones), then
    one ``str.replace`` per distinct character: several times faster than ``quote()``,
    which escapes byte by byte in Python.
    """
    reserved = text.encode("ascii").translate(None, _UNRESERVED_BYTES + keep)
    if not reserved:
        return text
    found = set(reserved)
    if _PERCENT in found:  # first, so the escapes added below are not escaped again
        text = text.replace("%", "%25")
        found.discard(_PERCENT)
    for byte in found:
        text = text.replace(chr(byte), _ESCAPES[byte])
    return text


def percent_encode(text: str) -> str:
    """Encode ``text`` as Alibaba's percentEncode does (RFC 3986, UTF-8)."""
    if text.isascii():
        return _escape_ascii(text)
    # quote() keeps exactly the RFC 3986 unreserved set when safe="".
    return quote(text, safe="")


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, percent-encoded ``name=value`` pairs joined with ``&``."""
    names = sorted(params)  # by the raw name, as the SDKs sort
    marked = _AMPERSAND.join([name + _EQUALS + params[name] for name in names])
    if (
        marked.isascii()
        and marked.count(_EQUALS) == len(names)
        and marked.count(_AMPERSAND) == max(len(names) - 1, 0)
    ):
        escaped = _escape_ascii(marked, _KEEP_MARKS)
        return escaped.replace(_EQUALS, "=").replace(_AMPERSAND, "&")
    return "&".join([percent_encode(name) + "=" + percent_encode(params[name]) for name in names])


def _string_to_sign_from_query(method: str, query: str) -> str:
    # percent_encode(canonical query) without encoding twice: the encoded query holds
    # only unreserved characters, "%", "=" and "&".
    body = query.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method}&%2F&{body}"


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&percent_encode(canonical_query(params))``.

    ``method`` is used as given (``GET`` or ``POST``), as the SDKs do.
    """
    return _string_to_sign_from_query(method, canonical_query(params))


@functools.lru_cache(maxsize=256)
def _keyed_hmac(access_key_secret: str) -> hmac.HMAC:
    # Keying HMAC costs OpenSSL 3 as much as hashing a whole request: key once per secret
    # (a few per process), then copy the keyed state for each signature.
    return hmac.new((access_key_secret + "&").encode(), digestmod="sha1")


def signature(string_to_sign_: str, access_key_secret: str) -> str:
    """Base64 HMAC-SHA1 of the string to sign, keyed with ``secret + "&"``."""
    mac = _keyed_hmac(access_key_secret).copy()
    mac.update(string_to_sign_.encode())
    return base64.b64encode(mac.digest()).decode("ascii")


def sign_rpc_v1(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Return the ``Signature`` value for an SMC RPC request (contract).

    ``params`` holds every request parameter except ``Signature`` itself
    (common and operation parameters, query and form body together).
    The result is the raw base64 text; percent-encode it when placing it in a
    query string.
    """
    return signature(string_to_sign(method, params), access_key_secret)


def signed_query(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """The whole encoded request: canonical query plus ``&Signature=...``.

    Serves as a query string or as an ``application/x-www-form-urlencoded``
    body.  Encodes every pair once and reuses it for the string to sign.
    """
    query = canonical_query(params)
    sig = signature(_string_to_sign_from_query(method, query), access_key_secret)
    return f"{query}&Signature={percent_encode(sig)}"
