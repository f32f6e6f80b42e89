"""Host tables: users, groups, memberships, sessions, settings, plugin state, sequences, migrations."""

from __future__ import annotations

import peewee as pw

from host.db import BaseModel


class User(BaseModel):
    class Meta:
        table_name = "host_user"

    key = pw.CharField(max_length=255, unique=True)  # immutable, Jira-style JIRAUSER<n>
    name = pw.CharField(max_length=255)  # the username as typed; may be renamed
    lower_name = pw.CharField(max_length=255, unique=True)  # Jira usernames are case-insensitive
    display_name = pw.CharField(max_length=255)
    lower_display_name = pw.CharField(max_length=255, index=True)
    email = pw.CharField(max_length=255, default="")
    lower_email = pw.CharField(max_length=255, index=True, default="")  # not unique: users may share one
    active = pw.BooleanField(default=True)
    password_hash = pw.TextField(null=True)  # argon2id via libpass; null = no password login
    time_zone = pw.CharField(max_length=64, default="GMT")
    locale = pw.CharField(max_length=32, default="en_US")
    failed_login_count = pw.IntegerField(default=0)  # changed only by atomic SQL updates
    login_count = pw.IntegerField(default=0)
    last_login = pw.BigIntegerField(default=0)  # epoch ms
    last_failed_login = pw.BigIntegerField(default=0)
    created = pw.BigIntegerField()


class Group(BaseModel):
    class Meta:
        table_name = "host_group"

    name = pw.CharField(max_length=255)
    lower_name = pw.CharField(max_length=255, unique=True)


class Membership(BaseModel):
    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="memberships")
    group = pw.ForeignKeyField(Group, on_delete="CASCADE", backref="memberships")

    class Meta:
        table_name = "host_membership"
        indexes = ((("user", "group"), True),)


class Session(BaseModel):
    """A cookie session. Only a digest of the cookie value is stored."""

    digest = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    created = pw.BigIntegerField()
    expires = pw.BigIntegerField()
    read_only = pw.BooleanField(default=False)
    # Which credential produced the session (e.g. "password", "token:42"); informative only.
    origin = pw.CharField(max_length=64, default="password")

    class Meta:
        table_name = "host_session"


class Setting(BaseModel):
    """Host and plugin settings, namespaced ``<owner>:<name>``, values as JSON text."""

    key = pw.CharField(max_length=255, primary_key=True)
    value = pw.TextField()

    class Meta:
        table_name = "host_setting"


class PluginState(BaseModel):
    key = pw.CharField(max_length=255, primary_key=True)
    enabled = pw.BooleanField(default=True)

    class Meta:
        table_name = "host_plugin_state"


class Sequence(BaseModel):
    name = pw.CharField(max_length=64, primary_key=True)
    value = pw.BigIntegerField()

    class Meta:
        table_name = "host_sequence"


class SchemaMigration(BaseModel):
    component = pw.CharField(max_length=255)
    number = pw.IntegerField()
    name = pw.CharField(max_length=255)
    applied = pw.BigIntegerField()

    class Meta:
        table_name = "host_schema_migration"
        indexes = ((("component", "number"), True),)


class AuditRecord(BaseModel):
    """The host's audit log (Jira's shape). Plugins write to it through ``host.audit``."""

    created = pw.BigIntegerField(index=True)  # epoch ms
    category = pw.CharField(max_length=255, index=True)
    summary = pw.CharField(max_length=255)
    event_source = pw.CharField(max_length=255)  # "host" or a plugin key
    author_key = pw.CharField(max_length=255, null=True, index=True)
    remote_address = pw.CharField(max_length=64, null=True)
    object_item = pw.TextField(null=True)  # JSON {id, name, typeName, parentId?, parentName?}
    changed_values = pw.TextField(default="[]")  # JSON [{fieldName, changedFrom, changedTo}]
    associated_items = pw.TextField(default="[]")  # JSON [{id, name, typeName, ...}]
    search_text = pw.TextField(default="")  # lower-cased summary, category, names: for the text filter

    class Meta:
        table_name = "host_audit_record"


class CaptchaChallenge(BaseModel):
    """A login captcha: only a keyed digest of the answer is kept; each challenge takes one attempt."""

    id = pw.CharField(max_length=64, primary_key=True)
    digest = pw.CharField(max_length=64)
    username = pw.CharField(max_length=255)  # lower-cased
    expires = pw.BigIntegerField(index=True)  # epoch ms
    used = pw.BooleanField(default=False)
    image = pw.BlobField()  # the PNG, so that any worker or node can serve it

    class Meta:
        table_name = "host_captcha_challenge"


HOST_MODELS = [
    User,
    Group,
    Membership,
    Session,
    Setting,
    PluginState,
    Sequence,
    SchemaMigration,
    AuditRecord,
    CaptchaChallenge,
]
