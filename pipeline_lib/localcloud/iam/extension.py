"""The IAM extension: role sessions' credentials, and every call a role session makes (through
HTTP with its credentials, or by a service of this cloud on the role's behalf) decided by the
role's policies.

Setting: `PIPELINE_IAM` in the local cloud's environment: `roles` (the default) enforces for
role sessions (service roles, and sessions the user made with sts:AssumeRole: the user's opt-in),
`off` enforces nothing. Calls with the user's own (dummy) credentials are never restricted.
"""
from __future__ import annotations

import io
import logging
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..extension import Extension
from . import requests
from .authorizer import Authorizer
from .credentials import SessionCredentials
from .errors import AccessDenied, AssumeRoleDenied, http_response
from .evaluation import Identity
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud

log = logging.getLogger("pipeline_lib.localcloud.iam")

MODES = ("roles", "off")


def mode_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    mode = environ.get("PIPELINE_IAM", "roles").strip().lower() or "roles"
    if mode not in MODES:
        raise ValueError(f"PIPELINE_IAM={mode!r}: use one of {', '.join(MODES)}")
    return mode


class IamExtension(Extension):
    name = "iam"

    def __init__(self, cloud: "LocalCloud", mode: str | None = None):
        super().__init__(cloud)
        self.mode = mode or mode_from_environment()
        self.seams = build_seams(cloud)
        self.sessions = SessionCredentials()
        self.authorizer = Authorizer(cloud.region)

    @property
    def enforcing(self) -> bool:
        return self.mode != "off"

    def install(self) -> None:
        self.seams.apply()

    def status(self) -> dict[str, Any]:
        return {"enforcement": "service roles and assumed-role sessions" if self.enforcing else "off",
                "setting": f"PIPELINE_IAM={self.mode}", "decisions": self.authorizer.decisions,
                "denied": self.authorizer.denials}

    # -- for the services ---------------------------------------------------------------------
    def credentials_for(self, role_arn: str, session_name: str) -> dict[str, str]:
        """Temporary credentials of the role (what Lambda puts in a function's environment)."""
        return self.sessions.issue(role_arn, session_name)

    def check(self, role_arn: str | None, session_name: str, action: str, resources: Sequence[str] | None,
              context: Mapping[str, Any] | None = None, service: str | None = None,
              trust_context: Mapping[str, Any] | None = None) -> None:
        """For a call this cloud makes on a role's behalf: raise AccessDenied unless allowed.
        `service` (its principal, e.g. firehose.amazonaws.com): the service assumes the role first,
        so a role that does not trust it raises AssumeRoleDenied (`trust_context`: what the
        service passes to STS, e.g. sts:ExternalId, aws:SourceAccount, aws:SourceArn).
        No role (a resource configured without one) is not checked here."""
        if not self.enforcing or not role_arn:
            return
        if service is not None and not self.authorizer.may_assume(role_arn, service, trust_context):
            raise AssumeRoleDenied(service, role_arn)
        self.authorizer.check(Identity(role_arn, session_name), action, resources, context,
                              quote_resource=action.lower().startswith("s3:"))

    def may_assume(self, role_arn: str, services: Sequence[str], context: Mapping[str, Any] | None = None) -> bool:
        """For a role given to a resource (a function's execution role, a state machine's role):
        whether one of `services` may assume it, as the service checks when the resource is
        created or updated with it. A role this IAM does not hold cannot be assumed (STS refuses
        it as AWS does); with enforcement off every role may."""
        if not self.enforcing:
            return True
        from . import roles
        from .trust import trusts_any

        try:
            document = roles.trust_policy(role_arn)
        except roles.NoSuchRole:
            return False
        return trusts_any(document, services, context)

    def identity(self, access_key_id: str) -> Identity | None:
        found = self.sessions.identity(access_key_id)
        if found is not None:
            return found
        if not access_key_id.startswith("ASIA"):
            return None  # sts:AssumeRole keys in moto start with ASIA too; the user's keys do not
        from moto.sts.models import sts_backends

        try:  # moto keeps STS per partition
            assumed = sts_backends[self.cloud.account_id]["aws"].get_assumed_role_from_access_key(access_key_id)
        except Exception:
            log.debug("sts lookup of %s failed", access_key_id, exc_info=True)
            return None
        if assumed is None:
            return None
        return Identity(assumed.role_arn, assumed.session_name)

    # -- HTTP ------------------------------------------------------------------------------------
    def wrap(self, app: Callable) -> Callable:
        """moto's WSGI app behind the check of calls signed with a role session's credentials."""

        def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
            if not self.enforcing:
                return app(environ, start_response)
            signed = requests.access_key_of(environ)
            if signed is None:
                return app(environ, start_response)
            identity = self.identity(signed[0])
            if identity is None:
                return app(environ, start_response)
            body = b""
            if signed[2] != "s3":  # S3 requests are decided by method and path; keep bodies streaming
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) if length else b""
                environ["wsgi.input"] = io.BytesIO(body)
            call = requests.describe(environ, body, identity.account_id)
            if call is None or call.action is None:
                return app(environ, start_response)
            try:
                context = dict(call.context)
                copy_source = context.pop("copy_source", None)
                self.authorizer.check(identity, call.action, call.resources, context,
                                      quote_resource=call.service == "s3")
                if copy_source:
                    self.authorizer.check(identity, "s3:GetObject", [copy_source], {}, quote_resource=True)
            except AccessDenied as denied:
                log.info("denied: %s", denied.message)
                status, headers, payload = http_response(call.service, denied.message, call.protocol)
                start_response(status, headers + [("Content-Length", str(len(payload)))])
                return [payload]
            return app(environ, start_response)

        return guarded


def extension(cloud: "LocalCloud") -> IamExtension:
    return IamExtension(cloud)


def iam_of(cloud: Any) -> "IamExtension | None":
    """The cloud's IAM extension, or None for a cloud built without it (stand-in clouds of unit
    tests have no extensions at all)."""
    find = getattr(cloud, "extension", None)
    try:
        return find("iam") if find is not None else None
    except KeyError:
        return None
