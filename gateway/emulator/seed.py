"""Sources the emulator starts with (SMC's agent registers sources; the API cannot).

Without a seed file every account gets three demo sources (Available, two data disks each).
A seed file is JSON::

    {
      "accounts": {
        "*":             {"sources": [ {...}, ... ], "networks": {"vsw-a1": "vpc-a"}},
        "LTAIexample01": {"sources": [ {...} ]}
      }
    }

``"*"`` applies to every account, before the account's own entry.  A source object uses the
wire names of DescribeSourceServers, every field optional: ``SourceId`` (generated when
absent), ``Name``, ``Description``, ``State``, ``AgentVersion``, ``Architecture``, ``Platform``,
``KernelLevel``, ``HeartbeatRate``, ``SystemDiskSize``, ``SystemInfo`` (object or JSON text),
``DataDisks`` (list of ``{"Index", "Size", "Path"}``), ``ErrorCode``, ``StatusInfo``,
``CreationTime``.  ``networks`` maps vSwitch IDs to their VPC for ``VSwitchIdVpcId.Mismatch``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gateway.emulator.backend import IdGenerator
from gateway.emulator.models import SourceDataDisk, SourcePart, SourceServer, SourceState
from gateway.emulator.params import check_name
from gateway.smc.wire import parse_timestamp

__all__ = ["DEFAULT_NETWORKS", "AccountSeed", "SeedFile", "demo_sources", "source_from_json"]

# Every account knows these vSwitch → VPC pairs.
DEFAULT_NETWORKS: dict[str, str] = {
    "vsw-emu0001a": "vpc-emu0001",
    "vsw-emu0001b": "vpc-emu0001",
    "vsw-emu0002a": "vpc-emu0002",
}

_GIB = 1024**3


@dataclass
class AccountSeed:
    sources: list[Mapping[str, object]] = field(default_factory=list)
    networks: dict[str, str] = field(default_factory=dict)


@dataclass
class SeedFile:
    accounts: dict[str, AccountSeed]

    @classmethod
    def load(cls, path: str | Path) -> SeedFile:
        """Read and check a seed file; ``ValueError`` names what is wrong."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"seed file {path}: {exc}") from exc
        return cls.from_json(data, str(path))

    @classmethod
    def from_json(cls, data: object, origin: str = "seed") -> SeedFile:
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), dict):
            raise ValueError(f"{origin}: expected an object with an 'accounts' object")
        accounts: dict[str, AccountSeed] = {}
        for key, entry in data["accounts"].items():
            where = f"{origin}: accounts.{key}"
            if not isinstance(entry, dict):
                raise ValueError(f"{where}: expected an object")
            sources = entry.get("sources", [])
            networks = entry.get("networks", {})
            if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
                raise ValueError(f"{where}.sources: expected a list of objects")
            if not isinstance(networks, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in networks.items()
            ):
                raise ValueError(f"{where}.networks: expected an object of strings")
            accounts[key] = AccountSeed(list(sources), dict(networks))
        return cls(accounts)

    def for_account(self, access_key_id: str) -> AccountSeed:
        merged = AccountSeed()
        for key in ("*", access_key_id):
            entry = self.accounts.get(key)
            if entry is not None:
                merged.sources.extend(entry.sources)
                merged.networks.update(entry.networks)
        return merged


def _text(data: Mapping[str, object], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"source field {key!r} must be a string")
    return value


def _int(data: Mapping[str, object], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"source field {key!r} must be a non-negative integer")
    return value


def _disks(data: Mapping[str, object]) -> list[SourceDataDisk]:
    raw = data.get("DataDisks", [])
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("source field 'DataDisks' must be a list")
    disks: list[SourceDataDisk] = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise ValueError("source field 'DataDisks' must hold objects")
        index = _int(item, "Index", i)
        if not 1 <= index <= 16 or any(d.index == index for d in disks):
            raise ValueError(f"source data disk index {index} must be unique and 1 to 16")
        size = _int(item, "Size", 100)
        path = _text(item, "Path", f"/data{index}")
        part = SourcePart(path=path, size_bytes=size * _GIB, device=f"{index}_1", need=False)
        disks.append(SourceDataDisk(index, size, path, [part]))
    return disks


