"""HTTP request parts → request messages, response messages → JSON (proto3 JSON mapping).

The mapping is the one every proto3 client speaks (lowerCamelCase or original field
names accepted, int64 as strings, enums by name, Timestamps in RFC 3339), so browser
frontends can share types generated from the same ``.proto`` files as gRPC clients.

Only *form* is checked here (JSON syntax, UTF-8, field names, value types and ranges);
every rule about values is the core's.  Each malformed input becomes an
INVALID_ARGUMENT naming the field (its lowerCamelCase JSON name, or the query
parameter as sent).  Converters are built once per method, not per request.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, cast
from urllib.parse import unquote_to_bytes

import msgspec
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.core.errors import InvalidArgumentError
from gateway.core.memo import Memo
from gateway.rest.errors import bad_input

__all__ = [
    "MessageDecoder",
    "ResponseEncoder",
    "descriptor_of",
    "encoder_source",
    "enum_of",
    "expected",
    "is_map",
    "message_of",
    "message_to_dict",
    "message_to_json",
    "parse_query_string",
]

Scalar = str | int | float | bool | bytes
_Converter = Callable[[str], Scalar]

_INT_RANGES: Final[Mapping[int, tuple[str, int, int]]] = {
    FieldDescriptor.TYPE_INT32: ("int32", -(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: ("int32", -(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: ("int32", -(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: ("uint32", 0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: ("uint32", 0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: ("int64", -(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: ("int64", -(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: ("int64", -(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: ("uint64", 0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: ("uint64", 0, 2**64 - 1),
}
_INTEGER: Final = re.compile(r"-?[0-9]+")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# OverflowError: json_format turns a number into an enum with int(), and int(1e999) overflows.
_PARSE_FAILURES: Final = (
    json_format.ParseError,
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
)
_DESCRIPTION_LIMIT: Final = 200


def descriptor_of(message_type: type[Message]) -> Descriptor:
    """A generated class's descriptor (the stubs type it as a union with upb's)."""
    return cast(Descriptor, message_type.DESCRIPTOR)


def message_of(field: FieldDescriptor) -> Descriptor:
    """The message type of a message field."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type


def enum_of(field: FieldDescriptor) -> EnumDescriptor:
    """The enum type of an enum field."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def expected(field: FieldDescriptor) -> str:
    """What a field's JSON value must look like, in words (for error descriptions)."""
    if field.type in _INT_RANGES:
        name, low, high = _INT_RANGES[field.type]
        return f"an integer ({name}, {low} to {high})"
    if field.type == FieldDescriptor.TYPE_ENUM:
        return f"one of the {enum_of(field).full_name} value names"
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        well_known = {
            "google.protobuf.Timestamp": "an RFC 3339 timestamp such as 2024-01-31T12:00:00Z",
            "google.protobuf.Duration": "a duration such as 1.5s",
        }
        return well_known.get(message_of(field).full_name, "a JSON object")
    return {
        FieldDescriptor.TYPE_BOOL: "true or false",
        FieldDescriptor.TYPE_STRING: "a string",
        FieldDescriptor.TYPE_BYTES: "base64 text",
        FieldDescriptor.TYPE_DOUBLE: "a number",
        FieldDescriptor.TYPE_FLOAT: "a number",
    }.get(field.type, "a value of the field's type")


def _expected_for(field: FieldDescriptor, *, element: bool) -> str:
    if _is_repeated(field) and not element:
        return f"an array of {expected(field)}"
    return expected(field)


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def is_map(field: FieldDescriptor) -> bool:
    """A ``map<K, V>`` field (a repeated entry message on the wire)."""
    return field.type == FieldDescriptor.TYPE_MESSAGE and message_of(field).GetOptions().map_entry


@cache
def _fields_by_key(descriptor: Descriptor) -> Mapping[str, FieldDescriptor]:
    """Every accepted JSON key of a message: lowerCamelCase and original names."""
    keys: dict[str, FieldDescriptor] = {}
    for field in descriptor.fields:
        keys[field.name] = field
        keys[field.json_name] = field
    return keys


def _invalid_value(path: str, field: FieldDescriptor, *, element: bool) -> InvalidArgumentError:
    return bad_input(
        "INVALID_FIELD_VALUE", path, f"expected {_expected_for(field, element=element)}"
    )


