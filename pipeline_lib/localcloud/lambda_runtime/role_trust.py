"""A function's execution role must be one Lambda may assume: CreateFunction and
UpdateFunctionConfiguration (and so CloudFormation creating or updating an AWS::Lambda::Function)
check the role's trust policy and refuse one that does not let lambda.amazonaws.com assume it.

Lambda's answer, as observed on AWS (HTTP 400; e.g. github.com/danilop/LambdAuth/issues/49,
github.com/cloudyr/aws.lambda/issues/2, github.com/pdomala/LambdaCDDemo/issues/1, and from
UpdateFunctionConfiguration in github.com/alexcasalboni/aws-lambda-power-tuning/issues/69):
InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda."

Lambda passes its account as aws:SourceAccount and the function as aws:SourceArn, so trust
policies with those confused-deputy conditions hold for the function's own account.
"""
from __future__ import annotations

from typing import Any

from ..iam.extension import iam_of
from ..iam.trust import ROLE_ARN

__all__ = ["CANNOT_ASSUME", "LAMBDA_PRINCIPAL", "check_role", "function_arn", "trust_context"]

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."


def function_arn(name: str, account: str, region: str) -> str:
    """The unqualified ARN of a function given by name or ARN (CreateFunction takes either)."""
    if name.startswith("arn:"):
        parts = name.split(":")
        return ":".join(parts[:7])
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def trust_context(account: str, arn: str) -> dict[str, str]:
    return {"aws:SourceAccount": account, "aws:SourceArn": arn}


def check_role(cloud: Any, role: Any, account: str, arn: str) -> None:
    """Raise Lambda's InvalidParameterValueException unless Lambda may assume `role`. A role ARN
    that is malformed or of another account is left to moto's own checks (its
    ValidationException / AccessDeniedException); no IAM extension, or PIPELINE_IAM=off: nothing."""
    iam = iam_of(cloud)
    if iam is None or not isinstance(role, str):
        return
    match = ROLE_ARN.match(role)
    if match is None or match.group(1) != account:
        return
    if not iam.may_assume(role, (LAMBDA_PRINCIPAL,), trust_context(account, arn)):
        from moto.awslambda.exceptions import InvalidParameterValueException

        raise InvalidParameterValueException(CANNOT_ASSUME)
