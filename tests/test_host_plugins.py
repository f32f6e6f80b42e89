"""Plugins: the plugin-manager REST (1.5), enabling/disabling (1.6), and every host hook with throwaway plugins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import falcon
import peewee
import pytest
import webtest

import host
from host import hookspecs
from host.app import RouteCollision
from host.db import BaseModel
from host.errors import AuthenticationFailed
from host.hookspecs import hookimpl
from host.jsonio import send_json
from host.migrations import Migration
from host.models import SchemaMigration
from host.permissions import PermissionType
from host.settings import SettingDefinition
from host.web import WebItem
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer
from tests.host_helpers import NOT_AUTHENTICATED, assert_envelope, assert_json, failed_count, login
from tests.web_helpers import nav_labels, new_app, web_login

PLUGINS = "/rest/plugins/1.0/"
TOKEN_PLUGIN = "de.resolution.apitokenauth"
ONE = f"/rest/plugins/1.0/{TOKEN_PLUGIN}-key"
REC = "test.recording"
REC_ONE = f"/rest/plugins/1.0/{REC}-key"
REC_ROUTE = "/rest/recording/1.0/ping"
MAGIC = "magic-value-for-alice"


# ----- a throwaway plugin implementing every hook --------------------------------------------------------------------
class RecordingItem(BaseModel):
    class Meta:
        table_name = "recording_item"

    label = peewee.CharField(max_length=64)


class Ping:
    """A plugin route: who is calling."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_json(resp, {"pong": req.context.actor.name})


class RecordingPlugin:
    PLUGIN_NAME = "Recording Test Plugin"

    def __init__(self) -> None:
        self.__version__ = "0.1.2"
        self.calls: list[tuple[Any, ...]] = []
        self.reject_basic_for: set[str] = set()
        self.veto_passwords = False

    refuse_after_auth: tuple[str, ...] = ()

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    @hookimpl
    def authenticate(self, request, credentials, host):
        self.calls.append(("authenticate", credentials.scheme, credentials.username))
        if credentials.scheme == "bearer" and credentials.secret == MAGIC:
            found = host.users.auth_row_by_name("alice")
            assert found is not None
            return host.auth.actor_for(found[0], "magic")
        if credentials.scheme == "basic" and (credentials.username or "").lower() in self.reject_basic_for:
            raise AuthenticationFailed(reason="the recording plugin refuses this user")
        return None

    @hookimpl
    def authenticated(self, request, credentials, actor, host):
        self.calls.append(("authenticated", credentials.scheme, actor.name, actor.method))
        if actor.name in self.refuse_after_auth:
            raise AuthenticationFailed(reason="the recording plugin refuses this user after authentication")

    @hookimpl
    def permission_denied(self, request, actor, reason, host):
        self.calls.append(("permission_denied", actor.name if actor else None, reason))

    @hookimpl
    def password_login_allowed(self, request, user, host, channel):
        self.calls.append(("password_login_allowed", user.name, channel))
        return False if self.veto_passwords else None

    @hookimpl
    def register_routes(self, host):
        self.calls.append(("register_routes",))
        return [(REC_ROUTE, Ping())]

    @hookimpl
    def register_web_items(self, host):
        self.calls.append(("register_web_items",))
        return [WebItem("Recorder", REC_ROUTE, lambda actor: "developers" in actor.groups)]

    @hookimpl
    def register_permission_types(self, host):
        self.calls.append(("register_permission_types",))
        return [PermissionType("recording.use", "Use the recorder", default_groups=("developers",))]

    @hookimpl
    def register_settings(self, host):
        self.calls.append(("register_settings",))

        def validate(value: Any) -> str:
            if not isinstance(value, str):
                raise TypeError("must be a string")
            return value

        return [SettingDefinition("greeting", "hello", validate)]

    @hookimpl
    def register_models(self, host):
        self.calls.append(("register_models",))
        return [RecordingItem]

    @hookimpl
    def register_migrations(self, host):
        self.calls.append(("register_migrations",))
        return [Migration(1, "recording table", lambda db: db.create_tables([RecordingItem]))]

    @hookimpl
    def register_commands(self, subparsers):
        self.calls.append(("register_commands",))
        parser = subparsers.add_parser("rec-count-users", help="print how many users there are")
        parser.add_argument("--active-only", action="store_true")

        def handler(host, args):
            self.calls.append(("command", host, args.active_only))
            print(host.users.search(".", start=0, limit=1000, include_active=True, include_inactive=not args.active_only).__len__())
            return 7

        parser.set_defaults(handler=handler)

    @hookimpl
    def startup(self, host):
        self.calls.append(("startup", host))

    @hookimpl
    def plugin_enabled(self, host, plugin_key):
        self.calls.append(("plugin_enabled", plugin_key))

    @hookimpl
    def plugin_disabled(self, host, plugin_key):
        self.calls.append(("plugin_disabled", plugin_key))

    @hookimpl
    def user_deleted(self, host, user_key):
        self.calls.append(("user_deleted", user_key))


