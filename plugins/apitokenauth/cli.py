"""``python -m host tokens ...``: the admin tasks a person scripts (filter, revoke, settings)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from host import audit
from host.auth import Actor
from host.errors import ApiError
from host.settings import InvalidSetting

from . import filters
from .config import PLUGIN_KEY
from .service import service, token_summary

CLI_ACTOR = Actor(user=None, method="cli", is_sysadmin=True)


def add_commands(subparsers: Any) -> None:
    tokens = subparsers.add_parser("tokens", help="API tokens (the apitokenauth plugin)")
    sub = tokens.add_subparsers(dest="tokens_command", required=True)

    p = sub.add_parser("list", help="list tokens of all users (tokensByFilter), as JSON")
    p.add_argument("--user", action="append", default=[], metavar="KEY", help="user key (repeatable)")
    p.add_argument("--description", help="case-insensitive substring of the description")
    p.add_argument("--scope", help="0, 1 (read-only) or 2 (read/write)")
    p.add_argument("--not-valid-after", metavar="MS", help="expires at or before this epoch-ms instant")
    for name in ("created", "last-used", "expires-during"):
        p.add_argument(f"--from-{name}", metavar="MS")
        p.add_argument(f"--until-{name}", metavar="MS")
    p.add_argument("--page", default="0")
    p.add_argument("--limit", default="50")
    p.add_argument("--all", action="store_true", help="every page, one token per line (JSON lines)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("revoke", help="delete one token by id")
    p.add_argument("id")
    p.set_defaults(handler=cmd_revoke)

    p = sub.add_parser("revoke-all", help="delete every token of a user (by user key)")
    p.add_argument("user_key")
    p.set_defaults(handler=cmd_revoke_all)

    p = sub.add_parser("settings", help="print the plugin's settings as JSON")
    p.set_defaults(handler=cmd_settings)

    p = sub.add_parser("set", help="change settings together: NAME=VALUE..., each VALUE JSON or a bare string")
    p.add_argument(
        "assignments", nargs="+", metavar="NAME=VALUE", help='e.g. maxValidityMonths=6 trustedProxies=["10.0.0.0/8"]'
    )
    p.set_defaults(handler=cmd_set)


_FILTER_ARGS = {
    "description": "descriptionFilter",
    "scope": "tokenScope",
    "not_valid_after": "notValidAfter",
    "from_created": "fromCreated",
    "until_created": "untilCreated",
    "from_last_used": "fromLastUsed",
    "until_last_used": "untilLastUsed",
    "from_expires_during": "fromExpiresDuring",
    "until_expires_during": "untilExpiresDuring",
    "page": "page",
    "limit": "limit",
}


def _params(args: argparse.Namespace) -> list[tuple[str, str]]:
    params = [("userFilter", key) for key in args.user]
    params += [(param, str(getattr(args, attr))) for attr, param in _FILTER_ARGS.items() if getattr(args, attr)]
    return params


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_list(host: Any, args: argparse.Namespace) -> int:
    try:
        token_filter = filters.parse(_params(args))
    except ApiError as exc:
        return _fail(exc.message or "bad filter")
    if not args.all:
        rows, total = filters.search(token_filter)
        doc = filters.envelope(
            rows, total, token_filter, base_url=host.base_url, path=filters.PATH, params=_params(args)
        )
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    token_filter.page, token_filter.limit = 0, filters.MAX_LIMIT
    while True:
        rows, _total = filters.search(token_filter)
        for row in rows:
            print(json.dumps(token_summary(row), ensure_ascii=False))
        if len(rows) < token_filter.limit:
            return 0
        token_filter.page += 1


def cmd_revoke(host: Any, args: argparse.Namespace) -> int:
    try:
        token = service(host).delete(CLI_ACTOR, args.id)
    except ApiError as exc:
        return _fail(exc.message or "cannot revoke")
    print(f"token {token.id} ({token.description}) of {token.user_key} revoked")
    return 0


def cmd_revoke_all(host: Any, args: argparse.Namespace) -> int:
    if host.users.by_key(args.user_key) is None:
        return _fail(f"there is no user with the key '{args.user_key}'")
    count = service(host).delete_all_for(CLI_ACTOR, args.user_key)
    print(f"{count} token(s) of {args.user_key} revoked")
    return 0


def cmd_settings(host: Any, args: argparse.Namespace) -> int:
    print(json.dumps(host.settings.document(PLUGIN_KEY), indent=2))
    return 0


def cmd_set(host: Any, args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    for assignment in args.assignments:
        name, sep, raw = assignment.partition("=")
        if not sep or not name:
            return _fail(f"'{assignment}' is not NAME=VALUE")
        try:
            changes[name] = json.loads(raw)
        except ValueError:
            changes[name] = raw  # a bare string, e.g. clientIpHeader=X-Real-IP
    try:
        old, new = host.settings.update(PLUGIN_KEY, changes)
    except InvalidSetting as exc:
        return _fail(exc.message)
    changed = audit.changes(old, new)
    if changed:  # audited like a change made in the admin REST API (contract 2.7)
        service(host).audit("API token settings changed", category="settings", author_key="cli", changed=changed)
    print(json.dumps({name: new[name] for name in changes}))
    return 0
