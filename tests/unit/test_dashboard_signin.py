"""Who may see the report: the OAKEN_DASHBOARD_OIDC_* settings, the allowed list, the
private secrets.toml Streamlit reads, and the refusal to serve other machines without
sign-in. (The sign-in itself, in a browser against a real provider:
tests/integration/test_dashboard_signin.py.)"""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import oaken.settings
from oaken.dashboard import signin
from oaken.dashboard.cli import streamlit_command
from oaken.errors import ConfigError
from oaken.settings import Settings

COOKIE = "c" * 40
SIGN_IN = {"dashboard_oidc_issuer": "https://id.oaken.example/realms/staff/",
           "dashboard_oidc_client_id": "oaken-dashboard",
           "dashboard_oidc_client_secret": "client-secret-value",
           "dashboard_oidc_cookie_secret": COOKIE,
           "dashboard_oidc_allowed_emails": "Ana@Oaken.example, bo@oaken.example",
           "dashboard_oidc_allowed_domains": "@board.oaken.example"}


def settings(tmp_path, **values: object) -> Settings:
    return Settings(_env_file=None, home=tmp_path, **values)  # type: ignore[call-arg]


def test_the_allowed_lists_are_comma_separated_and_case_blind(tmp_path) -> None:
    config = settings(tmp_path, **SIGN_IN)
    assert config.dashboard_oidc_allowed_emails == ["ana@oaken.example", "bo@oaken.example"]
    assert config.dashboard_oidc_allowed_domains == ["board.oaken.example"]
    assert signin.allowed(config, "ANA@oaken.example")
    assert signin.allowed(config, "carl@board.oaken.example", True)
    for refused in ("carl@oaken.example", "carl@notboard.oaken.example",
                    "carl@board.oaken.example.evil", "board.oaken.example", "", None, 42,
                    "a@b@board.oaken.example"):
        assert not signin.allowed(config, refused), refused
    # a provider that says the address is not verified is believed
    assert not signin.allowed(config, "ana@oaken.example", False)


def test_the_oidc_settings_are_checked(tmp_path) -> None:
    for field, value, words in (
        ("dashboard_oidc_issuer", "id.oaken.example", r"absolute http\(s\)"),
        ("dashboard_oidc_redirect_uri", "https://report.oaken.example/", "/oauth2callback"),
        ("dashboard_oidc_cookie_secret", "short", "at least 32"),
    ):
        with pytest.raises(ValidationError, match=words):
            settings(tmp_path, **{**SIGN_IN, field: value})
    assert signin.metadata_url(SIGN_IN["dashboard_oidc_issuer"]) == \
        "https://id.oaken.example/realms/staff/.well-known/openid-configuration"
    assert signin.metadata_url("https://x.example/.well-known/openid-configuration") == \
        "https://x.example/.well-known/openid-configuration"


def test_half_a_configuration_or_nobody_allowed_is_one_line(tmp_path) -> None:
    assert not settings(tmp_path).dashboard_sign_in
    signin.check_configuration(settings(tmp_path))  # off: nothing to check
    half = {key: value for key, value in SIGN_IN.items()
            if key != "dashboard_oidc_client_secret"}
    with pytest.raises(ConfigError, match="set OAKEN_DASHBOARD_OIDC_CLIENT_SECRET too"):
        signin.check_configuration(settings(tmp_path, **half))
    only_who = {"dashboard_oidc_allowed_domains": "oaken.example"}  # no provider: no door
    with pytest.raises(ConfigError, match="set OAKEN_DASHBOARD_OIDC_ISSUER, "):
        signin.check_configuration(settings(tmp_path, **only_who))
    nobody = {**SIGN_IN, "dashboard_oidc_allowed_emails": "",
              "dashboard_oidc_allowed_domains": " , "}
    with pytest.raises(ConfigError, match="lets nobody in"):
        signin.check_configuration(settings(tmp_path, **nobody))
    signin.check_configuration(settings(tmp_path, **SIGN_IN))


