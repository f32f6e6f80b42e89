"""``GET P/openapi.json`` in process: anonymous, valid OpenAPI, naming every REST route the plugin registers and
generated from the code's own definitions. (tests/test_openapi_fuzz.py fuzzes a real server with it.)"""

from __future__ import annotations

import schemathesis

from plugins.apitokenauth import openapi
from tests.conftest import ADMIN, BASE_URL, P, basic


def test_served_anonymously_and_valid(app):
    response = app.get(f"{P}/openapi.json", status=200)
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    doc = response.json
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": BASE_URL + P}]  # the configured base URL
    assert doc["components"]["securitySchemes"] == {
        "basic": {"type": "http", "scheme": "basic", "description": "user:password or user:token"},
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
    }
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.0 meta-schema
    assert app.get(f"{P}/openapi.json", headers=ADMIN, status=200).json == doc
    app.head(f"{P}/openapi.json", status=200)
    # Rejected credentials are never anonymous (contract 1.3), here too.
    assert app.get(f"{P}/openapi.json", headers=basic("admin", "wrong"), status=401).json["errorMessages"]


def test_names_every_plugin_rest_route(host):
    doc = openapi.document(host.base_url, P)
    registered = {
        template
        for template, owner in host.router.templates.items()
        if owner == "de.resolution.apitokenauth" and "#" not in template and template.startswith("/rest/")
    }  # the plugin's REST routes (its web pages are HTML, outside the document)
    assert len(registered) >= 9
    documented = {P + path.replace("{id}", "{}").replace("{userKey}", "{}") for path in doc["paths"]}
    assert registered == documented
    operations = {(method, path) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert operations == {
        ("post", "/user/token"),
        ("get", "/user/token"),
        ("patch", "/user/token/{id}"),
        ("delete", "/user/token/{id}"),
        ("delete", "/user/token/deleteAllFor/{userKey}"),
        ("get", "/user/tokensByFilter"),
        ("get", "/user/userKeyByEmail"),
        ("get", "/user/authTest"),
        ("get", "/admin/settings"),
        ("put", "/admin/settings"),
        ("get", "/admin/permissions"),
        ("put", "/admin/permissions"),
        ("get", "/openapi.json"),
    }


def test_generated_from_the_code(app, host):
    doc = openapi.document(host.base_url, P)
    schemas = doc["components"]["schemas"]
    settings = app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json
    assert {name: prop["default"] for name, prop in schemas["Settings"]["properties"].items()} == settings
    assert schemas["Settings"]["required"] == list(settings)
    permissions = app.get(f"{P}/admin/permissions", headers=ADMIN, status=200).json
    assert set(schemas["Permissions"]["properties"]) == set(permissions)
    for key, grant in permissions.items():
        assert set(schemas["Permissions"]["properties"][key]["properties"]) == set(grant)
    filter_params = {p["name"] for p in doc["paths"]["/user/tokensByFilter"]["get"]["parameters"]}
    assert "userFilter" in filter_params and "fromExpiresDuring" in filter_params and "limit" in filter_params
    create = doc["paths"]["/user/token"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["additionalProperties"] is False and "publicKey" in create["properties"]
    # Every error status of every operation is declared with the error schema (plugin or host envelope).
    for item in doc["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status.startswith("4") and status != "414":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
