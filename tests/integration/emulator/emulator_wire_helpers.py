"""A signing SMC caller for wire tests (built on gateway.smc.signing, not on the emulator)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from gateway.smc.signing import sign_rpc_v1, string_to_sign
from gateway.smc.wire import API_VERSION, format_timestamp

AK_ID = "LTAIwireTestAccount0001"
AK_SECRET = "wire-test-secret-0123456789abc"
STS_AK_ID = "STS.wireTestTemporary01"
STS_SECRET = "sts-secret-0123456789abcdefghi"
STS_TOKEN = "CAIS-token-for-the-wire-tests"
OTHER_AK_ID = "LTAIwireTestAccount0002"
OTHER_SECRET = "wire-test-secret-other-account"
START = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    content_type: str
    string_to_sign: str


def common_params(
    action: str, clock: FakeClock, access_key_id: str = AK_ID, nonce: str | None = None
) -> dict[str, str]:
    return {
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": format_timestamp(clock.now()),
    }


class SmcCaller:
    """Signs and sends SMC calls; ``where`` puts parameters in the query, body or both."""

    def __init__(self, session: aiohttp.ClientSession, url: str, clock: FakeClock) -> None:
        self.session = session
        self.url = url
        self.clock = clock

    async def call(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        method: str = "GET",
        where: str = "query",
        access_key_id: str = AK_ID,
        secret: str = AK_SECRET,
        nonce: str | None = None,
        overrides: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
        sign_method: str | None = None,
    ) -> Answer:
        all_params = {**common_params(action, self.clock, access_key_id, nonce), **(params or {})}
        all_params.update(overrides or {})
        for name in drop:
            all_params.pop(name, None)
        signed_method = sign_method or method
        sts = string_to_sign(signed_method, all_params)
        if "Signature" not in drop:
            all_params["Signature"] = sign_rpc_v1(signed_method, all_params, secret)
        return await self.send(method, all_params, where, sts)

    async def send(
        self, method: str, params: dict[str, str], where: str = "query", sts: str = ""
    ) -> Answer:
        names = sorted(params)
        if where == "query":
            query, body = params, {}
        elif where == "body":
            query, body = {}, params
        else:  # split: half in the query, half in the body
            query = {k: params[k] for k in names[::2]}
            body = {k: params[k] for k in names[1::2]}
        url = self.url + "/?" + urlencode(query) if query else self.url + "/"
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        async with self.session.request(
            method, url, data=urlencode(body) if body else None, headers=headers
        ) as response:
            return Answer(
                response.status,
                await response.json(content_type=None),
                response.headers.get("Content-Type", ""),
                sts,
            )
