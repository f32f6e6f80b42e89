"""Jira cookie sessions: ``/rest/auth/1/session``."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import falcon

from host.auth import SESSION_COOKIE, Credentials
from host.errors import ApiError, AuthenticationFailed, BadRequest, CaptchaRequired, NotAuthenticated
from host.jsonio import read_json_object, send_json
from host.middleware import username_header
from host.models import User
from host.resources.jira import Resource


def _iso(ms: int) -> str | None:
    if not ms:
        return None
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def login_info(user_id: int) -> dict:
    user = User.get_by_id(user_id)
    info = {"failedLoginCount": user.failed_login_count, "loginCount": user.login_count}
    if user.last_failed_login:
        info["lastFailedLoginTime"] = _iso(user.last_failed_login)
    if user.last_login:
        info["previousLoginTime"] = _iso(user.last_login)
    return info


class SessionResource(Resource):
    anonymous_methods = ("POST", "DELETE")
    read_only_methods = ("POST", "DELETE")  # a read-only credential may still log in and out

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = req.context.actor
        send_json(
            resp,
            {
                "self": f"{self.host.base_url}/rest/api/latest/user?username={quote(actor.name, safe='')}",
                "name": actor.name,
                "loginInfo": login_info(actor.user.id),
            },
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json_object(req)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not username:
            raise BadRequest("'username' must be a non-empty string", field="username")
        if not isinstance(password, str):
            raise BadRequest("'password' must be a string", field="password")
        credentials = Credentials("basic", password, username, channel="session")
        try:
            actor = self.host.auth.authenticate_credentials(credentials, req)
        except CaptchaRequired as exc:
            raise CaptchaRequired(self.host.auth.login_url, message="Login denied") from exc
        except AuthenticationFailed:
            raise ApiError(
                401,
                "Login failed",
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED", "X-AUSERNAME": "anonymous"},
            ) from None
        value = self.host.sessions.open(resp, actor, channel="rest")
        resp.set_header("X-Seraph-LoginReason", "OK")
        resp.set_header("X-AUSERNAME", username_header(actor.name))
        send_json(
            resp,
            {"session": {"name": SESSION_COOKIE, "value": value}, "loginInfo": login_info(actor.user.id)},
        )

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        cookie = req.cookies.get(SESSION_COOKIE)
        if not cookie or req.context.actor.method != "session":
            raise NotAuthenticated()
        self.host.sessions.delete(cookie)
        resp.unset_cookie(SESSION_COOKIE, path="/")
        resp.status = 204
