"""``python -m host tokens list/revoke/revoke-all/settings/set`` (the plugin's CLI commands), driven through
``host.cli.main`` against a data folder, checked against the REST API of an in-process host on the same
database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import webtest

from host.app import create_app
from host.cli import main
from host.config import Config
from host.passwords import FAST_TEST_PARAMS, PasswordHasher
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BASE_URL, P, Clock, bearer

PLUGIN = "de.resolution.apitokenauth"
ALICE_KEY, BOB_KEY, CAROL_KEY = "JIRAUSER10100", "JIRAUSER10101", "JIRAUSER10102"
T0 = 1_893_456_000_000  # 2030-01-01T00:00:00Z
DAY = 86_400_000
FILTER_URL = f"{P}/user/tokensByFilter"


@pytest.fixture(autouse=True)
def _no_host_environment(monkeypatch):
    for name in ("HOST_DATA_DIR", "HOST_DATABASE_URL", "HOST_SECRET", "HOST_BIND", "HOST_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOST_BASE_URL", BASE_URL)  # the CLI's links use the same base URL as the REST host


def open_host(data_dir: Path, clock: Clock | None = None):
    config = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'host.sqlite3'}",
        base_url=BASE_URL,
        secret=(data_dir / "secret.key").read_text().strip().encode(),
    )
    return create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS), clock=clock)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A data folder with the demo fixtures loaded by the CLI (done once: the CLI hashes with real argon2);
    the passwords we log in with are re-hashed cheaply."""
    data_dir = tmp_path_factory.mktemp("cli-template") / "data"
    assert main(["load-fixtures", "--data-dir", str(data_dir)]) == 0
    host = open_host(data_dir)
    for name in ("admin", "alice", "bob", "carol"):
        host.users.set_password(host.users.by_name(name), name)
    host.db.close()
    return data_dir


