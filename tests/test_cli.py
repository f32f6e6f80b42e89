"""The command line, ``python -m host <command>`` (contract 1.1), driven through ``host.cli.main``.

The CLI hashes with the real argon2 parameters, so these tests create few passwords.
"""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest
import webtest

from host.app import create_app
from host.cli import main
from host.config import Config, load_or_create_secret
from host.models import User
from host.passwords import FAST_TEST_PARAMS, PasswordHasher
from tests.conftest import BASE_URL, basic

TOKEN_PLUGIN = "de.resolution.apitokenauth"


@pytest.fixture(autouse=True)
def _no_host_environment(monkeypatch):
    for name in ("HOST_DATA_DIR", "HOST_DATABASE_URL", "HOST_BASE_URL", "HOST_SECRET", "HOST_BIND", "HOST_WORKERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(tmp_path, capsys):
    """Run the CLI against a data folder under tmp_path; returns (exit code, stdout, stderr)."""
    data_dir = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        command, *rest = args
        code = main([command, "--data-dir", str(data_dir), *rest])
        out, err = capsys.readouterr()
        return code, out, err

    run.data_dir = data_dir  # type: ignore[attr-defined]
    return run


def open_host(data_dir: Path):
    """The database the CLI wrote to, as an in-process host (cheap hashing for anything new)."""
    config = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir.resolve() / 'host.sqlite3'}",
        base_url=BASE_URL,
        secret=load_or_create_secret(data_dir),  # the CLI's own secret: the database remembers its fingerprint
    )
    return create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS))


def test_migrate(cli):
    code, out, _ = cli("migrate")
    assert code == 0
    assert out.splitlines() == ["host: applied 1, 2, 3", f"{TOKEN_PLUGIN}: applied 1, 2, 3"]
    code, out, _ = cli("migrate")
    assert code == 0
    assert out.splitlines() == ["host: up to date", f"{TOKEN_PLUGIN}: up to date"]
    code, out, _ = cli("init-db")
    assert code == 0
    assert "host: up to date" in out
    host = open_host(cli.data_dir)
    assert {"host_user", "host_session", "host_setting"} <= set(host.db.get_tables())
    assert User.select().count() == 0


def test_secret_is_generated_once_and_private(cli):
    cli("migrate")
    secret = cli.data_dir / "secret.key"
    first = secret.read_text()
    assert len(first.strip()) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    cli("list-plugins")
    assert secret.read_text() == first


def test_load_fixtures(cli):
    code, out, _ = cli("load-fixtures")
    assert code == 0
    assert out.strip() == "created 7 users"
    code, out, _ = cli("load-fixtures")
    assert code == 0
    assert out.strip() == "created 0 users"
    host = open_host(cli.data_dir)
    admin = host.users.by_name("admin")
    assert admin.key == "admin"
    assert host.users.groups_of(admin) == ["jira-administrators", "jira-software-users"]
    assert host.users.by_name("frank").active is False
    assert host.users.by_name("Émile Zoë").key == "JIRAUSER10104"
    app = webtest.TestApp(host.app)
    assert app.get("/rest/api/2/myself", headers=basic("admin", "admin"), status=200).json["key"] == "admin"


def test_load_fixtures_from_a_file(cli, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "groups": ["ops"],
                "users": [
                    {"name": "olga", "displayName": "Olga Ops", "emailAddress": "olga@example.com", "groups": ["ops"]}
                ],
            }
        )
    )
    code, out, _ = cli("load-fixtures", str(path))
    assert code == 0
    assert out.strip() == "created 1 users"
    host = open_host(cli.data_dir)
    olga = host.users.by_name("olga")
    assert olga.key.startswith("JIRAUSER")
    assert host.users.groups_of(olga) == ["ops"]


