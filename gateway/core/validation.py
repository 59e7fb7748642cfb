"""Request validation: the proto's declared rules, compiled once, plus cross-field rules.

Field rules live in the proto (``(smcgateway.v1.rules)`` options, see rules.proto) so that
every client can read them; :class:`RequestValidator` compiles them from the descriptors
into plain checks when the gateway starts.  Rules that relate several fields or need the
current time beyond a window are functions in :data:`CROSS_FIELD_RULES`, keyed by message.

All violations of a request are collected and reported together, with proto field paths
(``data_disks[1].size``), before any upstream call.

Semantics of a field rule: ``required`` means set (non-empty, non-zero, present); every
other rule applies only when the field is set, so optional filters stay optional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message

from gateway._proto.smcgateway.v1 import (
    replication_job_service_pb2 as jobs_pb2,
)
from gateway._proto.smcgateway.v1 import resources_pb2 as res
from gateway._proto.smcgateway.v1 import rules_pb2
from gateway._proto.smcgateway.v1 import (
    source_server_service_pb2 as sources_pb2,
)
from gateway.core.errors import FieldViolation, InvalidArgumentError

__all__ = ["CROSS_FIELD_RULES", "RequestValidator", "validate", "validator_for"]

_FD = descriptor.FieldDescriptor
_INTEGER_TYPES = frozenset(
    {
        _FD.TYPE_INT32,
        _FD.TYPE_INT64,
        _FD.TYPE_UINT32,
        _FD.TYPE_UINT64,
        _FD.TYPE_SINT32,
        _FD.TYPE_SINT64,
        _FD.TYPE_FIXED32,
        _FD.TYPE_FIXED64,
        _FD.TYPE_SFIXED32,
        _FD.TYPE_SFIXED64,
    }
)
# Seconds of the proto Timestamp range (0001-01-01 to 9999-12-31), per timestamp.proto.
_TIMESTAMP_MIN, _TIMESTAMP_MAX = -62_135_596_800, 253_402_300_799

Check = Callable[[Any, str, datetime], Iterator[FieldViolation]]


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    return f"{days} days" if rest == 0 and days else f"{seconds} seconds"


def _string_checks(rules: rules_pb2.FieldRules) -> list[Callable[[str, str], str | None]]:
    checks: list[Callable[[str, str], str | None]] = []
    if rules.HasField("min_len"):
        low = rules.min_len
        checks.append(lambda v, _p: f"must be at least {low} characters" if len(v) < low else None)
    if rules.HasField("max_len"):
        high = rules.max_len
        checks.append(lambda v, _p: f"must be at most {high} characters" if len(v) > high else None)
    if rules.pattern:
        matcher = re.compile(rules.pattern).fullmatch
        words = rules.pattern_description or f"the pattern {rules.pattern}"
        checks.append(lambda v, _p: None if matcher(v) else f"must be {words}")
    if rules.forbidden_prefixes:
        prefixes = tuple(p.lower() for p in rules.forbidden_prefixes)

        def no_prefix(v: str, _p: str) -> str | None:
            lowered = v.lower()
            for prefix in prefixes:
                if lowered.startswith(prefix):
                    return f"must not start with {prefix!r}"
            return None

        checks.append(no_prefix)
    if rules.json_object:

        def json_object(v: str, _p: str) -> str | None:
            try:
                parsed = json.loads(v)
            except ValueError:
                return "must be valid JSON"
            return None if isinstance(parsed, dict) else "must be a JSON object"

        checks.append(json_object)
    return checks


def _integer_checks(rules: rules_pb2.FieldRules) -> list[Callable[[int, str], str | None]]:
    low = rules.min if rules.HasField("min") else None
    high = rules.max if rules.HasField("max") else None
    if low is None and high is None:
        return []

    def in_range(v: int, _p: str) -> str | None:
        if (low is not None and v < low) or (high is not None and v > high):
            if low is not None and high is not None:
                return f"must be between {low} and {high}"
            return f"must be at least {low}" if low is not None else f"must be at most {high}"
        return None

    return [in_range]


def _timestamp_check(rules: rules_pb2.FieldRules) -> Check:
    ahead_min = rules.min_seconds_ahead if rules.HasField("min_seconds_ahead") else None
    ahead_max = rules.max_seconds_ahead if rules.HasField("max_seconds_ahead") else None

    def check(value: timestamp_pb2.Timestamp, path: str, now: datetime) -> Iterator[FieldViolation]:
        if not (_TIMESTAMP_MIN <= value.seconds <= _TIMESTAMP_MAX and 0 <= value.nanos < 10**9):
            yield FieldViolation(path, "is not a valid timestamp")
            return
        ahead = value.seconds - int(now.timestamp())
        if ahead_min is not None and ahead < ahead_min:
            when = "in the future" if ahead_min == 0 else f"at least {_span(ahead_min)} from now"
            yield FieldViolation(path, f"must be {when}")
        if ahead_max is not None and ahead > ahead_max:
            yield FieldViolation(path, f"must be at most {_span(ahead_max)} from now")

    return check


@dataclass(frozen=True, slots=True)
class _Field:
    """One field's compiled checks."""

    name: str
    field: descriptor.FieldDescriptor
    has_presence: bool
    required: bool
    max_items: int | None
    value_checks: tuple[Callable[[Any, str], str | None], ...]
    item_checks: tuple[Callable[[Any, str], str | None], ...]
    timestamp_check: Check | None
    enum_values: frozenset[int] | None
    defined_enum: bool
    nested: RequestValidator | None


