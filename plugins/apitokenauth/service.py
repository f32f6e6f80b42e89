"""Token lifecycle and verification. REST resources, the CLI and (later) the web pages all go through here."""

from __future__ import annotations

import hmac
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from host.audit import Item
from host.auth import Actor, Credentials
from host.db import database
from host.errors import AuthenticationFailed, PluginApiError
from host.users import UserRow, user_projection, user_row

from . import expiry, openpgp, restrictions, tokens
from .config import (
    CREATE_TOKENS,
    MAX_MONTHS_LIMIT,
    ON_BEHALF,
    PLUGIN_KEY,
    USE_TOKENS,
    header_name,
    ip_network_list,
)
from .models import Token

if TYPE_CHECKING:
    from host.core import Host

CREATE_FIELDS = frozenset(
    {
        "tokenDescription",
        "tokenValidityTimeInMonths",
        "tokenExpirationDateTime",
        "tokenForUserKey",
        "tokenScope",
        "allowedIpRanges",
        "headerValueAccessRules",
        "rateLimitBucketSize",
        "rateLimitBucketLifetime",
        "publicKey",
    }
)
READ_ONLY_MESSAGE = "This token is read-only"
MAX_HEADER_RULES = 20
_CLIENT_ADDRESS = "apitokenauth_client_address"  # request.context attribute
_UNSET = object()


def bad(message: str) -> PluginApiError:
    return PluginApiError(400, message)


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    digest: str
    scope: int
    valid_until: int
    last_accessed: int
    allowed_ip_ranges: str
    header_rules: str
    rate_limit_size: int
    rate_limit_lifetime: int
    user: UserRow


TOKEN_COLUMNS = (
    "t.id, t.digest, t.scope, t.valid_until, t.last_accessed, t.allowed_ip_ranges, t.header_rules, "
    "t.rate_limit_size, t.rate_limit_lifetime"
)
TOKEN_WIDTH = 9


@lru_cache(maxsize=4096)
def _ranges(text: str) -> tuple:
    return restrictions.networks(tuple(json.loads(text)))


@lru_cache(maxsize=4096)
def _rules(text: str) -> list:
    return json.loads(text)


def token_summary(token: Token) -> dict[str, Any]:
    """A token as the lists show it (own tokens, tokensByFilter), keys in the guide's order; never the secret."""
    return {
        "created": token.created,
        "description": token.description,
        "id": token.id,
        "lastAccessed": token.last_accessed,
        "tokenCreatedByUserKey": token.created_by_key,
        "tokenForUserKey": token.user_key,
        "tokenScope": token.scope,
        "validUntil": token.valid_until,
    }


