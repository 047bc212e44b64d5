"""Sign-in to the sales report, end to end: ``oaken dashboard`` with OAKEN_DASHBOARD_OIDC_*
against a real OpenID Connect provider on loopback (``oidc-provider-mock``, which
registers the client, shows its own sign-in page, issues signed ID tokens and serves
its keys), driven in headless Chromium.

Signed out, the page offers to sign in and shows no figure; the button leads to the
provider's page. Signed in with an allowed address, or an address of an allowed
domain, the report shows the scorecards SQL gives. Signed in with any other address,
a refusal and no figure. The client secret and the cookie secret are in a file of mode
0600 under OAKEN_HOME and in neither the server's output nor the page.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.dashboard import (
    assert_no_errors,
    cards,
    default_filters,
    expected_cards,
    sample_warehouse,
    wait_until_idle,
)
from tests.support.sample_warehouse import SampleWarehouse

REPOSITORY = Path(__file__).resolve().parents[2]
ALLOWED = "ana@oaken.example"  # allowed by address
BOARD = "bo@board.oaken.example"  # allowed by domain
STRANGER = "eve@elsewhere.example"  # neither
COOKIE_SECRET = "cookie-" + "7f3a9c" * 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, *, ok: str | None = None) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            answer = httpx.get(url, timeout=1)
            if answer.status_code == 200 and (ok is None or answer.text == ok):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleWarehouse:
    return sample_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[str]:
    """The OpenID provider, clients must register (RFC 7591) before they sign anyone in."""
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    users = [json.dumps({"sub": email, "email": email, "email_verified": True})
             for email in (ALLOWED, BOARD, STRANGER)]
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port),
               "--require-registration", "true",
               *[arg for user in users for arg in ("--user-claims", user)]]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/.well-known/openid-configuration", process, log)
        yield url
    finally:
        _stop(process)


@dataclass
class Dashboard:
    url: str
    home: Path
    log: Path
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def dashboard(sample, provider, tmp_path_factory) -> Iterator[Dashboard]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    registered = httpx.post(f"{provider}/oauth2/clients", json={
        "redirect_uris": [f"{url}/oauth2callback"]}, timeout=10)
    assert registered.status_code == 201, registered.text
    client = registered.json()
    home = tmp_path_factory.mktemp("dashboard-home")
    log = home.parent / "dashboard.log"
    env = {**os.environ, **sample.environment(), "OAKEN_HOME": str(home),
           "OAKEN_DASHBOARD_PORT": str(port),
           "OAKEN_DASHBOARD_OIDC_ISSUER": provider,
           "OAKEN_DASHBOARD_OIDC_CLIENT_ID": client["client_id"],
           "OAKEN_DASHBOARD_OIDC_CLIENT_SECRET": client["client_secret"],
           "OAKEN_DASHBOARD_OIDC_COOKIE_SECRET": COOKIE_SECRET,
           "OAKEN_DASHBOARD_OIDC_REDIRECT_URI": f"{url}/oauth2callback",
           "OAKEN_DASHBOARD_OIDC_ALLOWED_EMAILS": f"someone@oaken.example, {ALLOWED.upper()}",
           "OAKEN_DASHBOARD_OIDC_ALLOWED_DOMAINS": "board.oaken.example"}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"{url}/_stcore/health", process, log, ok="ok")
        yield Dashboard(url, home, log, client["client_id"], client["client_secret"])
    finally:
        _stop(process)


def _figures(page) -> int:
    return (page.locator('[data-testid="stMetric"]').count()
            + page.locator('[data-testid="stPlotlyChart"]').count())


def _settle(page) -> None:
    """Until Streamlit has finished running the script."""
    page.wait_for_timeout(500)
    deadline = time.monotonic() + 60
    while page.locator('[data-testid="stStatusWidget"]').count():
        assert time.monotonic() < deadline, "the app kept running"
        page.wait_for_timeout(100)


def _sign_in(page, dashboard: Dashboard, provider: str, email: str) -> None:
    page.goto(dashboard.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider}/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name=email, exact=True).click()
    page.wait_for_url(f"{dashboard.url}/**", timeout=30_000)


def test_signed_out_gets_the_sign_in_and_the_provider_page(browser, dashboard, provider,
                                                           tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(dashboard.url)
        button = page.get_by_role("button", name="Sign in")
        button.wait_for(timeout=60_000)
        _settle(page)
        assert "Sign in to see the sales report" in page.get_by_test_id("stAlert").inner_text()
        assert _figures(page) == 0
        page.screenshot(path=str(tmp_path / "signed-out.png"))
        button.click()
        page.wait_for_url(f"{provider}/oauth2/authorize**", timeout=30_000)
        assert page.locator("h1").inner_text().strip() == "Authorize Client"
        query = parse_qs(urlsplit(page.url).query)
        assert query["redirect_uri"] == [f"{dashboard.url}/oauth2callback"]
        assert query["client_id"] == [dashboard.client_id]
        page.screenshot(path=str(tmp_path / "provider.png"))
    finally:
        context.close()


@pytest.mark.parametrize("email", [ALLOWED, BOARD])
def test_an_allowed_person_sees_the_report(browser, dashboard, provider, sample, email,
                                           tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, dashboard, provider, email)
        try:
            page.wait_for_selector('[data-testid="stMetricValue"]:visible', timeout=60_000)
            wait_until_idle(page)
        finally:
            page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
            (tmp_path / "signed-in.html").write_text(page.content())
        assert cards(page) == expected_cards(sample.path, default_filters(sample.path))
        assert page.get_by_text(f"Signed in as {email}").count() == 1
        assert_no_errors(page)
        # the sign-in survives a reload (the cookie), and signing out ends it
        page.reload()
        page.wait_for_selector('[data-testid="stMetricValue"]:visible', timeout=60_000)
        page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        # Streamlit clears its cookie and ends the session at the provider too
        page.wait_for_url(f"{provider}/oauth2/end_session**", timeout=30_000)
        page.goto(dashboard.url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        _settle(page)
        assert _figures(page) == 0
    finally:
        context.close()


def test_a_person_not_allowed_is_refused_without_a_figure(browser, dashboard, provider,
                                                          tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, dashboard, provider, STRANGER)
        refusal = page.get_by_test_id("stAlertContentError")
        refusal.wait_for(timeout=60_000)
        _settle(page)
        assert f"signed in as {STRANGER}" in refusal.inner_text()
        assert "may not see this report" in refusal.inner_text()
        assert _figures(page) == 0
        assert page.locator('[data-testid="stSidebar"]').count() == 0
        page.screenshot(path=str(tmp_path / "refused.png"))
        page.reload()  # still refused, still no figure
        page.get_by_test_id("stAlertContentError").wait_for(timeout=60_000)
        _settle(page)
        assert _figures(page) == 0
    finally:
        context.close()
    assert f"refused the report to {STRANGER}" in dashboard.log.read_text()


def test_the_secrets_stay_in_a_private_file(dashboard) -> None:
    """Run last in this module: the servers' output then holds every sign-in above."""
    secrets = dashboard.home / "dashboard" / "secrets.toml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.parent.stat().st_mode) == 0o700
    text = secrets.read_text()
    assert dashboard.client_secret in text and COOKIE_SECRET in text
    output = dashboard.log.read_text()
    assert "sign-in with http://127.0.0.1" in output  # the start line says sign-in is on
    assert dashboard.client_secret not in output and COOKIE_SECRET not in output
    assert not (REPOSITORY / ".streamlit" / "secrets.toml").exists()