@pytest.fixture
def recorder() -> RecordingPlugin:
    return RecordingPlugin()


@pytest.fixture
def rec_host(make_host, recorder):
    return make_host(extra_plugins=((REC, recorder),))


@pytest.fixture
def rec_app(rec_host) -> webtest.TestApp:
    return webtest.TestApp(rec_host.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


class RoutePlugin:
    def __init__(self, *templates: str) -> None:
        self.templates = templates

    @hookimpl
    def register_routes(self, host):
        return [(t, Ping()) for t in self.templates]


# ----- the plugin manager REST ---------------------------------------------------------------------------------------
def test_list_plugins(app):
    resp = app.get(PLUGINS, headers=ADMIN, status=200)
    assert_json(resp)
    plugins = {p["key"]: p for p in resp.json["plugins"]}
    assert plugins[TOKEN_PLUGIN] == {
        "key": TOKEN_PLUGIN,
        "name": "API Token Authentication",
        "version": "1.5.0",
        "enabled": True,
    }
    for plugin in resp.json["plugins"]:
        assert set(plugin) == {"key", "name", "version", "enabled"}


def test_list_plugins_without_trailing_slash(app):
    assert TOKEN_PLUGIN in [p["key"] for p in app.get("/rest/plugins/1.0", headers=ADMIN, status=200).json["plugins"]]


def test_list_includes_extra_plugins(rec_app):
    plugins = {p["key"]: p for p in rec_app.get(PLUGINS, headers=ADMIN, status=200).json["plugins"]}
    assert plugins[REC] == {"key": REC, "name": "Recording Test Plugin", "version": "0.1.2", "enabled": True}
    assert TOKEN_PLUGIN in plugins


def test_get_one_plugin(app):
    resp = app.get(ONE, headers=ADMIN, status=200)
    assert_json(resp)
    assert resp.json == {"key": TOKEN_PLUGIN, "name": "API Token Authentication", "version": "1.5.0", "enabled": True}


@pytest.mark.parametrize("path", [PLUGINS, ONE])
def test_plugin_manager_permissions(app, path):
    resp = app.get(path, headers=ALICE, status=403)
    assert_json(resp)
    assert_envelope(app.get(path, status=401), NOT_AUTHENTICATED)


def test_put_plugin_permissions(app):
    app.put_json(ONE, {"enabled": False}, headers=ALICE, status=403)
    app.put_json(ONE, {"enabled": False}, status=401)
    assert app.get(ONE, headers=ADMIN, status=200).json["enabled"] is True


def test_unknown_plugin(app):
    resp = app.get("/rest/plugins/1.0/com.example.nothing-key", headers=ADMIN, status=404)
    assert_json(resp)
    app.put_json("/rest/plugins/1.0/com.example.nothing-key", {"enabled": False}, headers=ADMIN, status=404)


@pytest.mark.parametrize(
    "body",
    [{"enabled": "false"}, {"enabled": 0}, {"enabled": None}, {}, {"enabled": False, "colour": "red"}],
)
def test_put_plugin_bad_body(app, body):
    resp = app.put_json(ONE, body, headers=ADMIN, status=400)
    assert_json(resp)
    assert resp.json["errors"]
    assert app.get(ONE, headers=ADMIN, status=200).json["enabled"] is True


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"[false]", "application/json", 400),
        (b"nope", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"enabled":false}', "text/plain", 415),
    ],
)
def test_put_plugin_bad_raw_body(app, raw, content_type, status):
    app.put(ONE, raw, headers={**ADMIN, "Content-Type": content_type}, status=status)
    assert app.get(ONE, headers=ADMIN, status=200).json["enabled"] is True