def source_from_json(
    data: Mapping[str, object], ids: IdGenerator, now: datetime, *, index: int = 1
) -> SourceServer:
    """A source from its seed / control-API description; ``ValueError`` names a bad field."""
    name = _text(data, "Name", f"source-{index:02d}")
    if not check_name(name):
        raise ValueError(f"source field 'Name' is not a valid SMC name: {name!r}")
    state_text = _text(data, "State", SourceState.AVAILABLE.value)
    try:
        state = SourceState(state_text)
    except ValueError:
        allowed = [s.value for s in SourceState]
        raise ValueError(f"source field 'State' must be one of {allowed}") from None
    created = now
    if "CreationTime" in data:
        created = parse_timestamp(_text(data, "CreationTime", ""))
    system_info = data.get("SystemInfo")
    if system_info is None:
        system_info = {
            "agent_mode": "normal",
            "agent_type": "python",
            "client_type": "cli",
            "cores": 4,
            "cpu_usage": 12.5,
            "hostname": name,
            "ipv4": f"192.168.0.{10 + index}",
            "ipv6": "",
            "memory": 8 * _GIB,
            "memory_usage": 41.2,
        }
    system_info_text = system_info if isinstance(system_info, str) else json.dumps(system_info)
    system_disk = _int(data, "SystemDiskSize", 40)
    return SourceServer(
        source_id=_text(data, "SourceId", "") or ids.source_id(),
        name=name,
        creation_time=created,
        state=state,
        description=_text(data, "Description", "Server Source Imported By the SMC emulator."),
        agent_version=_text(data, "AgentVersion", "2.8.6"),
        architecture=_text(data, "Architecture", "x86_64"),
        platform=_text(data, "Platform", "CentOS"),
        kernel_level=_int(data, "KernelLevel", 3),
        heartbeat_rate=_int(data, "HeartbeatRate", 30),
        system_disk_size=system_disk,
        system_info=system_info_text,
        data_disks=_disks(data),
        system_disk_parts=[
            SourcePart("/boot", _GIB, "0_1", can_block=True, need=True, type="Boot"),
            SourcePart(
                "/", (system_disk - 1) * _GIB, "0_2", can_block=True, need=True, type="System"
            ),
        ],
        error_code=_text(data, "ErrorCode", ""),
        status_info=_text(data, "StatusInfo", ""),
    )


_DEMO: tuple[dict[str, object], ...] = (
    {
        "Name": "web-server-01",
        "Platform": "CentOS",
        "SystemDiskSize": 40,
        "DataDisks": [
            {"Index": 1, "Size": 100, "Path": "/data"},
            {"Index": 2, "Size": 200, "Path": "/var/log"},
        ],
    },
    {
        "Name": "db-server-01",
        "Platform": "Ubuntu",
        "SystemDiskSize": 80,
        "DataDisks": [
            {"Index": 1, "Size": 500, "Path": "/var/lib/mysql"},
            {"Index": 2, "Size": 100, "Path": "/backup"},
        ],
    },
    {
        "Name": "app-server-01",
        "Platform": "Windows Server 2016",
        "Architecture": "x86_64",
        "SystemDiskSize": 60,
        "DataDisks": [
            {"Index": 1, "Size": 50, "Path": "D:"},
            {"Index": 2, "Size": 80, "Path": "E:"},
        ],
    },
)


def demo_sources(ids: IdGenerator, now: datetime) -> list[SourceServer]:
    """The three demo sources an account gets without a seed file."""
    return [source_from_json(d, ids, now, index=i) for i, d in enumerate(_DEMO, start=1)]
