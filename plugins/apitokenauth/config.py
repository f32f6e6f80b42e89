"""The add-on's settings and permission types, registered with the host through its hooks."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from host.permissions import PermissionType
from host.settings import InvalidSetting, SettingDefinition, SettingsSpec, boolean, non_negative_int

PLUGIN_KEY = "de.resolution.apitokenauth"

USE_TOKENS = "useTokens"
CREATE_TOKENS = "createTokens"
ON_BEHALF = "createAndDeleteOnBehalf"

MAX_MONTHS_LIMIT = 1200  # 100 years: anything above is a typo


def ip_network_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("must be a list of IP addresses or CIDR ranges")
    if len(value) > 100:
        raise ValueError("must not hold more than 100 entries")
    result = []
    for entry in value:
        if not isinstance(entry, str):
            raise ValueError("must be a list of IP addresses or CIDR ranges")
        try:
            result.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"'{entry[:64]}' is not an IP address or CIDR range") from None
    return result


HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,255}")  # an RFC 9110 token


def header_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    value = value.strip()
    if not HEADER_NAME_RE.fullmatch(value):
        raise ValueError("must be an HTTP header name")
    return value


def _check(doc: dict[str, Any]) -> None:
    maximum, default = doc["maxValidityMonths"], doc["defaultValidityMonths"]
    if maximum and (default == 0 or default > maximum):
        raise InvalidSetting(
            "defaultValidityMonths",
            f"'defaultValidityMonths' must be between 1 and the maximum of {maximum} months",
        )
    if doc["defaultRateLimitBucketSize"] and not doc["defaultRateLimitBucketLifetime"]:
        raise InvalidSetting(
            "defaultRateLimitBucketLifetime", "'defaultRateLimitBucketLifetime' must be set with a bucket size"
        )


def settings_spec() -> SettingsSpec:
    months = lambda v: non_negative_int(v, maximum=MAX_MONTHS_LIMIT)
    count = lambda v: non_negative_int(v, maximum=1_000_000_000)

    def client_ip_header(v: Any) -> str:
        return header_name(v)

    def interval(v: Any) -> int:
        value = non_negative_int(v, maximum=86_400)
        if value < 1:
            raise ValueError("must be at least 1 second")
        return value

    return SettingsSpec(
        [
            SettingDefinition("maxValidityMonths", 12, months, "Maximum token validity in months (0 = never expires)"),
            SettingDefinition("defaultValidityMonths", 12, months, "Validity of a token created without one"),
            SettingDefinition("readOnlyTokensOnly", False, boolean, "Users may only create read-only tokens"),
            SettingDefinition("disableBasicAuthWithPassword", False, boolean, "Refuse passwords on REST"),
            SettingDefinition("allowedIpRanges", [], ip_network_list, "Global IP allow-list (empty = all)"),
            SettingDefinition("trustedProxies", [], ip_network_list, "Proxies whose client-IP header is believed"),
            SettingDefinition("clientIpHeader", "X-Forwarded-For", client_ip_header, "Client-IP header of proxies"),
            SettingDefinition("rateLimitEnabled", False, boolean, "Enforce per-token rate limits"),
            SettingDefinition("defaultRateLimitBucketSize", 0, count, "Requests per bucket for new tokens"),
            SettingDefinition("defaultRateLimitBucketLifetime", 0, count, "Bucket lifetime in seconds"),
            SettingDefinition("auditSuccessfulAuthentication", False, boolean, "Audit successful token logins"),
            SettingDefinition("auditFailedAuthentication", False, boolean, "Audit failed token logins"),
            SettingDefinition("auditPermissionDenied", False, boolean, "Audit refused requests"),
            SettingDefinition(
                "lastAccessedWriteIntervalSeconds", 60, interval, "Minimum seconds between lastAccessed writes"
            ),
        ],
        _check,
    )


def permission_types(sysadmin_group: str) -> list[PermissionType]:
    return [
        PermissionType(USE_TOKENS, "Use Tokens", "The user's tokens authenticate", default_everyone=True),
        PermissionType(CREATE_TOKENS, "Create Tokens", "Create, rename and delete own tokens", default_everyone=True),
        PermissionType(
            ON_BEHALF,
            "Create & Delete Tokens On Behalf",
            "Tokens for others, tokensByFilter, userKeyByEmail, rename and delete others' tokens",
            default_groups=(sysadmin_group,),
            allow_everyone=False,
        ),
    ]
