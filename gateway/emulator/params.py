"""Reading typed request parameters from SMC's flat wire form, the one way the emulator does it.

:class:`ParamReader` wraps the decoded ``name → value`` map (query and form body together).
Every failure names the full wire field: a missing one raises ``MissingParameter``, a malformed
or out-of-range one ``InvalidParameter`` ("The specified parameter SystemDiskSize is not
valid.").  ``Name.N`` lists and ``Name.N.Field`` structs come back as sub-readers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import TypeVar

from gateway.emulator.errors import InvalidParameterError, MissingParameterError
from gateway.smc.wire import parse_bool, parse_timestamp

__all__ = ["ParamReader", "check_description", "check_name"]

_E = TypeVar("_E", bound=Enum)
_INTEGER = re.compile(r"-?[0-9]{1,18}").fullmatch
_INDEX = re.compile(r"[1-9][0-9]{0,3}").fullmatch
# SMC names: 2-128 characters, letters, digits, ":", "_", "-", starting with a letter.
_NAME = re.compile(r"[^\W\d_][\w:-]{1,127}").fullmatch
_URL_PREFIXES = ("http://", "https://")


def check_name(value: str) -> bool:
    """SMC's rule for source, job and image names."""
    return _NAME(value) is not None


def check_description(value: str, low: int, high: int) -> bool:
    """Length bounds and no ``http(s)://`` prefix.

    The seed also applies the name character set to job descriptions; the emulator does not,
    as a description with spaces is what every caller writes.
    """
    return low <= len(value) <= high and not value.startswith(_URL_PREFIXES)


class ParamReader:
    """Typed, named access to wire parameters under an optional ``prefix`` (``DataDisk.1.``)."""

    __slots__ = ("_params", "_prefix")

    def __init__(self, params: Mapping[str, str], prefix: str = "") -> None:
        self._params = params
        self._prefix = prefix

    def wire(self, name: str) -> str:
        """The full wire name of ``name`` under this reader's prefix."""
        return self._prefix + name

    def has(self, name: str) -> bool:
        return self._prefix + name in self._params

    def _invalid(self, name: str, why: str = "") -> InvalidParameterError:
        return InvalidParameterError.named(self.wire(name), why)

    def text(self, name: str, *, max_length: int | None = None) -> str | None:
        value = self._params.get(self._prefix + name)
        if value is not None and max_length is not None and len(value) > max_length:
            raise self._invalid(name, f"It must be at most {max_length} characters.")
        return value

    def required(self, name: str) -> str:
        value = self._params.get(self._prefix + name)
        if value is None or value == "":
            raise MissingParameterError.named(self.wire(name))
        return value

    def filter(self, name: str) -> str | None:
        """An optional filter: empty means absent."""
        return self._params.get(self._prefix + name) or None

    def name(self, name: str) -> str | None:
        value = self._params.get(self._prefix + name)
        if value is not None and not check_name(value):
            raise self._invalid(
                name,
                "It must be 2 to 128 characters long, start with a letter and contain only "
                "letters, digits, colons, underscores and hyphens.",
            )
        return value

    def description(self, name: str, low: int, high: int) -> str | None:
        value = self._params.get(self._prefix + name)
        if value is not None and not check_description(value, low, high):
            raise self._invalid(
                name, f"It must be {low} to {high} characters and not start with http(s)://."
            )
        return value

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        value = self._params.get(self._prefix + name)
        if value is None:
            return None
        if not _INTEGER(value):
            raise self._invalid(name)
        number = int(value)
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{'-inf' if low is None else low} to {'inf' if high is None else high}"
            raise self._invalid(name, f"It must be in the range {bounds}.")
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._params.get(self._prefix + name)
        if value is None:
            return None
        try:
            return parse_bool(value)
        except ValueError:
            raise self._invalid(name, "It must be true or false.") from None

    def timestamp(self, name: str) -> datetime | None:
        value = self._params.get(self._prefix + name)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self._invalid(name, "It must be yyyy-MM-ddTHH:mm:ssZ (UTC).") from None

    def choice(self, name: str, enum: type[_E], *, case_insensitive: bool = False) -> _E | None:
        value = self._params.get(self._prefix + name)
        if value is None:
            return None
        for member in enum:
            expected = str(member.value)
            if value == expected or (case_insensitive and value.lower() == expected.lower()):
                return member
        allowed = ", ".join(str(m.value) for m in enum)
        raise self._invalid(name, f"Allowed values: {allowed}.")

    def json_object(self, name: str, max_length: int) -> str | None:
        value = self.text(name, max_length=max_length)
        if value is None or value == "":
            return value
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise self._invalid(name, "It must be a JSON object.")
        return value

    def _numbered(self, name: str, max_n: int) -> dict[int, str]:
        """``N → rest`` for every key ``Name.N[.rest]`` under this reader."""
        head = self._prefix + name + "."
        found: dict[int, str] = {}
        for key in self._params:
            if not key.startswith(head):
                continue
            number, _, rest = key[len(head) :].partition(".")
            if not _INDEX(number) or int(number) > max_n:
                raise InvalidParameterError.named(key, f"N must be 1 to {max_n}.")
            found.setdefault(int(number), rest)
            if rest:
                found[int(number)] = rest
        return found

    def scalar_list(self, name: str, max_n: int) -> tuple[str, ...]:
        """``Name.1 … Name.N`` in N order."""
        numbers = self._numbered(name, max_n)
        head = self._prefix + name
        values: list[str] = []
        for n in sorted(numbers):
            key = f"{head}.{n}"
            if numbers[n] or key not in self._params:
                raise InvalidParameterError.named(f"{head}.{n}.{numbers[n]}")
            values.append(self._params[key])
        return tuple(values)

    def items(self, name: str, max_n: int) -> list[ParamReader]:
        """Sub-readers for the structs ``Name.N.*`` in N order."""
        head = self._prefix + name
        return [
            ParamReader(self._params, f"{head}.{n}.") for n in sorted(self._numbered(name, max_n))
        ]

    def struct(self, name: str) -> ParamReader | None:
        """A sub-reader for ``Name.*`` if any such key is present."""
        head = self._prefix + name + "."
        if any(key.startswith(head) for key in self._params):
            return ParamReader(self._params, head)
        return None
