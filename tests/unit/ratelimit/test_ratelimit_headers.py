"""RateLimit-Policy / RateLimit (draft-ietf-httpapi-ratelimit-headers-10) and Retry-After."""

from __future__ import annotations

import pytest

from gateway.ratelimit import Budget, Verdict, rate_limit_headers, retry_after_seconds
from gateway.ratelimit.gcra import evaluate
from gateway.ratelimit.headers import policy_window_seconds

NOW = 10_000_000  # microseconds


def verdict_after(budgets: list[Budget], stored: list[int | None]) -> Verdict:
    verdict, _ = evaluate(budgets, NOW, stored)
    return verdict


def test_single_budget_after_three_calls() -> None:
    write = Budget("tenant:a:write", rate=5.0, burst=10, name="write")
    # Two calls already charged (TAT = now + 0.4 s); this one makes three.
    verdict = verdict_after([write], [NOW + 400_000])
    assert rate_limit_headers(verdict) == {
        "RateLimit-Policy": '"write";q=10;w=2',
        "RateLimit": '"write";r=7;t=1',
    }
    assert retry_after_seconds(verdict) == 0


def test_every_budget_is_listed_and_the_limiting_one_reported() -> None:
    read = Budget("tenant:a:read", rate=10.0, burst=20, name="read")
    upstream = Budget("upstream:3f9a", rate=0.3, burst=3, name="upstream")
    verdict = verdict_after([read, upstream], [None, NOW + 3_333_334])
    assert verdict.allowed
    assert rate_limit_headers(verdict) == {
        "RateLimit-Policy": '"read";q=20;w=2, "upstream";q=3;w=10',
        "RateLimit": '"upstream";r=1;t=7',
    }


def test_refused_call() -> None:
    read = Budget("tenant:a:read", rate=4.0, burst=2, name="read")
    verdict = verdict_after([read], [NOW + 500_000])  # bucket empty
    assert not verdict.allowed
    assert verdict.retry_after == 0.25
    assert rate_limit_headers(verdict) == {
        "RateLimit-Policy": '"read";q=2;w=1',
        "RateLimit": '"read";r=0;t=1',
    }
    assert retry_after_seconds(verdict) == 1


def test_retry_after_rounds_up() -> None:
    slow = Budget("upstream:k", rate=0.4, burst=1, name="upstream")
    verdict = verdict_after([slow], [NOW + 2_500_000])
    assert verdict.retry_after == 2.5
    assert retry_after_seconds(verdict) == 3


def test_names_are_sf_strings() -> None:
    odd = Budget("k", rate=1.0, burst=1, name='a"b\\c')
    verdict = verdict_after([odd], [None])
    assert rate_limit_headers(verdict)["RateLimit"] == '"a\\"b\\\\c";r=0;t=1'


def test_no_decisions_no_headers() -> None:
    assert rate_limit_headers(Verdict(allowed=True, decisions=(), limiting=None)) == {}


@pytest.mark.parametrize(
    ("rate", "burst", "window"),
    [(5.0, 10, 2), (0.3, 3, 10), (3.0, 10, 4), (100.0, 1, 1), (0.01, 1, 100)],
)
def test_policy_window(rate: float, burst: int, window: int) -> None:
    assert policy_window_seconds(Budget("k", rate=rate, burst=burst, name="n")) == window
