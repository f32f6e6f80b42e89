"""``GET P/openapi.json``: an OpenAPI 3.0 document of every endpoint of the add-on.

Built from the code's own constants (the settings definitions, the permission types, the create fields, the
filter parameters and limits), so that it cannot drift from what the server accepts: ``document()`` refuses to
build when a setting or a create field has no schema here. A schema-driven fuzzer (tests/test_openapi_fuzz.py)
runs against it and finds no 5xx and no response outside these schemas.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import falcon

from host.jsonio import MAX_BODY_BYTES, send_json

from . import filters
from .config import HEADER_NAME_RE, MAX_MONTHS_LIMIT, permission_types, settings_spec
from .service import CREATE_FIELDS, MAX_HEADER_RULES

MAX_COUNT = 1_000_000_000  # rate-limit bucket sizes and lifetimes (service._count, config.settings_spec)
MAX_TOKEN_ID = 10**18 - 1  # service._editable: at most 18 digits
MAX_PAGE = 10**16 - 1  # filters._number: at most 16 digits
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f-\u009f]*$"
NOT_BLANK = r"\S"

PLUGIN_ERROR = {"$ref": "#/components/schemas/PluginError"}
HOST_ERROR = {"$ref": "#/components/schemas/HostError"}
ANY_ERROR = {"$ref": "#/components/schemas/Error"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


# Each setting's value schema; every name in config.settings_spec() must appear here (checked in document()).
SETTING_SCHEMAS: dict[str, dict[str, Any]] = {
    "maxValidityMonths": {"type": "integer", "minimum": 0, "maximum": MAX_MONTHS_LIMIT},
    "defaultValidityMonths": {"type": "integer", "minimum": 0, "maximum": MAX_MONTHS_LIMIT},
    "readOnlyTokensOnly": {"type": "boolean"},
    "disableBasicAuthWithPassword": {"type": "boolean"},
    "allowedIpRanges": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
    "trustedProxies": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
    "clientIpHeader": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{HEADER_NAME_RE.pattern}$"},
    "rateLimitEnabled": {"type": "boolean"},
    "defaultRateLimitBucketSize": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    "defaultRateLimitBucketLifetime": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    "auditSuccessfulAuthentication": {"type": "boolean"},
    "auditFailedAuthentication": {"type": "boolean"},
    "auditPermissionDenied": {"type": "boolean"},
    "lastAccessedWriteIntervalSeconds": {"type": "integer", "minimum": 1, "maximum": 86_400},
}

HEADER_RULE = {
    "type": "object",
    "properties": {
        "headerName": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{HEADER_NAME_RE.pattern}$"},
        "headerValue": {
            "type": "string",
            "maxLength": 1024,
            "pattern": r"^[^\u0000-\u0008\u000a-\u001f\u007f-\u009f]*$",
        },
    },
    "required": ["headerName", "headerValue"],
    "additionalProperties": False,
}

# POST P/user/token: every field the server accepts (service.CREATE_FIELDS; checked in document()).
CREATE_PROPERTIES: dict[str, dict[str, Any]] = {
    "tokenDescription": _nullable(
        {
            "type": "string",
            "maxLength": 255,
            "pattern": NO_CONTROL_CHARACTERS,
            "description": "Missing or blank: 'API Token from YYYY-MM-DD'",
        }
    ),
    "tokenValidityTimeInMonths": _nullable(
        {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_MONTHS_LIMIT,
            "description": "0 = never expires (only when the administrator's maximum is 0); above the maximum: "
            "400 for own tokens, clamped for tokens on behalf",
        }
    ),
    "tokenExpirationDateTime": _nullable(
        {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset; wins over months"}
    ),
    "tokenForUserKey": _nullable({"type": "string", "maxLength": 255, "description": "On behalf of this user"}),
    "tokenScope": _nullable({"type": "integer", "enum": [1, 2], "description": "1 read-only, 2 read/write"}),
    "allowedIpRanges": _nullable(
        {"type": "array", "maxItems": 100, "items": {"type": "string"}, "description": "IP addresses or CIDR ranges"}
    ),
    "headerValueAccessRules": _nullable({"type": "array", "maxItems": MAX_HEADER_RULES, "items": HEADER_RULE}),
    "rateLimitBucketSize": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_COUNT}),
    "rateLimitBucketLifetime": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_COUNT}),
    "publicKey": _nullable({"type": "string", "description": "ASCII-armoured OpenPGP public key"}),
}

EPOCH_MS = {"type": "integer", "format": "int64", "minimum": 0}
TOKEN_SUMMARY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "format": "int64", "minimum": 1},
        "description": {"type": "string"},
        "created": EPOCH_MS,
        "lastAccessed": {**EPOCH_MS, "description": "0 = never used"},
        "validUntil": {**EPOCH_MS, "description": "0 = never expires"},
        "tokenScope": {"type": "integer", "enum": [0, 1, 2]},
        "tokenForUserKey": {"type": "string"},
        "tokenCreatedByUserKey": {"type": "string"},
    },
    "required": [
        "id",
        "description",
        "created",
        "lastAccessed",
        "validUntil",
        "tokenScope",
        "tokenForUserKey",
        "tokenCreatedByUserKey",
    ],
    "additionalProperties": False,
}
CREATED_TOKEN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "format": "int64", "minimum": 1},
        "plainTextToken": {"type": "string", "description": "Shown once; an OpenPGP message with publicKey"},
        "tokenDescription": {"type": "string"},
        "tokenForUserKey": {"type": "string"},
        "tokenValidityTimeInMonths": {"type": "integer", "minimum": 0},
        "tokenExpirationDateTime": {"type": "string", "nullable": True},
        "tokenExpirationDateTimeMillis": {**EPOCH_MS, "description": "0 = never expires"},
        "tokenScope": {"type": "integer", "enum": [1, 2]},
        "rateLimitBucketLifetime": {"type": "integer", "minimum": 0},
        "rateLimitBucketSize": {"type": "integer", "minimum": 0},
        "publicKey": {"type": "string"},
        "allowedIpRanges": {"type": "array", "items": {"type": "string"}},
        "headerValueAccessRules": {"type": "array", "items": HEADER_RULE},
        "created": EPOCH_MS,
        "tokenCreatedByUserKey": {"type": "string"},
    },
    "required": [
        "id",
        "plainTextToken",
        "tokenDescription",
        "tokenForUserKey",
        "tokenValidityTimeInMonths",
        "tokenExpirationDateTime",
        "tokenExpirationDateTimeMillis",
        "tokenScope",
        "rateLimitBucketLifetime",
        "rateLimitBucketSize",
        "publicKey",
        "allowedIpRanges",
        "headerValueAccessRules",
    ],
    "additionalProperties": False,
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    """Error responses: the add-on answers ``{"errorMessage"}``; the host (authentication, the read-only rule,
    a disabled plugin, a NUL in the URL, an oversized body) answers Jira's ``{"errorMessages", "errors"}``."""
    texts = {
        400: "Bad input (the message names the field)",
        401: "Not authenticated, or the credentials were rejected (host envelope)",
        403: "Not permitted, read-only credential, or captcha lock",
        404: "Not found (or the plugin is disabled)",
        409: "Conflict",
        413: f"Request body larger than {MAX_BODY_BYTES} bytes",
        415: "Request body not application/json",
        429: "The token's rate limit is exceeded (Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining)",
    }
    responses = {str(code): _json(ANY_ERROR, texts[code]) for code in codes}
    # gunicorn answers a request line longer than 4094 bytes itself, before the application, with an HTML page.
    responses["414"] = {
        "description": "URI too long (the HTTP server's limit on the request line)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    return responses


# Every authenticated endpoint: NUL in the URL, authentication, lock or permission, disabled plugin, rate limit,
# and a declared Content-Length over the limit (refused before routing, whatever the method).
AUTHENTICATED = (400, 401, 403, 404, 413, 429)
WITH_BODY = (*AUTHENTICATED, 415)


def _settings_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    spec = settings_spec()
    names = [d.name for d in spec.definitions]
    missing = set(names) - set(SETTING_SCHEMAS)
    if missing:
        raise RuntimeError(f"openapi: no schema for the settings {sorted(missing)}")
    properties = {
        d.name: {**SETTING_SCHEMAS[d.name], "description": d.description, "default": d.default}
        for d in spec.definitions
    }
    document = {"type": "object", "properties": properties, "required": names, "additionalProperties": False}
    change = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": "Any subset of the settings; an unknown key or a bad value: 400 naming it, nothing saved",
    }
    return document, change