def test_other_machines_only_with_sign_in_or_when_told(tmp_path) -> None:
    plain = settings(tmp_path)
    for address in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        signin.check_exposure(plain, address, allow_anonymous=False)
    for address in ("0.0.0.0", "192.0.2.7", "::", "report.oaken.example"):
        with pytest.raises(ConfigError, match="without sign-in"):
            signin.check_exposure(plain, address, allow_anonymous=False)
        signin.check_exposure(plain, address, allow_anonymous=True)
        signin.check_exposure(settings(tmp_path, **SIGN_IN), address, allow_anonymous=False)


def test_the_secrets_file_is_private_and_complete(tmp_path) -> None:
    config = settings(tmp_path / "home", **SIGN_IN)
    path = signin.write_secrets(config)
    assert path == tmp_path / "home" / "dashboard" / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth == {
        "redirect_uri": "http://localhost:{port}/oauth2callback",
        "cookie_secret": COOKIE, "client_id": "oaken-dashboard",
        "client_secret": "client-secret-value",
        "server_metadata_url": signin.metadata_url(SIGN_IN["dashboard_oidc_issuer"])}
    path.chmod(0o644)  # a file of looser permissions is replaced, not reused
    signin.write_secrets(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    line = signin.describe(config)
    assert "client-secret-value" not in line and COOKIE not in line
    assert "id.oaken.example" in line and "board.oaken.example" in line
    command = streamlit_command(8501, "0.0.0.0", path)
    assert command[command.index("--secrets.files") + 1] == str(path)
    assert "--secrets.files" not in streamlit_command(8501, "127.0.0.1")


def test_secrets_do_not_print(tmp_path) -> None:
    config = settings(tmp_path, **SIGN_IN)
    for shown in (repr(config), str(config.model_dump())):
        assert "client-secret-value" not in shown and COOKIE not in shown


def test_a_secret_may_come_as_a_file(tmp_path, monkeypatch) -> None:
    """/run/secrets/<variable in lower case>, as Compose mounts secrets; the environment
    wins over the file."""
    (tmp_path / "oaken_dashboard_oidc_cookie_secret").write_text(COOKIE + "\n")
    (tmp_path / "oaken_api_token").write_text("from-a-file")
    monkeypatch.setattr(oaken.settings, "SECRETS_DIR", tmp_path)
    monkeypatch.delenv("OAKEN_API_TOKEN", raising=False)
    config = Settings(_env_file=None)  # type: ignore[call-arg]
    assert config.dashboard_oidc_cookie_secret is not None
    assert config.dashboard_oidc_cookie_secret.get_secret_value() == COOKIE
    assert config.api_token is not None and config.api_token.get_secret_value() == "from-a-file"
    monkeypatch.setenv("OAKEN_API_TOKEN", "from-the-environment")
    config = Settings(_env_file=None)  # type: ignore[call-arg]
    assert config.api_token is not None
    assert config.api_token.get_secret_value() == "from-the-environment"
    monkeypatch.setattr(oaken.settings, "SECRETS_DIR", tmp_path / "absent")
    assert Settings(_env_file=None).api_token is not None  # type: ignore[call-arg]


def test_oaken_dashboard_refuses_the_network_without_sign_in(tmp_path) -> None:
    """The real command, one line, before Streamlit starts."""
    env = {"PATH": "/usr/bin:/bin", "OAKEN_HOME": str(tmp_path)}
    refused = subprocess.run([sys.executable, "-m", "oaken", "dashboard", "--address",
                              "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the dashboard would serve 0.0.0.0 without sign-in")
    assert len(refused.stderr.strip().splitlines()) == 1
    by_setting = subprocess.run([sys.executable, "-m", "oaken", "dashboard"],
                                env={**env, "OAKEN_DASHBOARD_ADDRESS": "0.0.0.0"},
                                capture_output=True, text=True, timeout=60)
    assert by_setting.returncode == 1 and "without sign-in" in by_setting.stderr


def test_help_says_how_to_sign_in() -> None:
    from oaken.cli import app

    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "OAKEN_DASHBOARD_OIDC_" in result.output and "--allow-anonymous" in result.output
