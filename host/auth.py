"""The authentication pipeline: session cookie -> Authorization (plugins first, then the host's password
check, itself an ``authenticate`` hook implementation) -> anonymous."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from host.db import database
from host.errors import AuthenticationFailed, CaptchaRequired
from host.users import USER_PROJECTION_WIDTH, UserRow, user_projection, user_row

if TYPE_CHECKING:
    import falcon

    from host.core import Host

SESSION_COOKIE = "JSESSIONID"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an ``Authorization`` header (or a login form) presented."""

    scheme: str  # "basic" or "bearer"
    secret: str
    username: str | None = None  # Basic only
    channel: str = "rest"  # "rest" (header), "session" (POST /rest/auth/1/session), "web" (login page)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making the request, and how they proved it."""

    user: UserRow | None
    method: str = "anonymous"  # "anonymous" | "session" | "password" | "token"
    is_sysadmin: bool = False
    read_only: bool = False
    read_only_message: str = ""
    # Details a plugin attaches, e.g. the token id, scope and expiry for the add-on's authTest.
    details: dict[str, Any] = field(default_factory=dict)
    # Response headers the credential's checks produced (e.g. X-RateLimit-Remaining).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.user is not None

    @property
    def key(self) -> str | None:
        return self.user.key if self.user else None

    @property
    def name(self) -> str:
        return self.user.name if self.user else "anonymous"

    @property
    def groups(self) -> tuple[str, ...]:
        return self.user.groups if self.user else ()


ANONYMOUS = Actor(user=None)


def parse_authorization(header: str, realm: str = "") -> Credentials:
    """Parse ``Basic`` (split on the first ``:``; UTF-8, else latin-1) or ``Bearer`` credentials.

    A header that cannot be read is a rejected credential (401), never anonymous.
    """
    scheme, _, rest = header.strip().partition(" ")
    kind = scheme.lower()
    rest = rest.strip()
    if kind == "basic":
        try:
            raw = base64.b64decode(rest, validate=True)
        except (binascii.Error, ValueError):
            raise AuthenticationFailed(reason="malformed Basic credentials") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        username, sep, secret = text.partition(":")
        if not sep or not username or "\x00" in text:
            raise AuthenticationFailed(reason="malformed Basic credentials")
        return Credentials("basic", secret, username)
    if kind == "bearer":
        if not rest or " " in rest:
            raise AuthenticationFailed(scheme="bearer", reason="malformed Bearer credentials", realm=realm)
        return Credentials("bearer", rest)
    raise AuthenticationFailed(reason=f"unsupported authorization scheme {scheme[:32]!r}")


class Sessions:
    """Cookie sessions. The cookie value is a 256-bit random string; only its SHA-256 is stored."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._sql: str | None = None

    @staticmethod
    def digest(value: str) -> str:
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()

    def create(self, user_id: int, *, read_only: bool, origin: str) -> str:
        from host.models import Session

        value = secrets.token_urlsafe(32)
        now = self.host.now_ms()
        Session.create(
            digest=self.digest(value),
            user=user_id,
            created=now,
            expires=now + self.host.config.session_lifetime_seconds * 1000,
            read_only=read_only,
            origin=origin[:64],
        )
        return value

    def open(self, resp: Any, actor: Actor, *, channel: str) -> str:
        """Start a session for ``actor`` (read-only if its credential was) and set the HttpOnly cookie on
        ``resp``; the REST login and the login page both come here. Returns the cookie value."""
        origin = f"token:{actor.details['tokenId']}" if "tokenId" in actor.details else actor.method
        value = self.create(actor.user.id, read_only=actor.read_only, origin=f"{channel}:{origin}")
        resp.set_cookie(
            SESSION_COOKIE,
            value,
            path="/",
            http_only=True,
            secure=self.host.base_url.startswith("https://"),
            same_site="Lax",
        )
        return value

    def actor_for(self, value: str) -> Actor | None:
        """One indexed read: the live session's user, or None (unknown/expired session, inactive user)."""
        if len(value) > 128:
            return None
        if self._sql is None:
            p = database.obj.param
            self._sql = (
                f"SELECT {user_projection('u')}, s.expires, s.read_only FROM host_session s "
                f"JOIN host_user u ON u.id = s.user_id WHERE s.digest = {p}"
            )
        row = database.execute_sql(self._sql, (self.digest(value),)).fetchone()
        if row is None:
            return None
        expires, read_only = row[USER_PROJECTION_WIDTH], bool(row[USER_PROJECTION_WIDTH + 1])
        user = user_row(row)
        if expires <= self.host.now_ms() or not user.active:
            return None
        return self.host.auth.actor_for(
            user,
            "session",
            read_only=read_only,
            read_only_message="This session is read-only" if read_only else "",
        )

    def delete(self, value: str) -> None:
        from host.models import Session

        Session.delete().where(Session.digest == self.digest(value)).execute()


