"""Bucket-policy evaluation for the local cloud's own caller (pure logic), on IAM's one
evaluator (iam/evaluation.py): the same statement matching, wildcards, condition operators and
Principal/NotPrincipal rules.

Who the caller is: every user call carries the dummy credentials of the account's root user, so a
statement applies when its Principal names everyone or the account's root (`"*"`,
`{"AWS": "*"}`, `arn:aws:iam::<account>:root`, the bare account id), or when its NotPrincipal does
not name it (a "Deny everyone except the Admin role" statement applies, as on AWS). Calls by role
sessions are decided with the bucket policy as a resource policy by the IAM extension.
An applying Deny wins, else an applying Allow allows, else the policy is silent; only Effect
"Allow" allows (S3 refuses a policy with another Effect at PutBucketPolicy).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..iam.evaluation import ALLOW, DENY, AccountRoot, conditions_hold, evaluate_document, statement_applies
from ..statedir import ACCOUNT_ID

__all__ = ["ALLOW", "DENY", "CALLER", "conditions_hold", "evaluate", "statement_applies"]

CALLER = AccountRoot(ACCOUNT_ID)


def evaluate(document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str],
             caller: AccountRoot = CALLER) -> str | None:
    """ALLOW, DENY, or None when no statement applies to `caller`."""
    return evaluate_document(document, action, resource, context, caller)
