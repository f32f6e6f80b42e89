"""Error types. Each knows its status, headers and body shape; one handler renders them all."""

from __future__ import annotations

from typing import Any

import falcon

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"  # exactly Jira's; clients compare the string

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
BASIC_REALM = 'Basic realm="protected-area"'


class ApiError(Exception):
    """An error answered with Jira's envelope ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or "")
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.headers = dict(headers or {})

    def body(self) -> Any:
        return {"errorMessages": [self.message] if self.message else [], "errors": self.errors}


class PluginApiError(ApiError):
    """An error in the add-on's own shape: ``{"errorMessage": "..."}``."""

    def body(self) -> Any:
        return {"errorMessage": self.message or ""}


class BadRequest(ApiError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(400, message, errors={field: message} if field else None)
        self.field = field


class NotAuthenticated(ApiError):
    def __init__(self, message: str = NOT_AUTHENTICATED) -> None:
        super().__init__(401, message, headers={"WWW-Authenticate": BASIC_REALM})


class Forbidden(ApiError):
    def __init__(self, message: str = "You do not have the permission to perform this operation.") -> None:
        super().__init__(403, message)


class NotFound(ApiError):
    def __init__(self, message: str = "Not found") -> None:
        super().__init__(404, message)


class AuthenticationFailed(ApiError):
    """Credentials were presented and rejected: 401, never a fall-back to anonymous.

    ``reason`` is for the audit log and debugging; the body never says why (no oracle for attackers).
    """

    def __init__(self, *, scheme: str = "basic", reason: str = "authentication failed", realm: str = "") -> None:
        if scheme == "bearer":
            challenge = f'Bearer realm="{realm or "host"}", error="invalid_token"'
        else:
            challenge = BASIC_REALM
        super().__init__(
            401,
            NOT_AUTHENTICATED,
            headers={
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                "X-AUSERNAME": "anonymous",
                "WWW-Authenticate": challenge,
            },
        )
        self.scheme = scheme
        self.reason = reason
        self.details: dict[str, object] = {}  # for the audit log (e.g. token id, user key); never sent


class CaptchaRequired(ApiError):
    """The username's failed-login counter reached the limit: refused before any secret is checked."""

    def __init__(self, login_url: str, *, message: str = "Login denied") -> None:
        super().__init__(
            403,
            message,
            headers={
                "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
                "X-AUSERNAME": "anonymous",
                "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url={login_url}",
            },
        )
        self.reason = "captcha lock"


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


def render_error(resp: falcon.Response, error: ApiError) -> None:
    from host.jsonio import dumps

    resp.status = error.status
    resp.content_type = JSON_CONTENT_TYPE
    resp.text = dumps(error.body())
    for name, value in error.headers.items():
        resp.set_header(name, value)


def serialize_falcon_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon's own errors (unknown route, wrong method, bad header...) in Jira's envelope."""
    from host.jsonio import dumps

    message = error.description or error.title or "Error"
    resp.content_type = JSON_CONTENT_TYPE
    resp.text = dumps({"errorMessages": [message], "errors": {}})


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: dict) -> None:
    """A bug: log it with the traceback, answer 500 in the envelope without leaking details."""
    if isinstance(error, falcon.HTTPError):
        raise error
    import logging

    logging.getLogger("host").exception("unhandled error on %s %s", req.method, req.path)
    render_error(resp, ApiError(500, "Internal server error"))
