"""Lambda and Step Functions check a role's trust policy when a function or a state machine is
created or updated with it, as AWS does (through the API and through CloudFormation).

The error codes, HTTP statuses and texts are AWS's, written here as observed on AWS (see
pipeline_lib/localcloud/lambda_runtime/role_trust.py and stepfunctions/role_trust.py for where),
never read from the code under test.
"""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
REGION = "us-east-1"
LAMBDA_REFUSAL = "The role defined for the function cannot be assumed by Lambda."
STATES_REFUSAL = ("Neither the global service principal states.amazonaws.com, nor the regional one is "
                  "authorized to assume the provided role.")
PASS_MACHINE = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def uid() -> str:
    return uuid.uuid4().hex[:8]


def trust(*services: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": list(services)},
                                 "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def make_role(boto_session, document: dict[str, Any]) -> str:
    return boto_session.client("iam").create_role(
        RoleName=f"trust-test-{uid()}", AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_function(lam, name: str, role: str) -> dict[str, Any]:
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                               Code={"ZipFile": package()})


def refused(excinfo: pytest.ExceptionInfo, code: str, message: str) -> None:
    error = excinfo.value.response
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- Lambda -------------------------------------------------------------------------------------
def test_create_function_refuses_a_role_lambda_may_not_assume(boto_session):
    lam = boto_session.client("lambda")
    name = f"untrusted-{uid()}"
    role = make_role(boto_session, trust("glue.amazonaws.com"))
    with pytest.raises(ClientError) as excinfo:
        create_function(lam, name, role)
    refused(excinfo, "InvalidParameterValueException", LAMBDA_REFUSAL)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)  # nothing was created


def test_update_function_configuration_refuses_such_a_role_and_changes_nothing(boto_session):
    lam = boto_session.client("lambda")
    name = f"update-role-{uid()}"
    good = make_role(boto_session, trust("lambda.amazonaws.com"))
    create_function(lam, name, good)
    bad = make_role(boto_session, trust("states.amazonaws.com"))
    with pytest.raises(ClientError) as excinfo:
        lam.update_function_configuration(FunctionName=name, Role=bad, Timeout=9)
    refused(excinfo, "InvalidParameterValueException", LAMBDA_REFUSAL)
    configuration = lam.get_function_configuration(FunctionName=name)
    assert (configuration["Role"], configuration["Timeout"]) == (good, 3)  # 3: Lambda's default timeout
    other = make_role(boto_session, trust("states.amazonaws.com", "lambda.amazonaws.com"))
    assert lam.update_function_configuration(FunctionName=name, Role=other)["Role"] == other
    # A role that is not (or no longer) in IAM cannot be assumed either.
    with pytest.raises(ClientError) as excinfo:
        lam.update_function_configuration(FunctionName=name, Role=f"arn:aws:iam::{ACCOUNT}:role/absent-{uid()}")
    refused(excinfo, "InvalidParameterValueException", LAMBDA_REFUSAL)


