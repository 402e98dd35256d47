"""A state machine's role must be one Step Functions may assume: CreateStateMachine and
UpdateStateMachine (and so CloudFormation creating or updating an AWS::StepFunctions::StateMachine)
check the role's trust policy. Step Functions is known by two principals, the global
states.amazonaws.com and the regional states.<region>.amazonaws.com; either is enough.

Its answer when neither may, as observed on AWS (github.com/lumigo-io/lumigo-CLI/issues/83, and
the error shape of Step Functions' AccessDeniedException, HTTP 400, in
github.com/aws-samples/serverless-patterns/pull/102): AccessDeniedException "Neither the global
service principal states.amazonaws.com, nor the regional one is authorized to assume the provided
role."

Step Functions passes its account as aws:SourceAccount and the state machine as aws:SourceArn
(the confused-deputy keys its developer guide puts in a role's trust policy, as the CDK app does).
"""
from __future__ import annotations

from typing import Any

from moto.core.exceptions import AWSError

from ..iam.extension import iam_of
from ..iam.trust import ROLE_ARN

__all__ = ["CANNOT_ASSUME", "AccessDeniedException", "check_role", "principals", "state_machine_arn",
           "trust_context"]

CANNOT_ASSUME = ("Neither the global service principal states.amazonaws.com, nor the regional one is "
                 "authorized to assume the provided role.")


def principals(region: str) -> tuple[str, str]:
    return "states.amazonaws.com", f"states.{region}.amazonaws.com"


def state_machine_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:states:{region}:{account}:stateMachine:{name}"


def trust_context(account: str, arn: str) -> dict[str, str]:
    return {"aws:SourceAccount": account, "aws:SourceArn": arn}


class AccessDeniedException(AWSError):
    """Step Functions' AccessDeniedException (HTTP 400, JSON `__type` and `message`)."""
    TYPE = "AccessDeniedException"
    STATUS = 400


def check_role(cloud: Any, role: Any, region: str, account: str, arn: str) -> None:
    """Raise AccessDeniedException unless Step Functions may assume `role`. A malformed role ARN
    is left to moto (its InvalidArn); no IAM extension, or PIPELINE_IAM=off: nothing."""
    iam = iam_of(cloud)
    if iam is None or not isinstance(role, str) or ROLE_ARN.match(role) is None:
        return
    if not iam.may_assume(role, principals(region), trust_context(account, arn)):
        raise AccessDeniedException(CANNOT_ASSUME)
