"""The gateway's own Redis client: the scripts of the rate limiter and the idempotency
store over one pipelined connection per client (:mod:`gateway.redisio.client`), speaking
RESP2 (:mod:`gateway.redisio.resp`)."""

from gateway.redisio.client import (
    REDIS_SCHEMES,
    ConnectionLostError,
    Endpoint,
    RedisClient,
    Script,
    ScriptClient,
    endpoint_from_url,
    shared_client,
)
from gateway.redisio.resp import ProtocolError, RedisIOError, Reply, ReplyError

__all__ = [
    "REDIS_SCHEMES",
    "ConnectionLostError",
    "Endpoint",
    "ProtocolError",
    "RedisClient",
    "RedisIOError",
    "Reply",
    "ReplyError",
    "Script",
    "ScriptClient",
    "endpoint_from_url",
    "shared_client",
]
