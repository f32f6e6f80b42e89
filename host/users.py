"""Users and groups: lookups, the single-read projection used by authentication, and changes."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from host.db import database, is_postgres
from host.errors import ApiError, BadRequest, NotFound
from host.models import Group, Membership, Sequence, Session, User

FIRST_USER_KEY_NUMBER = 10100
USERNAME_MAX = 255
USER_KEY_RE = re.compile(r"JIRAUSER(\d{1,18})")


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class UserRow:
    """The columns authentication needs, read in the same statement as the credential itself."""

    id: int
    key: str
    name: str
    display_name: str
    email: str
    active: bool
    time_zone: str
    locale: str
    failed_login_count: int
    groups: tuple[str, ...]


def user_projection(alias: str = "u") -> str:
    """SQL select list giving a UserRow's columns (groups aggregated) for table alias ``alias``.

    Plugins put it into their own single statement so that a credential and its user arrive in one read.
    """
    if is_postgres():
        agg = "string_agg(g.name, E'\\n')"
    else:
        agg = "group_concat(g.name, char(10))"
    return (
        f"{alias}.id, {alias}.key, {alias}.name, {alias}.display_name, {alias}.email, {alias}.active, "
        f"{alias}.time_zone, {alias}.locale, {alias}.failed_login_count, "
        f"(SELECT {agg} FROM host_membership m JOIN host_group g ON g.id = m.group_id "
        f"WHERE m.user_id = {alias}.id)"
    )


USER_PROJECTION_WIDTH = 10


def user_row(values: tuple | list, offset: int = 0) -> UserRow:
    v = values[offset : offset + USER_PROJECTION_WIDTH]
    groups = tuple(sorted(v[9].split("\n"), key=str.lower)) if v[9] else ()
    return UserRow(v[0], v[1], v[2], v[3], v[4], bool(v[5]), v[6], v[7], v[8], groups)


def validate_username(name: Any, field: str = "name") -> str:
    if not isinstance(name, str):
        raise BadRequest(f"'{field}' must be a string", field=field)
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise BadRequest("You must specify a username.", field=field)
    if len(name) > USERNAME_MAX:
        raise BadRequest(f"The username must not exceed {USERNAME_MAX} characters.", field=field)
    if ":" in name:
        raise BadRequest("The username must not contain ':'.", field=field)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise BadRequest("The username must not contain control characters.", field=field)
    return name


def _text(value: Any, field: str, *, required: bool, limit: int = 255, label: str | None = None) -> str:
    if value is None:
        if required:
            raise BadRequest(f"You must specify {label or field}.", field=field)
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be a string", field=field)
    value = value.strip()
    if required and not value:
        raise BadRequest(f"You must specify {label or field}.", field=field)
    if len(value) > limit:
        raise BadRequest(f"'{field}' must not exceed {limit} characters", field=field)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise BadRequest(f"'{field}' must not contain control characters", field=field)
    return value


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def validate_email(value: Any, field: str = "emailAddress") -> str:
    email = _text(value, field, required=True, label="an email address")
    if not EMAIL_RE.match(email):
        raise BadRequest("You must specify a valid email address.", field=field)
    return email


class Users:
    """User and group operations shared by REST resources, the CLI and fixtures."""

    def __init__(self, hasher: Any, sysadmin_group: str, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.hasher = hasher
        self.now_ms = clock
        self.sysadmin_group = sysadmin_group
        self._auth_sql: str | None = None

    # ----- reads ------------------------------------------------------------------------------------------
    def auth_row_by_name(self, username: str) -> tuple[UserRow, str | None] | None:
        """One indexed read: the user named ``username`` (any case) with groups and password hash."""
        if self._auth_sql is None:
            p = database.obj.param
            self._auth_sql = f"SELECT {user_projection('u')}, u.password_hash FROM host_user u WHERE u.lower_name = {p}"
        row = database.execute_sql(self._auth_sql, (username.lower(),)).fetchone()
        if row is None:
            return None
        return user_row(row), row[USER_PROJECTION_WIDTH]

    def by_name(self, name: str) -> User | None:
        return User.get_or_none(User.lower_name == name.lower())

    def by_key(self, key: str) -> User | None:
        return User.get_or_none(User.key == key)

    def by_id(self, user_id: int) -> User | None:
        return User.get_or_none(User.id == user_id)

    def groups_of(self, user: User) -> list[str]:
        query = Group.select(Group.name).join(Membership).where(Membership.user == user).order_by(Group.lower_name)
        return [g.name for g in query]

    def is_sysadmin(self, groups: tuple[str, ...] | list[str]) -> bool:
        target = self.sysadmin_group.lower()
        return any(g.lower() == target for g in groups)

    def search(
        self,
        prefix: str,
        *,
        start: int,
        limit: int,
        include_active: bool,
        include_inactive: bool,
    ) -> list[User]:
        query = User.select()
        if prefix not in (".", "%", ""):
            like = prefix.lower()
            query = query.where(
                User.lower_name.startswith(like)
                | User.lower_display_name.startswith(like)
                | User.lower_display_name.contains(" " + like)
                | User.lower_email.startswith(like)
            )
        states = [s for s, on in ((True, include_active), (False, include_inactive)) if on]
        if not states:
            return []
        query = query.where(User.active.in_(states))
        return list(query.order_by(User.lower_name, User.id).offset(start).limit(limit))

    # ----- changes -----------------------------------------------------------------------------------------
    def reserve_key(self, key: str) -> None:
        """Move the key sequence past an imported ``JIRAUSER<n>`` key, so that the number is never handed out
        again, not even after that user is deleted (Jira never reuses a user key)."""
        match = USER_KEY_RE.fullmatch(key)
        if match is None:
            return
        number = int(match.group(1))
        with database.atomic():
            Sequence.insert(name="user_key", value=FIRST_USER_KEY_NUMBER - 1).on_conflict_ignore().execute()
            Sequence.update(value=number).where((Sequence.name == "user_key") & (Sequence.value < number)).execute()

    def next_key(self) -> str:
        """Allocate the next free JIRAUSER<n> key atomically (safe across processes and nodes)."""
        with database.atomic():
            Sequence.insert(name="user_key", value=FIRST_USER_KEY_NUMBER - 1).on_conflict_ignore().execute()
            while True:
                Sequence.update(value=Sequence.value + 1).where(Sequence.name == "user_key").execute()
                key = f"JIRAUSER{Sequence.get_by_id('user_key').value}"
                if not User.select().where(User.key == key).exists():  # skip keys taken by imported users
                    return key

    def create(
        self,
        *,
        name: Any,
        email: Any,
        display_name: Any,
        password: Any = None,
        key: str | None = None,
        active: bool = True,
        time_zone: str = "GMT",
        locale: str = "en_US",
        password_hash: str | None = None,
    ) -> User:
        name = validate_username(name, "username")
        email = validate_email(email)
        display_name = _text(display_name, "displayName", required=True, label="a full name")
        if password is not None:
            if not isinstance(password, str) or not password:
                raise BadRequest("'password' must be a non-empty string", field="password")
            if len(password) > 1024:
                raise BadRequest("'password' must not exceed 1024 characters", field="password")
            password_hash = self.hasher.hash(password)
        with database.atomic():
            if self.by_name(name) is not None:
                raise BadRequest("A user with that username already exists.", field="username")
            if key:
                self.reserve_key(key)
            user_key = key or self.next_key()
            try:
                return User.create(
                    key=user_key,
                    name=name,
                    lower_name=name.lower(),
                    display_name=display_name,
                    lower_display_name=display_name.lower(),
                    email=email,
                    lower_email=email.lower(),
                    active=active,
                    password_hash=password_hash,
                    time_zone=time_zone,
                    locale=locale,
                    created=self.now_ms(),
                )
            except peewee.IntegrityError:
                raise BadRequest("A user with that username already exists.", field="username") from None

    def update(self, user: User, changes: dict[str, Any]) -> User:
        """Apply a Jira ``PUT /user`` document: name (rename, key unchanged), displayName, emailAddress,
        active, password. Every field is validated before anything is written."""
        allowed = {"name", "displayName", "emailAddress", "active", "password", "key", "self"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise BadRequest(f"Unknown field '{unknown[0]}'", field=unknown[0])
        values: dict[Any, Any] = {}
        if "key" in changes and changes["key"] != user.key:
            raise BadRequest("A user's key cannot be changed.", field="key")
        if "name" in changes:
            name = validate_username(changes["name"], "username")
            other = self.by_name(name)
            if other is not None and other.id != user.id:
                raise BadRequest("A user with that username already exists.", field="username")
            values.update(name=name, lower_name=name.lower())
        if "displayName" in changes:
            display = _text(changes["displayName"], "displayName", required=True, label="a full name")
            values.update(display_name=display, lower_display_name=display.lower())
        if "emailAddress" in changes:
            email = validate_email(changes["emailAddress"])
            values.update(email=email, lower_email=email.lower())
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise BadRequest("'active' must be true or false", field="active")
            values["active"] = changes["active"]
        if "password" in changes:
            password = changes["password"]
            if not isinstance(password, str) or not password or len(password) > 1024:
                raise BadRequest("'password' must be a non-empty string", field="password")
            values["password_hash"] = self.hasher.hash(password)
        if values:
            try:
                with database.atomic():
                    User.update(values).where(User.id == user.id).execute()
                    if values.get("active") is False:
                        Session.delete().where(Session.user == user.id).execute()
            except peewee.IntegrityError:
                raise BadRequest("A user with that username already exists.", field="username") from None
        return User.get_by_id(user.id)

    def delete(self, user: User) -> None:
        with database.atomic():
            Session.delete().where(Session.user == user.id).execute()
            Membership.delete().where(Membership.user == user.id).execute()
            User.delete().where(User.id == user.id).execute()

    def set_password(self, user: User, password: str) -> None:
        User.update(password_hash=self.hasher.hash(password)).where(User.id == user.id).execute()

    # ----- failed-login counter (atomic SQL, shared by every process and node) -------------------------------
    def record_failed_login(self, user_id: int) -> None:
        User.update(failed_login_count=User.failed_login_count + 1, last_failed_login=self.now_ms()).where(
            User.id == user_id
        ).execute()

    def record_successful_login(self, user_id: int, *, count_login: bool) -> None:
        values: dict[Any, Any] = {User.failed_login_count: 0}
        if count_login:
            values.update({User.login_count: User.login_count + 1, User.last_login: self.now_ms()})
        User.update(values).where(User.id == user_id).execute()

    def reset_failed_logins(self, user: User) -> None:
        User.update(failed_login_count=0).where(User.id == user.id).execute()

    # ----- groups -----------------------------------------------------------------------------------------------
    def group_by_name(self, name: str) -> Group | None:
        return Group.get_or_none(Group.lower_name == name.lower())

    def create_group(self, name: Any) -> Group:
        name = _text(name, "name", required=True, label="a group name")
        if self.group_by_name(name) is not None:
            raise BadRequest("A group with that name already exists.", field="name")
        try:
            return Group.create(name=name, lower_name=name.lower())
        except peewee.IntegrityError:
            raise BadRequest("A group with that name already exists.", field="name") from None

    def delete_group(self, group: Group) -> None:
        with database.atomic():
            Membership.delete().where(Membership.group == group.id).execute()
            Group.delete().where(Group.id == group.id).execute()

    def add_to_group(self, user: User, group: Group) -> bool:
        """Add; False when the user was already a member."""
        # The row count, not the last row id (which SQLite leaves set when the insert is ignored).
        inserted = Membership.insert(user=user.id, group=group.id).on_conflict_ignore().as_rowcount().execute()
        return bool(inserted)

    def remove_from_group(self, user: User, group: Group) -> bool:
        return bool(Membership.delete().where((Membership.user == user.id) & (Membership.group == group.id)).execute())

    def group_members(
        self, group: Group, start: int, limit: int, *, include_inactive: bool = True
    ) -> tuple[list[User], int]:
        base = User.select().join(Membership).where(Membership.group == group.id)
        if not include_inactive:
            base = base.where(User.active == True)  # noqa: E712 (SQL, not Python)
        total = base.count()
        users = list(base.order_by(User.lower_name, User.id).offset(start).limit(limit))
        return users, total

    def search_groups(self, query: str, limit: int) -> tuple[list[Group], int]:
        base = Group.select()
        if query:
            base = base.where(Group.lower_name.contains(query.lower()))
        total = base.count()
        return list(base.order_by(Group.lower_name).limit(limit)), total

    def require_user(self, *, username: str | None = None, key: str | None = None) -> User:
        if username is not None:
            user = self.by_name(username)
            if user is None:
                raise NotFound(f"The user named '{username}' does not exist")
            return user
        if key is not None:
            user = self.by_key(key)
            if user is None:
                raise NotFound(f"The user with the key '{key}' does not exist")
            return user
        raise BadRequest("Either the 'username' or the 'key' query parameter is required.")

    def require_group(self, name: str | None) -> Group:
        if not name:
            raise BadRequest("The query parameter 'groupname' has not been specified", field="groupname")
        group = self.group_by_name(name)
        if group is None:
            raise ApiError(404, f"The group named '{name}' does not exist")
        return group
