"""The add-on's table. Tables carry the plugin's prefix."""

from __future__ import annotations

import peewee as pw

from host.db import BaseModel


class Token(BaseModel):
    digest = pw.CharField(max_length=64, unique=True)  # HMAC-SHA256 of the token under the server secret
    user_key = pw.CharField(max_length=255, index=True)  # tokenForUserKey
    created_by_key = pw.CharField(max_length=255)  # tokenCreatedByUserKey
    description = pw.CharField(max_length=255)
    # Lower-cased copy for tokensByFilter's case-insensitive search (SQLite's lower() is ASCII-only).
    description_lower = pw.CharField(max_length=255, default="")
    created = pw.BigIntegerField(index=True)  # epoch ms
    last_accessed = pw.BigIntegerField(default=0, index=True)  # 0 = never used
    valid_until = pw.BigIntegerField(index=True)  # 0 = never expires
    scope = pw.SmallIntegerField(default=2)  # 0 legacy, 1 read-only, 2 read/write
    validity_months = pw.IntegerField(default=0)
    expiration_text = pw.CharField(max_length=64, null=True)  # the ISO date-time as requested, if any
    allowed_ip_ranges = pw.TextField(default="[]")  # JSON list
    header_rules = pw.TextField(default="[]")  # JSON list of {"headerName", "headerValue"}
    rate_limit_size = pw.IntegerField(default=0)
    rate_limit_lifetime = pw.IntegerField(default=0)
    encrypted = pw.BooleanField(default=False)  # delivered encrypted to an OpenPGP key

    class Meta:
        table_name = "apitokenauth_token"