class Authenticator:
    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def login_url(self) -> str:
        return f"{self.host.config.base_url}/login.jsp"

    def actor_for(self, user: UserRow, method: str, **kwargs: Any) -> Actor:
        return Actor(user=user, method=method, is_sysadmin=self.host.users.is_sysadmin(user.groups), **kwargs)

    # ----- the captcha lock ---------------------------------------------------------------------------------
    def max_attempts(self) -> int:
        return int(self.host.settings.get("host", "maximumAuthenticationAttemptsAllowed") or 0)

    def is_locked(self, user: UserRow) -> bool:
        limit = self.max_attempts()
        return bool(limit) and user.failed_login_count >= limit

    def check_lock(self, user: UserRow) -> None:
        """Refuse (403 captcha) a username whose counter reached the limit, before any secret is checked."""
        if self.is_locked(user):
            raise CaptchaRequired(self.login_url)

    def failed_basic_login(self, username: str, *, count: bool, reason: str) -> Exception:
        """The error for a rejected Basic secret of ``username``: the captcha 403 if the name is locked,
        otherwise 401 after adding one to its counter when ``count``. Callers ``raise`` the result."""
        found = self.host.users.auth_row_by_name(username)
        if found is not None:
            user = found[0]
            if self.is_locked(user):
                return CaptchaRequired(self.login_url)
            if count:
                self.host.users.record_failed_login(user.id)
        return AuthenticationFailed(reason=reason)

    def login_succeeded(self, user: UserRow, *, count_login: bool = False) -> None:
        """Reset a non-zero counter (no write when it is already 0, so the hot path stays read-only)."""
        if user.failed_login_count or count_login:
            self.host.users.record_successful_login(user.id, count_login=count_login)

    # ----- the host's own password check ------------------------------------------------------------------------
    def password_login(self, credentials: Credentials, request: Any = None) -> Actor:
        assert credentials.username is not None
        found = self.host.users.auth_row_by_name(credentials.username)
        if found is None:
            # Hash anyway so that response time does not reveal which usernames exist.
            self.host.hasher.dummy_verify()
            raise AuthenticationFailed(reason="wrong username or password")
        user, password_hash = found
        self.check_lock(user)
        if not password_hash or not self.host.hasher.verify(credentials.secret, password_hash):
            self.host.users.record_failed_login(user.id)
            raise AuthenticationFailed(reason="wrong username or password")
        if not user.active:
            raise AuthenticationFailed(reason="user deactivated")
        vetoes = self.host.plugins.hook("password_login_allowed")(
            request=request, user=user, host=self.host, channel=credentials.channel
        )
        if any(v is False for v in vetoes):
            raise AuthenticationFailed(reason="password authentication is disabled")
        self.login_succeeded(user, count_login=credentials.channel != "rest")
        return self.actor_for(user, "password")

    # ----- the pipeline ---------------------------------------------------------------------------------------------
    def authenticate_credentials(self, credentials: Credentials, request: Any = None) -> Actor:
        plugins = self.host.plugins
        actor = plugins.hook("authenticate")(request=request, credentials=credentials, host=self.host)
        if actor is None:
            # Only Bearer can get here: the host's password hook answers every Basic credential.
            raise AuthenticationFailed(
                scheme=credentials.scheme, reason="unknown token", realm=self.host.config.base_url
            )
        plugins.hook("authenticated")(request=request, credentials=credentials, actor=actor, host=self.host)
        return actor

    def authenticate(self, req: falcon.Request) -> Actor:
        cookie = req.cookies.get(SESSION_COOKIE) if req.cookies else None
        if cookie:
            actor = self.host.sessions.actor_for(cookie)
            if actor is not None:
                return actor
        header = req.get_header("Authorization")
        if not header:
            return ANONYMOUS
        credentials = parse_authorization(header, realm=self.host.config.base_url)
        return self.authenticate_credentials(credentials, req)
