"""The OpenAPI document, generated from the proto descriptors (the contract), once.

Every request and response message becomes a JSON Schema in ``components/schemas``,
named by its full proto name, in the proto3 JSON mapping: lowerCamelCase properties,
int64/uint64 as strings, enums as string enums of value names, repeated fields as arrays,
``google.protobuf.Timestamp`` as ``date-time`` strings.  The gateway's field rules
(``smcgateway.v1.rules``) add ``minLength``/``maxLength``/``pattern``/``minimum``/
``maximum``/``maxItems``; ``google.api.field_behavior = REQUIRED`` or ``rules.required``
add ``required``.

Descriptions: the generated descriptors carry no comments (no ``source_code_info``),
so the ``.proto`` files are read when they are found next to the package (a source
checkout, or an image that copies ``proto/``).  Without them the document is complete
but has no prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway._proto.smcgateway.v1 import rules_pb2
from gateway.core.methods import Method
from gateway.rest.cors import ALLOWED_HEADERS
from gateway.rest.jsonmap import descriptor_of, enum_of, is_map, message_of
from gateway.rest.routes import path_params

__all__ = ["DEFAULT_PROTO_DIR", "build_openapi", "proto_comments"]

Schema = dict[str, Any]

DEFAULT_PROTO_DIR: Final = Path(__file__).resolve().parents[2] / "proto"
ERROR_SCHEMA: Final = "google.rpc.Status.AIP193"

_INT64_TYPES: Final = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)
_UNSIGNED32: Final = frozenset({FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32})
_INT32: Final = frozenset(
    {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}
)
_SCALARS: Final[Mapping[int, Schema]] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
}
_WELL_KNOWN: Final[Mapping[str, Schema]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated field paths"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
}


# --- comments from the .proto sources ------------------------------------------------------

_PACKAGE: Final = re.compile(r"^\s*package\s+([\w.]+)\s*;")
_DECLARATION: Final = re.compile(r"^\s*(message|enum|service)\s+(\w+)")
_RPC: Final = re.compile(r"^\s*rpc\s+(\w+)\s*\(")
_FIELD: Final = re.compile(
    r"^\s*(?:optional\s+|repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+"
)
_ENUM_VALUE: Final = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*-?\d+")
_STRING_LITERAL: Final = re.compile(r'"(?:\\.|[^"\\])*"')


def _member(line: str, kind: str) -> re.Match[str] | None:
    """A field of a message or a value of an enum declared on ``line``."""
    pattern = {"message": _FIELD, "enum": _ENUM_VALUE}.get(kind)
    return pattern.match(line) if pattern else None


def _comments_of_file(text: str) -> dict[str, str]:
    """Leading ``//`` comments of messages, fields, enums, values, services and rpcs.

    Keys are full names (``smcgateway.v1.ReplicationJob.job_id``; enum values under their
    enum, ``smcgateway.v1.NetMode.NET_MODE_VPC``).  A line-based reader, enough for
    ``buf format``-ted files; what it cannot place it leaves undocumented.
    """
    comments: dict[str, str] = {}
    package = ""
    stack: list[tuple[str, str]] = []  # (kind, full name); kind "" for option blocks
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            pending.append(stripped[2:].strip())
            continue
        kind, scope = stack[-1] if stack else ("file", package)
        declared: tuple[str, str] | None = None
        if match := _PACKAGE.match(line):
            package = match.group(1)
        elif match := _DECLARATION.match(line):
            declared = (match.group(1), f"{scope}.{match.group(2)}" if scope else match.group(2))
        elif (match := _RPC.match(line)) and kind == "service":
            declared = ("rpc", f"{scope}.{match.group(1)}")
        elif match := _member(line, kind):
            comments.setdefault(f"{scope}.{match.group(1)}", " ".join(pending))
        if declared is not None and pending:
            comments[declared[1]] = " ".join(pending)
        if stripped:
            pending = []
        code = _STRING_LITERAL.sub('""', line.split("//", 1)[0])
        for char in code:
            if char == "{":
                stack.append(declared or ("", ""))
                declared = None
            elif char == "}" and stack:
                stack.pop()
    return {k: v for k, v in comments.items() if v}


def proto_comments(proto_dir: Path) -> dict[str, str]:
    """Comments of every ``.proto`` file under ``proto_dir`` (empty if it does not exist)."""
    comments: dict[str, str] = {}
    if proto_dir.is_dir():
        for path in sorted(proto_dir.rglob("*.proto")):
            comments.update(_comments_of_file(path.read_text(encoding="utf-8")))
    return comments


# --- schemas --------------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _required(field: FieldDescriptor) -> bool:
    options = field.GetOptions()
    behaviors = options.Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.REQUIRED in behaviors or bool(
        options.Extensions[rules_pb2.rules].required
    )


def _apply_rules(schema: Schema, rules: rules_pb2.FieldRules, *, numeric: bool) -> None:
    if rules.HasField("min_len"):
        schema["minLength"] = rules.min_len
    if rules.HasField("max_len"):
        schema["maxLength"] = rules.max_len
    if rules.pattern:
        schema["pattern"] = rules.pattern
    if numeric and rules.HasField("min"):
        schema["minimum"] = rules.min
    if numeric and rules.HasField("max"):
        schema["maximum"] = rules.max


class _SchemaBuilder:
    """Collects component schemas while turning descriptors into JSON Schemas."""

    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, Schema] = {}

    def _describe(self, schema: Schema, full_name: str) -> Schema:
        if text := self.comments.get(full_name):
            schema["description"] = text
        return schema

    def message_ref(self, descriptor: Descriptor) -> Schema:
        """A ``$ref`` to the message's component schema, adding it (and its parts) once."""
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        if descriptor.full_name not in self.schemas:
            self.schemas[descriptor.full_name] = {"type": "object"}  # cycles end here
            self.schemas[descriptor.full_name] = self.message_schema(descriptor)
        return _ref(descriptor.full_name)

    def enum_ref(self, descriptor: EnumDescriptor) -> Schema:
        """A ``$ref`` to the enum's component schema: the value names, as JSON sends them."""
        if descriptor.full_name not in self.schemas:
            schema: Schema = {"type": "string", "enum": [v.name for v in descriptor.values]}
            values = [
                f"{v.name}: {self.comments[f'{descriptor.full_name}.{v.name}']}"
                for v in descriptor.values
                if f"{descriptor.full_name}.{v.name}" in self.comments
            ]
            description = self.comments.get(descriptor.full_name, "")
            if values:
                description = "\n\n".join([description, *("- " + v for v in values)]).strip()
            if description:
                schema["description"] = description
            self.schemas[descriptor.full_name] = schema
        return _ref(descriptor.full_name)

    def message_schema(self, descriptor: Descriptor, exclude: Iterable[str] = ()) -> Schema:
        """An object schema of the message's fields (minus ``exclude``, e.g. path fields)."""
        skipped = set(exclude)
        properties: Schema = {}
        required: list[str] = []
        for field in descriptor.fields:
            if field.name in skipped:
                continue
            properties[field.json_name] = self.field_schema(field)
            if _required(field):
                required.append(field.json_name)
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return self._describe(schema, descriptor.full_name)

    def value_schema(self, field: FieldDescriptor) -> Schema:
        """One value of the field (an element, for repeated fields)."""
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self.message_ref(message_of(field))
        if field.type == FieldDescriptor.TYPE_ENUM:
            return self.enum_ref(enum_of(field))
        if field.type in _INT64_TYPES:
            return {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$"}
        if field.type in _INT32:
            return {"type": "integer", "format": "int32"}
        if field.type in _UNSIGNED32:
            return {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
        return dict(_SCALARS[field.type])

    def field_schema(self, field: FieldDescriptor) -> Schema:
        """The field's schema with its rules and comment."""
        rules = field.GetOptions().Extensions[rules_pb2.rules]
        value = self.value_schema(field)
        numeric = value.get("type") == "integer"
        if field.is_repeated:
            if is_map(field):
                entry = message_of(field).fields_by_name["value"]
                schema: Schema = {
                    "type": "object",
                    "additionalProperties": self.value_schema(entry),
                }
            else:
                if "$ref" not in value:
                    _apply_rules(value, rules.items, numeric=numeric)
                schema = {"type": "array", "items": value}
                if rules.HasField("max_items"):
                    schema["maxItems"] = rules.max_items
        elif "$ref" in value:
            schema = {"allOf": [value]} if field.full_name in self.comments else value
        else:
            schema = value
            _apply_rules(schema, rules, numeric=numeric)
        return self._describe(schema, field.full_name)


def _error_schema() -> Schema:
    detail = {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
        "description": "A google.rpc detail (ErrorInfo, BadRequest, RetryInfo, QuotaFailure).",
    }
    return {
        "type": "object",
        "description": "AIP-193 error: a google.rpc.Status in JSON.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer", "description": "The HTTP status."},
                    "status": {"type": "string", "description": "The google.rpc.Code name."},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": detail},
                },
                "required": ["code", "status", "message", "details"],
            }
        },
        "required": ["error"],
    }


