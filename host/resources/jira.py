"""Jira REST: serverInfo, myself, users, user search, groups and the authentication admin endpoints."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import falcon

from host import __version__
from host.errors import ApiError, BadRequest
from host.jsonio import read_json_object, send_json
from host.resources.common import (
    jira_user_from_model,
    jira_user_from_row,
    parse_expand,
    query_bool,
    query_int,
    require_sysadmin,
)
from host.settings import InvalidSetting

if TYPE_CHECKING:
    from host.core import Host

JIRA_VERSION = (9, 12, 0)


def _jira_time(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


class Resource:
    def __init__(self, host: Host) -> None:
        self.host = host


class ServerInfo(Resource):
    anonymous_methods = ("GET", "HEAD")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_json(
            resp,
            {
                "baseUrl": self.host.base_url,
                "version": ".".join(map(str, JIRA_VERSION)),
                "versionNumbers": list(JIRA_VERSION),
                "deploymentType": "Server",
                "buildNumber": 912000,
                "buildDate": "2023-11-21T00:00:00.000+0000",
                "serverTime": _jira_time(self.host.now_ms()),
                "scmInfo": f"host-{__version__}",
                "serverTitle": "Jira",
            },
        )


class Myself(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_json(resp, jira_user_from_row(self.host.base_url, req.context.actor.user, parse_expand(req)))


class UserResource(Resource):
    """``/rest/api/2/user``: look up (any signed-in user), create, update and delete (sysadmins)."""

    def _target(self, req: falcon.Request):
        username, key = req.get_param("username"), req.get_param("key")
        if username is None and key is None:
            raise BadRequest("The query parameter 'username' or 'key' has not been specified", field="username")
        return self.host.users.require_user(username=username, key=key if username is None else None)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = self._target(req)
        send_json(
            resp, jira_user_from_model(self.host.base_url, user, self.host.users.groups_of(user), parse_expand(req))
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        body = read_json_object(req)
        name = body.get("name", body.get("username"))
        user = self.host.users.create(
            name=name,
            email=body.get("emailAddress"),
            display_name=body.get("displayName"),
            password=body.get("password"),
        )
        send_json(resp, jira_user_from_model(self.host.base_url, user, []), status=201)

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        user = self._target(req)
        body = read_json_object(req)
        user = self.host.users.update(user, body)
        send_json(resp, jira_user_from_model(self.host.base_url, user, self.host.users.groups_of(user)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        user = self._target(req)
        if user.id == req.context.actor.user.id:
            raise BadRequest("You cannot delete the currently logged-in user.", field="username")
        key = user.key
        self.host.users.delete(user)
        self.host.plugins.hook("user_deleted")(host=self.host, user_key=key)
        resp.status = 204


class UserSearch(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        prefix = req.get_param("username")
        if prefix is None:
            raise BadRequest("The query parameter 'username' has not been specified", field="username")
        users = self.host.users.search(
            prefix,
            start=query_int(req, "startAt", 0),
            limit=query_int(req, "maxResults", 50, maximum=1000),
            include_active=query_bool(req, "includeActive", True),
            include_inactive=query_bool(req, "includeInactive", False),
        )
        base = self.host.base_url
        send_json(resp, [jira_user_from_model(base, u, self.host.users.groups_of(u)) for u in users])


class ResetFailedLoginCount(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        username = req.get_param("username")
        if not username:
            raise BadRequest("The query parameter 'username' has not been specified", field="username")
        user = self.host.users.require_user(username=username)
        self.host.users.reset_failed_logins(user)
        resp.status = 204


class AuthenticationSettings(Resource):
    def _document(self) -> dict:
        return {
            "maximumAuthenticationAttemptsAllowed": self.host.settings.get(
                "host", "maximumAuthenticationAttemptsAllowed"
            )
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        send_json(resp, self._document())

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        body = read_json_object(req)
        try:
            self.host.settings.update("host", body)
        except InvalidSetting as exc:
            raise BadRequest(exc.message, field=exc.field) from None
        send_json(resp, self._document())


GROUP_RANGE = re.compile(r"^users\[(\d{1,9}):(\d{1,9})\]$")


def group_json(host: Host, group, expand: set[str]) -> dict:
    base = host.base_url
    doc = {
        "name": group.name,
        "self": f"{base}/rest/api/2/group?groupname={quote(group.name, safe='')}",
        "users": {"size": 0, "items": [], "max-results": 50, "start-index": 0, "end-index": 0},
        "expand": "users",
    }
    start, end = 0, 50
    wanted = False
    for part in expand:
        if part == "users":
            wanted = True
        match = GROUP_RANGE.match(part)
        if match:
            wanted = True
            start, end = int(match.group(1)), int(match.group(2))
            if end < start:
                raise BadRequest("The users range in 'expand' must end after it starts", field="expand")
            end = min(end, start + 50)
    users, total = host.users.group_members(group, start, end - start if wanted else 0)
    doc["users"]["size"] = total
    if wanted:
        doc["users"] = {
            "size": total,
            "items": [jira_user_from_model(base, u, host.users.groups_of(u)) for u in users],
            "max-results": end - start,
            "start-index": start,
            "end-index": start + max(len(users) - 1, 0),
        }
    return doc


class GroupResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        group = self.host.users.require_group(req.get_param("groupname"))
        send_json(resp, group_json(self.host, group, parse_expand(req)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        body = read_json_object(req)
        group = self.host.users.create_group(body.get("name"))
        send_json(resp, group_json(self.host, group, set()), status=201)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        group = self.host.users.require_group(req.get_param("groupname"))
        if group.lower_name == self.host.config.sysadmin_group.lower():
            raise BadRequest("The system administrators group cannot be deleted.", field="groupname")
        self.host.users.delete_group(group)
        resp.status = 200


class GroupUser(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        group = self.host.users.require_group(req.get_param("groupname"))
        body = read_json_object(req)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest("'name' must name a user", field="name")
        user = self.host.users.require_user(username=name)
        if not self.host.users.add_to_group(user, group):
            raise BadRequest(f"Cannot add user. '{user.name}' is already a member of '{group.name}'", field="name")
        send_json(resp, group_json(self.host, group, set()), status=201)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        group = self.host.users.require_group(req.get_param("groupname"))
        username = req.get_param("username")
        if not username:
            raise BadRequest("The query parameter 'username' has not been specified", field="username")
        user = self.host.users.require_user(username=username)
        if not self.host.users.remove_from_group(user, group):
            raise ApiError(404, f"'{user.name}' is not a member of '{group.name}'")
        resp.status = 200


class GroupMembers(Resource):
    """``GET /rest/api/2/group/member?groupname=&includeInactiveUsers=&startAt=&maxResults=``: Jira's paged
    members (a PageBean: ``{self, nextPage?, maxResults, startAt, total, isLast, values}``; at most 50 a page)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        group = self.host.users.require_group(req.get_param("groupname"))
        include_inactive = query_bool(req, "includeInactiveUsers", False)
        start = query_int(req, "startAt", 0)
        limit = query_int(req, "maxResults", 50, minimum=1, maximum=50)
        users, total = self.host.users.group_members(group, start, limit, include_inactive=include_inactive)
        base = self.host.base_url

        def page_url(at: int) -> str:
            query = urlencode(
                {
                    "groupname": group.name,
                    "includeInactiveUsers": str(include_inactive).lower(),
                    "startAt": at,
                    "maxResults": limit,
                }
            )
            return f"{base}/rest/api/2/group/member?{query}"

        is_last = start + len(users) >= total
        doc = {"self": page_url(start), "maxResults": limit, "startAt": start, "total": total, "isLast": is_last}
        if not is_last:
            doc["nextPage"] = page_url(start + limit)
        doc["values"] = [
            {
                key: value
                for key, value in jira_user_from_model(base, u, []).items()
                if key in ("self", "key", "name", "emailAddress", "avatarUrls", "displayName", "active", "timeZone")
            }
            for u in users
        ]
        send_json(resp, doc)


class GroupsPicker(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.get_param("query") or ""
        limit = query_int(req, "maxResults", 20, maximum=1000)
        groups, total = self.host.users.search_groups(query, limit)
        send_json(
            resp,
            {
                "header": f"Showing {len(groups)} of {total} matching groups",
                "total": total,
                "groups": [{"name": g.name, "html": g.name, "labels": []} for g in groups],
            },
        )
