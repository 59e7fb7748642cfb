"""SMC's RPC wire conventions: constants, timestamps and parameter flattening.

Everything on the wire is a string.  Lists become ``Name.N`` (N from 1), structs
``Name.Field``, and the two nest (``DataDisk.1.Part.2.Device``).  Booleans are
written ``true``/``false`` as documented; readers accept any case because the
official Python SDK sends ``True``/``False``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeAlias

__all__ = [
    "API_VERSION",
    "DEFAULT_ENDPOINT",
    "TIMESTAMP_FORMAT",
    "WireValue",
    "flatten",
    "format_timestamp",
    "parse_bool",
    "parse_timestamp",
]

API_VERSION = "2019-06-01"
DEFAULT_ENDPOINT = "https://smc.aliyuncs.com"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# What `flatten` accepts: scalars, lists of them, and string-keyed structs.
WireValue: TypeAlias = (
    "str | int | float | bool | datetime | Sequence[WireValue] | Mapping[str, WireValue] | None"
)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with second precision, ``yyyy-MM-ddTHH:mm:ssZ``."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse SMC's ``yyyy-MM-ddTHH:mm:ssZ`` (also with minutes only, as SMC emits).

    Raises ``ValueError`` for anything else.
    """
    # The layout is checked here; datetime.fromisoformat (C, fast) then reads the numbers
    # and checks their ranges.  strptime costs ten times more, on every time of a response.
    seconds = len(text) == 20 and text[16] == ":"
    if (
        (seconds or len(text) == 17)
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == "T"
        and text[13] == ":"
        and text[-1] == "Z"
        and text.isascii()
        and text[:-1].replace("-", "").replace(":", "").replace("T", "").isdigit()
    ):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    raise ValueError(f"not an ISO 8601 UTC timestamp: {text!r}")


def parse_bool(text: str) -> bool:
    """``true``/``false`` in any case; raises ``ValueError`` otherwise."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _scalar(value: str | int | float | bool | datetime) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


def flatten(name: str, value: WireValue, out: dict[str, str] | None = None) -> dict[str, str]:
    """Flatten one named value into wire parameters; ``None`` is left out.

    >>> flatten("DataDisk", [{"Index": 1, "Size": 100}])
    {'DataDisk.1.Index': '1', 'DataDisk.1.Size': '100'}
    """
    result: dict[str, str] = {} if out is None else out
    if value is None:
        return result
    if isinstance(value, Mapping):
        for field, item in value.items():
            flatten(f"{name}.{field}", item, result)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in enumerate(value, start=1):
            flatten(f"{name}.{index}", item, result)
    else:
        result[name] = _scalar(value)
    return result