def _locate(value: Mapping[str, Any], descriptor: Descriptor, prefix: str) -> InvalidArgumentError:
    """The first field of ``value`` that ``json_format`` rejects, with its JSON path.

    Runs only after a failed parse: each key is parsed alone, and objects are descended
    into, so the error names ``dataDisks[1].size`` rather than the whole body.
    """
    keys = _fields_by_key(descriptor)
    message_class = message_factory.GetMessageClass(descriptor)
    seen: dict[int, str] = {}
    for key, item in value.items():
        field = keys.get(key)
        if field is None:
            return bad_input("UNKNOWN_FIELD", f"{prefix}{key}", f"unknown field {key!r}")
        path = f"{prefix}{field.json_name}"
        if field.number in seen:
            return bad_input(
                "INVALID_FIELD_VALUE", path, f"given twice, as {seen[field.number]!r} and {key!r}"
            )
        seen[field.number] = key
        try:
            json_format.ParseDict({key: item}, message_class())
        except _PARSE_FAILURES:
            return _locate_value(field, key, item, path, message_class)
    return bad_input("INVALID_FIELD_VALUE", prefix.rstrip(".") or "body", "invalid value")


def _locate_value(
    field: FieldDescriptor, key: str, item: Any, path: str, message_class: type[Message]
) -> InvalidArgumentError:
    nested = field.type == FieldDescriptor.TYPE_MESSAGE and not is_map(field)
    if nested and message_of(field).full_name.startswith("google.protobuf."):
        nested = False  # well-known types have their own JSON forms: report them as values
    if _is_repeated(field) and not is_map(field) and isinstance(item, list):
        for index, element in enumerate(item):
            element_path = f"{path}[{index}]"
            if nested and isinstance(element, dict):
                try:
                    json_format.ParseDict(
                        element, message_factory.GetMessageClass(message_of(field))()
                    )
                except _PARSE_FAILURES:
                    return _locate(element, message_of(field), f"{element_path}.")
            elif nested:
                return _invalid_value(element_path, field, element=True)
            else:
                try:
                    json_format.ParseDict(
                        {key: [element]},
                        message_class(),
                    )
                except _PARSE_FAILURES:
                    return _invalid_value(element_path, field, element=True)
        return _invalid_value(path, field, element=False)
    if nested and isinstance(item, dict) and not _is_repeated(field):
        return _locate(item, message_of(field), f"{path}.")
    return _invalid_value(path, field, element=False)


def _reject_aliases(value: Mapping[str, Any], descriptor: Descriptor, prefix: str) -> None:
    """Refuses a field given under both its names (``sourceId`` and ``source_id``).

    ``json_format`` keeps the last one silently; which one "wins" is not something a
    caller should have to guess.
    """
    keys = _fields_by_key(descriptor)
    seen: set[int] = set()
    for key, item in value.items():
        field = keys.get(key)
        if field is None:
            continue  # parsed already: only a well-known type's own keys get here
        if field.number in seen:
            raise bad_input(
                "INVALID_FIELD_VALUE", f"{prefix}{field.json_name}", "given under two names"
            )
        seen.add(field.number)
        if field.type != FieldDescriptor.TYPE_MESSAGE or is_map(field):
            continue
        if message_of(field).full_name.startswith("google.protobuf."):
            continue  # well-known types have their own JSON forms
        elements = item if isinstance(item, list) else [item]
        for index, element in enumerate(elements):
            if isinstance(element, dict):
                suffix = f"[{index}]" if isinstance(item, list) else ""
                _reject_aliases(element, message_of(field), f"{prefix}{field.json_name}{suffix}.")