def test_lambda_trust_conditions_see_the_functions_account(boto_session):
    lam = boto_session.client("lambda")
    own = make_role(boto_session, trust("lambda.amazonaws.com",
                                        condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    create_function(lam, f"own-account-{uid()}", own)
    foreign = make_role(boto_session, trust("lambda.amazonaws.com",
                                            condition={"StringEquals": {"aws:SourceAccount": "111122223333"}}))
    with pytest.raises(ClientError) as excinfo:
        create_function(lam, f"foreign-account-{uid()}", foreign)
    refused(excinfo, "InvalidParameterValueException", LAMBDA_REFUSAL)


# -- Step Functions -----------------------------------------------------------------------------
def test_create_state_machine_refuses_a_role_step_functions_may_not_assume(boto_session):
    sfn = boto_session.client("stepfunctions")
    name = f"untrusted-{uid()}"
    role = make_role(boto_session, trust("lambda.amazonaws.com"))
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine(name=name, definition=PASS_MACHINE, roleArn=role)
    refused(excinfo, "AccessDeniedException", STATES_REFUSAL)
    assert name not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    with pytest.raises(ClientError) as excinfo:  # a role IAM does not hold
        sfn.create_state_machine(name=name, definition=PASS_MACHINE,
                                 roleArn=f"arn:aws:iam::{ACCOUNT}:role/absent-{uid()}")
    refused(excinfo, "AccessDeniedException", STATES_REFUSAL)


def test_the_regional_principal_is_enough(boto_session):
    sfn = boto_session.client("stepfunctions")
    role = make_role(boto_session, trust(f"states.{REGION}.amazonaws.com"))
    arn = sfn.create_state_machine(name=f"regional-{uid()}", definition=PASS_MACHINE, roleArn=role)["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == role
    elsewhere = make_role(boto_session, trust("states.eu-west-1.amazonaws.com"))
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine(name=f"elsewhere-{uid()}", definition=PASS_MACHINE, roleArn=elsewhere)
    refused(excinfo, "AccessDeniedException", STATES_REFUSAL)


def test_state_machine_trust_conditions_see_its_arn_and_account(boto_session):
    """The confused-deputy conditions of the Step Functions developer guide (and the CDK app)."""
    sfn = boto_session.client("stepfunctions")
    prefix = f"allowed-{uid()}"
    role = make_role(boto_session, trust("states.amazonaws.com", condition={
        "ArnLike": {"aws:SourceArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{prefix}*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    sfn.create_state_machine(name=f"{prefix}-one", definition=PASS_MACHINE, roleArn=role)
    with pytest.raises(ClientError) as excinfo:
        sfn.create_state_machine(name=f"other-{uid()}", definition=PASS_MACHINE, roleArn=role)
    refused(excinfo, "AccessDeniedException", STATES_REFUSAL)


def test_update_state_machine_refuses_such_a_role_and_changes_nothing(boto_session):
    sfn = boto_session.client("stepfunctions")
    good = make_role(boto_session, trust("states.amazonaws.com"))
    arn = sfn.create_state_machine(name=f"update-role-{uid()}", definition=PASS_MACHINE, roleArn=good)["stateMachineArn"]
    bad = make_role(boto_session, trust("lambda.amazonaws.com"))
    changed = json.dumps({"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}})
    with pytest.raises(ClientError) as excinfo:
        sfn.update_state_machine(stateMachineArn=arn, roleArn=bad, definition=changed)
    refused(excinfo, "AccessDeniedException", STATES_REFUSAL)
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["roleArn"], json.loads(described["definition"])) == (good, json.loads(PASS_MACHINE))
    other = make_role(boto_session, trust("states.amazonaws.com"))
    sfn.update_state_machine(stateMachineArn=arn, roleArn=other)
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == other


# -- CloudFormation -----------------------------------------------------------------------------
def role_resource(service: str) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust(service)}}


def failed_reasons(cf, stack: str) -> dict[str, str]:
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    return {e["LogicalResourceId"]: e.get("ResourceStatusReason", "") for e in events
            if e["ResourceStatus"] in ("CREATE_FAILED", "UPDATE_FAILED") and e["ResourceType"] != "AWS::CloudFormation::Stack"}


@pytest.mark.parametrize("kind", ["function", "state machine"])
def test_a_stack_with_a_role_the_service_may_not_assume_fails(boto_session, kind):
    cf = boto_session.client("cloudformation")
    stack = f"trust-{kind.replace(' ', '-')}-{uid()}"
    if kind == "function":
        resource = {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"}}}
        role, message = role_resource("states.amazonaws.com"), LAMBDA_REFUSAL
    else:
        resource = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": PASS_MACHINE, "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}}
        role, message = role_resource("lambda.amazonaws.com"), STATES_REFUSAL
    template = {"Resources": {"Role": role, "Thing": resource}}
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    try:
        assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
        reasons = failed_reasons(cf, stack)
        assert list(reasons) == ["Thing"], reasons
        assert message in reasons["Thing"], reasons
    finally:
        cf.delete_stack(StackName=stack)


def test_a_stack_update_to_a_role_the_service_may_not_assume_rolls_back(boto_session):
    cf, lam = boto_session.client("cloudformation"), boto_session.client("lambda")
    stack = f"trust-update-{uid()}"

    def template(role: str) -> str:
        return json.dumps({"Resources": {
            "Good": role_resource("lambda.amazonaws.com"), "Bad": role_resource("glue.amazonaws.com"),
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": [role, "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"}}}},
            "Outputs": {"Fn": {"Value": {"Ref": "Fn"}}, "Good": {"Value": {"Fn::GetAtt": ["Good", "Arn"]}}}})

    cf.create_stack(StackName=stack, TemplateBody=template("Good"), Capabilities=["CAPABILITY_IAM"])
    try:
        summary = cf.describe_stacks(StackName=stack)["Stacks"][0]
        assert summary["StackStatus"] == "CREATE_COMPLETE", failed_reasons(cf, stack)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in summary["Outputs"]}
        cf.update_stack(StackName=stack, TemplateBody=template("Bad"), Capabilities=["CAPABILITY_IAM"])
        assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
        assert LAMBDA_REFUSAL in failed_reasons(cf, stack).get("Fn", ""), failed_reasons(cf, stack)
        assert lam.get_function_configuration(FunctionName=outputs["Fn"])["Role"] == outputs["Good"]
    finally:
        cf.delete_stack(StackName=stack)


# -- PIPELINE_IAM=off ---------------------------------------------------------------------------
def test_pipeline_iam_off_checks_no_trust_policy(tmp_path, monkeypatch, local_cloud):
    """A cloud of its own started with PIPELINE_IAM=off takes roles no service may assume."""
    import boto3

    from pipeline_lib.localcloud import lifecycle

    monkeypatch.setenv("PIPELINE_IAM", "off")
    state_dir = str(tmp_path / "iam-off")
    running = lifecycle.up(port=0, state_dir=state_dir)
    try:
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")

        def client(service: str):
            return session.client(service, endpoint_url=running.endpoint)

        assert lifecycle.status(state_dir)["extensions"]["iam"]["setting"] == "PIPELINE_IAM=off"
        role = client("iam").create_role(RoleName="glue-only", AssumeRolePolicyDocument=json.dumps(
            trust("glue.amazonaws.com")))["Role"]["Arn"]
        assert create_function(client("lambda"), "taken", role)["Role"] == role
        sfn = client("stepfunctions")
        arn = sfn.create_state_machine(name="taken", definition=PASS_MACHINE, roleArn=role)["stateMachineArn"]
        assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == role
    finally:
        lifecycle.down(state_dir)
