"""Configuration, seeding and the CLI argument parsing of the emulator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gateway.emulator import Account, Emulator, EmulatorConfig
from gateway.emulator.cli import add_arguments, parse_account


def test_account_repr_hides_secret_and_token() -> None:
    account = Account("LTAIid", "very-secret", "sts-token")
    assert "very-secret" not in repr(account)
    assert "sts-token" not in repr(account)
    assert "LTAIid" in repr(account)


def test_demo_account_and_seed_sources() -> None:
    emulator = Emulator(EmulatorConfig(port=0, random_seed=5))
    account = emulator.demo_account
    assert account is not None
    assert account.access_key_id.startswith("LTAI")
    assert len(account.access_key_id) == 24
    assert len(account.access_key_secret) == 30
    sources = emulator.backends[account.access_key_id].sources.values()
    assert [s.state.value for s in sources] == ["Available"] * 3
    assert all([d.index for d in s.data_disks] == [1, 2] for s in sources)
    again = Emulator(EmulatorConfig(port=0, random_seed=5))
    assert again.demo_account == account  # reproducible with a seed


def test_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "accounts": {
                    "*": {"sources": [{"Name": "shared-01", "SourceId": "s-shared"}]},
                    "AK1": {
                        "sources": [
                            {
                                "Name": "own-01",
                                "State": "Unavailable",
                                "DataDisks": [{"Index": 1, "Size": 20, "Path": "/d"}],
                            }
                        ],
                        "networks": {"vsw-x": "vpc-x"},
                    },
                }
            }
        )
    )
    config = EmulatorConfig(
        port=0, accounts=[Account("AK1", "s1"), Account("AK2", "s2")], seed_file=seed
    )
    emulator = Emulator(config)
    one = list(emulator.backends["AK1"].sources.values())
    two = list(emulator.backends["AK2"].sources.values())
    assert [s.name for s in one] == ["shared-01", "own-01"]
    assert one[1].state.value == "Unavailable"
    assert [s.source_id for s in two] == ["s-shared"]
    assert emulator.backends["AK1"].networks["vsw-x"] == "vpc-x"
    emulator.backends["AK1"].sources.clear()
    emulator.reset()
    assert next(iter(emulator.backends["AK1"].sources)) == "s-shared"


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"accounts": {"*": {"sources": [{"State": "Flying"}]}}}'],
)
def test_bad_seed_file_fails_at_start(tmp_path: Path, content: str) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(content)
    with pytest.raises(ValueError, match=r"seed|State"):
        Emulator(EmulatorConfig(port=0, seed_file=seed))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"progression": "warp"}, "progression"),
        ({"port": 70000}, "port"),
        ({"job_seconds": 0}, "job_seconds"),
        ({"accounts": [Account("A", "s"), Account("A", "t")]}, "accounts"),
    ],
)
def test_config_errors_name_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        EmulatorConfig(**kwargs)  # type: ignore[arg-type]


def test_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--account",
            "AK:SECRET",
            "--account",
            "STS.AK:S2:TOKEN",
            "--progression",
            "time",
            "--job-seconds",
            "30",
        ]
    )
    assert [a.access_key_id for a in args.account] == ["AK", "STS.AK"]
    assert args.account[1].security_token == "TOKEN"
    assert (args.progression, args.job_seconds) == ("time", 30.0)
    assert parse_account("A:B").security_token is None


@pytest.mark.parametrize("bad", ["nocolon", ":secret", "ak:", "ak:secret:"])
def test_cli_rejects_malformed_account(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--account", bad])
    assert "--account" in capsys.readouterr().err
