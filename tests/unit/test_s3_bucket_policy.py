"""Bucket policies as S3 decides them for the local cloud's own caller (the account's root user,
whose dummy credentials every user call carries), on IAM's one evaluator
(localcloud/iam/evaluation.py). Expected answers from the IAM User Guide's policy-evaluation and
element references."""
from __future__ import annotations

from pipeline_lib.localcloud.s3 import policy
from pipeline_lib.localcloud.statedir import ACCOUNT_ID

BUCKET_OBJECT = "arn:aws:s3:::b/k"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_a_deny_with_not_principal_applies_to_a_caller_it_does_not_name():
    # "Deny everyone except the Admin role": the local caller is not that role, so it is denied.
    only_admin = doc({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"},
                      "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    assert policy.evaluate(only_admin, "s3:GetObject", BUCKET_OBJECT, {}) == policy.DENY
    # A statement naming the caller (the account's root) in NotPrincipal leaves it alone.
    except_root = doc({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                       "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    assert policy.evaluate(except_root, "s3:GetObject", BUCKET_OBJECT, {}) is None


def test_only_effect_allow_allows():
    for effect in ("allow", "Permit", "", None):
        statement = {"Effect": effect, "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        assert policy.evaluate(doc(statement), "s3:GetObject", BUCKET_OBJECT, {}) is None, effect
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    assert policy.evaluate(doc(allow), "s3:GetObject", BUCKET_OBJECT, {}) == policy.ALLOW


def test_a_statement_for_another_principal_does_not_apply():
    service_only = doc({"Effect": "Deny", "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    assert policy.evaluate(service_only, "s3:GetObject", BUCKET_OBJECT, {}) is None
