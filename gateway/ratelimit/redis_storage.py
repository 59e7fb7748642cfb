"""Redis (or Valkey) storage for GCRA, shared by every replica: one EVALSHA per call.

Key layout: ``<key_prefix><budget key>``, e.g. ``smcgw:rl:tenant:team-a:read`` or
``smcgw:rl:upstream:3f9a0c1d2e4b``; the value is the TAT in integer microseconds of the Redis
server clock, with a PX expiry at the bucket's reset time.  Budget keys are chosen by the
caller and must not contain secrets (pass a hash-derived id, never a raw AccessKeyId).
Several keys in one call must live on one server, so Redis Cluster is not supported.

The Lua script is package data (``gcra.lua``), loaded with :mod:`importlib.resources` and
registered with ``register_script``: the client sends EVALSHA and the script itself once on
NOSCRIPT (e.g. after a failover or ``SCRIPT FLUSH``).  The client is the gateway's own
pipelined one (:mod:`gateway.redisio`) when built from a URL; a redis-py client works too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib import resources

import redis.exceptions

from gateway.ratelimit.gcra import check_unique_keys, emission_interval_us, evaluate, to_micros
from gateway.ratelimit.model import Budget, RateLimiterUnavailableError, Verdict
from gateway.redisio import RedisIOError, ScriptClient

__all__ = ["DEFAULT_KEY_PREFIX", "GCRA_SCRIPT", "RedisRateLimiter"]

DEFAULT_KEY_PREFIX = "smcgw:rl:"

GCRA_SCRIPT: str = resources.files("gateway.ratelimit").joinpath("gcra.lua").read_text("utf-8")

# What a storage outage looks like from either client (connection lost, BUSY, LOADING,
# READONLY after failover, ...) and from the socket or the call's asyncio.timeout.
_UNAVAILABLE = (RedisIOError, redis.exceptions.RedisError, OSError, asyncio.TimeoutError)


class RedisRateLimiter:
    """GCRA in one Lua script; time from the Redis server (``TIME``) unless ``now`` is given.

    ``timeout``, if set, bounds each call as a whole (retries included), so an outage costs
    each call a bounded delay; :func:`gateway.ratelimit.limiter_from_url` sets it and leaves
    the client's per-read ``socket_timeout`` unset (redis-py runs every socket write under
    that timeout in a task of its own, which costs more CPU than the rest of the command).
    A client built with its own socket timeouts works too.  With ``owns_client`` the limiter
    closes the client in :meth:`aclose`.
    """

    def __init__(
        self,
        client: ScriptClient,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        timeout: float | None = None,
        owns_client: bool = False,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"rate-limit storage timeout must be positive, got {timeout}")
        self._client = client
        self._prefix = key_prefix
        self._timeout = timeout
        self._owns_client = owns_client
        self._script = client.register_script(GCRA_SCRIPT)

    def storage_key(self, budget: Budget) -> str:
        """The Redis key holding ``budget``'s TAT."""
        return self._prefix + budget.key

    async def acquire(self, budgets: Sequence[Budget], now: float | None = None) -> Verdict:
        """Admit and charge every budget, or refuse and charge none (see the protocol).

        ``now`` (seconds since the epoch) replaces the server clock; for tests and replays.
        """
        check_unique_keys(budgets)
        if not budgets:
            verdict, _ = evaluate(budgets, 0, [])
            return verdict
        args: list[str | int] = ["" if now is None else to_micros(now)]
        for budget in budgets:
            args += [emission_interval_us(budget.rate), budget.burst]
        try:
            async with asyncio.timeout(self._timeout):
                reply = await self._script(keys=[self.storage_key(b) for b in budgets], args=args)
        except _UNAVAILABLE as exc:
            raise RateLimiterUnavailableError(
                f"rate-limit storage unavailable: {type(exc).__name__}: {exc}"
            ) from exc
        admitted, now_us, *tats = (int(x) for x in reply)
        verdict, _ = evaluate(budgets, now_us, tats)
        if verdict.allowed != bool(admitted):
            raise RuntimeError("gcra.lua and gcra.py disagree; they must implement one formula")
        return verdict

    async def aclose(self) -> None:
        """Close the client if this limiter created it."""
        if self._owns_client:
            await self._client.aclose()