def decode_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; empty means ``{}`` (e.g. a bare ``POST …:start``)."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_input(
            "INVALID_UTF8", "body", f"the body is not valid UTF-8 (byte offset {exc.start})"
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_input(
            "INVALID_JSON",
            "body",
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
        ) from None
    except (ValueError, RecursionError):
        raise bad_input("INVALID_JSON", "body", "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise bad_input("INVALID_JSON", "body", "the body must be a JSON object")
    if b"\\u" in body:  # only an escape can spell an unpaired surrogate
        _refuse_unpaired_surrogates(value)
    return value


def _is_text(value: str) -> bool:
    return value.isascii() or _SURROGATE.search(value) is None


def _refuse_unpaired_surrogates(body: dict[str, Any]) -> None:
    """Refuses a key or a string spelling an unpaired surrogate (``"\\ud800"``).

    JSON allows the escape, but it is not text: protobuf cannot hold it, and upb's field
    lookup fails on such a key with a ``SystemError``.  The field is named as sent.
    """
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and not _is_text(value):
            raise bad_input("INVALID_FIELD_VALUE", path, "not text: an unpaired UTF-16 surrogate")
        children: list[tuple[str, Any]] = []
        if isinstance(value, list):
            children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if not _is_text(key):
                    shown = child.encode("utf-8", "backslashreplace").decode("utf-8")
                    raise bad_input("UNKNOWN_FIELD", shown, "a key holding an unpaired surrogate")
                children.append((child, item))
        pending.extend(reversed(children))  # popped in the body's order


def _string(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueError(value)


def _integer(low: int, high: int) -> _Converter:
    def convert(value: str) -> int:
        if not _INTEGER.fullmatch(value) or len(value) > 21:
            raise ValueError(value)
        number = int(value)
        if not low <= number <= high:
            raise ValueError(value)
        return number

    return convert


def _floating(value: str) -> float:
    number = float(value)  # accepts NaN and Infinity, as the JSON mapping does
    if math.isinf(number) and value.lower().lstrip("+-") not in ("inf", "infinity"):
        raise ValueError(value)  # "1e999" overflows: out of range, not Infinity
    return number


def _bytes(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error:
        raise ValueError(value) from None


def _enum_numbers(field: FieldDescriptor) -> dict[str, int]:
    return {v.name: v.number for v in enum_of(field).values}


def _enum(field: FieldDescriptor) -> _Converter:
    by_name = _enum_numbers(field)
    as_int = _integer(-(2**31), 2**31 - 1)

    def convert(value: str) -> Scalar:
        number = by_name.get(value)
        return number if number is not None else as_int(value)

    return convert


def scalar_converter(field: FieldDescriptor) -> _Converter | None:
    """Text (a query or path value) → the field's Python value; ``None`` if not scalar."""
    if field.type in _INT_RANGES:
        _, low, high = _INT_RANGES[field.type]
        return _integer(low, high)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _enum(field)
    converters: dict[int, _Converter] = {
        FieldDescriptor.TYPE_STRING: _string,
        FieldDescriptor.TYPE_BOOL: _bool,
        FieldDescriptor.TYPE_DOUBLE: _floating,
        FieldDescriptor.TYPE_FLOAT: _floating,
        FieldDescriptor.TYPE_BYTES: _bytes,
    }
    return converters.get(field.type)


def _split_query(raw: bytes) -> Iterator[tuple[str, str]]:
    for part in raw.split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        try:
            name = name_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_input(
                "INVALID_UTF8", "query", "a query parameter name is not valid UTF-8"
            ) from None
        try:
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise bad_input("INVALID_UTF8", name, "the value is not valid UTF-8") from None
        yield name, value


def parse_query_string(raw: bytes) -> dict[str, list[str]]:
    """``a=1&b=2&b=3`` → ``{"a": ["1"], "b": ["2", "3"]}``, decoding UTF-8 strictly.

    Starlette's own parser replaces invalid UTF-8 with U+FFFD; a gateway must say no.
    """
    params: dict[str, list[str]] = {}
    for name, value in _split_query(raw):
        params.setdefault(name, []).append(value)
    return params


@dataclass(frozen=True, slots=True)
class _QueryField:
    field: FieldDescriptor
    convert: _Converter
    repeated: bool


_REFUSED: Final = object()
_Accept = Callable[[Any], Any]


def _accept_string(value: Any) -> Any:
    # Non-ASCII text goes the long way, which also refuses unpaired surrogates.
    return value if type(value) is str and value.isascii() else _REFUSED


def _accept_bool(value: Any) -> Any:
    return value if type(value) is bool else _REFUSED


def _accept_integer(low: int, high: int) -> _Accept:
    def accept(value: Any) -> Any:
        return value if type(value) is int and low <= value <= high else _REFUSED

    return accept


def _accept_enum(field: FieldDescriptor) -> _Accept:
    by_name = _enum_numbers(field)

    def accept(value: Any) -> Any:
        return by_name.get(value, _REFUSED) if type(value) is str else _REFUSED

    return accept


def _plain_value_accepters(descriptor: Descriptor) -> Mapping[str, tuple[str, _Accept]]:
    """JSON key → (field name, accepter) for the singular string, integer, bool and enum
    fields, taking only the one JSON form of each that needs no conversion."""
    accepters: dict[str, tuple[str, _Accept]] = {}
    for field in descriptor.fields:
        if _is_repeated(field):
            continue
        accept: _Accept | None = None
        if field.type == FieldDescriptor.TYPE_STRING:
            accept = _accept_string
        elif field.type == FieldDescriptor.TYPE_BOOL:
            accept = _accept_bool
        elif field.type == FieldDescriptor.TYPE_ENUM:
            accept = _accept_enum(field)
        elif field.type in _INT_RANGES:
            _, low, high = _INT_RANGES[field.type]
            accept = _accept_integer(low, high)
        if accept is not None:
            accepters[field.name] = accepters[field.json_name] = (field.name, accept)
    return accepters


@dataclass(frozen=True, slots=True)
class MessageDecoder:
    """Builds one method's request message from a body or a query, plus path parameters.

    A body whose every key is a plain field given in its plain JSON form (a string, an
    in-range integer, a boolean, an enum value's name) is built in one constructor call;
    any other body goes through ``json_format``, which also words every refusal.  Both
    give the same message (a property test holds them to it).
    """

    message_type: type[Message]
    path_fields: Mapping[str, tuple[FieldDescriptor, _Converter]]
    query_fields: Mapping[str, _QueryField]
    plain_fields: Mapping[str, tuple[str, _Accept]]

    @classmethod
    def for_message(
        cls, message_type: type[Message], path_params: tuple[str, ...]
    ) -> MessageDecoder:
        """Pre-builds converters; raises at start-up for a path field that cannot be text."""
        descriptor = descriptor_of(message_type)
        path_fields: dict[str, tuple[FieldDescriptor, _Converter]] = {}
        for name in path_params:
            field = descriptor.fields_by_name[name]
            convert = scalar_converter(field)
            if convert is None or _is_repeated(field):
                raise ValueError(f"{descriptor.full_name}.{name}: not usable as a path parameter")
            path_fields[name] = (field, convert)
        query_fields: dict[str, _QueryField] = {}
        for field in descriptor.fields:
            convert = scalar_converter(field)
            if field.name in path_fields or convert is None:
                continue
            entry = _QueryField(field, convert, _is_repeated(field))
            query_fields[field.name] = entry
            query_fields[field.json_name] = entry
        return cls(message_type, path_fields, query_fields, _plain_value_accepters(descriptor))

    def from_body(self, body: bytes, path: Mapping[str, str]) -> Message:
        """The request from a JSON body, then path parameters (which a body may only repeat)."""
        value = decode_json_object(body)
        message = self._from_plain_values(value)
        if message is None:
            message = self.message_type()
            try:
                json_format.ParseDict(value, message, ignore_unknown_fields=False)
            except _PARSE_FAILURES:
                raise _locate(value, descriptor_of(self.message_type), "") from None
            _reject_aliases(value, descriptor_of(self.message_type), "")
        self._set_path(message, path, from_body=True)
        return message

    def _from_plain_values(self, value: Mapping[str, Any]) -> Message | None:
        """The message, when every key of ``value`` is a plain field in its plain form;
        ``None`` for anything else (including a field given under both its names)."""
        fields: dict[str, Any] = {}
        for key, item in value.items():
            entry = self.plain_fields.get(key)
            if entry is None:
                return None
            name, accept = entry
            accepted = accept(item)
            if accepted is _REFUSED or name in fields:
                return None
            fields[name] = accepted
        return self.message_type(**fields)

    def from_query(self, raw_query: bytes, path: Mapping[str, str]) -> Message:
        """The request from query parameters (``pageSize`` or ``page_size``; repeats for arrays)."""
        message = self.message_type()
        for name, values in parse_query_string(raw_query).items():
            entry = self.query_fields.get(name)
            if entry is None:
                raise bad_input("UNKNOWN_FIELD", name, f"unknown query parameter {name!r}")
            if not entry.repeated and len(values) > 1:
                raise bad_input("INVALID_FIELD_VALUE", name, "given more than once")
            try:
                converted = [entry.convert(v) for v in values]
            except ValueError:
                raise bad_input(
                    "INVALID_FIELD_VALUE", name, f"expected {expected(entry.field)}"
                ) from None
            if entry.repeated:
                getattr(message, entry.field.name).extend(converted)
            else:
                setattr(message, entry.field.name, converted[0])
        self._set_path(message, path, from_body=False)
        return message

    def _set_path(self, message: Message, path: Mapping[str, str], *, from_body: bool) -> None:
        for name, (field, convert) in self.path_fields.items():
            try:
                value = convert(path[name])
            except ValueError:
                raise bad_input(
                    "INVALID_FIELD_VALUE", field.json_name, f"expected {expected(field)}"
                ) from None
            if from_body and _is_set(message, field) and getattr(message, name) != value:
                raise bad_input(
                    "PATH_BODY_CONFLICT",
                    field.json_name,
                    "the body's value differs from the one in the URL path",
                )
            setattr(message, name, value)


def _is_set(message: Message, field: FieldDescriptor) -> bool:
    if field.has_presence:
        return message.HasField(field.name)
    return bool(getattr(message, field.name) != field.default_value)


# --- responses: proto → JSON -------------------------------------------------------------
#
# The same dict as json_format.MessageToDict(message, always_print_fields_with_no_presence=
# True), by a function generated once per message type: straight-line attribute reads, the
# descriptor work and every type decision done at generation.  json_format walks descriptors
# and type-checks every value on every call, which on a page of ten sources costs more than
# the rest of the REST layer together.  ``encoder_source(descriptor)`` shows the generated
# code; tests/unit/rest/test_rest_json_encoder.py holds its output equal to json_format's.

_Encode = Callable[[Any], Any]
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_TIMESTAMP = "google.protobuf.Timestamp"


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# Whole seconds in years 1000 to 9999 (strftime pads years to no more than their own
# digits): formatted in C, several times faster than ToJsonString.
_WHOLE_SECONDS = range(-30610224000, 253402300800)


def _timestamp(stamp: Any) -> str:
    seconds = stamp.seconds
    if stamp.nanos == 0 and seconds in _WHOLE_SECONDS:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    text: str = stamp.ToJsonString()  # fractions, and the errors of out-of-range values
    return text


def _by_json_format(descriptor: Descriptor) -> bool:
    """Types left to json_format: well-known types other than Timestamp, and maps."""
    if descriptor.full_name.startswith("google.protobuf."):
        return descriptor.full_name != _TIMESTAMP
    return any(
        f.message_type is not None and f.message_type.GetOptions().map_entry
        for f in descriptor.fields
    )


def _value_code(
    field: FieldDescriptor,
    item: str,
    names: dict[str, object],
    elements: Mapping[str, _Encode],
) -> str:
    """Python source converting ``item`` (one value of ``field``) to its JSON form."""
    if field.message_type is not None:
        helper = f"_m{len(names)}"
        names[helper] = elements.get(field.message_type.full_name) or message_encoder(
            field.message_type
        )
        return f"{helper}({item})"
    if field.enum_type is not None:
        helper = f"_e{len(names)}"
        names[helper] = {n: v.name for n, v in field.enum_type.values_by_number.items()}
        return f"{helper}.get({item}, {item})"
    if field.type in _INT64:
        return f"str({item})"
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return f"_double({item})"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return f"_base64({item})"
    return item


def encoder_source(
    descriptor: Descriptor, elements: Mapping[str, _Encode] | None = None
) -> tuple[str, dict[str, object]]:
    """The generated encoder of ``descriptor``: its source and the names it uses.

    Runs of fields without presence become one dict display (one bytecode builds it);
    fields with presence are added only when set; empty repeated fields skip the
    comprehension.  Keys keep the descriptor's order, as json_format's do.  ``elements``
    replaces the encoder of the fields of the named message types (``{"pkg.Type": encode}``).
    """
    elements = elements or {}
    names: dict[str, object] = {"_double": _double, "_base64": _base64}
    lines = ["def encode(m):", "    out = {"]
    open_display = True
    for f in descriptor.fields:
        key = repr(f.json_name)
        if f.is_repeated:
            value = _value_code(f, "x", names, elements)
            items = f"m.{f.name}"
            code = (
                f"list({items})"
                if value == "x"  # one read of the container: each read builds a wrapper
                else f"[{value} for x in r] if (r := {items}) else []"
            )
        elif f.has_presence:
            if open_display:
                lines.append("    }")
                open_display = False
            lines.append(f"    if m.HasField({f.name!r}):")
            lines.append(f"        out[{key}] = {_value_code(f, f'm.{f.name}', names, elements)}")
            continue
        else:
            code = _value_code(f, f"m.{f.name}", names, elements)
        if open_display:
            lines.append(f"        {key}: {code},")
        else:
            lines.append(f"    out[{key}] = {code}")
    if open_display:
        lines.append("    }")
    lines.append("    return out")
    return "\n".join(lines) + "\n", names


@cache
def message_encoder(descriptor: Descriptor) -> _Encode:
    """The JSON encoder of one message type (see the note above)."""
    if descriptor.full_name == _TIMESTAMP:
        return _timestamp
    if _by_json_format(descriptor):
        return lambda message: json_format.MessageToDict(
            message, always_print_fields_with_no_presence=True
        )
    return _compiled(descriptor)


def _compiled(descriptor: Descriptor, elements: Mapping[str, _Encode] | None = None) -> _Encode:
    source, names = encoder_source(descriptor, elements)
    namespace: dict[str, Any] = dict(names)
    exec(compile(source, f"<json encoder of {descriptor.full_name}>", "exec"), namespace)  # noqa: S102
    encode: _Encode = namespace["encode"]
    return encode


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message in the proto3 JSON mapping, every field present (defaults included)."""
    encoded: dict[str, Any] = message_encoder(message.DESCRIPTOR)(message)
    return encoded


def message_to_json(message: Message) -> bytes:
    """A response in the proto3 JSON mapping, every field present (defaults included)."""
    return _JSON.encode(message_to_dict(message))


_JSON = msgspec.json.Encoder()


class ResponseEncoder:
    """:func:`message_to_json`, keeping the JSON of each resource in a response.

    Every field of a response whose type is one of ``resources`` (sources, jobs) is written
    through a :class:`~gateway.core.memo.Memo` per type, keyed by the resource's serialized
    bytes (one C call): a resource answered unchanged is spliced into the response as the
    JSON already written for it.  ``entries`` bounds each memo (0: keep none).
    """

    def __init__(self, entries: int, resources: tuple[type[Message], ...] = ()) -> None:
        self._elements: dict[str, _Encode] = {}
        if entries:
            for resource in resources:
                descriptor = descriptor_of(resource)
                memo: Memo[msgspec.Raw] = Memo(entries)
                self._elements[descriptor.full_name] = _kept(message_encoder(descriptor), memo)
        self._encoders: dict[str, _Encode] = {}

    def encode(self, message: Message) -> bytes:
        """``message`` in the proto3 JSON mapping, as :func:`message_to_json` writes it."""
        name = message.DESCRIPTOR.full_name
        encode = self._encoders.get(name)
        if encode is None:
            encode = self._encoders[name] = self._encoder(descriptor_of(type(message)))
        return _JSON.encode(encode(message))

    def _encoder(self, descriptor: Descriptor) -> _Encode:
        uses_kept = any(
            f.message_type is not None and f.message_type.full_name in self._elements
            for f in descriptor.fields
        )
        if not uses_kept or _by_json_format(descriptor):
            return message_encoder(descriptor)
        return _compiled(descriptor, self._elements)


def _kept(encode: _Encode, memo: Memo[msgspec.Raw]) -> _Encode:
    def kept(message: Message) -> msgspec.Raw:
        key = message.SerializeToString(deterministic=True)
        found = memo.get(key)
        if found is None:
            found = msgspec.Raw(_JSON.encode(encode(message)))
            memo.put(key, found)
        return found

    return kept
