"""``GET P/user/tokensByFilter``: parse the filter, run it as indexed SQL, build the paged envelope."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import peewee

from host.errors import PluginApiError

from .models import Token
from .service import token_summary

MAX_LIMIT = 50
PATH = "/rest/de.resolution.apitokenauth/latest/user/tokensByFilter"
RANGE_PARAMS = (
    ("fromCreated", "untilCreated", "created"),
    ("fromLastUsed", "untilLastUsed", "last_accessed"),
    ("fromExpiresDuring", "untilExpiresDuring", "valid_until"),
)
NUMBER_PARAMS = ("notValidAfter", "tokenScope", "page", "limit") + tuple(
    name for pair in RANGE_PARAMS for name in pair[:2]
)
KNOWN_PARAMS = frozenset(NUMBER_PARAMS + ("userFilter", "descriptionFilter"))
MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def bad(message: str) -> PluginApiError:
    return PluginApiError(400, message)


@dataclass
class TokenFilter:
    users: list[str] = field(default_factory=list)
    description: str | None = None
    not_valid_after: int | None = None
    scope: int | None = None
    ranges: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    page: int = 0
    limit: int = MAX_LIMIT


def _number(name: str, raw: str) -> int:
    text = raw.strip()
    if name == "notValidAfter" and text == "-1":
        return -1
    if not (text.isascii() and text.isdigit()) or len(text) > 16:  # "²" and "٣" are digits to str.isdigit
        raise bad(f"'{name}' must be a non-negative whole number, not '{raw[:40]}'")
    value = int(text)
    if value > MAX_EPOCH_MS and name not in ("page", "limit"):
        raise bad(f"'{name}' is too large")
    return value


def parse(params: list[tuple[str, str]]) -> TokenFilter:
    """Parse the query (pairs in order, repeated keys allowed). Unknown parameters are ignored."""
    result = TokenFilter()
    single: dict[str, str] = {}
    for name, value in params:
        if name == "userFilter":
            if value.strip():
                if len(value) > 255:
                    raise bad("'userFilter' must be a user key of at most 255 characters")
                result.users.append(value.strip())
        elif name in KNOWN_PARAMS:
            if name in single:
                raise bad(f"'{name}' may be given only once")
            single[name] = value
    numbers = {name: _number(name, single[name]) for name in NUMBER_PARAMS if single.get(name, "").strip()}
    if "descriptionFilter" in single and single["descriptionFilter"].strip():
        description = single["descriptionFilter"].strip()
        if len(description) > 255:
            raise bad("'descriptionFilter' must not be longer than 255 characters")
        result.description = description.lower()
    if "notValidAfter" in numbers and numbers["notValidAfter"] != -1:
        result.not_valid_after = numbers["notValidAfter"]
    if "tokenScope" in numbers:
        if numbers["tokenScope"] not in (0, 1, 2):
            raise bad("'tokenScope' must be 0 (no scope), 1 (read-only) or 2 (read/write)")
        result.scope = numbers["tokenScope"]
    for low_name, high_name, column in RANGE_PARAMS:
        low, high = numbers.get(low_name), numbers.get(high_name)
        if low is not None and high is not None and low > high:
            raise bad(f"'{low_name}' must not be after '{high_name}'")
        if low is not None or high is not None:
            result.ranges[column] = (low, high)
    result.page = numbers.get("page", 0)
    if "limit" in numbers:
        if numbers["limit"] < 1:
            raise bad("'limit' must be at least 1")
        result.limit = min(numbers["limit"], MAX_LIMIT)
    return result


def where(f: TokenFilter) -> peewee.Expression | bool:
    conditions: list[Any] = []
    if f.users:
        conditions.append(Token.user_key.in_(f.users))
    if f.description:
        conditions.append(Token.description_lower.contains(f.description))
    if f.not_valid_after is not None:
        # "not valid any more after T": expires at or before T. A never-expiring token (0) stays valid.
        conditions.append(Token.valid_until.between(1, f.not_valid_after))
    if f.scope is not None:
        conditions.append(Token.scope == f.scope)
    for column, (low, high) in f.ranges.items():
        # 0 means "never" (never used / never expires): it is in no time range. Every range is sent closed
        # at both ends (times are never negative nor beyond MAX_EPOCH_MS), so the planner reads it from the
        # column's index instead of walking the whole table in id order.
        low = max(low or 0, 1)
        high = MAX_EPOCH_MS if high is None else high
        conditions.append(getattr(Token, column).between(low, high))
    expression: Any = True
    for condition in conditions:
        expression = condition if expression is True else (expression & condition)
    return expression


def search(f: TokenFilter) -> tuple[list[Token], int]:
    condition = where(f)
    query = Token.select(
        Token.id,
        Token.created,
        Token.description,
        Token.last_accessed,
        Token.created_by_key,
        Token.user_key,
        Token.scope,
        Token.valid_until,
    )
    count_query = Token.select(peewee.fn.COUNT(Token.id))
    if condition is not True:
        query = query.where(condition)
        count_query = count_query.where(condition)
    total = count_query.scalar() or 0
    rows = list(query.order_by(Token.id.desc()).offset(f.page * f.limit).limit(f.limit))
    return rows, total


def envelope(
    rows: list[Token], total: int, f: TokenFilter, *, base_url: str, path: str, params: list[tuple[str, str]]
) -> dict[str, Any]:
    kept = [(k, v) for k, v in params if k not in ("page", "limit")]

    def link(page: int) -> str:
        return f"{base_url}{path}?" + urlencode([("page", str(page)), ("limit", str(f.limit)), *kept])

    offset = f.page * f.limit
    return {
        "content": [token_summary(t) for t in rows],
        "currentPage": f.page,
        "limit": f.limit,
        "offset": offset,
        "total": total,
        "totalPages": math.ceil(total / f.limit) if total else 0,
        "paginationLinks": {
            "baseUrl": base_url,
            "nextPage": link(f.page + 1) if offset + f.limit < total else "",
            "previousPage": link(f.page - 1) if f.page > 0 else "",
        },
    }
