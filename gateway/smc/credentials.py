"""An Alibaba Cloud AccessKey pair, optionally with an STS token."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Credentials"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What signs a request.  ``repr`` shows the AccessKeyId only, never a secret."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key_id:
            raise ValueError("access_key_id is empty")
        if not self.access_key_secret:
            raise ValueError("access_key_secret is empty")
