"""Emulated Alibaba Cloud accounts: one AccessKey pair (and optional STS token) each."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Account", "generate_account"]


@dataclass(frozen=True)
class Account:
    """An AccessKey pair the emulator accepts; its repr never shows the secret or token.

    With ``security_token`` set the account behaves like STS credentials: every request must
    carry that ``SecurityToken``; ``security_token_expires`` (optional) makes it expire.
    """

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    security_token_expires: datetime | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key_id or not self.access_key_secret:
            raise ValueError("an account needs a non-empty AccessKey ID and secret")


def generate_account(rng: random.Random) -> Account:
    """A demo account: ``LTAI`` + 20 alphanumerics, and a 30-character secret."""
    alphabet = string.ascii_letters + string.digits
    return Account(
        "LTAI" + "".join(rng.choices(alphabet, k=20)),
        "".join(rng.choices(alphabet, k=30)),
    )