class RequestValidator:
    """The compiled rules of one request message type (and the messages it contains)."""

    def __init__(self, message_descriptor: descriptor.Descriptor) -> None:
        self._descriptor = message_descriptor
        self._fields = tuple(_compile_field(f) for f in message_descriptor.fields)
        self._cross = CROSS_FIELD_RULES.get(message_descriptor.full_name)

    def violations(self, message: Message, now: datetime, prefix: str = "") -> list[FieldViolation]:
        """Every violated rule of ``message``, with field paths under ``prefix``."""
        found: list[FieldViolation] = []
        # An unset field breaks no rule unless it is required: only set and required
        # fields are checked (ListFields is one C call; most of a request is unset).
        present = {field.name for field, _ in message.ListFields()}
        for spec in self._fields:
            if spec.required or spec.name in present:
                found.extend(_check_field(spec, message, now, prefix))
        if self._cross is not None:
            found.extend(self._cross(message, prefix, now))
        return found


def _compile_field(field: descriptor.FieldDescriptor) -> _Field:
    options = field.GetOptions()
    rules = options.Extensions[rules_pb2.rules] if options.HasExtension(rules_pb2.rules) else None
    rules = rules or rules_pb2.FieldRules()
    repeated = field.is_repeated
    value_checks: list[Callable[[Any, str], str | None]] = []
    item_checks: list[Callable[[Any, str], str | None]] = []
    if field.type == _FD.TYPE_STRING:
        (item_checks if repeated else value_checks).extend(_string_checks(rules))
        if repeated and rules.HasField("items"):
            item_checks.extend(_string_checks(rules.items))
    elif field.type in _INTEGER_TYPES:
        (item_checks if repeated else value_checks).extend(_integer_checks(rules))
    nested = None
    timestamp_check = None
    message_type, enum_type = field.message_type, field.enum_type
    if message_type is not None:
        if message_type.full_name == "google.protobuf.Timestamp":
            timestamp_check = _timestamp_check(rules)
        elif message_type.full_name.startswith("smcgateway."):
            nested = validator_for(message_type)
    enum_values = None
    if enum_type is not None:
        enum_values = frozenset(v.number for v in enum_type.values)
    return _Field(
        name=field.name,
        field=field,
        has_presence=field.has_presence,
        required=rules.required,
        max_items=rules.max_items if rules.HasField("max_items") else None,
        value_checks=tuple(value_checks),
        item_checks=tuple(item_checks),
        timestamp_check=timestamp_check,
        enum_values=enum_values,
        defined_enum=rules.defined_enum,
        nested=nested,
    )


def _is_set(spec: _Field, message: Message) -> bool:
    if spec.has_presence:
        return message.HasField(spec.name)
    return bool(getattr(message, spec.name))


def _check_field(
    spec: _Field, message: Message, now: datetime, prefix: str
) -> Iterator[FieldViolation]:
    path = prefix + spec.name
    if spec.field.is_repeated:
        yield from _check_repeated(spec, getattr(message, spec.name), now, path)
    elif not _is_set(spec, message):
        if spec.required:
            yield FieldViolation(path, "is required", "REQUIRED_FIELD")
    else:
        yield from _check_value(spec, getattr(message, spec.name), now, path)


def _check_repeated(
    spec: _Field, values: Any, now: datetime, path: str
) -> Iterator[FieldViolation]:
    if spec.required and not values:
        yield FieldViolation(path, "is required", "REQUIRED_FIELD")
    if spec.max_items is not None and len(values) > spec.max_items:
        yield FieldViolation(path, f"must have at most {spec.max_items} elements")
    for index, item in enumerate(values):
        item_path = f"{path}[{index}]"
        for item_check in spec.item_checks:
            problem = item_check(item, item_path)
            if problem:
                yield FieldViolation(item_path, problem)
        if spec.enum_values is not None and item not in spec.enum_values:
            yield FieldViolation(item_path, f"has no value {item}")
        if spec.nested is not None:
            yield from spec.nested.violations(item, now, item_path + ".")