def test_create_user_with_password_stdin(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret: with spaces\n"))
    code, out, err = cli(
        "create-user",
        "newbie",
        "--email",
        "newbie@example.com",
        "--display-name",
        "New Bie",
        "--group",
        "ops",
        "--password-stdin",
    )
    assert code == 0, err
    created = json.loads(out)
    assert created == {"key": "JIRAUSER10100", "name": "newbie"}
    host = open_host(cli.data_dir)
    user = host.users.by_name("newbie")
    assert (user.display_name, user.email, user.active) == ("New Bie", "newbie@example.com", True)
    assert host.users.groups_of(user) == ["ops"]
    app = webtest.TestApp(host.app)
    app.get("/rest/api/2/myself", headers=basic("newbie", "s3cret: with spaces"), status=200)
    app.get("/rest/api/2/myself", headers=basic("newbie", "s3cret: with spaces\n"), status=401)


def test_create_user_with_password_flag_and_errors(cli, monkeypatch):
    code, out, err = cli("create-user", "Zoë", "--email", "zoe@example.com", "--password", "pw")
    assert code == 0, err
    assert json.loads(out)["name"] == "Zoë"
    # Duplicate in another case.
    code, out, err = cli("create-user", "ZOË", "--email", "z@example.com", "--password", "pw")
    assert code != 0
    assert "A user with that username already exists." in err
    # Invalid name and email: a message, no traceback, nothing created.
    code, _, err = cli("create-user", "bad:name", "--email", "b@example.com", "--password", "pw")
    assert code != 0 and "':'" in err and "Traceback" not in err
    code, _, err = cli("create-user", "okname", "--email", "not-an-email", "--password", "pw")
    assert code != 0 and "email" in err
    host = open_host(cli.data_dir)
    assert [u.name for u in User.select()] == ["Zoë"]
    assert host.users.by_name("Zoë").display_name == "Zoë"  # defaults to the name


def test_create_user_without_password_when_stdin_is_not_a_terminal(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = cli("create-user", "robot", "--email", "robot@example.com")
    assert code == 0, err
    assert json.loads(out)["name"] == "robot"
    host = open_host(cli.data_dir)
    assert host.users.by_name("robot").password_hash is None


def test_add_to_group_and_reset_failed_logins(cli, monkeypatch):
    cli("create-user", "ann", "--email", "ann@example.com", "--password", "ann")
    code, out, _ = cli("add-to-group", "ANN", "jira-administrators")
    assert code == 0
    assert out.strip() == "ann added to jira-administrators"
    code, out, _ = cli("add-to-group", "ann", "jira-administrators")
    assert code == 0
    assert out.strip() == "ann was already in jira-administrators"

    host = open_host(cli.data_dir)
    app = webtest.TestApp(host.app)
    for _ in range(3):
        app.get("/rest/api/2/myself", headers=basic("ann", "wrong"), status=401)
    app.get("/rest/api/2/myself", headers=basic("ann", "ann"), status=403)  # captcha lock
    host.db.close()

    code, out, _ = cli("reset-failed-logins", "ann")
    assert code == 0
    assert out.strip() == "failed-login count of ann reset to 0"
    host = open_host(cli.data_dir)
    assert host.users.by_name("ann").failed_login_count == 0
    app = webtest.TestApp(host.app)
    # Group membership from the CLI makes her a sysadmin.
    app.get("/rest/api/2/settings/authentication", headers=basic("ann", "ann"), status=200)


@pytest.mark.parametrize(
    "args",
    [
        ("add-to-group", "ghost", "developers"),
        ("reset-failed-logins", "ghost"),
        ("set-password", "ghost", "--password", "x"),
    ],
)
def test_unknown_user(cli, args):
    cli("migrate")
    code, _, err = cli(*args)
    assert code != 0
    assert "The user named 'ghost' does not exist" in err
    assert "Traceback" not in err


def test_set_password(cli):
    cli("create-user", "pat", "--email", "pat@example.com", "--password", "old")
    code, out, _ = cli("set-password", "pat", "--password", "new")
    assert code == 0
    assert out.strip() == "password of pat changed"
    app = webtest.TestApp(open_host(cli.data_dir).app)
    app.get("/rest/api/2/myself", headers=basic("pat", "new"), status=200)
    app.get("/rest/api/2/myself", headers=basic("pat", "old"), status=401)


def test_plugins(cli):
    code, out, _ = cli("list-plugins")
    assert code == 0
    assert f"{TOKEN_PLUGIN}\t1.5.0\tenabled\tAPI Token Authentication" in out.splitlines()

    code, out, _ = cli("disable-plugin", TOKEN_PLUGIN)
    assert code == 0
    assert out.strip() == f"{TOKEN_PLUGIN} disabled"
    _, out, _ = cli("list-plugins")
    assert f"{TOKEN_PLUGIN}\t1.5.0\tdisabled\tAPI Token Authentication" in out.splitlines()
    host = open_host(cli.data_dir)
    assert host.plugins.is_enabled(TOKEN_PLUGIN) is False
    host.db.close()

    code, out, _ = cli("enable-plugin", TOKEN_PLUGIN)
    assert code == 0
    assert out.strip() == f"{TOKEN_PLUGIN} enabled"
    _, out, _ = cli("list-plugins")
    assert f"{TOKEN_PLUGIN}\t1.5.0\tenabled\tAPI Token Authentication" in out.splitlines()
    assert open_host(cli.data_dir).plugins.is_enabled(TOKEN_PLUGIN) is True


def test_unknown_plugin(cli):
    code, _, err = cli("disable-plugin", "com.example.nothing")
    assert code != 0
    assert "com.example.nothing" in err and TOKEN_PLUGIN in err
    code, _, err = cli("enable-plugin", "com.example.nothing")
    assert code != 0


def test_unknown_command_and_missing_arguments(cli):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code != 0
    with pytest.raises(SystemExit) as exc:
        main(["create-user", "x"])  # --email is required
    assert exc.value.code != 0