def _permissions_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    groups = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK}}
    document_props, change_props = {}, {}
    for ptype in permission_types("jira-administrators"):
        grant_props: dict[str, Any] = {"groups": groups}
        if ptype.allow_everyone:
            grant_props = {"everyone": {"type": "boolean"}, **grant_props}
        document_props[ptype.key] = {
            "type": "object",
            "description": f"{ptype.name}: {ptype.description}",
            "properties": grant_props,
            "required": list(grant_props),
            "additionalProperties": False,
        }
        change_props[ptype.key] = {
            "type": "object",
            "description": f"{ptype.name}; every group must exist",
            "properties": grant_props,
            "additionalProperties": False,
        }
    document = {
        "type": "object",
        "properties": document_props,
        "required": list(document_props),
        "additionalProperties": False,
    }
    change = {"type": "object", "properties": change_props, "additionalProperties": False}
    return document, change


def _filter_parameters() -> list[dict[str, Any]]:
    epoch = {"type": "integer", "format": "int64", "minimum": 0, "maximum": filters.MAX_EPOCH_MS}
    params = [
        {
            "name": "userFilter",
            "in": "query",
            "description": "User key; repeatable (OR)",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "style": "form",
            "explode": True,
        },
        {
            "name": "descriptionFilter",
            "in": "query",
            "description": "Case-insensitive substring of the description",
            "schema": {"type": "string", "maxLength": 255},
        },
        {
            "name": "notValidAfter",
            "in": "query",
            "description": "validUntil <= T (epoch ms); -1 = no limit",
            "schema": {"type": "integer", "format": "int64", "minimum": -1, "maximum": filters.MAX_EPOCH_MS},
        },
        {"name": "tokenScope", "in": "query", "schema": {"type": "integer", "enum": [0, 1, 2]}},
    ]
    for low, high, _column in filters.RANGE_PARAMS:
        for name in (low, high):
            params.append({"name": name, "in": "query", "description": "Inclusive bound, epoch ms", "schema": epoch})
    params.append(
        {
            "name": "page",
            "in": "query",
            "description": "0-based page",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0},
        }
    )
    params.append(
        {
            "name": "limit",
            "in": "query",
            "description": f"Page size; values above {filters.MAX_LIMIT} become {filters.MAX_LIMIT}",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": filters.MAX_LIMIT},
        }
    )
    documented = {p["name"] for p in params}
    if documented != set(filters.KNOWN_PARAMS):
        raise RuntimeError(f"openapi: tokensByFilter parameters differ: {sorted(documented ^ filters.KNOWN_PARAMS)}")
    return params


