"""The host's password check, registered as the last-resort ``authenticate`` hook implementation."""

from __future__ import annotations

from host.hookspecs import hookimpl


@hookimpl(trylast=True)
def authenticate(request, credentials, host):
    if credentials.scheme != "basic":
        return None
    return host.auth.password_login(credentials, request)