def _operation(method: Method, builder: _SchemaBuilder, comments: Mapping[str, str]) -> Schema:
    descriptor = descriptor_of(method.request_type)
    in_path = path_params(method.http_path)
    parameters: list[Schema] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": builder.field_schema(descriptor.fields_by_name[name]),
        }
        for name in in_path
    ]
    if method.mutating:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Retries with the same key are answered once (SPEC §6).",
                "schema": {"type": "string", "maxLength": 128},
            }
        )
    operation: Schema = {
        "operationId": method.name,
        "tags": [method.service.rsplit(".", 1)[-1]],
        "summary": method.name,
    }
    if text := comments.get(f"{method.service}.{method.name}"):
        operation["description"] = text
        operation["summary"] = text.split(". ", 1)[0].rstrip(".")
    if method.http_body == "*":
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": builder.message_schema(descriptor, in_path)}
            },
        }
    else:
        for field in descriptor.fields:
            if field.name in in_path or field.type == FieldDescriptor.TYPE_MESSAGE:
                continue
            parameter: Schema = {
                "name": field.json_name,
                "in": "query",
                "required": False,
                "schema": builder.field_schema(field),
            }
            if field.is_repeated:
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
    response = builder.message_ref(descriptor_of(method.response_type))
    if method.server_streaming:
        name = descriptor_of(method.response_type).full_name
        content: Schema = {
            "text/event-stream": {
                "schema": {
                    "type": "string",
                    "description": (
                        f"Server-Sent Events: each `data:` line is a {name} in JSON "
                        f"(schema {response['$ref']}); an `event: error` carries an "
                        "AIP-193 error and ends the stream."
                    ),
                }
            }
        }
    else:
        content = {"application/json": {"schema": response}}
    error = {
        "description": "AIP-193 error",
        "content": {"application/json": {"schema": _ref(ERROR_SCHEMA)}},
    }
    operation["parameters"] = parameters
    operation["responses"] = {
        "200": {"description": "OK", "content": content},
        "4XX": error,
        "5XX": error,
    }
    return operation


def build_openapi(
    methods: Iterable[Method],
    *,
    title: str,
    version: str,
    proto_dir: Path = DEFAULT_PROTO_DIR,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``methods``; built once, at app construction."""
    comments = proto_comments(proto_dir)
    builder = _SchemaBuilder(comments)
    paths: dict[str, Schema] = {}
    for method in methods:
        paths.setdefault(method.http_path, {})[method.http_method.lower()] = _operation(
            method, builder, comments
        )
    schemas = dict(sorted(builder.schemas.items()))
    schemas[ERROR_SCHEMA] = _error_schema()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "REST facade of smc-gateway (Alibaba Cloud SMC). Proto3 JSON mapping; "
                f"CORS request headers allowed: {', '.join(ALLOWED_HEADERS)}."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
