"""The tenants file (YAML): schema, validation and loading.

    tenants:
      - id: team-a
        api_key_sha256: ["<hex sha-256 of the bearer key>"]
        access_key_id: LTAI...
        access_key_secret_file: /etc/smc-gateway/secrets/team-a   # or access_key_secret_env
        security_token_file: /etc/smc-gateway/secrets/team-a-sts  # optional (STS)
        region_id: cn-hangzhou
        rate_limits:                       # optional; the gateway's defaults otherwise
          read:  {per_second: 20, burst: 40}
          write: {per_second: 5, burst: 10}
          methods:                         # optional per-method overrides
            CreateReplicationJob: {per_second: 1, burst: 2}
        allowed_methods: ["*"]

Errors name the tenant and the key.  Unknown keys are rejected.  Secrets are read from
their files or environment variables at load time and never appear in errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.core.methods import METHODS
from gateway.core.tenants import Rate, RateLimits, Tenant, TenantDirectory
from gateway.smc.credentials import Credentials

__all__ = [
    "ReloadStatus",
    "TenantsFileError",
    "TenantsFileWatcher",
    "load_tenants_file",
    "parse_tenants",
]

log = logging.getLogger("smc_gateway.tenants")

_KEYS = frozenset(
    {
        "id",
        "api_key_sha256",
        "access_key_id",
        "access_key_secret_file",
        "access_key_secret_env",
        "security_token_file",
        "region_id",
        "rate_limits",
        "allowed_methods",
    }
)
_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")
_METHOD_NAMES = frozenset(m.name for m in METHODS)


class TenantsFileError(ValueError):
    """The tenants file is not valid; the message names the tenant and the key."""


def _read_secret(path: str, where: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise TenantsFileError(f"{where}: cannot read {path}: {error.strerror}") from None
    if not value:
        raise TenantsFileError(f"{where}: {path} is empty")
    return value


def _rate(value: Any, where: str) -> Rate:
    if not isinstance(value, dict) or set(value) != {"per_second", "burst"}:
        raise TenantsFileError(f"{where}: must be {{per_second: <number>, burst: <integer>}}")
    rate, burst = value["per_second"], value["burst"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise TenantsFileError(f"{where}.per_second: must be a positive number")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise TenantsFileError(f"{where}.burst: must be a whole number of at least 1")
    return Rate(float(rate), burst)


def _rate_limits(value: Any, where: str) -> RateLimits:
    if value is None:
        return RateLimits()
    if not isinstance(value, dict) or not set(value) <= {"read", "write", "methods"}:
        raise TenantsFileError(f"{where}: may only hold read, write and methods")
    methods = value.get("methods", {})
    if not isinstance(methods, dict):
        raise TenantsFileError(f"{where}.methods: must map method names to rates")
    unknown = sorted(set(methods) - _METHOD_NAMES)
    if unknown:
        raise TenantsFileError(f"{where}.methods: unknown methods {unknown}")
    return RateLimits(
        read=_rate(value["read"], f"{where}.read") if "read" in value else None,
        write=_rate(value["write"], f"{where}.write") if "write" in value else None,
        methods={name: _rate(rate, f"{where}.methods.{name}") for name, rate in methods.items()},
    )


def _secret(entry: dict[str, Any], where: str, env: Mapping[str, str]) -> str:
    secret_file = entry.get("access_key_secret_file")
    secret_env = entry.get("access_key_secret_env")
    if (secret_file is None) == (secret_env is None):
        raise TenantsFileError(
            f"{where}: set exactly one of access_key_secret_file and access_key_secret_env"
        )
    if secret_file is not None:
        if not isinstance(secret_file, str):
            raise TenantsFileError(f"{where}.access_key_secret_file: must be a path")
        return _read_secret(secret_file, f"{where}.access_key_secret_file")
    if not isinstance(secret_env, str) or not env.get(secret_env):
        raise TenantsFileError(
            f"{where}.access_key_secret_env: environment variable {secret_env} is not set"
        )
    return env[secret_env]


def _tenant(entry: Any, index: int, env: Mapping[str, str]) -> Tenant:
    if not isinstance(entry, dict):
        raise TenantsFileError(f"tenants[{index}]: must be a mapping")
    name = entry.get("id")
    where = f"tenant {name!r}" if isinstance(name, str) else f"tenants[{index}]"
    unknown = set(entry) - _KEYS
    if unknown:
        raise TenantsFileError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(name, str) or not _ID.fullmatch(name):
        raise TenantsFileError(f"{where}.id: must be 1-63 lowercase letters, digits or '-'")
    digests = entry.get("api_key_sha256")
    if (
        not isinstance(digests, list)
        or not digests
        or not all(isinstance(d, str) and _DIGEST.fullmatch(d) for d in digests)
    ):
        raise TenantsFileError(
            f"{where}.api_key_sha256: must be a non-empty list of lowercase hex SHA-256 digests"
        )
    access_key_id = entry.get("access_key_id")
    if not isinstance(access_key_id, str) or not access_key_id:
        raise TenantsFileError(f"{where}.access_key_id: required")
    secret = _secret(entry, where, env)
    token_file = entry.get("security_token_file")
    if token_file is not None and not isinstance(token_file, str):
        raise TenantsFileError(f"{where}.security_token_file: must be a path")
    token = _read_secret(token_file, f"{where}.security_token_file") if token_file else None
    region = entry.get("region_id")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise TenantsFileError(f"{where}.region_id: required, e.g. cn-hangzhou")
    methods = entry.get("allowed_methods", ["*"])
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise TenantsFileError(f"{where}.allowed_methods: must be a list of method names")
    bad = sorted(set(methods) - _METHOD_NAMES - {"*"})
    if bad:
        raise TenantsFileError(f"{where}.allowed_methods: unknown methods {bad}")
    return Tenant(
        id=name,
        api_key_sha256=frozenset(digests),
        credentials=Credentials(access_key_id, secret, token),
        region_id=region,
        allowed_methods=frozenset(methods),
        rate_limits=_rate_limits(entry.get("rate_limits"), f"{where}.rate_limits"),
    )


def parse_tenants(document: Any, env: Mapping[str, str]) -> list[Tenant]:
    """Tenants from a parsed YAML document."""
    if not isinstance(document, dict) or set(document) != {"tenants"}:
        raise TenantsFileError("the file must be a mapping with the single key 'tenants'")
    entries = document["tenants"]
    if not isinstance(entries, list) or not entries:
        raise TenantsFileError("tenants: must be a non-empty list")
    tenants = [_tenant(entry, i, env) for i, entry in enumerate(entries)]
    seen: dict[str, str] = {}
    for tenant in tenants:
        if tenant.id in seen.values():
            raise TenantsFileError(f"tenant {tenant.id!r}: id used twice")
        for digest in tenant.api_key_sha256:
            if digest in seen:
                raise TenantsFileError(
                    f"tenant {tenant.id!r}.api_key_sha256: key also belongs to {seen[digest]!r}"
                )
            seen[digest] = tenant.id
    return tenants


def load_tenants_file(path: Path, env: Mapping[str, str] | None = None) -> list[Tenant]:
    """Read, parse and validate the tenants file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TenantsFileError(f"cannot read tenants file {path}: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TenantsFileError(f"{path}: not valid YAML: {error}") from None
    return parse_tenants(document, os.environ if env is None else env)


def _referenced_files(path: Path) -> list[Path]:
    """The tenants file and every secret file it names (as far as it parses)."""
    files = [path]
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return files
    entries = document.get("tenants") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            for key in ("access_key_secret_file", "security_token_file"):
                if isinstance(entry.get(key), str):
                    files.append(Path(entry[key]))
    return files


def _fingerprint(files: list[Path]) -> bytes:
    # Content, not mtimes: Kubernetes updates a mounted Secret by swapping a symlink to a
    # new directory, which keeps paths and may keep mtimes but changes what they resolve to.
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file).encode() + b"\0")
        try:
            digest.update(file.read_bytes())
        except OSError as error:
            digest.update(f"unreadable: {error.errno}".encode())
        digest.update(b"\0")
    return digest.digest()


