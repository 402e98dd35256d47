"""The local backend's deploy and destroy: the synthesized template as a CloudFormation stack in
the local cloud, its assets published first as the CDK CLI would."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..stack import _outputs_of, _summary as stack_summary
from . import synth
from .assets import template_argument, uploads
from .bootstrap import bootstrap, publish
from .buckets import empty_buckets, stack_buckets, stack_resources
from .errors import DeployError
from .events import failure_reasons, run_stack_operation

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# A stack in one of these must be deleted before it can be created again (the CDK CLI does that).
DEAD = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"}


def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    return _outputs_of(stack_summary(cfn, stack_name))


def _cfn(session: boto3.Session) -> Any:
    # The local cloud does a stack operation inside the API call: allow it time, never resend it.
    return session.client("cloudformation", config=Config(read_timeout=1800, retries={"total_max_attempts": 1}))


def _account(session: boto3.Session) -> str:
    return session.client("sts").get_caller_identity()["Account"]


def deploy_local(session: boto3.Session, stack_name: str, context: dict[str, Any] | None, out_dir: Path,
                 progress: bool, say: Callable[[str], None], synthesize: bool = True) -> dict[str, str]:
    region = session.region_name or "us-east-1"
    account = _account(session)
    if synthesize:
        say(f"synthesizing infra/ into {out_dir}")
        template_path = synth.synth(out_dir, context)
    else:
        templates = synth.template_paths(out_dir)
        if stack_name not in templates:
            raise DeployError(f"the cloud assembly in {out_dir} has no {stack_name} stack; synthesize it first")
        template_path = templates[stack_name]
    assets = synth.asset_manifest(out_dir, stack_name, account=account, region=region)
    planned = uploads(assets)
    bootstrap(session, account, region)
    published = publish(session, planned, say)
    say(f"assets: {len(planned)} ({published} uploaded, {len(planned) - published} already there)")
    template_upload = next((u for u in planned if u.source == template_path.resolve()), None)
    template = template_argument(template_path, template_upload, region)
    resources = len(synth.load_template(template_path).get("Resources", {}))

    cfn = _cfn(session)
    summary = stack_summary(cfn, stack_name)
    if summary and summary["StackStatus"] in DEAD:
        say(f"stack {stack_name} is {summary['StackStatus']} from an earlier attempt: deleting it first")
        _delete_stack(session, cfn, summary, progress, say)
        summary = None
    if summary and summary["StackStatus"].endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {stack_name} is {summary['StackStatus']}; wait until it finishes and try again")
    common = {"StackName": stack_name, "Capabilities": CAPABILITIES, **template}
    if summary is None:
        status, events = run_stack_operation(
            cfn, stack_name, lambda: cfn.create_stack(**common), resources, "create", progress
        )
        wanted = "CREATE_COMPLETE"
    else:
        try:
            status, events = run_stack_operation(
                cfn, stack_name, lambda: cfn.update_stack(**common), resources, "update", progress
            )
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            say(f"stack {stack_name}: no changes")
            return stack_outputs(cfn, stack_name)
        wanted = "UPDATE_COMPLETE"
    if status != wanted:
        reasons = "\n  ".join(failure_reasons(events)) or "(no resource reported a reason)"
        raise DeployError(f"stack {stack_name} ended {status}, not {wanted}:\n  {reasons}")
    say(f"stack {stack_name}: {status}")
    return stack_outputs(cfn, stack_name)


def _delete_stack(session: boto3.Session, cfn: Any, summary: dict[str, Any], progress: bool,
                  say: Callable[[str], None], attempts: int = 2) -> None:
    stack_id = summary["StackId"]
    s3 = session.client("s3")
    status, events = "", []
    for _attempt in range(attempts):
        # Firehose may still deliver what it buffered while its stream is deleted: empty again
        # and retry once if a bucket filled up meanwhile, as you would on AWS.
        resources = stack_resources(cfn, stack_id)
        empty_buckets(s3, stack_buckets(resources), say)
        status, events = run_stack_operation(
            cfn, stack_id, lambda: cfn.delete_stack(StackName=stack_id), len(resources), "delete", progress
        )
        if status == "DELETE_COMPLETE":
            return
    reasons = "\n  ".join(failure_reasons(events)) or "(no resource reported a reason)"
    raise DeployError(f"stack {summary['StackName']} ended {status}, not DELETE_COMPLETE:\n  {reasons}")


def destroy_local(session: boto3.Session, stack_name: str, progress: bool, say: Callable[[str], None]) -> bool:
    cfn = _cfn(session)
    summary = stack_summary(cfn, stack_name)
    if summary is None:
        say(f"stack {stack_name} is not deployed")
        return False
    _delete_stack(session, cfn, summary, progress, say)
    say(f"stack {stack_name}: DELETE_COMPLETE")
    return True