class TokenService:
    def __init__(self, host: Host) -> None:
        self.host = host
        self._lookup_sql: str | None = None
        self._touch_sql: str | None = None
        self._bucket_sql: str | None = None

    # ----- settings and permissions ----------------------------------------------------------------------
    def setting(self, name: str) -> Any:
        return self.host.settings.get(PLUGIN_KEY, name)

    def may(self, actor: Actor, permission: str) -> bool:
        return self.host.permissions.has(actor, permission)

    # ----- verification (the hot path: one indexed read, no write) ------------------------------------------
    def _lookup(self, secret: str) -> TokenRow | None:
        if self._lookup_sql is None:
            p = database.obj.param
            self._lookup_sql = (
                f"SELECT {TOKEN_COLUMNS}, {user_projection('u')} FROM apitokenauth_token t "
                f"JOIN host_user u ON u.key = t.user_key WHERE t.digest = {p}"
            )
        wanted = tokens.digest(self.host.config.secret, secret)
        row = database.execute_sql(self._lookup_sql, (wanted,)).fetchone()
        if row is None or not hmac.compare_digest(row[1], wanted):
            return None
        return TokenRow(*row[:TOKEN_WIDTH], user_row(row, TOKEN_WIDTH))

    def _touch(self, row: TokenRow, now: int) -> None:
        """Write lastAccessed at most once per interval per token; the condition makes it once across workers."""
        interval = int(self.setting("lastAccessedWriteIntervalSeconds")) * 1000
        if now - row.last_accessed < interval:
            return
        if self._touch_sql is None:
            p = database.obj.param
            self._touch_sql = (
                f"UPDATE apitokenauth_token SET last_accessed = {p} WHERE id = {p} AND last_accessed <= {p}"
            )
        database.execute_sql(self._touch_sql, (now, row.id, now - interval))

    def _failed(self, credentials: Credentials, reason: str, row: TokenRow | None = None) -> AuthenticationFailed:
        failure = AuthenticationFailed(scheme=credentials.scheme, reason=reason, realm=self.host.base_url)
        failure.details = {"tokenId": row.id if row else None, "userKey": row.user.key if row else None}
        return failure

    def authenticate(self, request: Any, credentials: Credentials) -> Actor | None:
        try:
            return self._authenticate(request, credentials)
        except AuthenticationFailed as failure:
            self.audit_failed_authentication(request, failure.reason, failure.details)
            raise

    def authenticated(self, request: Any, credentials: Credentials, actor: Actor) -> None:
        """After any credential authenticated: the global allow-list, then (only for a request that is let
        through) the optional audit of a successful token authentication."""
        self.check_global_allow_list(request, credentials, actor)
        if actor.method == "token" and self.setting("auditSuccessfulAuthentication"):
            token_id = actor.details["tokenId"]
            self.audit(
                "API token authentication succeeded",
                category="authentication",
                actor=actor,
                remote=self.remote(request),
                token=(token_id, self._description_of(token_id), actor.key),
                owner_name=actor.name,
            )

    def _authenticate(self, request: Any, credentials: Credentials) -> Actor | None:
        bearer = credentials.scheme == "bearer"
        if not tokens.looks_like_token(credentials.secret):
            if bearer:
                raise self._failed(credentials, "not an API token")
            return None  # a password: the host's password check takes it
        row = self._lookup(credentials.secret)
        now = self.host.now_ms()
        reason = None
        if row is None:
            reason = "unknown or revoked token"
        elif row.valid_until and row.valid_until <= now:
            reason = "token expired"
        elif not bearer and row.user.name.lower() != (credentials.username or "").lower():
            reason = "token of another user"
        if reason is not None:
            failure = self._failed(credentials, reason, row)
            if bearer:
                raise failure
            if self.setting("disableBasicAuthWithPassword") and credentials.channel != "web":
                refusal = self.host.auth.failed_basic_login(credentials.username, count=True, reason=reason)
                if isinstance(refusal, AuthenticationFailed):
                    refusal.details = failure.details
                raise refusal
            self.audit_failed_authentication(request, reason, failure.details)
            return None  # the password check refuses it, counts it, or answers the captcha lock
        assert row is not None
        user = row.user
        if not bearer:
            self.host.auth.check_lock(user)
        if not user.active:
            raise self._failed(credentials, "user deactivated", row)
        headers: dict[str, str] = {}
        actor = self.host.auth.actor_for(
            user,
            "token",
            read_only=row.scope == 1,
            read_only_message=READ_ONLY_MESSAGE if row.scope == 1 else "",
            details={"tokenId": row.id, "tokenScope": row.scope, "validUntil": row.valid_until},
            headers=headers,
        )
        if not self.may(actor, USE_TOKENS):
            raise self._failed(credentials, "user lacks the Use Tokens permission", row)
        if row.allowed_ip_ranges != "[]" or row.header_rules != "[]":
            self._check_restrictions(request, row, credentials)
        if row.rate_limit_size and self.setting("rateLimitEnabled"):
            headers.update(self._take_from_bucket(row, now))
        self._touch(row, now)
        if not bearer:
            self.host.auth.login_succeeded(user, count_login=credentials.channel != "rest")
        return actor

    def _take_from_bucket(self, row: TokenRow, now: int) -> dict[str, str]:
        """One atomic statement: start a new window or count one more request in the current one.
        The same row serialises every worker process and every node, so a bucket of N lets exactly N through."""
        if self._bucket_sql is None:
            p = database.obj.param
            b = "apitokenauth_rate_bucket"
            self._bucket_sql = (
                f"INSERT INTO {b} (token_id, window_start, hits) VALUES ({p}, {p}, 1) "
                f"ON CONFLICT (token_id) DO UPDATE SET "
                f"window_start = CASE WHEN {b}.window_start <= {p} THEN excluded.window_start ELSE {b}.window_start END, "
                f"hits = CASE WHEN {b}.window_start <= {p} THEN 1 ELSE {b}.hits + 1 END "
                f"RETURNING window_start, hits"
            )
        lifetime_ms = row.rate_limit_lifetime * 1000
        expired_before = now - lifetime_ms
        cursor = database.execute_sql(self._bucket_sql, (row.id, now, expired_before, expired_before))
        window_start, hits = cursor.fetchall()[0]
        size = row.rate_limit_size
        if hits > size:
            retry = max(1, -(-(window_start + lifetime_ms - now) // 1000))
            raise PluginApiError(
                429,
                f"Rate limit exceeded: this token allows {size} requests per {row.rate_limit_lifetime} seconds",
                headers={"Retry-After": str(retry), "X-RateLimit-Limit": str(size), "X-RateLimit-Remaining": "0"},
            )
        return {"X-RateLimit-Limit": str(size), "X-RateLimit-Remaining": str(size - hits)}

    def client_address(self, request: Any) -> Any:
        """The client's address under the trusted-proxy rule (None if unreadable); worked out once per request
        (token ranges, the global allow-list and the audit all ask)."""
        context = getattr(request, "context", None)
        cached = getattr(context, _CLIENT_ADDRESS, _UNSET)
        if cached is not _UNSET:
            return cached
        trusted = restrictions.networks(tuple(self.setting("trustedProxies")))
        header = self.setting("clientIpHeader")
        values = [] if not trusted else [v for v in [request.get_header(header)] if v]
        address = restrictions.client_address(request.remote_addr, values, trusted)
        if context is not None:
            setattr(context, _CLIENT_ADDRESS, address)
        return address

    def _check_restrictions(self, request: Any, row: TokenRow, credentials: Credentials) -> None:
        if request is None:
            raise self._failed(credentials, "restricted token used without a request", row)
        if row.allowed_ip_ranges != "[]" and not restrictions.in_ranges(
            self.client_address(request), _ranges(row.allowed_ip_ranges)
        ):
            raise self._failed(credentials, "client address outside the token's allowed IP ranges", row)
        if row.header_rules != "[]" and not restrictions.headers_match(_rules(row.header_rules), request.get_header):
            raise self._failed(credentials, "a header rule of the token is not met", row)

    def check_global_allow_list(self, request: Any, credentials: Credentials, actor: Actor) -> None:
        """The admin's global allow-list: tokens and passwords alike."""
        allowed = self.setting("allowedIpRanges")
        if not allowed or request is None:
            return
        if not restrictions.in_ranges(self.client_address(request), restrictions.networks(tuple(allowed))):
            reason = "client address outside the global allow-list"
            failure = AuthenticationFailed(scheme=credentials.scheme, reason=reason, realm=self.host.base_url)
            failure.details = {"tokenId": actor.details.get("tokenId"), "userKey": actor.key}
            self.audit_failed_authentication(request, failure.reason, failure.details, token=actor.method == "token")
            raise failure

    # ----- audit ----------------------------------------------------------------------------------------------
    def remote(self, request: Any) -> str | None:
        if request is None:
            return None
        address = self.client_address(request)
        return str(address) if address is not None else request.remote_addr

    def audit(
        self,
        summary: str,
        *,
        category: str = "tokens",
        actor: Actor | None = None,
        remote: str | None = None,
        token: tuple[int | None, str, str | None] | None = None,
        changed: list[dict[str, Any]] | None = None,
        author_key: str | None = None,
        owner_name: str | None = None,
    ) -> None:
        """One audit record through the host's audit service. ``token`` is (id, description, owner key); the
        owner is the associated item, named by username (``owner_name``, else looked up; the key if deleted)."""
        object_item = associated = None
        if token is not None:
            token_id, description, owner = token
            if token_id is not None:
                object_item = Item(str(token_id), description or f"token {token_id}", "API_TOKEN")
            if owner:
                if owner_name is None:
                    user = self.host.users.by_key(owner)
                    owner_name = user.name if user is not None else owner
                associated = [Item(owner, owner_name, "USER")]
        self.host.audit.record(
            summary,
            category=category,
            source=PLUGIN_KEY,
            actor=actor,
            author_key=author_key,
            remote_address=remote,
            object_item=object_item,
            associated_items=associated,
            changed_values=changed,
        )

    def audit_failed_authentication(
        self, request: Any, reason: str, details: dict[str, Any], *, token: bool = True
    ) -> None:
        """The optional audit of a refused credential: a token (``token``), or a password that the global
        allow-list refused. ``details`` holds the token id and owner key when the token was found."""
        if not self.setting("auditFailedAuthentication"):
            return
        token_id = details.get("tokenId")
        self.audit(
            f"{'API token authentication' if token else 'Authentication'} failed: {reason}",
            category="authentication",
            author_key=details.get("userKey"),
            remote=self.remote(request),
            token=(token_id, self._description_of(token_id), details.get("userKey")),
        )

    @staticmethod
    def _description_of(token_id: int | None) -> str:
        """The token's description for an optional authentication record (a read only when auditing)."""
        if token_id is None:
            return ""
        token = Token.get_or_none(Token.id == token_id)
        return token.description if token is not None else ""

    # ----- lifecycle ------------------------------------------------------------------------------------------
    def create(self, actor: Actor, body: dict[str, Any], remote: str | None = None) -> dict[str, Any]:
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            raise bad(f"Unknown field '{unknown[0]}'")
        now = self.host.now_ms()
        maximum = int(self.setting("maxValidityMonths"))
        default_months = int(self.setting("defaultValidityMonths"))

        for_key = body.get("tokenForUserKey")
        if for_key is not None and (not isinstance(for_key, str) or len(for_key) > 255):
            raise bad("'tokenForUserKey' must be a user key (a string)")
        on_behalf = bool(for_key) and for_key != actor.key
        if on_behalf:
            if actor.read_only:
                raise PluginApiError(403, "A read-only token cannot create tokens for other users")
            if not self.may(actor, ON_BEHALF):
                raise PluginApiError(403, "You do not have the permission to create tokens for other users")
            target = self.host.users.by_key(for_key)
            if target is None:
                raise bad(f"'tokenForUserKey': no user has the key '{for_key}'")
            target_key, target_name = target.key, target.name
        else:
            if not self.may(actor, CREATE_TOKENS):
                raise PluginApiError(403, "You do not have the permission to create tokens")
            target_key, target_name = actor.key, actor.name

        description = self._description(body.get("tokenDescription"), now)
        scope = body.get("tokenScope", 2)
        if scope is None:
            scope = 2
        if isinstance(scope, bool) or not isinstance(scope, int) or scope not in (1, 2):
            raise bad("'tokenScope' must be 1 (read-only) or 2 (read/write)")
        if actor.read_only or (not on_behalf and self.setting("readOnlyTokensOnly")):
            scope = 1

        months, valid_until, expiration_text = self._expiry(body, now, maximum, default_months, clamp=on_behalf)
        ip_ranges = self._ip_ranges(body.get("allowedIpRanges"))
        header_rules = self._header_rules(body.get("headerValueAccessRules"))
        bucket_size = self._count(body, "rateLimitBucketSize")
        bucket_lifetime = self._count(body, "rateLimitBucketLifetime")
        if bucket_size and not bucket_lifetime:
            raise bad("'rateLimitBucketLifetime' must be set (in seconds) together with 'rateLimitBucketSize'")
        if not bucket_size and self.setting("rateLimitEnabled"):
            bucket_size = int(self.setting("defaultRateLimitBucketSize"))
            bucket_lifetime = int(self.setting("defaultRateLimitBucketLifetime")) if bucket_size else 0
        plaintext = tokens.generate()
        public_key = body.get("publicKey")
        delivered = plaintext
        if public_key not in (None, ""):
            if not isinstance(public_key, str):
                raise bad("'publicKey' must be an ASCII-armoured OpenPGP public key")
            try:
                delivered = openpgp.encrypt_to(public_key, plaintext)  # before anything is stored
            except openpgp.InvalidPublicKey as exc:
                raise bad(f"'publicKey' {exc}") from None

        token = Token.create(
            digest=tokens.digest(self.host.config.secret, plaintext),
            user_key=target_key,
            created_by_key=actor.key,
            description=description,
            description_lower=description.lower(),
            created=now,
            last_accessed=0,
            valid_until=valid_until,
            scope=scope,
            validity_months=months,
            expiration_text=expiration_text,
            allowed_ip_ranges=json.dumps(ip_ranges),
            header_rules=json.dumps(header_rules),
            rate_limit_size=bucket_size,
            rate_limit_lifetime=bucket_lifetime,
            encrypted=delivered is not plaintext,
        )
        self.audit(
            "API token created" if not on_behalf else "API token created on behalf of another user",
            actor=actor,
            remote=remote,
            token=(token.id, description, target_key),
            owner_name=target_name,
            changed=[
                {"fieldName": "scope", "changedFrom": None, "changedTo": str(scope)},
                {"fieldName": "validUntil", "changedFrom": None, "changedTo": str(valid_until)},
            ],
        )
        return {
            "id": token.id,
            "plainTextToken": delivered,
            "tokenDescription": description,
            "tokenForUserKey": target_key,
            "tokenValidityTimeInMonths": months,
            "tokenExpirationDateTime": expiration_text if valid_until else None,
            "tokenExpirationDateTimeMillis": valid_until,
            "tokenScope": scope,
            "rateLimitBucketLifetime": bucket_lifetime,
            "rateLimitBucketSize": bucket_size,
            "publicKey": public_key or "",
            "allowedIpRanges": ip_ranges,
            "headerValueAccessRules": header_rules,
            "created": now,
            "tokenCreatedByUserKey": actor.key,
        }

    @staticmethod
    def _description(value: Any, now: int) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            day = datetime.fromtimestamp(now / 1000, tz=timezone.utc).strftime("%Y-%m-%d")
            return f"API Token from {day}"
        if not isinstance(value, str):
            raise bad("'tokenDescription' must be a string")
        value = value.strip()
        if len(value) > 255:
            raise bad("'tokenDescription' must not be longer than 255 characters")
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise bad("'tokenDescription' must not contain control characters")
        return value

    def _expiry(
        self, body: dict[str, Any], now: int, maximum: int, default_months: int, *, clamp: bool
    ) -> tuple[int, int, str | None]:
        """Returns (months, validUntil ms or 0 for never, ISO expiration text)."""
        months = body.get("tokenValidityTimeInMonths")
        if months is not None:
            if isinstance(months, bool) or not isinstance(months, int):
                raise bad("'tokenValidityTimeInMonths' must be a whole number of months")
            if months < 0:
                raise bad("'tokenValidityTimeInMonths' must not be negative")
            if maximum and (months > maximum or months == 0):
                if not clamp:
                    if months == 0:
                        raise bad(
                            "'tokenValidityTimeInMonths' 0 asks for a token that never expires, which your "
                            f"administrator does not allow: the maximum is {maximum} months."
                        )
                    shown = months if months <= MAX_MONTHS_LIMIT else f"{str(months)[:12]}..."
                    raise bad(
                        f"'tokenValidityTimeInMonths' {shown} is greater than the maximum of {maximum} months "
                        "defined by your administrator."
                    )
                months = maximum
            elif months > MAX_MONTHS_LIMIT:
                raise bad(f"'tokenValidityTimeInMonths' must not exceed {MAX_MONTHS_LIMIT}")
        else:
            months = default_months
            if maximum and (months == 0 or months > maximum):
                months = maximum
        text = body.get("tokenExpirationDateTime")
        if text is not None:
            if not isinstance(text, str):
                raise bad("'tokenExpirationDateTime' must be an ISO 8601 date-time string")
            try:
                instant = expiry.parse_iso(text)
            except expiry.InvalidDateTime as exc:
                raise bad(f"'tokenExpirationDateTime' {exc}") from None
            valid_until = expiry.to_ms(instant)
            if valid_until <= now:
                raise bad("'tokenExpirationDateTime' must be in the future")
            if maximum and valid_until > expiry.add_months(now, maximum):
                raise bad(
                    "The custom expiration you've provided is greater than the maximum defined by your "
                    f"administrator. You need to provide a date within the next {maximum} months."
                )
            return months, valid_until, expiry.format_iso(instant)
        if months == 0:
            return 0, 0, None
        valid_until = expiry.add_months(now, months)
        return months, valid_until, expiry.format_ms(valid_until)

    @staticmethod
    def _ip_ranges(value: Any) -> list[str]:
        if value is None:
            return []
        try:
            return ip_network_list(value)
        except ValueError as exc:
            raise bad(f"'allowedIpRanges' {exc}") from None

    @staticmethod
    def _header_rules(value: Any) -> list[dict[str, str]]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_HEADER_RULES:
            raise bad(f"'headerValueAccessRules' must be a list of at most {MAX_HEADER_RULES} rules")
        rules = []
        for rule in value:
            if not isinstance(rule, dict) or set(rule) != {"headerName", "headerValue"}:
                raise bad("'headerValueAccessRules' entries must be objects with 'headerName' and 'headerValue'")
            try:
                name = header_name(rule["headerName"])
            except ValueError as exc:
                raise bad(f"'headerValueAccessRules' headerName {exc}") from None
            header_value = rule["headerValue"]
            if (
                not isinstance(header_value, str)
                or len(header_value) > 1024
                or any(unicodedata.category(c) == "Cc" and c != "\t" for c in header_value)
            ):
                raise bad(
                    "'headerValueAccessRules' headerValue must be a string of at most 1024 characters "
                    "without control characters"
                )
            rules.append({"headerName": name, "headerValue": header_value})
        return rules

    @staticmethod
    def _count(body: dict[str, Any], name: str) -> int:
        value = body.get(name)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000_000:
            raise bad(f"'{name}' must be a whole number from 0 to 1000000000")
        return value

    def own_tokens(self, actor: Actor) -> list[dict[str, Any]]:
        query = Token.select().where(Token.user_key == actor.key).order_by(Token.created.desc(), Token.id.desc())
        return [token_summary(t) for t in query]

    def _editable(self, actor: Actor, token_id: str) -> Token:
        """The token ``token_id`` if the actor may change it; 404 if it does not exist or is hidden."""
        if not (token_id.isascii() and token_id.isdigit()) or len(token_id) > 18:
            raise bad(f"The token id '{token_id[:40]}' is not a number")
        token = Token.get_or_none(Token.id == int(token_id))
        if token is None:
            raise PluginApiError(404, f"There is no token with the id {token_id}")
        if token.user_key == actor.key:
            if not self.may(actor, CREATE_TOKENS):
                raise PluginApiError(403, "You do not have the permission to manage tokens")
            return token
        if not self.may(actor, ON_BEHALF):
            raise PluginApiError(404, f"There is no token with the id {token_id}")
        return token

    def rename(self, actor: Actor, token_id: str, body: dict[str, Any], remote: str | None = None) -> dict[str, Any]:
        unknown = sorted(set(body) - {"tokenDescription"})
        if unknown:
            raise bad(f"Unknown field '{unknown[0]}': only 'tokenDescription' can be changed")
        if "tokenDescription" not in body:
            raise bad("'tokenDescription' is required")
        value = body["tokenDescription"]
        if not isinstance(value, str) or not value.strip():
            raise bad("'tokenDescription' must be a non-blank string")
        token = self._editable(actor, token_id)
        description = self._description(value, 0)
        Token.update(description=description, description_lower=description.lower()).where(
            Token.id == token.id
        ).execute()
        self.audit(
            "API token renamed",
            actor=actor,
            remote=remote,
            token=(token.id, description, token.user_key),
            changed=[{"fieldName": "description", "changedFrom": token.description, "changedTo": description}],
        )
        token.description = description
        return token_summary(token)

    def delete(self, actor: Actor, token_id: str, remote: str | None = None) -> Token:
        token = self._editable(actor, token_id)
        Token.delete().where(Token.id == token.id).execute()
        self.audit(
            "API token deleted",
            actor=actor,
            author_key=None if actor.authenticated else "cli",
            remote=remote,
            token=(token.id, token.description, token.user_key),
        )
        return token

    def delete_all_for(self, actor: Actor, user_key: str, remote: str | None = None) -> int:
        """Revoke every token of ``user_key``; returns how many there were."""
        count = Token.delete().where(Token.user_key == user_key).execute()
        self.audit(
            f"All API tokens of a user deleted ({count})",
            actor=actor,
            author_key=None if actor.authenticated else "cli",
            remote=remote,
            token=(None, "", user_key),
            changed=[{"fieldName": "tokens", "changedFrom": str(count), "changedTo": "0"}],
        )
        return count

    def user_keys_by_email(self, email: str) -> list[str]:
        from host.models import User

        query = User.select(User.key).where(User.lower_email == email.strip().lower()).limit(2)
        return [key for (key,) in query.tuples()]

    def permission_types(self) -> list:
        mine = {USE_TOKENS, CREATE_TOKENS, ON_BEHALF}
        return [p for p in self.host.permissions.types() if p.key in mine]


def service(host: Host) -> TokenService:
    svc = host.extensions.get(PLUGIN_KEY)
    if svc is None:
        svc = host.extensions[PLUGIN_KEY] = TokenService(host)
    return svc
