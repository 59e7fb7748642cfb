"""Retry policy and retry budget."""

from __future__ import annotations

import random

import pytest

from gateway.smc.retry import RetryBudget, RetryPolicy


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, multiplier=2.0)
    rng = random.Random(7)
    for retry in range(1, 8):
        ceiling = min(1.0, 0.1 * 2 ** (retry - 1))
        draws = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # Full jitter spreads over the whole range, not just near the ceiling.
        assert min(draws) < ceiling * 0.1
        assert max(draws) > ceiling * 0.9


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"initial_backoff": -1}, {"max_backoff": -1}, {"multiplier": 0.5}],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_with_attempts_returns_a_copy() -> None:
    policy = RetryPolicy()
    other = policy.with_attempts(1)
    assert (policy.max_attempts, other.max_attempts) == (4, 1)


def test_budget_spends_and_refunds() -> None:
    budget = RetryBudget(capacity=12, retry_cost=5, timeout_cost=10, success_refund=1)
    assert budget.try_spend(timeout=False)
    assert budget.available == 7
    assert not budget.try_spend(timeout=True)  # 10 > 7
    assert budget.try_spend(timeout=False)
    assert not budget.try_spend(timeout=False)  # 2 left
    for _ in range(20):
        budget.refund()
    assert budget.available == 12  # capped at capacity
