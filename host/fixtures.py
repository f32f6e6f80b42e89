"""Demo fixtures: groups and users from a JSON file, loaded only into a database with no users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from host.db import database
from host.models import User

if TYPE_CHECKING:
    from host.core import Host

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "demo.json"


def default_fixtures_path() -> Path:
    if DEFAULT_FIXTURES.exists():
        return DEFAULT_FIXTURES
    # Installed without the source tree: the file is shipped as package data next to this module.
    return Path(__file__).resolve().parent / "fixtures" / "demo.json"


def load_fixtures(host: Host, path: Path | None = None, *, only_if_empty: bool = True) -> int:
    """Load users and groups; returns the number of users created (0 when the database already had users)."""
    data = json.loads((path or default_fixtures_path()).read_text(encoding="utf-8"))
    with database.atomic():
        if only_if_empty and User.select().exists():
            return 0
        groups = {}
        for name in data.get("groups", []):
            groups[name.lower()] = host.users.group_by_name(name) or host.users.create_group(name)
        created = 0
        for entry in data.get("users", []):
            if host.users.by_name(entry["name"]) is not None:
                continue
            user = host.users.create(
                name=entry["name"],
                email=entry["emailAddress"],
                display_name=entry["displayName"],
                password=entry.get("password"),
                key=entry.get("key"),
                active=entry.get("active", True),
                time_zone=entry.get("timeZone", "GMT"),
                locale=entry.get("locale", "en_US"),
            )
            created += 1
            for group_name in entry.get("groups", []):
                group = groups.get(group_name.lower()) or host.users.create_group(group_name)
                groups[group_name.lower()] = group
                host.users.add_to_group(user, group)
    return created