def _filter_envelope() -> dict[str, Any]:
    item = copy.deepcopy(TOKEN_SUMMARY)
    return {
        "type": "object",
        "properties": {
            "content": {"type": "array", "maxItems": filters.MAX_LIMIT, "items": item},
            "currentPage": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": filters.MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 0},
            "totalPages": {"type": "integer", "minimum": 0},
            "paginationLinks": {
                "type": "object",
                "properties": {
                    "baseUrl": {"type": "string"},
                    "nextPage": {"type": "string", "description": "Full URL, or '' on the last page"},
                    "previousPage": {"type": "string", "description": "Full URL, or '' on the first page"},
                },
                "required": ["baseUrl", "nextPage", "previousPage"],
                "additionalProperties": False,
            },
        },
        "required": ["content", "currentPage", "limit", "offset", "total", "totalPages", "paginationLinks"],
        "additionalProperties": False,
    }


@lru_cache(maxsize=8)
def _build(base_url: str, base: str) -> dict[str, Any]:
    if set(CREATE_PROPERTIES) != set(CREATE_FIELDS):
        raise RuntimeError(f"openapi: create fields differ: {sorted(set(CREATE_PROPERTIES) ^ CREATE_FIELDS)}")
    settings_doc, settings_change = _settings_schemas()
    permissions_doc, permissions_change = _permissions_schemas()
    anyone = [{}, {"basic": []}, {"bearer": []}]
    token_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_TOKEN_ID},
    }
    true_body = _json({"type": "boolean", "enum": [True]}, "Done: the body is `true`")
    paths: dict[str, Any] = {
        "/user/token": {
            "post": {
                "operationId": "createToken",
                "summary": "Create a token (own, or on behalf of tokenForUserKey)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": CREATE_PROPERTIES,
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/CreatedToken"}, "The new token"),
                    **_errors(*WITH_BODY),
                },
            },
            "get": {
                "operationId": "listOwnTokens",
                "summary": "The caller's own tokens, newest first",
                "responses": {
                    "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/TokenSummary"}}, "Tokens"),
                    **_errors(*AUTHENTICATED),
                },
            },
        },
        "/user/token/{id}": {
            "parameters": [token_id],
            "patch": {
                "operationId": "renameToken",
                "summary": "Change a token's description",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "tokenDescription": {
                                        "type": "string",
                                        "minLength": 1,
                                        "maxLength": 255,
                                        "pattern": NO_CONTROL_CHARACTERS,
                                    }
                                },
                                "required": ["tokenDescription"],
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/TokenSummary"}, "The renamed token"),
                    **_errors(*WITH_BODY),
                },
            },
            "delete": {
                "operationId": "deleteToken",
                "summary": "Revoke a token (at once, on every node)",
                "responses": {"200": true_body, **_errors(*AUTHENTICATED)},
            },
        },
        "/user/token/deleteAllFor/{userKey}": {
            "parameters": [
                {"name": "userKey", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            ],
            "delete": {
                "operationId": "deleteAllTokensFor",
                "summary": "Revoke every token of a user (system administrators only)",
                "responses": {"200": true_body, **_errors(*AUTHENTICATED)},
            },
        },
        "/user/tokensByFilter": {
            "get": {
                "operationId": "tokensByFilter",
                "summary": "Every user's tokens, filtered and paged (On Behalf holders and system administrators)",
                "parameters": _filter_parameters(),
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/TokenPage"}, "One page, id descending"),
                    **_errors(*AUTHENTICATED),
                },
            }
        },
        "/user/userKeyByEmail": {
            "get": {
                "operationId": "userKeyByEmail",
                "summary": "The key of the one user with this email (case-insensitive)",
                "parameters": [
                    {
                        "name": "email",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                ],
                "responses": {
                    "200": {"description": "The user key", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    **_errors(*AUTHENTICATED, 409),
                },
            }
        },
        "/user/authTest": {
            "get": {
                "operationId": "authTest",
                "summary": "Whatever credentials the request carried (never 401 itself)",
                "security": anyone,
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/AuthTest"}, "The outcome"),
                    **_errors(400, 404, 413, 429),
                },
            }
        },
        "/admin/settings": {
            "get": {
                "operationId": "getSettings",
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Settings"}, "Settings"),
                    **_errors(*AUTHENTICATED),
                },
            },
            "put": {
                "operationId": "changeSettings",
                "requestBody": {"required": True, "content": {"application/json": {"schema": settings_change}}},
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Settings"}, "The whole updated document"),
                    **_errors(*WITH_BODY),
                },
            },
        },
        "/admin/permissions": {
            "get": {
                "operationId": "getPermissions",
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Permissions"}, "Grants"),
                    **_errors(*AUTHENTICATED),
                },
            },
            "put": {
                "operationId": "changePermissions",
                "requestBody": {"required": True, "content": {"application/json": {"schema": permissions_change}}},
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Permissions"}, "The whole updated document"),
                    **_errors(*WITH_BODY),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": anyone,
                "responses": {
                    "200": _json({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.0 document"),
                    **_errors(400, 401, 403, 404, 413, 429),
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "API Token Authentication",
            "version": "1.5.0",
            "description": "Personal API tokens instead of passwords: `Basic user:token` or `Bearer token`.",
        },
        "servers": [{"url": base_url.rstrip("/") + base}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "user:password or user:token"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
            },
            "schemas": {
                "PluginError": {
                    "type": "object",
                    "properties": {"errorMessage": {"type": "string"}},
                    "required": ["errorMessage"],
                    "additionalProperties": False,
                },
                "HostError": {
                    "type": "object",
                    "properties": {
                        "errorMessages": {"type": "array", "items": {"type": "string"}},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "required": ["errorMessages", "errors"],
                    "additionalProperties": False,
                },
                "Error": {"anyOf": [PLUGIN_ERROR, HOST_ERROR]},
                "TokenSummary": TOKEN_SUMMARY,
                "CreatedToken": CREATED_TOKEN,
                "TokenPage": _filter_envelope(),
                "AuthTest": {
                    "type": "object",
                    "properties": {
                        "isSuccessfulAuthentication": {"type": "boolean"},
                        "authenticationFailureDetails": {"type": "string", "nullable": True},
                        "userKey": {"type": "string", "nullable": True},
                        "authenticationMethod": {"type": "string"},
                        "tokenId": {"type": "integer", "format": "int64"},
                        "tokenScope": {"type": "integer", "enum": [0, 1, 2]},
                        "validUntil": EPOCH_MS,
                    },
                    "required": ["isSuccessfulAuthentication", "authenticationFailureDetails", "userKey"],
                    "additionalProperties": False,
                },
                "Settings": settings_doc,
                "Permissions": permissions_doc,
            },
        },
    }


def document(base_url: str, base: str) -> dict[str, Any]:
    """The document for ``base_url`` (the host's configured base URL) and the add-on's REST base path."""
    return copy.deepcopy(_build(base_url, base))


class OpenApiDocument:
    """``GET P/openapi.json``, anonymous."""

    anonymous_methods = ("GET", "HEAD")

    def __init__(self, host: Any, base: str) -> None:
        self.host = host
        self.base = base

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_json(resp, _build(self.host.base_url, self.base))
