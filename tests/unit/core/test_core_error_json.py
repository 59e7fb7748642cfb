"""The AIP-193 JSON body carries exactly the details of the gRPC status, as json_format
writes them: ``to_http_json`` builds them without going through the protos."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import errors
from gateway.core.errors import FieldViolation, GatewayError, QuotaViolation, to_http_json

text = st.text(max_size=12)
ERROR_TYPES = [
    errors.InvalidArgumentError,
    errors.FailedPreconditionError,
    errors.NotFoundError,
    errors.AbortedError,
    errors.ResourceExhaustedError,
    errors.UnavailableError,
    errors.InternalError,
]


def _expected_details(error: GatewayError) -> list[dict[str, object]]:
    return [json_format.MessageToDict(detail) for detail in error.to_status().details]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(ERROR_TYPES),
    message=text,
    reason=st.one_of(st.none(), text),
    metadata=st.dictionaries(text, text, max_size=3),
    violations=st.lists(st.builds(FieldViolation, text, text, text), max_size=3),
    retry_delay=st.one_of(st.none(), st.floats(min_value=-5, max_value=1e6)),
    quotas=st.lists(st.builds(QuotaViolation, text, text), max_size=2),
)
def test_details_are_json_formats_details(
    kind: type[GatewayError],
    message: str,
    reason: str | None,
    metadata: dict[str, str],
    violations: list[FieldViolation],
    retry_delay: float | None,
    quotas: list[QuotaViolation],
) -> None:
    error = kind(
        message,
        reason=reason,
        metadata=metadata,
        field_violations=violations,
        retry_delay=retry_delay,
        quota_violations=quotas,
    )
    body = to_http_json(error)["error"]
    assert body["details"] == _expected_details(error)
    assert (body["code"], body["status"], body["message"]) == (
        error.http_status,
        error.status_name,
        message,
    )


@pytest.mark.parametrize("delay", [0.0, 0.0004, 0.5, 1.0, 1.25, 30.0, 86_400.123])
def test_retry_delays_are_written_as_json_format_writes_durations(delay: float) -> None:
    error = errors.UnavailableError("later", retry_delay=delay)
    assert to_http_json(error)["error"]["details"] == _expected_details(error)