# ----- disabling the token plugin ------------------------------------------------------------------------------------
def test_disable_and_enable_token_plugin(app, host, create_token):
    token = create_token(ADMIN, tokenDescription="toggle")["plainTextToken"]
    alice_token = create_token(ALICE, tokenDescription="toggle")["plainTextToken"]
    app.get(f"{P}/user/token", headers=ADMIN, status=200)

    resp = app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    assert resp.json == {"key": TOKEN_PLUGIN, "name": "API Token Authentication", "version": "1.5.0", "enabled": False}
    assert app.get(ONE, headers=ADMIN, status=200).json["enabled"] is False
    assert {p["key"]: p["enabled"] for p in app.get(PLUGINS, headers=ADMIN, status=200).json["plugins"]}[
        TOKEN_PLUGIN
    ] is False

    # Its routes answer 404, as if they did not exist.
    resp = app.get(f"{P}/user/token", headers=ADMIN, status=404)
    assert_json(resp)
    app.get(f"{P}/user/token", status=404)
    app.post_json(f"{P}/user/token", {"tokenDescription": "x"}, headers=ADMIN, status=404)
    # ...but rejected credentials still get 401 there.
    app.get(f"{P}/user/token", headers=basic("admin", "wrong"), status=401)

    # A Bearer token authenticates nobody.
    resp = app.get("/rest/api/2/myself", headers=bearer(token), status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")

    # Basic user:token falls through to the password check and counts as a failed login.
    assert failed_count(host, "alice") == 0
    resp = app.get("/rest/api/2/myself", headers=basic("alice", alice_token), status=401)
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")
    assert failed_count(host, "alice") == 1
    app.post_json("/rest/auth/1/session", {"username": "alice", "password": alice_token}, status=401)
    assert failed_count(host, "alice") == 2

    # Passwords still work.
    app.get("/rest/api/2/myself", headers=ADMIN, status=200)

    # Re-enabled: the same tokens work again.
    assert app.put_json(ONE, {"enabled": True}, headers=ADMIN, status=200).json["enabled"] is True
    assert app.get("/rest/api/2/myself", headers=bearer(token), status=200).json["name"] == "admin"
    assert app.get("/rest/api/2/myself", headers=basic("alice", alice_token), status=200).json["name"] == "alice"
    tokens = app.get(f"{P}/user/token", headers=ADMIN, status=200).json
    assert tokens  # its data was kept


def test_disable_twice_is_harmless(app):
    app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    assert app.get(ONE, headers=ADMIN, status=200).json["enabled"] is False


def test_disabled_state_is_persisted(app, make_host, create_token):
    token = create_token(ADMIN, tokenDescription="persist")["plainTextToken"]
    app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    other = make_host()  # another node on the same database file
    assert other.plugins.is_enabled(TOKEN_PLUGIN) is False
    other_app = webtest.TestApp(other.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    assert other_app.get(ONE, headers=ADMIN, status=200).json["enabled"] is False
    other_app.get(f"{P}/user/token", headers=ADMIN, status=404)
    other_app.get("/rest/api/2/myself", headers=bearer(token), status=401)
    other_app.put_json(ONE, {"enabled": True}, headers=ADMIN, status=200)
    assert make_host().plugins.is_enabled(TOKEN_PLUGIN) is True


def test_session_survives_plugin_disable(app):
    value = login(app, "alice", "alice")
    app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    app.get("/rest/api/2/myself", headers={"Cookie": f"JSESSIONID={value}"}, status=200)


# ----- route registration and collisions -----------------------------------------------------------------------------
def test_hook_register_routes(rec_app, recorder):
    assert recorder.called("register_routes") == [("register_routes",)]
    resp = rec_app.get(REC_ROUTE, headers=BOB, status=200)
    assert resp.json == {"pong": "bob"}
    assert resp.headers["X-AUSERNAME"] == "bob"
    # Host rules apply to plugin routes: anonymous is refused, trailing slash tolerated.
    assert_envelope(rec_app.get(REC_ROUTE, status=401), NOT_AUTHENTICATED)
    rec_app.get(REC_ROUTE + "/", headers=BOB, status=200)


def test_disabled_plugin_routes_answer_404(rec_app):
    rec_app.put_json(REC_ONE, {"enabled": False}, headers=ADMIN, status=200)
    rec_app.get(REC_ROUTE, headers=BOB, status=404)
    rec_app.get(REC_ROUTE, status=404)
    rec_app.put_json(REC_ONE, {"enabled": True}, headers=ADMIN, status=200)
    rec_app.get(REC_ROUTE, headers=BOB, status=200)


@pytest.mark.parametrize(
    "template",
    [
        "/rest/api/2/myself",
        "/rest/api/2/myself/",
        "/rest/auth/1/session",
        "/rest/plugins/1.0/{other}-key",
        f"{P}/user/token",
    ],
)
def test_route_colliding_with_an_existing_route_is_refused(make_host, template):
    with pytest.raises(RouteCollision):
        make_host(extra_plugins=(("test.collider", RoutePlugin(template)),))


def test_two_plugins_claiming_one_route(make_host):
    with pytest.raises(RouteCollision):
        make_host(
            extra_plugins=(("test.one", RoutePlugin("/rest/x/1/thing")), ("test.two", RoutePlugin("/rest/x/1/thing")))
        )


def test_plugin_registering_a_route_twice(make_host):
    with pytest.raises(RouteCollision):
        make_host(extra_plugins=(("test.twice", RoutePlugin("/rest/x/1/a", "/rest/x/1/a/")),))


def test_plugin_routes_that_do_not_collide(make_host):
    host = make_host(extra_plugins=(("test.fine", RoutePlugin("/rest/x/1/a", "/rest/x/1/b/{id}")),))
    app = webtest.TestApp(host.app)
    assert app.get("/rest/x/1/a", headers=ALICE, status=200).json == {"pong": "alice"}


# ----- authentication hooks ------------------------------------------------------------------------------------------
def test_hook_authenticate_claims_a_custom_bearer_value(rec_app, recorder):
    resp = rec_app.get("/rest/api/2/myself", headers=bearer(MAGIC), status=200)
    assert resp.json["name"] == "alice"
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == "alice"
    assert ("authenticate", "bearer", None) in recorder.calls
    # Any other Bearer value is not the recorder's: another hook rejects it.
    rec_app.get("/rest/api/2/myself", headers=bearer("magic-value-for-bob"), status=401)


def test_hook_authenticate_sees_basic_before_the_password_check(rec_app, recorder):
    rec_app.get("/rest/api/2/myself", headers=BOB, status=200)
    assert ("authenticate", "basic", "bob") in recorder.calls


def test_hook_authenticate_rejection_stops_the_password_check(rec_app, rec_host, recorder, monkeypatch):
    verified: list[str] = []
    real_verify = rec_host.hasher.verify
    monkeypatch.setattr(rec_host.hasher, "verify", lambda pw, h: verified.append(pw) or real_verify(pw, h))
    recorder.reject_basic_for = {"alice"}
    resp = rec_app.get("/rest/api/2/myself", headers=ALICE, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert verified == []
    assert failed_count(rec_host, "alice") == 0
    rec_app.get("/rest/api/2/myself", headers=BOB, status=200)
    assert verified == ["bob"]


def test_disabled_plugin_authenticate_is_not_called(rec_app, recorder):
    rec_app.put_json(REC_ONE, {"enabled": False}, headers=ADMIN, status=200)
    recorder.calls.clear()
    rec_app.get("/rest/api/2/myself", headers=bearer(MAGIC), status=401)
    rec_app.get("/rest/api/2/myself", headers=BOB, status=200)
    assert recorder.called("authenticate") == []
    assert recorder.called("password_login_allowed") == []


def test_hook_password_login_allowed_veto(rec_app, rec_host, recorder):
    recorder.veto_passwords = True
    resp = rec_app.get("/rest/api/2/myself", headers=ALICE, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert failed_count(rec_host, "alice") == 0  # the secret was right: no counter change
    assert ("password_login_allowed", "alice", "rest") in recorder.calls
    resp = rec_app.post_json("/rest/auth/1/session", {"username": "alice", "password": "alice"}, status=401)
    assert resp.json["errorMessages"] == ["Login failed"]
    assert failed_count(rec_host, "alice") == 0
    assert ("password_login_allowed", "alice", "session") in recorder.calls
    # A wrong password is a failed login as before (the veto is only asked about correct passwords).
    recorder.calls.clear()
    rec_app.get("/rest/api/2/myself", headers=basic("alice", "wrong"), status=401)
    assert failed_count(rec_host, "alice") == 1
    assert recorder.called("password_login_allowed") == []
    recorder.veto_passwords = False
    rec_app.get("/rest/api/2/myself", headers=ALICE, status=200)


def test_password_veto_does_not_reset_the_counter(rec_app, rec_host, recorder):
    rec_app.get("/rest/api/2/myself", headers=basic("alice", "wrong"), status=401)
    recorder.veto_passwords = True
    rec_app.get("/rest/api/2/myself", headers=ALICE, status=401)
    assert failed_count(rec_host, "alice") == 1


# ----- registration hooks ---------------------------------------------------------------------------------------------
def test_hook_register_permission_types(rec_host, recorder):
    assert recorder.called("register_permission_types") == [("register_permission_types",)]
    assert "recording.use" in [t.key for t in rec_host.permissions.types()]
    assert rec_host.permissions.grant("recording.use") == {"everyone": False, "groups": ["developers"]}
    alice = rec_host.auth.actor_for(rec_host.users.auth_row_by_name("alice")[0], "password")
    carol = rec_host.auth.actor_for(rec_host.users.auth_row_by_name("carol")[0], "password")
    assert rec_host.permissions.has(alice, "recording.use") is True
    assert rec_host.permissions.has(carol, "recording.use") is False


def test_hook_register_settings(rec_host, recorder):
    assert recorder.called("register_settings") == [("register_settings",)]
    assert rec_host.settings.get(REC, "greeting") == "hello"
    rec_host.settings.update(REC, {"greeting": "hi"})
    assert rec_host.settings.get(REC, "greeting") == "hi"
    with pytest.raises(ValueError):
        rec_host.settings.update(REC, {"greeting": 5})
    assert rec_host.settings.get(REC, "greeting") == "hi"


def test_hook_register_migrations(rec_host, recorder):
    assert recorder.called("register_migrations")
    assert "recording_item" in rec_host.db.get_tables()
    done = SchemaMigration.select().where(SchemaMigration.component == REC)
    assert [(m.number, m.name) for m in done] == [(1, "recording table")]
    # Applied once only: a second node on the same database applies nothing.
    assert rec_host.migrate()[REC] == []


def test_hook_register_models(rec_host, recorder):
    assert recorder.called("register_models")
    assert rec_host.plugin_models()[REC] == [RecordingItem]
    RecordingItem.create(label="works")
    assert [i.label for i in RecordingItem.select()] == ["works"]


class ModelWithoutMigration:
    class Orphan(BaseModel):
        class Meta:
            table_name = "orphan_without_migration"

        x = peewee.IntegerField()

    @hookimpl
    def register_models(self, host):
        return [self.Orphan]


def test_model_without_migration_fails_at_start(make_host):
    with pytest.raises(RuntimeError, match="orphan_without_migration"):
        make_host(extra_plugins=(("test.orphan", ModelWithoutMigration()),))


# ----- lifecycle hooks ----------------------------------------------------------------------------------------------------
def test_hook_startup(rec_host, recorder):
    assert recorder.called("startup") == [("startup", rec_host)]
    assert rec_host.app is not None


def test_hook_plugin_disabled(rec_app, recorder):
    rec_app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    assert recorder.called("plugin_disabled") == [("plugin_disabled", TOKEN_PLUGIN)]
    rec_app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)  # no change, no notification
    assert len(recorder.called("plugin_disabled")) == 1
    assert recorder.called("plugin_enabled") == []
    # A plugin hears about its own state too.
    rec_app.put_json(REC_ONE, {"enabled": False}, headers=ADMIN, status=200)
    assert recorder.called("plugin_disabled")[-1] == ("plugin_disabled", REC)


def test_hook_plugin_enabled(rec_app, recorder):
    rec_app.put_json(ONE, {"enabled": True}, headers=ADMIN, status=200)  # already enabled: no notification
    assert recorder.called("plugin_enabled") == []
    rec_app.put_json(ONE, {"enabled": False}, headers=ADMIN, status=200)
    rec_app.put_json(ONE, {"enabled": True}, headers=ADMIN, status=200)
    assert recorder.called("plugin_enabled") == [("plugin_enabled", TOKEN_PLUGIN)]
    rec_app.put_json(REC_ONE, {"enabled": False}, headers=ADMIN, status=200)
    rec_app.put_json(REC_ONE, {"enabled": True}, headers=ADMIN, status=200)
    assert recorder.called("plugin_enabled")[-1] == ("plugin_enabled", REC)


def test_hook_user_deleted(rec_app, recorder):
    rec_app.delete("/rest/api/2/user?username=bob", headers=ADMIN, status=204)
    assert recorder.called("user_deleted") == [("user_deleted", "JIRAUSER10101")]
    rec_app.delete("/rest/api/2/user?username=bob", headers=ADMIN, status=404)
    assert len(recorder.called("user_deleted")) == 1


# ----- discovery ------------------------------------------------------------------------------------------------------
def test_token_plugin_comes_from_the_entry_point_group(make_host):
    host = make_host(load_entrypoints=False)
    assert TOKEN_PLUGIN not in host.plugins.infos
    app = webtest.TestApp(host.app)
    assert app.get(PLUGINS, headers=ADMIN, status=200).json == {"plugins": []}
    app.get(f"{P}/user/token", headers=ADMIN, status=404)


def test_no_host_module_imports_a_plugin():
    pattern = re.compile(r"^\s*(from|import)\s+plugins\b", re.MULTILINE)
    offenders = [p.name for p in Path(host.__file__).parent.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


# ----- meta ------------------------------------------------------------------------------------------------------------------
def hookspec_names() -> set[str]:
    return {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "host_spec")}


def test_every_hookspec_is_implemented_by_the_test_plugin_and_tested():
    specs = hookspec_names()
    assert specs  # the marker attribute is what we think it is
    implemented = {name for name in dir(RecordingPlugin) if hasattr(getattr(RecordingPlugin, name), "host_impl")}
    assert implemented == specs
    tests = [name for name in globals() if name.startswith("test_")]
    untested = sorted(s for s in specs if not any(t.startswith(f"test_hook_{s}") for t in tests))
    assert untested == []


def test_every_hookspec_is_documented():
    for name in hookspec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_hook_register_commands(recorder, tmp_path, capsys):
    from host.cli import main

    assert main(["load-fixtures", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    code = main(["rec-count-users", "--active-only", "--data-dir", str(tmp_path)], extra_plugins=((REC, recorder),))
    assert code == 7
    assert capsys.readouterr().out.strip() == "6"  # the demo fixtures hold 7 users, one of them inactive
    (command,) = recorder.called("command")
    assert command[2] is True and command[1].config.data_dir == tmp_path.resolve()


def test_hook_authenticated_sees_every_credential_and_may_refuse(rec_app, rec_host, recorder, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    rec_app.get("/rest/api/2/myself", headers=ALICE, status=200)
    rec_app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    assert recorder.called("authenticated") == [
        ("authenticated", "basic", "alice", "password"),
        ("authenticated", "bearer", "alice", "token"),
    ]
    recorder.refuse_after_auth = ("alice",)
    resp = rec_app.get("/rest/api/2/myself", headers=bearer(token), status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    rec_app.get("/rest/api/2/myself", headers=ALICE, status=401)
    rec_app.get("/rest/api/2/myself", headers=BOB, status=200)
    # Session cookies were authenticated when the session was made: the hook is not asked again.
    recorder.refuse_after_auth = ()
    cookie = rec_app.post_json("/rest/auth/1/session", {"username": "alice", "password": "alice"}, status=200)
    recorder.calls.clear()
    recorder.refuse_after_auth = ("alice",)
    rec_app.get("/rest/api/2/myself", headers={"Cookie": f"JSESSIONID={cookie.json['session']['value']}"}, status=200)
    assert recorder.called("authenticated") == []


def test_hook_permission_denied_is_told_about_403s(rec_app, recorder):
    rec_app.post_json("/rest/api/2/group", {"name": "x"}, headers=ALICE, status=403)
    ((_, name, reason),) = recorder.called("permission_denied")
    assert name == "alice" and "administrators" in reason
    recorder.calls.clear()
    rec_app.get("/rest/api/2/myself", headers=ALICE, status=200)
    rec_app.get("/rest/api/2/nope", headers=ALICE, status=404)
    assert recorder.called("permission_denied") == []


def test_hook_register_web_items_fills_the_navigation_bar(rec_host, recorder):
    alice, admin = new_app(rec_host), new_app(rec_host)
    web_login(alice, "alice", "alice")
    web_login(admin, "admin", "admin")
    assert "Recorder" in nav_labels(alice.get("/secure/Dashboard", status=200))  # alice is in "developers"
    assert recorder.called("register_web_items")
    assert "Recorder" not in nav_labels(admin.get("/secure/Dashboard", status=200))  # visible() said no
    admin.put_json(REC_ONE, {"enabled": False}, headers=ADMIN, status=200)
    assert "Recorder" not in nav_labels(alice.get("/secure/Dashboard", status=200))  # disabled: not asked
