"""Tenants file reload, including Kubernetes' symlink swap of a mounted Secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_volume import SecretVolume

from gateway.core.tenants import TenantDirectory, api_key_digest
from gateway.core.tenants_file import TenantsFileError, TenantsFileWatcher

KEY = "reload-key"


def tenants_yaml(root: Path, access_key_id: str, region: str = "cn-hangzhou") -> str:
    return (
        "tenants:\n"
        "  - id: team-a\n"
        f"    api_key_sha256: ['{api_key_digest(KEY)}']\n"
        f"    access_key_id: {access_key_id}\n"
        f"    access_key_secret_file: {root / 'secret'}\n"
        f"    region_id: {region}\n"
    )


@pytest.fixture
def volume(tmp_path: Path) -> SecretVolume:
    volume = SecretVolume(tmp_path)
    volume.publish({"tenants.yaml": tenants_yaml(tmp_path, "LTAIold"), "secret": "old-secret"})
    return volume


def test_symlink_swap_of_secret_and_file_is_picked_up(volume: SecretVolume) -> None:
    installed: list[TenantDirectory] = []
    watcher = TenantsFileWatcher(volume.root / "tenants.yaml", installed.append, env={})
    first = watcher.load()
    assert (
        first.authenticate(KEY, "ListSourceServers").credentials.access_key_secret == "old-secret"
    )
    assert watcher.check() is False  # nothing changed
    volume.publish({"tenants.yaml": tenants_yaml(volume.root, "LTAInew"), "secret": "new-secret"})
    assert watcher.check() is True
    (latest,) = installed
    credentials = latest.authenticate(KEY, "ListSourceServers").credentials
    assert (credentials.access_key_id, credentials.access_key_secret) == ("LTAInew", "new-secret")
    assert watcher.status.reloads_ok == 1


def test_secret_file_change_alone_is_picked_up(volume: SecretVolume) -> None:
    installed: list[TenantDirectory] = []
    watcher = TenantsFileWatcher(volume.root / "tenants.yaml", installed.append, env={})
    watcher.load()
    volume.publish({"tenants.yaml": tenants_yaml(volume.root, "LTAIold"), "secret": "rotated"})
    assert watcher.check() is True
    tenant = installed[-1].authenticate(KEY, "ListSourceServers")
    assert tenant.credentials.access_key_secret == "rotated"


def test_broken_reload_keeps_last_good_and_reports(
    volume: SecretVolume, caplog: pytest.LogCaptureFixture
) -> None:
    installed: list[TenantDirectory] = []
    watcher = TenantsFileWatcher(volume.root / "tenants.yaml", installed.append, env={})
    watcher.load()
    volume.publish({"tenants.yaml": "tenants: [oops\n", "secret": "old-secret"})
    assert watcher.check() is False
    assert installed == []
    assert watcher.status.reloads_failed == 1
    assert watcher.status.last_error is not None
    assert "not valid YAML" in watcher.status.last_error
    assert "keeping the last good one" in caplog.text
    assert "old-secret" not in caplog.text
    # Fixed again: installed, error cleared.
    volume.publish({"tenants.yaml": tenants_yaml(volume.root, "LTAIfix"), "secret": "s2"})
    assert watcher.check() is True
    assert watcher.status.last_error is None


def test_first_load_failure_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tenants.yaml").write_text("tenants: []\n")
    watcher = TenantsFileWatcher(tmp_path / "tenants.yaml", lambda _: None, env={})
    with pytest.raises(TenantsFileError):
        watcher.load()


async def test_watch_loop_installs_changes(volume: SecretVolume) -> None:
    import asyncio

    installed: list[TenantDirectory] = []
    watcher = TenantsFileWatcher(
        volume.root / "tenants.yaml", installed.append, interval=0.01, env={}
    )
    watcher.load()
    watcher.start()
    try:
        volume.publish({"tenants.yaml": tenants_yaml(volume.root, "LTAIloop"), "secret": "x"})
        for _ in range(200):
            if installed:
                break
            await asyncio.sleep(0.01)
    finally:
        await watcher.stop()
    assert installed
    assert (
        installed[-1].authenticate(KEY, "GetSourceServer").credentials.access_key_id == "LTAIloop"
    )
