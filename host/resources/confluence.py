"""Confluence REST user endpoints: ``/rest/api/user`` and ``/rest/api/user/current``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import falcon

from host.errors import ApiError
from host.jsonio import send_json
from host.resources.jira import Resource

PROFILE_PICTURE = {"path": "/images/icons/profilepics/default.svg", "width": 48, "height": 48, "isDefault": True}


class ConfluenceError(ApiError):
    def body(self) -> Any:
        return {
            "statusCode": self.status,
            "data": {"authorized": self.status != 403, "valid": True, "errors": [], "successful": False},
            "message": self.message,
            "reason": {400: "Bad Request", 404: "Not Found"}.get(self.status, "Error"),
        }


def confluence_user(base: str, *, key: str, name: str, display_name: str) -> dict:
    return {
        "type": "known",
        "username": name,
        "userKey": key,
        "profilePicture": PROFILE_PICTURE,
        "displayName": display_name,
        "_links": {"base": base, "context": "", "self": f"{base}/rest/api/user?key={quote(key, safe='')}"},
        "_expandable": {"status": ""},
    }


class ConfluenceUser(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        username, key = req.get_param("username"), req.get_param("key")
        if username is not None:
            user = self.host.users.by_name(username)
            missing = f"No user found with username : {username}"
        elif key is not None:
            user = self.host.users.by_key(key)
            missing = f"No user found with key : {key}"
        else:
            raise ConfluenceError(400, "A username or key query parameter is required")
        if user is None:
            raise ConfluenceError(404, missing)
        send_json(
            resp, confluence_user(self.host.base_url, key=user.key, name=user.name, display_name=user.display_name)
        )


class ConfluenceCurrentUser(Resource):
    anonymous_methods = ("GET", "HEAD")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = req.context.actor
        base = self.host.base_url
        if not actor.authenticated:
            send_json(
                resp,
                {
                    "type": "anonymous",
                    "profilePicture": {**PROFILE_PICTURE, "path": "/images/icons/profilepics/anonymous.svg"},
                    "displayName": "Anonymous",
                    "_links": {"base": base, "context": "", "self": f"{base}/rest/api/user/anonymous"},
                },
            )
            return
        user = actor.user
        send_json(resp, confluence_user(base, key=user.key, name=user.name, display_name=user.display_name))
