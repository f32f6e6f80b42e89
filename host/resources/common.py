"""Helpers shared by resources: query parsing, permission checks, user representations."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import falcon

from host.errors import BadRequest, Forbidden
from host.users import UserRow

ADMIN_ONLY = "You do not have the permission to perform this operation. Only system administrators may."


def require_sysadmin(req: falcon.Request) -> None:
    if not req.context.actor.is_sysadmin:
        raise Forbidden(ADMIN_ONLY)


def query_bool(req: falcon.Request, name: str, default: bool) -> bool:
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    if raw in ("true", "True", "TRUE"):
        return True
    if raw in ("false", "False", "FALSE"):
        return False
    raise BadRequest(f"The query parameter '{name}' must be true or false", field=name)


def query_int(req: falcon.Request, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(raw) > 18:  # "١٢" and "²" are digits to isdigit()
        raise BadRequest(f"The query parameter '{name}' must be a whole number", field=name)
    value = int(raw)
    if value < minimum:
        raise BadRequest(f"The query parameter '{name}' must be at least {minimum}", field=name)
    if maximum is not None and value > maximum:
        value = maximum
    return value


def user_self_url(base: str, name: str) -> str:
    return f"{base}/rest/api/2/user?username={quote(name, safe='')}"


def avatar_urls(email: str) -> dict[str, str]:
    digest = hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()
    return {
        size: f"https://www.gravatar.com/avatar/{digest}?d=mm&s={size.split('x')[0]}"
        for size in ("48x48", "24x24", "16x16", "32x32")
    }


def jira_user(
    base: str,
    *,
    key: str,
    name: str,
    display_name: str,
    email: str,
    active: bool,
    time_zone: str,
    locale: str,
    groups: list[str] | tuple[str, ...],
    expand: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, Any]:
    group_items = (
        [{"name": g, "self": f"{base}/rest/api/2/group?groupname={quote(g, safe='')}"} for g in groups]
        if "groups" in expand
        else []
    )
    return {
        "self": user_self_url(base, name),
        "key": key,
        "name": name,
        "emailAddress": email,
        "avatarUrls": avatar_urls(email),
        "displayName": display_name,
        "active": active,
        "deleted": False,
        "timeZone": time_zone,
        "locale": locale,
        "groups": {"size": len(groups), "items": group_items},
        "applicationRoles": {
            "size": 1,
            "items": [{"key": "jira-software", "name": "Jira Software"}] if "applicationRoles" in expand else [],
        },
        "expand": "groups,applicationRoles",
    }


def jira_user_from_model(base: str, user: Any, groups: list[str], expand: set[str] = frozenset()) -> dict:  # type: ignore[assignment]
    return jira_user(
        base,
        key=user.key,
        name=user.name,
        display_name=user.display_name,
        email=user.email,
        active=user.active,
        time_zone=user.time_zone,
        locale=user.locale,
        groups=groups,
        expand=expand,
    )


def jira_user_from_row(base: str, user: UserRow, expand: set[str] = frozenset()) -> dict:  # type: ignore[assignment]
    """The authenticated caller (a UserRow carries its groups; the model's attribute names are the same)."""
    return jira_user_from_model(base, user, list(user.groups), expand)


def parse_expand(req: falcon.Request) -> set[str]:
    raw = req.get_param("expand") or ""
    return {part.strip() for part in raw.split(",") if part.strip()}
