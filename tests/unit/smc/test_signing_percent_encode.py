"""percent_encode against the rules of SMC_API.md section 0.6, step 2.

UTF-8 first, then RFC 3986: only ``A-Z a-z 0-9 - _ . ~`` stay literal, every other byte
is ``%XY`` with upper-case hex; space is ``%20`` (never ``+``), ``*`` is ``%2A``.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote_plus, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smc.signing import percent_encode

UNRESERVED = string.ascii_letters + string.digits + "-_.~"
ENCODED_SHAPE = re.compile(r"(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})*")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("", ""),
        ("abcXYZ019", "abcXYZ019"),
        ("-_.~", "-_.~"),
        (" ", "%20"),
        ("a b", "a%20b"),
        ("*", "%2A"),
        ("~", "~"),
        ("+", "%2B"),
        ("/", "%2F"),
        ("=", "%3D"),
        ("&", "%26"),
        ("%", "%25"),
        ("%2A", "%252A"),
        ("?#;,:@!'()[]", "%3F%23%3B%2C%3A%40%21%27%28%29%5B%5D"),
        ('"<>{}|\\^`$', "%22%3C%3E%7B%7D%7C%5C%5E%60%24"),
        ("\x00", "%00"),
        ("\t", "%09"),
        ("\x7f", "%7F"),
        ("abc\n", "abc%0A"),  # a trailing newline must not slip through a "$" regex
        ("é", "%C3%A9"),  # two-byte UTF-8, not Latin-1 "%E9"
        ("ÿ", "%C3%BF"),
        ("迁移", "%E8%BF%81%E7%A7%BB"),  # three-byte
        ("\U0001f680", "%F0%9F%9A%80"),  # four-byte (emoji)
        ("e\u0301", "e%CC%81"),  # combining acute accent
        ("\u05e9", "%D7%A9"),  # Hebrew (RTL)
        ("\u0661", "%D9%A1"),  # ARABIC-INDIC DIGIT ONE: a digit, but not an ASCII one
        ("\uff21", "%EF%BC%A1"),  # FULLWIDTH A: a letter, but not an ASCII one
        ("\u212a", "%E2%84%AA"),  # KELVIN SIGN: case-folds to "k" in Unicode regexes
        ("\u00a0", "%C2%A0"),  # no-break space
    ],
)
def test_percent_encode_table(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character(code: int) -> None:
    char = chr(code)
    expected = char if char in UNRESERVED else f"%{code:02X}"
    assert percent_encode(char) == expected


def test_hex_digits_are_upper_case() -> None:
    encoded = percent_encode("".join(chr(c) for c in range(256)))
    escapes = re.findall(r"%(..)", encoded)
    assert len(escapes) > 150
    assert all(e == e.upper() for e in escapes)
    assert "%c3" not in encoded
    assert "%C3" in encoded


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_percent_encode_properties(text: str) -> None:
    encoded = percent_encode(text)
    # Only unreserved characters and upper-case escapes, and it decodes back (UTF-8).
    assert ENCODED_SHAPE.fullmatch(encoded)
    assert unquote(encoded, errors="strict") == text
    # Same as the Java recipe the docs give: URLEncoder, then + -> %20, * -> %2A, %7E -> ~.
    java = quote_plus(text, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")
    assert encoded == java
