"""Client for Alibaba Cloud Server Migration Center's RPC API (2019-06-01).

Knows SMC's wire protocol and nothing about tenants, gRPC or HTTP frameworks.

* :func:`sign_rpc_v1`: the HMAC-SHA1 ``Signature`` of a request (contract).
* :class:`SmcClient`: build, sign, send, parse and retry one operation.
* :mod:`gateway.smc.models`: typed requests, responses and the 9 operations.
* :mod:`gateway.smc.errors`: the error tree and the SMC ``Code`` table.
"""

from gateway.smc.client import Attempt, SmcClient, build_request_body, new_client_token
from gateway.smc.credentials import Credentials
from gateway.smc.errors import SmcApiError, SmcError
from gateway.smc.retry import Clock, RetryBudget, RetryPolicy, SystemClock
from gateway.smc.signing import sign_rpc_v1

__all__ = [
    "Attempt",
    "Clock",
    "Credentials",
    "RetryBudget",
    "RetryPolicy",
    "SmcApiError",
    "SmcClient",
    "SmcError",
    "SystemClock",
    "build_request_body",
    "new_client_token",
    "sign_rpc_v1",
]
