"""SMC RPC request signing, SignatureVersion 1.0 (HMAC-SHA1).

The steps are the ones Alibaba documents for RPC APIs and its SDKs implement:

1. percent-encode every parameter name and value (UTF-8, RFC 3986: only
   ``A-Z a-z 0-9 - _ . ~`` stay literal, hex digits upper case, space is ``%20``);
2. sort by name and join as ``name=value`` with ``&``: the canonical query;
3. string to sign = ``METHOD & %2F & percent_encode(canonical query)``;
4. signature = base64(HMAC-SHA1(secret + "&", string to sign)).

Each step is a function of its own so tests can check every intermediate string.
The secret never leaves :func:`signature`; the string to sign is safe to log.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import quote

__all__ = [
    "canonical_query",
    "percent_encode",
    "sign_rpc_v1",
    "signature",
    "signed_query",
    "string_to_sign",
]

# Values made only of unreserved characters encode to themselves; most SMC
# parameters (IDs, enums, numbers) are like that, so skipping `quote` for them
# is the main saving on the hot path.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


# Unreserved plus ":": every Timestamp (one per request) is like that, and ":" is its only
# character to escape, which a replace does ten times faster than quote().
_UNRESERVED_OR_COLON = re.compile(r"[A-Za-z0-9_.~:-]*").fullmatch


def percent_encode(text: str) -> str:
    """Encode ``text`` as Alibaba's percentEncode does (RFC 3986, UTF-8)."""
    if _UNRESERVED(text):
        return text
    if _UNRESERVED_OR_COLON(text):
        return text.replace(":", "%3A")
    # quote() keeps exactly the RFC 3986 unreserved set when safe="".
    return quote(text, safe="")


@lru_cache(maxsize=1024)
def _encode_name(name: str) -> str:
    # Parameter names come from a small fixed vocabulary: cache them.
    return percent_encode(name)


def _encoded_pairs(params: Mapping[str, str]) -> list[tuple[str, str]]:
    # Sorted by the raw name, as the SDKs sort.
    return [(_encode_name(k), percent_encode(params[k])) for k in sorted(params)]


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, percent-encoded ``name=value`` pairs joined with ``&``."""
    return "&".join(f"{k}={v}" for k, v in _encoded_pairs(params))


def _string_to_sign_from_pairs(method: str, pairs: Iterable[tuple[str, str]]) -> str:
    # percent_encode(canonical query) without encoding twice: encoded names and
    # values are unreserved except for "%", which becomes "%25"; "=" and "&"
    # become "%3D" and "%26".
    body = "%26".join(f"{k.replace('%', '%25')}%3D{v.replace('%', '%25')}" for k, v in pairs)
    return f"{method}&%2F&{body}"


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&percent_encode(canonical_query(params))``.

    ``method`` is used as given (``GET`` or ``POST``), as the SDKs do.
    """
    return _string_to_sign_from_pairs(method, _encoded_pairs(params))


def signature(string_to_sign_: str, access_key_secret: str) -> str:
    """Base64 HMAC-SHA1 of the string to sign, keyed with ``secret + "&"``."""
    key = (access_key_secret + "&").encode()
    digest = hmac.digest(key, string_to_sign_.encode(), "sha1")
    return base64.b64encode(digest).decode("ascii")


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
    pairs = _encoded_pairs(params)
    sig = signature(_string_to_sign_from_pairs(method, pairs), access_key_secret)
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{query}&Signature={percent_encode(sig)}"
