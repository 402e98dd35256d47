"""What a crawl does as the crawler's IAM role, checked by the IAM extension: listing
(s3:ListBucket with s3:prefix) and reading (s3:GetObject) the S3 data, reading the catalog
(glue:GetDatabase, glue:GetTable), and writing it (glue:CreateTable / UpdateTable / DeleteTable,
glue:BatchCreatePartition / BatchUpdatePartition / BatchDeletePartition). A refused call ends the
crawl FAILED with the service's AccessDenied text, as the crawler's LastCrawl reports it; a role
whose trust policy does not let glue.amazonaws.com assume it fails the crawl with Glue's
"Service is unable to assume provided role" text."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from .model import CrawlFailed, CrawlPlan

__all__ = ["RoleChecks", "role_checks"]

# The session name AWS Glue gives a crawler's role session.
SESSION_NAME = "AWS-Crawler"
GLUE_PRINCIPAL = "glue.amazonaws.com"
# Glue's words when the crawler's role does not trust glue.amazonaws.com.
ASSUME_ROLE_FAILED = "Service is unable to assume provided role. Please verify role's TrustPolicy."


def _role_arn(role: str, account: str) -> str:
    if role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{account}:role/{role.lstrip('/')}"


class RoleChecks:
    def __init__(self, iam: Any, role_arn: str, account: str, region: str):
        self._iam = iam
        self._role = role_arn
        self._glue = f"arn:aws:glue:{region}:{account}"
        self._trust = {"aws:SourceAccount": account}

    def _check(self, action: str, resources: list[str], context: dict[str, str] | None = None,
               service: str = "AWSGlue", status: int = 400, code: str = "AccessDeniedException") -> None:
        from ..iam import AccessDenied, AssumeRoleDenied

        try:
            self._iam.check(self._role, SESSION_NAME, action, resources, context,
                            service=GLUE_PRINCIPAL, trust_context=self._trust)
        except AssumeRoleDenied:
            raise CrawlFailed(ASSUME_ROLE_FAILED) from None
        except AccessDenied as exc:
            # The crawler reports the SDK's exception text: message, then the service's details.
            raise CrawlFailed(f"{exc.message} (Service: {service}; Status Code: {status}; Error Code: {code}; "
                              f"Request ID: {uuid.uuid4()}; Proxy: null)") from None

    def _table(self, database: str, table: str) -> list[str]:
        return [f"{self._glue}:catalog", f"{self._glue}:database/{database}", f"{self._glue}:table/{database}/{table}"]

    def list_bucket(self, bucket: str, prefix: str) -> None:
        self._check("s3:ListBucket", [f"arn:aws:s3:::{bucket}"], {"s3:prefix": prefix},
                    service="Amazon S3", status=403, code="AccessDenied")

    def get_object(self, bucket: str, key: str) -> None:
        self._check("s3:GetObject", [f"arn:aws:s3:::{bucket}/{key}"], service="Amazon S3", status=403,
                    code="AccessDenied")

    def read_catalog(self, database: str, tables: list[str]) -> None:
        self._check("glue:GetDatabase", [f"{self._glue}:catalog", f"{self._glue}:database/{database}"])
        for table in tables:
            self._check("glue:GetTable", self._table(database, table))

    def write_plan(self, plan: CrawlPlan) -> None:
        actions = {"create": "glue:CreateTable", "update": "glue:UpdateTable", "delete": "glue:DeleteTable",
                   "deprecate": "glue:UpdateTable"}
        for change in plan.tables:
            self._check(actions[change.action], self._table(change.database, change.name))
        for changes in plan.partitions:
            resources = self._table(changes.database, changes.table)
            if changes.create:
                self._check("glue:BatchCreatePartition", resources)
            if changes.update:
                self._check("glue:BatchUpdatePartition", resources)
            if changes.delete:
                self._check("glue:BatchDeletePartition", resources)


def role_checks(cloud: Any, crawler: Any) -> RoleChecks | None:
    """The checks for this crawler's role; None when the cloud has no IAM extension, it enforces
    nothing, or the crawler has no role."""
    lookup: Callable[[str], Any] | None = getattr(cloud, "extension", None)
    try:
        iam = lookup("iam") if lookup is not None else None
    except KeyError:
        iam = None
    role = getattr(crawler, "role", None)
    if iam is None or not getattr(iam, "enforcing", False) or not role:
        return None
    backend = crawler.backend
    return RoleChecks(iam, _role_arn(str(role), backend.account_id), backend.account_id, backend.region_name)
