"""The GCRA strategy without storage, and the validation of its inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ratelimit import Budget, Decision, Verdict
from gateway.ratelimit.gcra import emission_interval_us, evaluate, to_micros

NOW = 5_000_000  # microseconds


@pytest.mark.parametrize(
    ("rate", "interval"),
    [(1.0, 1_000_000), (4.0, 250_000), (3.0, 333_334), (0.5, 2_000_000), (1e7, 1)],
)
def test_emission_interval_rounds_up_to_whole_microseconds(rate: float, interval: int) -> None:
    assert emission_interval_us(rate) == interval


def test_to_micros_rounds_to_nearest() -> None:
    assert to_micros(1000.0 + 0.333334) == 1_000_333_334
    assert to_micros(0.1 + 0.2) == 300_000


def test_fresh_budget() -> None:
    budget = Budget("k", rate=2.0, burst=4, name="read")
    verdict, after = evaluate([budget], NOW, [None])
    assert verdict == Verdict(
        allowed=True,
        decisions=(Decision(allowed=True, limit=4, remaining=3, retry_after=0.0, reset_after=0.5),),
        limiting=budget,
        budgets=(budget,),
    )
    assert after == (NOW + 500_000,)


def test_a_tat_in_the_past_is_a_full_bucket() -> None:
    budget = Budget("k", rate=1.0, burst=2, name="read")
    verdict, after = evaluate([budget], NOW, [NOW - 10_000_000])
    assert verdict.decisions[0].remaining == 1
    assert after == (NOW + 1_000_000,)


def test_refusal_leaves_tats_unchanged_and_says_when() -> None:
    a = Budget("a", rate=1.0, burst=1, name="read")
    b = Budget("b", rate=1.0, burst=3, name="upstream")
    verdict, after = evaluate([a, b], NOW, [NOW + 250_000, None])
    assert not verdict.allowed
    assert after == (NOW + 250_000, NOW)
    assert verdict.limiting == a
    assert verdict.retry_after == 0.25
    assert verdict.decisions[1] == Decision(
        allowed=True, limit=3, remaining=3, retry_after=0.0, reset_after=0.0
    )
    assert verdict.limiting_decision == verdict.decisions[0]


def test_admitted_call_is_limited_by_the_least_remaining() -> None:
    a = Budget("a", rate=1.0, burst=10, name="read")
    b = Budget("b", rate=1.0, burst=3, name="upstream")
    verdict, _ = evaluate([a, b], NOW, [None, None])
    assert verdict.allowed
    assert verdict.limiting == b
    assert verdict.retry_after == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "", "rate": 1.0, "burst": 1, "name": "read"},
        {"key": "k", "rate": 0.0, "burst": 1, "name": "read"},
        {"key": "k", "rate": -1.0, "burst": 1, "name": "read"},
        {"key": "k", "rate": math.inf, "burst": 1, "name": "read"},
        {"key": "k", "rate": math.nan, "burst": 1, "name": "read"},
        {"key": "k", "rate": 1.0, "burst": 0, "name": "read"},
        {"key": "k", "rate": 1.0, "burst": True, "name": "read"},
        {"key": "k", "rate": 1.0, "burst": 1, "name": ""},
        {"key": "k", "rate": 1.0, "burst": 1, "name": "lecture\u00e9"},
    ],
)
def test_invalid_budgets_fail_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="Budget"):
        Budget(**kwargs)  # type: ignore[arg-type]


def test_verdict_budgets_must_align_with_decisions() -> None:
    budget = Budget("k", rate=1.0, burst=1, name="read")
    with pytest.raises(ValueError, match="align"):
        Verdict(allowed=True, decisions=(), limiting=None, budgets=(budget,))


def _by_the_formulas(
    budgets: list[Budget], now: int, stored: list[int | None]
) -> tuple[Verdict, tuple[int, ...]]:
    """The module docstring's formulas, budget by budget, with nothing folded together."""
    intervals = [max(1, math.ceil(1_000_000 / b.rate)) for b in budgets]
    tats = [now if t is None else max(t, now) for t in stored]
    admits = [
        tat - now <= t * (b.burst - 1) for b, t, tat in zip(budgets, intervals, tats, strict=True)
    ]
    allowed = all(admits)
    after = tuple(tat + t if allowed else tat for tat, t in zip(tats, intervals, strict=True))
    decisions = [
        Decision(
            allowed=ok,
            limit=b.burst,
            remaining=max(0, (t * b.burst - (new - now)) // t),
            retry_after=0.0 if ok else (tat - t * (b.burst - 1) - now) / 1_000_000,
            reset_after=(new - now) / 1_000_000,
        )
        for b, t, tat, new, ok in zip(budgets, intervals, tats, after, admits, strict=True)
    ]
    limiting = None
    if decisions:
        if allowed:  # the fewest remaining, the first on ties
            index = min(range(len(decisions)), key=lambda i: decisions[i].remaining)
        else:  # the longest wait, the first on ties
            index = max(range(len(decisions)), key=lambda i: decisions[i].retry_after)
        limiting = budgets[index]
    verdict = Verdict(allowed, tuple(decisions), limiting, tuple(budgets))
    return verdict, after


_budgets = st.lists(
    st.tuples(
        st.sampled_from([0.001, 0.3, 1.0, 3.0, 7.5, 100.0, 1e6, 1e9]),
        st.integers(min_value=1, max_value=50),
    ),
    max_size=4,
).map(lambda specs: [Budget(f"k{i}", r, b, f"b{i}") for i, (r, b) in enumerate(specs)])


@given(_budgets, st.integers(min_value=0, max_value=10**12), st.data())
def test_evaluate_follows_the_formulas(
    budgets: list[Budget], now: int, data: st.DataObject
) -> None:
    offsets = st.one_of(st.none(), st.integers(min_value=-(10**9), max_value=10**9))
    stored = [None if (o := data.draw(offsets)) is None else now + o for _ in budgets]
    verdict, after = evaluate(budgets, now, stored)
    expected_verdict, expected_after = _by_the_formulas(budgets, now, stored)
    assert verdict == expected_verdict
    assert after == expected_after
    assert all(type(d.retry_after) is float for d in verdict.decisions)