def _check_value(spec: _Field, value: Any, now: datetime, path: str) -> Iterator[FieldViolation]:
    for value_check in spec.value_checks:
        problem = value_check(value, path)
        if problem:
            yield FieldViolation(path, problem)
    if spec.enum_values is not None:
        if value not in spec.enum_values:
            yield FieldViolation(path, f"has no value {value}")
        elif spec.defined_enum and value == 0:
            yield FieldViolation(path, "must not be UNSPECIFIED")
    if spec.timestamp_check is not None:
        yield from spec.timestamp_check(value, path, now)
    if spec.nested is not None:
        yield from spec.nested.violations(value, now, path + ".")


# --- rules across fields ----------------------------------------------------------------

CrossRule = Callable[[Any, str, datetime], list[FieldViolation]]


def _distinct_disk_indexes(disks: Any, path: str) -> list[FieldViolation]:
    seen: set[int] = set()
    found = []
    for position, disk in enumerate(disks):
        if disk.index in seen:
            found.append(FieldViolation(f"{path}[{position}].index", "is used twice"))
        seen.add(disk.index)
    return found


def _create_job(
    r: jobs_pb2.CreateReplicationJobRequest, p: str, _: datetime
) -> list[FieldViolation]:
    found = []
    image_target = r.target_type in (res.TARGET_TYPE_UNSPECIFIED, res.TARGET_TYPE_IMAGE)
    if image_target and not r.system_disk_size:
        found.append(
            FieldViolation(
                p + "system_disk_size", "is required for an image target", "REQUIRED_FIELD"
            )
        )
    if r.net_mode == res.NET_MODE_VPC and not r.vswitch_id:
        found.append(
            FieldViolation(p + "vswitch_id", "is required with NET_MODE_VPC", "REQUIRED_FIELD")
        )
    if r.target_type == res.TARGET_TYPE_TARGET_INSTANCE and not r.instance_id:
        found.append(
            FieldViolation(
                p + "instance_id", "is required with TARGET_TYPE_TARGET_INSTANCE", "REQUIRED_FIELD"
            )
        )
    if r.HasField("run_once") and not r.run_once:
        for name in ("frequency", "max_number_of_image_to_keep"):
            if not getattr(r, name):
                found.append(
                    FieldViolation(p + name, "is required when run_once is false", "REQUIRED_FIELD")
                )
    found.extend(_distinct_disk_indexes(r.data_disks, p + "data_disks"))
    return found


_UPDATE_JOB_FIELDS = tuple(
    f.name
    for f in jobs_pb2.UpdateReplicationJobRequest.DESCRIPTOR.fields
    if f.name not in ("job_id", "request_id")
)


def _update_job(
    r: jobs_pb2.UpdateReplicationJobRequest, p: str, _: datetime
) -> list[FieldViolation]:
    found = []
    if not any(r.HasField(name) for name in _UPDATE_JOB_FIELDS):  # type: ignore[arg-type]
        found.append(
            FieldViolation(p + "job_id", "the request changes nothing: set a field to update")
        )
    if r.HasField("net_mode") and r.net_mode == res.NET_MODE_VPC and not r.vswitch_id:
        found.append(
            FieldViolation(p + "vswitch_id", "is required with NET_MODE_VPC", "REQUIRED_FIELD")
        )
    if r.HasField("data_disks"):
        found.extend(_distinct_disk_indexes(r.data_disks.disks, p + "data_disks.disks"))
    return found


def _update_source(
    r: sources_pb2.UpdateSourceServerRequest, p: str, _: datetime
) -> list[FieldViolation]:
    if r.HasField("name") or r.HasField("description"):
        return []
    return [FieldViolation(p + "source_id", "the request changes nothing: set name or description")]


CROSS_FIELD_RULES: Mapping[str, CrossRule] = {
    "smcgateway.v1.CreateReplicationJobRequest": _create_job,
    "smcgateway.v1.UpdateReplicationJobRequest": _update_job,
    "smcgateway.v1.UpdateSourceServerRequest": _update_source,
}


@cache
def validator_for(message_descriptor: descriptor.Descriptor) -> RequestValidator:
    """The compiled validator of a message type (built once per type)."""
    return RequestValidator(message_descriptor)


def validate(message: Message, now: datetime | None = None) -> None:
    """Raise one :class:`InvalidArgumentError` listing every violated rule of ``message``."""
    found = validator_for(message.DESCRIPTOR).violations(message, now or datetime.now(UTC))
    if found:
        fields = ", ".join(dict.fromkeys(v.field for v in found))
        raise InvalidArgumentError(
            f"invalid request: {fields}", reason="INVALID_REQUEST", field_violations=found
        )
