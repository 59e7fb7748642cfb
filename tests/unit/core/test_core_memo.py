"""The bounded memo behind kept conversions: its bound, its order, its off switch."""

from __future__ import annotations

import pytest

from gateway.core.memo import Memo


def test_keeps_at_most_capacity_dropping_the_least_recently_used() -> None:
    memo: Memo[str] = Memo(2)
    memo.put(b"a", "A")
    memo.put(b"b", "B")
    assert memo.get(b"a") == "A"  # "a" is now the most recently used
    memo.put(b"c", "C")
    assert len(memo) == 2
    assert memo.get(b"b") is None
    assert (memo.get(b"a"), memo.get(b"c")) == ("A", "C")


def test_replacing_a_key_does_not_evict_another() -> None:
    memo: Memo[str] = Memo(2)
    memo.put(b"a", "A")
    memo.put(b"b", "B")
    memo.put(b"a", "A2")
    assert (memo.get(b"a"), memo.get(b"b"), len(memo)) == ("A2", "B", 2)


def test_capacity_zero_keeps_nothing() -> None:
    memo: Memo[str] = Memo(0)
    memo.put(b"a", "A")
    assert (memo.get(b"a"), len(memo)) == (None, 0)


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        Memo(-1)
