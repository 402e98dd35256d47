"""IAM policy evaluation (pipeline_lib.localcloud.iam.evaluation), against the rules of the IAM
User Guide ("Policy evaluation logic", "IAM JSON policy elements"): explicit deny wins, an allow
in an identity-based or a same-account resource-based policy allows, otherwise implicit deny;
Action/NotAction, Resource/NotResource, wildcards, conditions; AWS's AccessDenied texts."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.iam import requests
from pipeline_lib.localcloud.iam.evaluation import Identity, conditions_hold, decide

ROLE = "arn:aws:iam::123456789012:role/DeliveryRole"
ME = Identity(ROLE, "session-1")
LAKE = "arn:aws:s3:::lake"


def allow(action, resource, **extra):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def deny(action, resource, **extra):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource, **extra}]}


def test_session_arn_is_the_assumed_role_arn():
    assert ME.session_arn == "arn:aws:sts::123456789012:assumed-role/DeliveryRole/session-1"


def test_nothing_allows_is_an_implicit_deny_with_awss_text():
    decision = decide(ME, [allow("s3:GetObject", f"{LAKE}/data/*")], "s3:PutObject", [f"{LAKE}/data/x"])
    assert not decision.allowed
    assert decision.message(ME, quote_resource=True) == (
        'User: arn:aws:sts::123456789012:assumed-role/DeliveryRole/session-1 is not authorized to perform: '
        's3:PutObject on resource: "arn:aws:s3:::lake/data/x" because no identity-based policy allows the '
        's3:PutObject action')


def test_an_allow_allows_and_an_explicit_deny_anywhere_wins():
    policies = [allow("s3:*", f"{LAKE}/*")]
    assert decide(ME, policies, "s3:PutObject", [f"{LAKE}/data/x"]).allowed
    denied = decide(ME, policies + [deny("s3:PutObject", f"{LAKE}/data/*")], "s3:PutObject", [f"{LAKE}/data/x"])
    assert not denied.allowed
    assert denied.message(ME).endswith("with an explicit deny in an identity-based policy")


def test_resource_policy_of_the_same_account_can_allow_and_deny():
    bucket_policy = {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": f"{LAKE}/*"},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": [LAKE, f"{LAKE}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}
    # No identity policy allows it; the bucket policy naming the role does (same account).
    assert decide(ME, [], "s3:GetObject", [f"{LAKE}/k"], {"aws:SecureTransport": "true"}, bucket_policy).allowed
    # The enforce-SSL deny applies to insecure requests only.
    insecure = decide(ME, [allow("s3:*", "*")], "s3:GetObject", [f"{LAKE}/k"], {"aws:SecureTransport": "false"},
                      bucket_policy)
    assert not insecure.allowed and insecure.message(ME).endswith("with an explicit deny in a resource-based policy")
    # A service principal or another role in the bucket policy grants this session nothing.
    other = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Action": "s3:PutObject", "Resource": f"{LAKE}/*"}]}
    assert not decide(ME, [], "s3:PutObject", [f"{LAKE}/k"], {}, other).allowed


def test_actions_match_case_insensitively_with_wildcards_and_resources_case_sensitively():
    policies = [allow("S3:get*", f"{LAKE}/Data/?.parquet")]
    assert decide(ME, policies, "s3:GetObject", [f"{LAKE}/Data/a.parquet"]).allowed
    assert not decide(ME, policies, "s3:GetObject", [f"{LAKE}/data/a.parquet"]).allowed
    assert not decide(ME, policies, "s3:GetObject", [f"{LAKE}/Data/ab.parquet"]).allowed
    assert not decide(ME, policies, "s3:PutObject", [f"{LAKE}/Data/a.parquet"]).allowed


def test_not_action_and_not_resource():
    policies = [{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": f"{LAKE}/secret/*"}]}]
    assert decide(ME, policies, "s3:GetObject", [f"{LAKE}/data/x"]).allowed
    assert not decide(ME, policies, "iam:CreateUser", ["arn:aws:iam::123456789012:user/x"]).allowed
    assert not decide(ME, policies, "s3:GetObject", [f"{LAKE}/secret/x"]).allowed


def test_every_resource_of_a_request_must_be_allowed_and_the_first_refused_is_named():
    glue = "arn:aws:glue:us-east-1:123456789012"
    resources = [f"{glue}:catalog", f"{glue}:database/cdc_lake", f"{glue}:table/cdc_lake/cdc_events"]
    full = [allow(["glue:GetTable", "glue:GetTableVersions"], resources)]
    assert decide(ME, full, "glue:GetTableVersions", resources).allowed
    partial = [allow("glue:GetTableVersions", resources[:2])]
    decision = decide(ME, partial, "glue:GetTableVersions", resources)
    assert not decision.allowed and decision.resource == resources[2]


@pytest.mark.parametrize("prefix, allowed", [("data/", True), ("data/year=2026/", True), ("errors/", False), ("", False)])
def test_string_like_condition_on_s3_prefix(prefix, allowed):
    # The crawler role's ListBucket statement in the stack's template.
    policies = [allow("s3:ListBucket", LAKE, Condition={"StringLike": {"s3:prefix": ["data/", "data/*"]}})]
    assert decide(ME, policies, "s3:ListBucket", [LAKE], {"s3:prefix": prefix}).allowed is allowed


def test_condition_operators():
    ctx = {"aws:SourceArn": "arn:aws:states:us-east-1:123456789012:stateMachine:flow", "aws:SourceAccount": "123456789012"}
    assert conditions_hold({"ArnLike": {"aws:SourceArn": "arn:aws:states:us-east-1:123456789012:stateMachine:*"},
                            "StringEquals": {"aws:SourceAccount": "123456789012"}}, ctx)
    assert not conditions_hold({"StringEquals": {"aws:SourceAccount": "111122223333"}}, ctx)
    # A key missing from the request: the condition does not hold, except with ...IfExists.
    assert not conditions_hold({"StringEquals": {"sts:ExternalId": "x"}}, ctx)
    assert conditions_hold({"StringEqualsIfExists": {"sts:ExternalId": "x"}}, ctx)
    assert conditions_hold({"Null": {"sts:ExternalId": "true", "aws:SourceAccount": "false"}}, ctx)
    # Condition key names are case-insensitive.
    assert conditions_hold({"StringEquals": {"AWS:sourceaccount": "123456789012"}}, ctx)
    assert conditions_hold({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"})
    # An operator not known never holds (the statement does not apply).
    assert not conditions_hold({"NoSuchOperator": {"aws:SourceAccount": "123456789012"}}, ctx)


def test_requests_name_action_resources_and_signer():
    auth = ("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY123456/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=abc")
    environ = {"HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.BatchWriteItem", "PATH_INFO": "/"}
    call = requests.describe(environ, b'{"RequestItems": {"T1": [], "T2": []}}', "123456789012")
    assert (call.access_key, call.action) == ("ASIAEXAMPLEKEY123456", "dynamodb:BatchWriteItem")
    assert call.resources == ["arn:aws:dynamodb:us-east-1:123456789012:table/T1",
                              "arn:aws:dynamodb:us-east-1:123456789012:table/T2"]

    s3 = dict(environ, HTTP_AUTHORIZATION=auth.replace("/dynamodb/", "/s3/"), REQUEST_METHOD="PUT",
              PATH_INFO="/lake/data/a%20b.parquet")
    s3.pop("HTTP_X_AMZ_TARGET")
    call = requests.describe(s3, b"", "123456789012")
    assert (call.action, call.resources) == ("s3:PutObject", ["arn:aws:s3:::lake/data/a b.parquet"])
    listing = dict(s3, REQUEST_METHOD="GET", PATH_INFO="/lake", QUERY_STRING="list-type=2&prefix=data%2F")
    call = requests.describe(listing, b"", "123456789012")
    assert (call.action, call.resources, call.context) == ("s3:ListBucket", ["arn:aws:s3:::lake"], {"s3:prefix": "data/"})

    invoke = {"HTTP_AUTHORIZATION": auth.replace("/dynamodb/", "/lambda/"), "REQUEST_METHOD": "POST",
              "PATH_INFO": "/2015-03-31/functions/enricher/invocations", "QUERY_STRING": ""}
    call = requests.describe(invoke, b"{}", "123456789012")
    assert (call.action, call.resources) == ("lambda:InvokeFunction",
                                             ["arn:aws:lambda:us-east-1:123456789012:function:enricher"])
    assert requests.describe({"PATH_INFO": "/"}, b"", "123456789012") is None  # unsigned


# -- permissions boundaries ("Permissions boundaries for IAM entities", IAM User Guide) ------------
def test_a_boundary_caps_what_identity_policies_grant():
    granted = [allow("s3:*", f"{LAKE}/*")]
    boundary = allow("s3:GetObject", f"{LAKE}/*")
    assert decide(ME, granted, "s3:GetObject", [f"{LAKE}/x"], boundary=boundary).allowed
    capped = decide(ME, granted, "s3:PutObject", [f"{LAKE}/x"], boundary=boundary)
    assert not capped.allowed
    assert capped.message(ME) == (
        "User: arn:aws:sts::123456789012:assumed-role/DeliveryRole/session-1 is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::lake/x because no permissions boundary allows the s3:PutObject action")
    # The boundary grants nothing by itself.
    assert decide(ME, [], "s3:GetObject", [f"{LAKE}/x"], boundary=boundary).reason == "implicit"


def test_an_explicit_deny_in_a_boundary_denies():
    boundary = {"Statement": [allow("s3:*", "*")["Statement"][0], deny("s3:DeleteObject", "*")["Statement"][0]]}
    denied = decide(ME, [allow("s3:*", "*")], "s3:DeleteObject", [f"{LAKE}/x"], boundary=boundary)
    assert not denied.allowed
    assert denied.message(ME).endswith("with an explicit deny in a permissions boundary")


def test_a_resource_policy_naming_the_session_is_not_capped_by_the_boundary_one_naming_the_role_is():
    boundary = allow("s3:GetObject", "*")
    to_session = allow("s3:PutObject", f"{LAKE}/*", Principal={"AWS": ME.session_arn})
    to_role = allow("s3:PutObject", f"{LAKE}/*", Principal={"AWS": ROLE})
    assert decide(ME, [], "s3:PutObject", [f"{LAKE}/x"], resource_policy=to_session, boundary=boundary).allowed
    capped = decide(ME, [], "s3:PutObject", [f"{LAKE}/x"], resource_policy=to_role, boundary=boundary)
    assert (capped.allowed, capped.reason) == (False, "implicit_boundary")


# -- trust policies ------------------------------------------------------------------------------
def test_trust_policy_names_the_service_and_its_conditions_must_hold():
    from pipeline_lib.localcloud.iam.trust import trusts

    firehose_trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
                                     "Action": "sts:AssumeRole",
                                     "Condition": {"StringEquals": {"sts:ExternalId": "123456789012"}}}]}
    assert trusts(firehose_trust, "firehose.amazonaws.com", {"sts:ExternalId": "123456789012"})
    assert not trusts(firehose_trust, "firehose.amazonaws.com", {"sts:ExternalId": "999999999999"})
    assert not trusts(firehose_trust, "firehose.amazonaws.com", {})
    assert not trusts(firehose_trust, "lambda.amazonaws.com", {"sts:ExternalId": "123456789012"})
    several = {"Statement": [{"Effect": "Allow", "Principal": {"Service": ["glue.amazonaws.com", "lambda.amazonaws.com"]},
                              "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    assert trusts(several, "glue.amazonaws.com")
    denied = {"Statement": several["Statement"] + [
        {"Effect": "Deny", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:*"}]}
    assert not trusts(denied, "glue.amazonaws.com") and trusts(denied, "lambda.amazonaws.com")
    assert not trusts({"Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                                      "Action": "sts:AssumeRoleWithWebIdentity"}]}, "glue.amazonaws.com")
    assert not trusts(None, "glue.amazonaws.com")
