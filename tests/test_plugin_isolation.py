"""Contract §1.6: the host knows the plugin only through the entry-point group and its hooks."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import plugins.apitokenauth as plugin_module
from host.plugins import ENTRY_POINT_GROUP
from tests.conftest import ADMIN, P, bearer

PLUGIN = "de.resolution.apitokenauth"
ROOT = Path(__file__).resolve().parent.parent
HOST_SOURCES = sorted((ROOT / "host").rglob("*.py"))


def _imported_modules(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append(module)
            found.extend(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            # importlib.import_module("plugins...") / __import__("plugins...")
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.append(str(node.args[0].value))
    return found


def test_host_sources_exist():
    assert len(HOST_SOURCES) > 10
    assert ROOT / "host" / "auth.py" in HOST_SOURCES


def test_no_host_module_imports_the_plugins_package():
    offenders = []
    for path in HOST_SOURCES:
        for module in _imported_modules(path):
            if module == "plugins" or module.startswith("plugins."):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_import_scanner_would_notice_an_import(tmp_path):
    """Guard the guard: the scanner sees absolute, relative and dynamic imports."""
    fake = tmp_path / "host" / "probe.py"
    fake.parent.mkdir()
    fake.write_text(
        textwrap.dedent(
            """
            import plugins.apitokenauth
            from plugins import apitokenauth
            from ..plugins import apitokenauth as again
            import importlib
            importlib.import_module("plugins.apitokenauth")
            """
        ),
        encoding="utf-8",
    )
    modules = _imported_modules(fake, tmp_path)
    assert "plugins" in modules
    assert modules.count("plugins.apitokenauth") >= 4


def test_importing_every_host_module_and_building_a_bare_host_never_loads_the_plugin(tmp_path):
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        import host
        for info in pkgutil.walk_packages(host.__path__, "host."):
            if info.name != "host.__main__":  # runs the CLI when imported
                importlib.import_module(info.name)
        from host.app import create_app
        from host.config import Config
        from host.passwords import FAST_TEST_PARAMS, PasswordHasher
        config = Config(data_dir={str(tmp_path)!r}, database_url="sqlite:///{tmp_path}/bare.sqlite3",
                        base_url="http://jira.test", secret=b"s")
        create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS), load_entrypoints=False)
        loaded = sorted(m for m in sys.modules if m == "plugins" or m.startswith("plugins."))
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_plugin_is_discovered_through_the_entry_point_group(host):
    assert ENTRY_POINT_GROUP == "host.plugins"
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == PLUGIN]
    assert len(matches) == 1
    assert matches[0].value == "plugins.apitokenauth"
    assert matches[0].load() is plugin_module
    info = host.plugins.infos[PLUGIN]
    assert info.plugin is plugin_module
    assert info.name == "API Token Authentication"
    assert info.version == plugin_module.__version__
    assert host.plugins.pm.get_plugin(PLUGIN) is plugin_module


def test_plugin_contributes_through_hook_implementations():
    for hook in (
        "authenticate",
        "register_routes",
        "register_settings",
        "register_permission_types",
        "register_migrations",
        "password_login_allowed",
    ):
        impl = getattr(plugin_module, hook)
        assert hasattr(impl, "host_impl"), f"{hook} is not a hook implementation"


def test_plugin_registers_routes_settings_and_permissions(app, host):
    assert PLUGIN in host.settings.owners()
    assert host.settings.get(PLUGIN, "maxValidityMonths") == 12
    assert {"useTokens", "createTokens", "createAndDeleteOnBehalf"} <= {t.key for t in host.permissions.types()}
    owners = {template: owner for template, owner in host.router.templates.items() if template.startswith(P)}
    assert owners and set(owners.values()) == {PLUGIN}
    app.get(f"{P}/user/token", headers=ADMIN, status=200)


def test_without_entry_points_there_are_no_plugin_routes_settings_or_permissions(make_host):
    bare = make_host(load_entrypoints=False)
    import webtest

    client = webtest.TestApp(bare.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    assert PLUGIN not in bare.plugins.infos
    assert PLUGIN not in bare.settings.owners()
    assert not {"useTokens", "createTokens", "createAndDeleteOnBehalf"} & {t.key for t in bare.permissions.types()}
    assert not any(t.startswith(P) for t in bare.router.templates)
    for path in (f"{P}/user/token", f"{P}/user/authTest", f"{P}/user/token/1"):
        client.get(path, headers=ADMIN, status=404)
    client.post_json(f"{P}/user/token", {}, headers=ADMIN, status=404)
    assert "apitokenauth_token" not in bare.db.get_tables()
    # a token-shaped Bearer authenticates nobody; the host itself still works
    client.get("/rest/api/2/myself", headers=bearer("apt_" + "a" * 39), status=401)
    assert client.get("/rest/api/2/myself", headers=ADMIN, status=200).json["key"] == "admin"
    client.get(f"/rest/plugins/1.0/{PLUGIN}-key", headers=ADMIN, status=404)


def test_the_plugin_given_as_an_extra_plugin_works_the_same(make_host):
    host = make_host(load_entrypoints=False, extra_plugins=((PLUGIN, plugin_module),))
    import webtest

    client = webtest.TestApp(host.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    created = client.post_json(f"{P}/user/token", {}, headers=ADMIN, status=200).json
    assert (
        client.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200).json["key"] == "admin"
    )