@pytest.fixture
def data_dir(template, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(template, target)
    return target


@pytest.fixture
def cli(data_dir, capsys):
    """Run ``host tokens <command> --data-dir <data_dir> ...``; returns (exit code, stdout, stderr)."""

    def run(command: str, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["tokens", command, "--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(data_dir, clock):
    """The REST API over the same database (another "process": its settings cache is its own)."""
    host = open_host(data_dir, clock)
    app = webtest.TestApp(host.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    app.host = host
    yield app
    host.db.close()


def create(web, clock, at: int = T0, auth: dict[str, str] = ADMIN, **body: Any) -> dict[str, Any]:
    clock.now = at
    return web.post_json(f"{P}/user/token", body, headers=auth, status=200).json


def works(web, token: dict[str, Any]) -> bool:
    web.host.settings.invalidate()
    status = web.get("/rest/api/2/myself", headers=bearer(token["plainTextToken"]), expect_errors=True).status_int
    assert status in (200, 401)
    return status == 200


# ----- tokens list -------------------------------------------------------------------------------------------------
def test_list_prints_the_envelope_of_tokens_by_filter(cli, web, clock):
    tokens = [
        create(web, clock, T0, tokenDescription="Deploy"),
        create(web, clock, T0 + 1, tokenForUserKey=ALICE_KEY, tokenScope=1, tokenDescription="alice deploy"),
        create(web, clock, T0 + 2, tokenForUserKey=BOB_KEY, tokenDescription="bob"),
    ]
    code, out, err = cli("list")
    assert code == 0, err
    doc = json.loads(out)
    assert doc == web.get(FILTER_URL, {"page": 0, "limit": 50}, headers=ADMIN, status=200).json
    assert [t["id"] for t in doc["content"]] == [t["id"] for t in reversed(tokens)]
    assert doc["total"] == 3
    assert all(t["plainTextToken"] not in out for t in tokens)


def test_list_with_every_filter_matches_the_rest_api(cli, web, clock):
    match = create(
        web, clock, T0, tokenForUserKey=ALICE_KEY, tokenScope=1, tokenDescription="FindMe", tokenValidityTimeInMonths=1
    )
    create(
        web, clock, T0, tokenForUserKey=ALICE_KEY, tokenScope=2, tokenDescription="FindMe", tokenValidityTimeInMonths=1
    )
    bob_match = create(
        web,
        clock,
        T0 + 5,
        tokenForUserKey=BOB_KEY,
        tokenScope=1,
        tokenDescription="findme too",
        tokenValidityTimeInMonths=1,
    )
    create(
        web, clock, T0, tokenForUserKey=CAROL_KEY, tokenScope=1, tokenDescription="findme", tokenValidityTimeInMonths=1
    )
    for token in (match, bob_match):
        clock.now = T0 + DAY
        web.get("/rest/api/2/myself", headers=bearer(token["plainTextToken"]), status=200)
    args = [
        "--user",
        ALICE_KEY,
        "--user",
        BOB_KEY,
        "--description",
        "FINDME",
        "--scope",
        "1",
        "--not-valid-after",
        str(T0 + 40 * DAY),
        "--from-created",
        str(T0),
        "--until-created",
        str(T0 + 5),
        "--from-last-used",
        str(T0 + DAY),
        "--until-last-used",
        str(T0 + DAY),
        "--from-expires-during",
        str(T0 + 31 * DAY),
        "--until-expires-during",
        str(T0 + 31 * DAY + 5),
    ]
    code, out, err = cli("list", *args)
    assert code == 0, err
    doc = json.loads(out)
    assert [t["id"] for t in doc["content"]] == [bob_match["id"], match["id"]]
    rest = web.get(
        FILTER_URL,
        [
            ("userFilter", ALICE_KEY),
            ("userFilter", BOB_KEY),
            ("descriptionFilter", "FINDME"),
            ("tokenScope", "1"),
            ("notValidAfter", str(T0 + 40 * DAY)),
            ("fromCreated", str(T0)),
            ("untilCreated", str(T0 + 5)),
            ("fromLastUsed", str(T0 + DAY)),
            ("untilLastUsed", str(T0 + DAY)),
            ("fromExpiresDuring", str(T0 + 31 * DAY)),
            ("untilExpiresDuring", str(T0 + 31 * DAY + 5)),
            ("page", "0"),
            ("limit", "50"),
        ],
        headers=ADMIN,
        status=200,
    ).json
    assert doc["content"] == rest["content"]
    assert doc["total"] == rest["total"] == 2
    # each filter on its own narrows as the REST parameter does
    assert [t["id"] for t in json.loads(cli("list", "--user", BOB_KEY)[1])["content"]] == [bob_match["id"]]
    assert json.loads(cli("list", "--scope", "2")[1])["total"] == 1
    assert json.loads(cli("list", "--description", "too")[1])["total"] == 1
    assert json.loads(cli("list", "--from-created", str(T0 + 1))[1])["total"] == 1
    assert json.loads(cli("list", "--from-last-used", "1")[1])["total"] == 2
    assert json.loads(cli("list", "--not-valid-after", "-1")[1])["total"] == 4


def test_list_pages_with_links(cli, web, clock):
    ids = [create(web, clock, T0 + i)["id"] for i in range(5)][::-1]
    code, out, _ = cli("list", "--page", "1", "--limit", "2", "--user", "admin")
    assert code == 0
    doc = json.loads(out)
    assert [t["id"] for t in doc["content"]] == ids[2:4]
    assert doc["currentPage"] == 1 and doc["totalPages"] == 3 and doc["offset"] == 2
    url = f"{BASE_URL}{FILTER_URL}"
    assert doc["paginationLinks"] == {
        "baseUrl": BASE_URL,
        "nextPage": f"{url}?page=2&limit=2&userFilter=admin",
        "previousPage": f"{url}?page=0&limit=2&userFilter=admin",
    }


def test_list_all_prints_json_lines_across_pages(cli, web, clock):
    made = [create(web, clock, T0 + i, tokenForUserKey=[ALICE_KEY, BOB_KEY][i % 2])["id"] for i in range(101)]
    code, out, err = cli("list", "--all")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [t["id"] for t in lines] == sorted(made, reverse=True)
    assert len({t["id"] for t in lines}) == 101
    assert set(lines[0]) == {
        "created",
        "description",
        "id",
        "lastAccessed",
        "tokenCreatedByUserKey",
        "tokenForUserKey",
        "tokenScope",
        "validUntil",
    }
    code, out, _ = cli("list", "--all", "--user", BOB_KEY)
    assert code == 0
    bobs = [json.loads(line) for line in out.splitlines()]
    assert [t["id"] for t in bobs] == sorted(made[1::2], reverse=True)
    assert {t["tokenForUserKey"] for t in bobs} == {BOB_KEY}


def test_list_all_of_exactly_one_page_and_of_nothing(cli, web, clock):
    made = [create(web, clock, T0 + i)["id"] for i in range(50)]
    code, out, _ = cli("list", "--all")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == made[::-1]
    code, out, _ = cli("list", "--all", "--user", CAROL_KEY)
    assert (code, out) == (0, "")


@pytest.mark.parametrize(
    "args, named",
    [
        (["--scope", "3"], "tokenScope"),
        (["--scope", "x"], "tokenScope"),
        (["--limit", "0"], "limit"),
        (["--page", "-1"], "page"),
        (["--not-valid-after", "soon"], "notValidAfter"),
        (["--from-created", "5", "--until-created", "4"], "fromCreated"),
        (["--from-last-used", "1.5"], "fromLastUsed"),
        (["--until-expires-during", "99999999999999999999"], "untilExpiresDuring"),
        (["--description", "x" * 256], "descriptionFilter"),
    ],
)
def test_list_with_a_bad_filter_fails_naming_it(cli, args, named):
    code, out, err = cli("list", *args)
    assert code != 0
    assert out == ""
    assert named in err


# ----- tokens revoke / revoke-all -----------------------------------------------------------------------------------
def test_revoke_one_token(cli, web, clock):
    victim = create(web, clock, tokenForUserKey=ALICE_KEY, tokenDescription="leaked")
    other = create(web, clock, tokenForUserKey=ALICE_KEY)
    assert works(web, victim)
    code, out, err = cli("revoke", str(victim["id"]))
    assert code == 0, err
    assert str(victim["id"]) in out and "leaked" in out and ALICE_KEY in out
    assert not works(web, victim)
    assert works(web, other)
    assert Token.get_or_none(Token.id == victim["id"]) is None
    code, _, err = cli("revoke", str(victim["id"]))  # gone already
    assert code != 0 and str(victim["id"]) in err


@pytest.mark.parametrize("token_id", ["999999", "abc", "-1", "1.0"])
def test_revoke_an_unknown_or_malformed_id_fails(cli, web, clock, token_id):
    kept = create(web, clock)
    code, out, err = cli("revoke", token_id)
    assert code != 0
    assert out == "" and err
    assert works(web, kept)


def test_revoke_all_of_a_user(cli, web, clock):
    alices = [create(web, clock, tokenForUserKey=ALICE_KEY) for _ in range(3)]
    alices.append(create(web, clock, auth=ALICE))
    bobs = create(web, clock, tokenForUserKey=BOB_KEY)
    code, out, err = cli("revoke-all", ALICE_KEY)
    assert code == 0, err
    assert out.strip() == f"4 token(s) of {ALICE_KEY} revoked"
    assert not any(works(web, t) for t in alices)
    assert works(web, bobs)
    assert web.get(f"{P}/user/token", headers=ALICE, status=200).json == []
    code, out, _ = cli("revoke-all", ALICE_KEY)
    assert (code, out.strip()) == (0, f"0 token(s) of {ALICE_KEY} revoked")


def test_revoke_all_of_an_unknown_user_fails(cli, web, clock):
    kept = create(web, clock, tokenForUserKey=ALICE_KEY)
    for key in ("JIRAUSER99999", "alice"):
        code, out, err = cli("revoke-all", key)
        assert code != 0
        assert key in err and out == ""
    assert works(web, kept)


# ----- tokens settings / set -----------------------------------------------------------------------------------------
def settings_doc(cli) -> dict[str, Any]:
    code, out, err = cli("settings")
    assert code == 0, err
    return json.loads(out)


def test_settings_prints_the_document(cli, web):
    assert settings_doc(cli) == web.get(f"{P}/admin/settings", headers=ADMIN, status=200).json
    assert settings_doc(cli)["maxValidityMonths"] == 12
    assert list(settings_doc(cli))[0] == "maxValidityMonths"


def test_set_changes_several_settings_together(cli, web):
    code, out, err = cli(
        "set",
        "maxValidityMonths=6",
        "defaultValidityMonths=3",
        "readOnlyTokensOnly=true",
        'trustedProxies=["10.0.0.0/8", "192.168.1.1"]',
        "clientIpHeader=X-Real-IP",
    )
    assert code == 0, err
    assert json.loads(out) == {
        "maxValidityMonths": 6,
        "defaultValidityMonths": 3,
        "readOnlyTokensOnly": True,
        "trustedProxies": ["10.0.0.0/8", "192.168.1.1/32"],
        "clientIpHeader": "X-Real-IP",
    }
    doc = settings_doc(cli)
    assert doc["maxValidityMonths"] == 6 and doc["clientIpHeader"] == "X-Real-IP"
    web.host.settings.invalidate()
    assert web.get(f"{P}/admin/settings", headers=ADMIN, status=200).json == doc


def test_set_is_in_force_for_the_rest_api(cli, web, clock):
    assert cli("set", "readOnlyTokensOnly=true", "disableBasicAuthWithPassword=true")[0] == 0
    web.host.settings.invalidate()  # the other process's cache has expired
    web.get("/rest/api/2/myself", headers=ALICE, status=401)
    assert cli("set", "disableBasicAuthWithPassword=false")[0] == 0
    web.host.settings.invalidate()
    assert create(web, clock, auth=ALICE, tokenScope=2)["tokenScope"] == 1


@pytest.mark.parametrize(
    "assignments, named",
    [
        (["maxValidityMonths=6", "defaultValidityMonths=abc"], "defaultValidityMonths"),
        (["readOnlyTokensOnly=true", "maxValidityMonths=-1"], "maxValidityMonths"),
        (["readOnlyTokensOnly=yes"], "readOnlyTokensOnly"),
        (["auditPermissionDenied=true", "allowedIpRanges=10.0.0.0/8"], "allowedIpRanges"),
        (['trustedProxies=["nonsense"]', "readOnlyTokensOnly=true"], "trustedProxies"),
        (["clientIpHeader=Bad Header"], "clientIpHeader"),
        (["lastAccessedWriteIntervalSeconds=0"], "lastAccessedWriteIntervalSeconds"),
        (["defaultRateLimitBucketSize=1.5"], "defaultRateLimitBucketSize"),
        (["readOnlyTokensOnly=true", "noSuchSetting=1"], "noSuchSetting"),
        (["maxValidityMonths=6"], "defaultValidityMonths"),  # the default (12) would exceed it
        (["readOnlyTokensOnly=true", "justaword"], "justaword"),
        (["readOnlyTokensOnly=true", "=5"], "=5"),
    ],
)
def test_set_with_a_bad_value_fails_naming_the_field_and_saves_nothing(cli, assignments, named):
    before = settings_doc(cli)
    code, out, err = cli("set", *assignments)
    assert code != 0
    assert out == ""
    assert named in err
    assert settings_doc(cli) == before


def test_set_is_audited(cli, web):
    assert cli("set", "maxValidityMonths=24")[0] == 0
    records = web.get("/rest/api/2/auditing/record", {"filter": "settings"}, headers=ADMIN, status=200).json
    changed = [r for r in records["records"] if r["summary"] == "API token settings changed"]
    assert len(changed) == 1
    assert changed[0]["changedValues"] == [{"fieldName": "maxValidityMonths", "changedFrom": "12", "changedTo": "24"}]


def test_revoke_is_audited(cli, web, clock):
    victim = create(web, clock, tokenForUserKey=BOB_KEY, tokenDescription="to revoke")
    assert cli("revoke", str(victim["id"]))[0] == 0
    records = web.get("/rest/api/2/auditing/record", headers=ADMIN, status=200).json["records"]
    deleted = [r for r in records if r["summary"] == "API token deleted"]
    assert len(deleted) == 1
    assert deleted[0]["objectItem"]["id"] == str(victim["id"])


def test_the_commands_need_a_data_folder_with_a_database(tmp_path, capsys):
    empty = tmp_path / "fresh"
    assert main(["tokens", "list", "--data-dir", str(empty)]) == 0  # migrated on the fly: no tokens
    assert json.loads(capsys.readouterr().out)["total"] == 0
    assert main(["tokens", "revoke-all", "JIRAUSER10100", "--data-dir", str(empty)]) != 0
    assert "JIRAUSER10100" in capsys.readouterr().err
