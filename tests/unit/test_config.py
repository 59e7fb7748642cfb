"""Settings: precedence, parsing, and the README's table kept equal to them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import Settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_generated_from_settings() -> None:
    text = README.read_text()
    found = re.search(
        r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", text, re.DOTALL
    )
    assert found is not None
    assert found[1] == settings_table(), "run: .venv/bin/python -m gateway.config"


def test_defaults() -> None:
    settings = Settings.load({})
    assert (settings.host, settings.grpc_port, settings.http_port) == ("127.0.0.1", 50051, 8080)
    assert settings.smc_endpoint is None
    assert settings.cors_allow_origins == []


def test_flags_beat_env_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("grpc_port: 1111\nhttp_port: 2222\nhost: 0.0.0.0\nlog_level: DEBUG\n")
    monkeypatch.setenv("SMC_GATEWAY_HTTP_PORT", "3333")
    monkeypatch.setenv("SMC_GATEWAY_GRPC_PORT", "4444")
    monkeypatch.setenv("SMC_GATEWAY_CONFIG_FILE", str(config))
    settings = Settings.load({"grpc_port": 5555, "host": None})
    assert settings.grpc_port == 5555  # flag
    assert settings.http_port == 3333  # env
    assert settings.host == "0.0.0.0"  # file
    assert settings.log_level == "DEBUG"  # file


def test_cors_origins_from_env_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMC_GATEWAY_CORS_ALLOW_ORIGINS", "https://a.test, https://b.test,")
    assert Settings.load({}).cors_allow_origins == ["https://a.test", "https://b.test"]
    flags = Settings.load({"cors_allow_origins": ["https://c.test"]})
    assert flags.cors_allow_origins == ["https://c.test"]


def test_secrets_do_not_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMC_GATEWAY_DEMO_API_KEY", "super-secret-demo-key")
    monkeypatch.setenv("SMC_GATEWAY_PAGE_TOKEN_KEY", "super-secret-page-key")
    settings = Settings.load({})
    assert "super-secret" not in repr(settings)
    assert "super-secret" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("flags", "field"),
    [({"grpc_port": 70000}, "grpc_port"), ({"log_level": "LOUD"}, "log_level"),
     ({"default_timeout_seconds": 0}, "default_timeout_seconds")],
)  # fmt: skip
def test_invalid_values_name_the_setting(flags: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.load(flags)


def test_unknown_key_in_the_file_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("grpc_prot: 1\n")
    with pytest.raises(ValueError, match="grpc_prot"):
        Settings.load({"config_file": str(config)})
