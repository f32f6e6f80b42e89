"""``python -m host <command>`` (also the ``host`` console script)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path

from host.config import build_config


def _db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data folder (default ./data; env HOST_DATA_DIR)")
    parser.add_argument("--database-url", help="sqlite:///path or postgresql://... (env HOST_DATABASE_URL)")


def _open(args: argparse.Namespace, *, migrate: bool = True, extra_plugins: tuple = ()):
    from host.app import create_app

    config = build_config(
        data_dir=args.data_dir, database_url=args.database_url, base_url=getattr(args, "base_url", None)
    )
    return create_app(config, migrate=migrate, extra_plugins=extra_plugins)


def cmd_serve(args: argparse.Namespace) -> int:
    from host.app import create_app
    from host.db import close_database, open_database
    from host.fixtures import load_fixtures
    from host.migrations import startup_lock
    from host.server import HostServer

    config = build_config(
        data_dir=args.data_dir,
        database_url=args.database_url,
        base_url=args.base_url,
        bind=args.bind,
        workers=args.workers,
    )
    # Migrate and load fixtures once, in the arbiter, before any worker starts; nodes of a cluster that
    # start together take turns.
    lock_db = open_database(config.database_url)
    with startup_lock(lock_db):
        host = create_app(config)
        if not args.no_fixtures:
            created = load_fixtures(host)
            if created:
                print(f"loaded {created} demo users from fixtures (admin/admin: change it outside a demo)", flush=True)
        close_database(host.db)  # never share a connection across fork()
    close_database(lock_db)
    print(
        f"serving {config.base_url} on {config.bind} with {config.workers} workers, data in {config.data_dir}",
        flush=True,
    )
    HostServer(config).run()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from host.app import check_secret

    host = _open(args, migrate=False)
    applied = host.migrate()
    check_secret(host)
    for component, numbers in applied.items():
        print(f"{component}: {'applied ' + ', '.join(map(str, numbers)) if numbers else 'up to date'}")
    return 0


def cmd_load_fixtures(args: argparse.Namespace) -> int:
    from host.fixtures import load_fixtures

    host = _open(args)
    created = load_fixtures(host, Path(args.path) if args.path else None, only_if_empty=False)
    print(f"created {created} users")
    return 0


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password is not None:
        return args.password
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return None


def cmd_create_user(args: argparse.Namespace) -> int:
    host = _open(args)
    user = host.users.create(
        name=args.name,
        email=args.email,
        display_name=args.display_name or args.name,
        password=_password(args),
    )
    for group_name in args.group or []:
        group = host.users.group_by_name(group_name) or host.users.create_group(group_name)
        host.users.add_to_group(user, group)
    print(json.dumps({"key": user.key, "name": user.name}))
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    host = _open(args)
    user = host.users.require_user(username=args.name)
    password = _password(args)
    if not password:
        print("a password is required (--password, --password-stdin or a terminal prompt)", file=sys.stderr)
        return 2
    host.users.set_password(user, password)
    print(f"password of {user.name} changed")
    return 0


def cmd_add_to_group(args: argparse.Namespace) -> int:
    host = _open(args)
    user = host.users.require_user(username=args.name)
    group = host.users.group_by_name(args.group) or host.users.create_group(args.group)
    added = host.users.add_to_group(user, group)
    print(f"{user.name} {'added to' if added else 'was already in'} {group.name}")
    return 0


def cmd_reset_failed_logins(args: argparse.Namespace) -> int:
    host = _open(args)
    user = host.users.require_user(username=args.name)
    host.users.reset_failed_logins(user)
    print(f"failed-login count of {user.name} reset to 0")
    return 0


def _set_plugin(args: argparse.Namespace, enabled: bool) -> int:
    from host.resources.plugins import set_plugin_enabled

    host = _open(args)
    if args.key not in host.plugins.infos:
        print(f"no plugin {args.key!r}; installed: {', '.join(host.plugins.infos) or 'none'}", file=sys.stderr)
        return 2
    set_plugin_enabled(host, args.key, enabled)
    print(f"{args.key} {'enabled' if enabled else 'disabled'}")
    return 0


def cmd_list_plugins(args: argparse.Namespace) -> int:
    host = _open(args)
    for key, info in host.plugins.infos.items():
        state = "enabled" if host.plugins.is_enabled(key) else "disabled"
        print(f"{key}\t{info.version}\t{state}\t{info.name}")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    from host.audit import as_jira
    from host.resources.audit import parse_instant

    host = _open(args)
    since, until = parse_instant("since", args.since), parse_instant("until", args.until)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        count = 0
        for record in host.audit.iterate(since=since, until=until):
            out.write(json.dumps(as_jira(record), ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.output:
            out.close()
    print(f"exported {count} audit records", file=sys.stderr)
    return 0


def build_parser(extra_plugins: tuple[tuple[str, object], ...] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="host", description="Jira/Confluence-like host with plugins")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (gunicorn) in the foreground")
    _db_options(serve)
    serve.add_argument("--bind", help="HOST:PORT (default 127.0.0.1:8080; env HOST_BIND)")
    serve.add_argument("--workers", type=int, help="worker processes (default 2; env HOST_WORKERS)")
    serve.add_argument("--base-url", help="public base URL for links (env HOST_BASE_URL)")
    serve.add_argument("--no-fixtures", action="store_true", help="do not load demo data into an empty database")
    serve.set_defaults(func=cmd_serve)

    for name in ("migrate", "init-db"):
        p = sub.add_parser(name, help="create or upgrade the database schema")
        _db_options(p)
        p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("load-fixtures", help="load users and groups from a fixtures file")
    _db_options(p)
    p.add_argument("path", nargs="?", help="JSON file (default fixtures/demo.json)")
    p.set_defaults(func=cmd_load_fixtures)

    for name, func, text in (
        ("create-user", cmd_create_user, "create a user"),
        ("set-password", cmd_set_password, "set a user's password"),
    ):
        p = sub.add_parser(name, help=text)
        _db_options(p)
        p.add_argument("name")
        if name == "create-user":
            p.add_argument("--email", required=True)
            p.add_argument("--display-name")
            p.add_argument("--group", action="append", help="add to this group (repeatable)")
        p.add_argument("--password", help="the password (visible in the process list; prefer --password-stdin)")
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        p.set_defaults(func=func)

    p = sub.add_parser("add-to-group", help="add a user to a group (created if missing)")
    _db_options(p)
    p.add_argument("name")
    p.add_argument("group")
    p.set_defaults(func=cmd_add_to_group)

    p = sub.add_parser("reset-failed-logins", help="reset a user's failed-login count (lifts the captcha lock)")
    _db_options(p)
    p.add_argument("name")
    p.set_defaults(func=cmd_reset_failed_logins)

    for name, enabled in (("enable-plugin", True), ("disable-plugin", False)):
        p = sub.add_parser(name, help=f"{name.split('-')[0]} a plugin")
        _db_options(p)
        p.add_argument("key")
        p.set_defaults(func=lambda a, e=enabled: _set_plugin(a, e))

    p = sub.add_parser("audit-export", help="export the audit log as JSON lines, oldest first")
    _db_options(p)
    p.add_argument("--since", help="epoch ms or ISO 8601 with offset")
    p.add_argument("--until", help="epoch ms or ISO 8601 with offset")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_audit_export)

    p = sub.add_parser("list-plugins", help="list installed plugins")
    _db_options(p)
    p.set_defaults(func=cmd_list_plugins)

    # Plugins add their own commands; the host opens the database and hands them the Host.
    from host.plugins import PluginRegistry
    from host.settings import SettingsStore

    before = set(sub.choices)
    PluginRegistry(SettingsStore(), extra_plugins=extra_plugins).pm.hook.register_commands(subparsers=sub)
    for name in set(sub.choices) - before:
        _plugin_command(sub.choices[name])
    return parser


def _plugin_command(parser: argparse.ArgumentParser) -> None:
    """Give a plugin's command (and each of its sub-commands) the database options and the runner."""
    children = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not children:
        _db_options(parser)
    for action in children:
        for child in action.choices.values():
            _plugin_command(child)
    parser.set_defaults(func=_run_plugin_command)


def _run_plugin_command(args: argparse.Namespace) -> int:
    return args.handler(_open(args, extra_plugins=args.extra_plugins), args)


def main(argv: list[str] | None = None, extra_plugins: tuple[tuple[str, object], ...] = ()) -> int:
    from host.errors import ApiError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser(extra_plugins).parse_args(argv)
    args.extra_plugins = extra_plugins
    try:
        return args.func(args)
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