@dataclass
class ReloadStatus:
    """What /readyz, logs and metrics report about the tenants file."""

    loaded_at: float
    reloads_ok: int = 0
    reloads_failed: int = 0
    last_error: str | None = None  # the last failed reload's message, until a reload succeeds


class TenantsFileWatcher:
    """Keeps a :class:`TenantDirectory` in step with the tenants file and its secret files.

    ``start`` loads once (an error stops the start-up).  Then every ``interval`` seconds the
    files are re-read; on a change the file is parsed and validated again and, if valid,
    ``on_change`` receives the new directory.  A broken file keeps the last good one and is
    reported in ``status`` and the log.  Calls in flight keep the tenant they started with.
    """

    def __init__(
        self,
        path: Path,
        on_change: Callable[[TenantDirectory], None],
        *,
        interval: float = 2.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self._on_change = on_change
        self._interval = interval
        self._env = env
        self._seen = b""
        self._task: asyncio.Task[None] | None = None
        self.status = ReloadStatus(loaded_at=0.0)

    def load(self) -> TenantDirectory:
        """Load now; raises :class:`TenantsFileError` if the file is not valid."""
        self._seen = _fingerprint(_referenced_files(self.path))
        directory = TenantDirectory(load_tenants_file(self.path, self._env))
        self.status.loaded_at = time.time()
        return directory

    def check(self) -> bool:
        """Reload if anything changed; True when a new directory was installed."""
        seen = _fingerprint(_referenced_files(self.path))
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            directory = TenantDirectory(load_tenants_file(self.path, self._env))
        except (TenantsFileError, ValueError) as error:
            self.status.reloads_failed += 1
            self.status.last_error = str(error)
            log.error("tenants file reload failed, keeping the last good one: %s", error)
            return False
        self._on_change(directory)
        self.status.reloads_ok += 1
        self.status.last_error = None
        self.status.loaded_at = time.time()
        log.info("tenants file reloaded: %d tenants", len({t.id for t in directory.tenants}))
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                self.check()
            except Exception:  # keep watching whatever happens; the log says what
                log.exception("tenants file check failed")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
