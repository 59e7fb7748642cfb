"""The official Python SDK (alibabacloud-smc20190601, V1 signing) against the emulator.

The SDK is synchronous, so the emulator runs in a background thread (BackgroundEmulator).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_smc20190601 import models as smc_models
from alibabacloud_smc20190601.client import Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils

from gateway.emulator import Account, BackgroundEmulator, Emulator, EmulatorConfig

AK_ID = "LTAIsdkE2eTestAccount01"
AK_SECRET = "sdk-e2e-secret-0123456789abcdef"


def control(emulator: Emulator, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    url = f"{emulator.url}/_emulator{path}"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback http)
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(
        port=0, accounts=[Account(AK_ID, AK_SECRET)], progression="manual", random_seed=7
    )
    with BackgroundEmulator(config) as running:
        yield running


def make_client(emulator: Emulator, secret: str = AK_SECRET) -> Client:
    config = openapi_models.Config(
        access_key_id=AK_ID,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{emulator.port}",
        protocol="http",
        signature_algorithm="v2",
        read_timeout=10000,
        connect_timeout=5000,
    )
    return Client(config)


def test_whole_lifecycle_of_the_nine_operations(emulator: Emulator) -> None:
    client = make_client(emulator)
    sources = client.describe_source_servers(smc_models.DescribeSourceServersRequest())
    assert sources.body.total_count == 3
    source = sources.body.source_servers.source_server[0]
    assert source.state == "Available"
    assert [d.index for d in source.data_disks.data_disk] == [1, 2]

    client.modify_source_server_attribute(
        smc_models.ModifySourceServerAttributeRequest(
            source_id=source.source_id, name="renamed-by-sdk", description="moved by the SDK"
        )
    )
    renamed = client.describe_source_servers(
        smc_models.DescribeSourceServersRequest(source_id=[source.source_id])
    ).body.source_servers.source_server[0]
    assert renamed.name == "renamed-by-sdk"
    assert renamed.description == "moved by the SDK"

    created = client.create_replication_job(
        smc_models.CreateReplicationJobRequest(
            region_id="cn-hangzhou",
            source_id=source.source_id,
            system_disk_size=80,
            name="sdk-job",
            image_name="sdk-image",
            data_disk=[smc_models.CreateReplicationJobRequestDataDisk(index=1, size=120)],
            client_token="sdk-token-1",
            run_once=True,
            tag=[smc_models.CreateReplicationJobRequestTag(key="team", value="migration")],
        )
    )
    job_id = created.body.job_id
    assert job_id.startswith("j-")

    jobs = client.describe_replication_jobs(
        smc_models.DescribeReplicationJobsRequest(job_id=[job_id])
    ).body
    assert jobs.total_count == 1
    job = jobs.replication_jobs.replication_job[0]
    assert (job.status, job.name, job.system_disk_size) == ("Ready", "sdk-job", 80)
    assert [(d.index, d.size) for d in job.data_disks.data_disk] == [(1, 120)]
    assert job.tags.tag[0].key == "team"

    client.modify_replication_job_attribute(
        smc_models.ModifyReplicationJobAttributeRequest(
            job_id=job_id, name="sdk-job-2", system_disk_size=100
        )
    )
    client.start_replication_job(smc_models.StartReplicationJobRequest(job_id=job_id))
    control(emulator, "POST", f"/jobs/{job_id}/advance", {"to": "Syncing"})
    client.stop_replication_job(smc_models.StopReplicationJobRequest(job_id=job_id))
    stopped = client.describe_replication_jobs(
        smc_models.DescribeReplicationJobsRequest(job_id=[job_id])
    ).body.replication_jobs.replication_job[0]
    assert (stopped.status, stopped.name, stopped.system_disk_size) == ("Stopped", "sdk-job-2", 100)

    client.start_replication_job(smc_models.StartReplicationJobRequest(job_id=job_id))
    control(emulator, "POST", f"/jobs/{job_id}/advance", {"to": "Finished"})
    finished = client.describe_replication_jobs(
        smc_models.DescribeReplicationJobsRequest(status="Finished")
    ).body.replication_jobs.replication_job[0]
    assert finished.job_id == job_id
    assert finished.progress == 100
    assert finished.image_id.startswith("m-")

    client.delete_replication_job(smc_models.DeleteReplicationJobRequest(job_id=job_id))
    client.delete_source_server(
        smc_models.DeleteSourceServerRequest(source_id=source.source_id, force=True)
    )
    left = client.describe_source_servers(smc_models.DescribeSourceServersRequest()).body
    assert left.total_count == 2
    assert source.source_id not in [s.source_id for s in left.source_servers.source_server]


def test_sdk_sees_smc_error_codes(emulator: Emulator) -> None:
    client = make_client(emulator)
    with pytest.raises(ClientException) as caught:
        client.start_replication_job(
            smc_models.StartReplicationJobRequest(job_id="j-doesnotexist0000000")
        )
    assert caught.value.code == "InvalidJobId.NotFound"


def test_wrong_secret_gets_signature_does_not_match(emulator: Emulator) -> None:
    client = make_client(emulator, secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        client.describe_source_servers(smc_models.DescribeSourceServersRequest())
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:POST&%2F&" in caught.value.message


def test_replayed_nonce_gets_signature_nonce_used(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "fixed-nonce-for-replay"))
    client = make_client(emulator)
    client.describe_source_servers(smc_models.DescribeSourceServersRequest())
    with pytest.raises(ClientException) as caught:
        client.describe_source_servers(smc_models.DescribeSourceServersRequest())
    assert caught.value.code == "SignatureNonceUsed"
