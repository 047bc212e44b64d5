"""Who may see the sales report (docs/dashboard.md, "Sign-in").

With ``OAKEN_DASHBOARD_OIDC_*`` set, the report signs people in with OpenID Connect
through Streamlit's own ``st.login`` (Authlib underneath) and shows itself only to the
e-mail addresses and domains allowed. Streamlit reads the provider's settings from the
``[auth]`` table of a ``secrets.toml``: :func:`write_secrets` writes one from the
settings into ``OAKEN_HOME/dashboard/`` (readable by its owner only), never into the
repository, and ``oaken dashboard`` points Streamlit at it.

Without sign-in the report is for this machine only: :func:`check_exposure` refuses an
address other than loopback unless ``OAKEN_DASHBOARD_ALLOW_ANONYMOUS`` (or
``--allow-anonymous``) says that is intended.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import tomlkit

from oaken.errors import ConfigError
from oaken.settings import OIDC_REQUIRED, Settings

DISCOVERY = "/.well-known/openid-configuration"


def metadata_url(issuer: str) -> str:
    """The provider's discovery document: ``ISSUER/.well-known/openid-configuration``,
    or the URL itself when it already names that document."""
    issuer = issuer.rstrip("/")
    return issuer if issuer.endswith(DISCOVERY) else issuer + DISCOVERY


def check_configuration(settings: Settings) -> None:
    """All of the provider's settings, and someone allowed in, or one line saying which
    setting is missing. Nothing to check when sign-in is off."""
    if not settings.dashboard_sign_in:
        return
    missing = [f"OAKEN_{name.upper()}" for name in OIDC_REQUIRED
               if getattr(settings, name) is None]
    if missing:
        raise ConfigError(f"dashboard sign-in is half configured: set {', '.join(missing)} "
                          "too (docs/dashboard.md, \"Sign-in\")")
    if not (settings.dashboard_oidc_allowed_emails or settings.dashboard_oidc_allowed_domains):
        raise ConfigError("dashboard sign-in lets nobody in: set OAKEN_DASHBOARD_OIDC_ALLOWED_"
                          "EMAILS and/or OAKEN_DASHBOARD_OIDC_ALLOWED_DOMAINS")


def _loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_exposure(settings: Settings, address: str, *, allow_anonymous: bool) -> None:
    """Refuse to serve other machines without sign-in unless told so explicitly."""
    if settings.dashboard_sign_in or _loopback(address) or allow_anonymous:
        return
    raise ConfigError(f"the dashboard would serve {address} without sign-in: configure "
                      "OAKEN_DASHBOARD_OIDC_* (docs/dashboard.md, \"Sign-in\"), or say it is "
                      "intended with --allow-anonymous / OAKEN_DASHBOARD_ALLOW_ANONYMOUS=true")


def allowed(settings: Settings, email: object, verified: object = None) -> bool:
    """Whether the signed-in person with this e-mail address may see the report.

    The address must be in ``OAKEN_DASHBOARD_OIDC_ALLOWED_EMAILS`` or end in
    ``@DOMAIN`` of one of ``OAKEN_DASHBOARD_OIDC_ALLOWED_DOMAINS`` (case does not matter).
    A provider that says the address is not verified (``email_verified`` false) is
    believed: such an address lets nobody in.
    """
    if not isinstance(email, str) or email.count("@") != 1 or verified in (False, "false"):
        return False
    address = email.strip().lower()
    domain = address.rsplit("@", 1)[1]
    return (address in settings.dashboard_oidc_allowed_emails
            or domain in settings.dashboard_oidc_allowed_domains)


def secrets_path(settings: Settings) -> Path:
    return settings.home.absolute() / "dashboard" / "secrets.toml"


def write_secrets(settings: Settings) -> Path:
    """Streamlit's ``[auth]`` table from the settings, in a file only its owner reads.

    Written afresh on every start (a changed setting takes effect), created with mode
    0600 before anything is written into it, in a folder of mode 0700.
    """
    assert settings.dashboard_oidc_issuer and settings.dashboard_oidc_client_id
    assert settings.dashboard_oidc_client_secret and settings.dashboard_oidc_cookie_secret
    auth = tomlkit.table()
    auth["redirect_uri"] = (settings.dashboard_oidc_redirect_uri
                            or "http://localhost:{port}/oauth2callback")
    auth["cookie_secret"] = settings.dashboard_oidc_cookie_secret.get_secret_value()
    auth["client_id"] = settings.dashboard_oidc_client_id
    auth["client_secret"] = settings.dashboard_oidc_client_secret.get_secret_value()
    auth["server_metadata_url"] = metadata_url(settings.dashboard_oidc_issuer)
    document = tomlkit.document()
    document.add(tomlkit.comment("Written by `oaken dashboard` from OAKEN_DASHBOARD_OIDC_*; "
                                 "rewritten on every start."))
    document["auth"] = auth
    path = secrets_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.unlink(missing_ok=True)  # a file of other permissions is not reused
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(tomlkit.dumps(document))
    return path


def describe(settings: Settings) -> str:
    """One line for the terminal, without a secret: the provider and who may enter."""
    if not settings.dashboard_sign_in:
        return "no sign-in"
    emails = len(settings.dashboard_oidc_allowed_emails)
    domains = ", ".join(settings.dashboard_oidc_allowed_domains) or "none"
    return (f"sign-in with {settings.dashboard_oidc_issuer} ({emails} address"
            f"{'es' if emails != 1 else ''} and domains: {domains})")
