"""Whether Lambda and Step Functions may assume a role given to a function or a state machine:
the pure part (trust policies, principals, the context the services pass) and the check as the
seams make it, with PIPELINE_IAM=roles and off. Expected answers come from IAM's rules as the
AWS documentation states them (a Service principal, conditions on aws:SourceAccount and
aws:SourceArn, an explicit Deny wins)."""
from __future__ import annotations

import json
import types

import pytest

from pipeline_lib.localcloud.iam.trust import ROLE_ARN, trusts, trusts_any
from pipeline_lib.localcloud.lambda_runtime import role_trust as lambda_trust
from pipeline_lib.localcloud.stepfunctions import role_trust as states_trust

ACCOUNT = "123456789012"
REGION = "us-east-1"


def allow(*services: str, condition: dict | None = None, effect: str = "Allow") -> dict:
    statement = {"Effect": effect, "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return statement


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# -- pure ---------------------------------------------------------------------------------------
def test_step_functions_is_known_by_its_global_and_regional_principals():
    assert states_trust.principals("eu-west-1") == ("states.amazonaws.com", "states.eu-west-1.amazonaws.com")
    assert trusts_any(document(allow("states.amazonaws.com")), states_trust.principals(REGION))
    assert trusts_any(document(allow("states.us-east-1.amazonaws.com")), states_trust.principals(REGION))
    assert not trusts_any(document(allow("states.eu-west-1.amazonaws.com")), states_trust.principals(REGION))
    assert not trusts_any(document(allow("lambda.amazonaws.com")), states_trust.principals(REGION))
    # An explicit Deny of the global principal leaves the regional one's Allow standing (two tries).
    both = document(allow("states.amazonaws.com", effect="Deny"), allow("states.us-east-1.amazonaws.com"))
    assert trusts_any(both, states_trust.principals(REGION))
    assert not trusts_any(document(allow("states.amazonaws.com", "states.us-east-1.amazonaws.com"),
                                   {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}),
                          states_trust.principals(REGION))


def test_the_cdk_state_machine_roles_confused_deputy_conditions():
    policy = document(allow("states.amazonaws.com", condition={
        "ArnLike": {"aws:SourceArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    arn = states_trust.state_machine_arn("aws", REGION, ACCOUNT, "Orchestration")
    assert arn == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Orchestration"
    assert trusts_any(policy, states_trust.principals(REGION), states_trust.trust_context(ACCOUNT, arn))
    other = states_trust.state_machine_arn("aws", REGION, "111122223333", "Orchestration")
    assert not trusts_any(policy, states_trust.principals(REGION), states_trust.trust_context("111122223333", other))
    assert not trusts_any(policy, states_trust.principals(REGION))  # no context: the conditions do not hold


def test_lambda_context_names_the_unqualified_function():
    assert lambda_trust.function_arn("f", ACCOUNT, REGION) == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
    assert lambda_trust.function_arn(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live", ACCOUNT, REGION) == \
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
    arn = lambda_trust.function_arn("f", ACCOUNT, REGION)
    policy = document(allow("lambda.amazonaws.com", condition={"StringEquals": {"aws:SourceArn": arn}}))
    assert trusts(policy, "lambda.amazonaws.com", lambda_trust.trust_context(ACCOUNT, arn))
    assert not trusts(policy, "lambda.amazonaws.com",
                      lambda_trust.trust_context(ACCOUNT, lambda_trust.function_arn("g", ACCOUNT, REGION)))


@pytest.mark.parametrize("arn, valid", [
    (f"arn:aws:iam::{ACCOUNT}:role/name", True),
    (f"arn:aws:iam::{ACCOUNT}:role/service-role/path/name+=,.@-_", True),
    (f"arn:aws-cn:iam::{ACCOUNT}:role/name", True),
    ("arn:aws:iam::1234:role/name", False),
    (f"arn:aws:iam::{ACCOUNT}:user/name", False),
    ("name", False),
])
def test_role_arns_that_are_looked_up(arn, valid):
    assert (ROLE_ARN.match(arn) is not None) is valid


# -- the check the seams make -------------------------------------------------------------------
@pytest.fixture
def iam_roles(bare_cloud):
    """Roles in moto's IAM (in process), and a cloud whose only extension is IAM."""
    import boto3
    from moto import mock_aws

    from pipeline_lib.localcloud.iam import IamExtension

    with mock_aws():
        client = boto3.client("iam", region_name=REGION)

        def role(*statements: dict) -> str:
            name = f"r{len(client.list_roles()['Roles'])}"
            return client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document(*statements)))["Role"]["Arn"]

        def cloud(mode: str):
            iam = IamExtension(bare_cloud, mode=mode)
            return types.SimpleNamespace(extension=lambda name: {"iam": iam}[name])

        yield role, cloud


def test_lambda_check_refuses_with_lambdas_error_unless_iam_is_off(iam_roles):
    from moto.awslambda.exceptions import LambdaClientError

    role, cloud = iam_roles
    fn = lambda_trust.function_arn("f", ACCOUNT, REGION)
    untrusted = role(allow("states.amazonaws.com"))
    with pytest.raises(LambdaClientError) as excinfo:
        lambda_trust.check_role(cloud("roles"), untrusted, ACCOUNT, fn)
    assert (excinfo.value.error_type, excinfo.value.message) == (
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
    lambda_trust.check_role(cloud("roles"), role(allow("lambda.amazonaws.com")), ACCOUNT, fn)
    lambda_trust.check_role(cloud("off"), untrusted, ACCOUNT, fn)
    # Malformed, or another account's: moto's own checks answer those.
    lambda_trust.check_role(cloud("roles"), "not-a-role", ACCOUNT, fn)
    lambda_trust.check_role(cloud("roles"), "arn:aws:iam::111122223333:role/x", ACCOUNT, fn)
    # No IAM extension (a cloud built without it): nothing to check with.
    lambda_trust.check_role(types.SimpleNamespace(extension=lambda name: {}[name]), untrusted, ACCOUNT, fn)


def test_step_functions_check_refuses_with_its_error_unless_iam_is_off(iam_roles):
    role, cloud = iam_roles
    machine = states_trust.state_machine_arn("aws", REGION, ACCOUNT, "m")
    untrusted = role(allow("lambda.amazonaws.com"))
    absent = f"arn:aws:iam::{ACCOUNT}:role/absent"
    for arn in (untrusted, absent):
        with pytest.raises(states_trust.AccessDeniedException) as excinfo:
            states_trust.check_role(cloud("roles"), arn, REGION, ACCOUNT, machine)
        body = json.loads(excinfo.value.get_body())
        assert body == {"__type": "AccessDeniedException", "message": (
            "Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
            "to assume the provided role.")}
        assert excinfo.value.code == 400
    states_trust.check_role(cloud("roles"), role(allow("states.us-east-1.amazonaws.com")), REGION, ACCOUNT, machine)
    states_trust.check_role(cloud("off"), untrusted, REGION, ACCOUNT, machine)
    states_trust.check_role(cloud("off"), absent, REGION, ACCOUNT, machine)
