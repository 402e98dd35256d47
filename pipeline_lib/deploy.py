"""Deploy and destroy the CdcWorkbench stack.

local backend: synthesize infra/ (pipeline_lib.synth), do what `cdk bootstrap` would (the assets
bucket, the bootstrap version parameter), publish the file assets as the CDK CLI does (directories
zipped deterministically, files as they are), then create or update the stack in the local cloud
from exactly the synthesized template (by TemplateURL when it is over CloudFormation's 51,200-byte
TemplateBody limit), following the stack events, and return the stack outputs.

aws backend: the CDK CLI (`npx aws-cdk@<PINNED_CDK_CLI> deploy|destroy`) with the user's
credentials. The CLI is versioned apart from aws-cdk-lib; the pinned one reads aws-cdk-lib
2.275's cloud assembly (schema 55).

destroy empties the stack's buckets first (all object versions), on both backends: they are
RemovalPolicy.DESTROY without CDK's auto-delete custom resource.

One local deploy at a time uses a cloud assembly directory: synth, asset publication and the
stack operation run holding `<out_dir>/.lock` (flock); a second deploy into the same directory
says so and waits.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import synth
from .backend import connect, current_backend
from .stack import STACK_NAME, outputs_of, stack_summary

PINNED_CDK_CLI = "2.1147.0"
BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# The version `cdk bootstrap` records; the template's CheckBootstrapVersion rule wants >= 6.
BOOTSTRAP_VERSION = "30"
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # what the CDK CLI stamps on every entry of a directory asset
DEFAULT_OUT_DIR = synth.ROOT / "cdk.out"
LOCK_FILE = ".lock"  # in the assembly directory (synth adds to it, never empties it)
# A stack in one of these must be deleted before it can be created again (the CDK CLI does that).
DEAD = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"}


class DeployError(RuntimeError):
    """The stack did not reach the state asked for; the message says why and what to do."""


# -- assets (pure) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    """One object to put: `source` (a file; a directory is zipped first) to `bucket`/`key`."""

    source: Path
    zip_directory: bool
    bucket: str
    key: str


def uploads(assets: Iterable[synth.FileAsset]) -> list[Upload]:
    """What to upload for the assembly's file assets (destinations already substituted)."""
    out = []
    for asset in assets:
        if "${" in asset.bucket_name + asset.object_key:
            raise DeployError(
                f"asset {asset.asset_id} still has a placeholder in s3://{asset.bucket_name}/{asset.object_key}; "
                "pass the account and region to synth.asset_manifest"
            )
        if asset.packaging == "zip" and asset.source_path.is_dir():
            out.append(Upload(asset.source_path, True, asset.bucket_name, asset.object_key))
        elif asset.packaging in ("zip", "file") and asset.source_path.is_file():
            out.append(Upload(asset.source_path, False, asset.bucket_name, asset.object_key))
        else:
            raise DeployError(
                f"asset {asset.asset_id}: {asset.source_path} is missing or not usable as {asset.packaging!r} "
                "packaging; synthesize again"
            )
    return out


def zip_directory(directory: Path, out_file: Path) -> Path:
    """Zip `directory` deterministically, as the CDK CLI does: files only (symlinks followed),
    sorted by path, every entry dated 1980-01-01 with the file's permission bits, deflate level 9.
    The same tree always gives the same bytes."""
    files = sorted(
        (p for p in directory.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(directory).as_posix(),
    )
    with zipfile.ZipFile(out_file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | (path.stat().st_mode & 0o777)) << 16
            info.create_system = 3  # unix, so the permission bits mean what they say
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return out_file


def assets_bucket(account: str, region: str) -> str:
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"


def template_argument(template_path: Path, template_upload: Upload | None, region: str) -> dict[str, str]:
    """TemplateBody (the synthesized file, byte for byte) or, when it is over the limit,
    TemplateURL of its uploaded copy, as the CDK CLI chooses."""
    body = template_path.read_bytes()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body.decode("utf-8")}
    if template_upload is None:
        raise DeployError(
            f"{template_path} is {len(body)} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte "
            "TemplateBody limit, and the assembly has no template asset to upload"
        )
    return {"TemplateURL": f"https://s3.{region}.amazonaws.com/{template_upload.bucket}/{template_upload.key}"}


# -- local: bootstrap and publish ---------------------------------------------------------------
def bootstrap(session: boto3.Session, account: str, region: str) -> str:
    """The assets bucket and the bootstrap version parameter, as `cdk bootstrap` leaves them."""
    s3 = session.client("s3")
    bucket = assets_bucket(account, region)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
    ssm = session.client("ssm")
    try:
        ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        ssm.put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")
    return bucket


def publish(session: boto3.Session, planned: list[Upload], say: Callable[[str], None] = lambda _m: None) -> int:
    """Upload what is not there yet (keys are content hashes, so present means the same);
    return how many objects were uploaded."""
    s3 = session.client("s3")
    uploaded = 0
    for upload in planned:
        try:
            s3.head_object(Bucket=upload.bucket, Key=upload.key)
            continue
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        if upload.zip_directory:
            with tempfile.TemporaryDirectory() as tmp:
                s3.upload_file(str(zip_directory(upload.source, Path(tmp) / "asset.zip")), upload.bucket, upload.key)
        else:
            s3.upload_file(str(upload.source), upload.bucket, upload.key)
        uploaded += 1
        say(f"  published s3://{upload.bucket}/{upload.key}")
    return uploaded


# -- stack status and events ----------------------------------------------------------------------
def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    return outputs_of(stack_summary(cfn, stack_name))


def _events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, oldest first."""
    try:
        pages = cfn.get_paginator("describe_stack_events").paginate(StackName=stack)
        return list(reversed([e for page in pages for e in page["StackEvents"]]))
    except ClientError:
        return []


def failure_reasons(events: list[dict[str, Any]]) -> list[str]:
    """`Logical (Type): reason` for the failed events, resource failures first."""
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    failed.sort(key=lambda e: e.get("ResourceType") == "AWS::CloudFormation::Stack")
    return [
        f"{e['LogicalResourceId']} ({e.get('ResourceType')}): {e.get('ResourceStatusReason') or e['ResourceStatus']}"
        for e in failed
    ]


class _Progress:
    """Follows stack events while an operation runs (a bar when `enabled`)."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit="resource", leave=True)
        self.done: set[str] = set()

    def update(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e.get("ResourceType") == "AWS::CloudFormation::Stack":
                continue
            status = e["ResourceStatus"]
            if status.endswith(("_COMPLETE", "_FAILED", "_SKIPPED")) and e["LogicalResourceId"] not in self.done:
                self.done.add(e["LogicalResourceId"])
                if self.bar is not None:
                    self.bar.update(1)
            if self.bar is not None:
                self.bar.set_postfix_str(f"{e['LogicalResourceId']} {status}"[:60], refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.total = self.bar.n  # an update touches only what changed
            self.bar.refresh()
            self.bar.close()


def run_stack_operation(cfn: Any, stack: str, call: Callable[[], Any], total: int, label: str,
                        progress: bool, poll: float = 0.5, timeout: float = 3600.0) -> tuple[str, list[dict[str, Any]]]:
    """Run `call` (create/update/delete_stack), follow the events it causes, wait for a final
    status; return (status, this operation's events). `stack` is a name or, for deletes, the id."""
    seen = {e["EventId"] for e in _events(cfn, stack)}
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"cfn-{label}", daemon=True)
    bar = _Progress(total, label, progress)
    mine: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        worker.start()
        status = ""
        while True:
            worker.join(poll)  # returns as soon as the call does
            finished = not worker.is_alive()
            new = [e for e in _events(cfn, stack) if e["EventId"] not in seen]
            seen.update(e["EventId"] for e in new)
            mine.extend(new)
            bar.update(new)
            if finished:
                if "error" in box:
                    raise box["error"]
                summary = stack_summary(cfn, stack)
                status = summary["StackStatus"] if summary else "DELETE_COMPLETE"
                if not status.endswith("_IN_PROGRESS"):
                    break
            if time.monotonic() > deadline:
                raise DeployError(f"stack {stack} is still {status or 'in progress'} after {timeout:.0f} s")
            if finished:  # the call returned but the stack works on (as on AWS): poll its status
                time.sleep(poll)
    finally:
        bar.close()
    return status, mine


# -- local deploy / destroy ---------------------------------------------------------------------------
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


def stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
    return [r for page in pages for r in page["StackResourceSummaries"]]


def stack_buckets(resources: list[dict[str, Any]]) -> list[str]:
    """The physical names of the buckets among a stack's resources."""
    return [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")
    ]


def emptying_order(s3: Any, buckets: list[str]) -> list[str]:
    """Buckets that receive others' server access logs last: emptying a logged bucket makes S3
    write log objects into its target."""
    targets = set()
    for bucket in buckets:
        try:
            target = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {}).get("TargetBucket")
        except ClientError:
            continue
        if target:
            targets.add(target)
    return [b for b in buckets if b not in targets] + [b for b in buckets if b in targets]


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker (so a versioned bucket is empty too)."""
    deleted = 0
    try:
        pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise
    for page in pages:
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(batch), 1000):
            chunk = batch[start:start + 1000]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise DeployError(f"emptying {bucket}: {first.get('Key')}: {first.get('Code')} {first.get('Message')}")
            deleted += len(chunk)
    return deleted


def empty_buckets(s3: Any, buckets: list[str], say: Callable[[str], None]) -> None:
    """Empty `buckets`, log targets last (see emptying_order)."""
    for bucket in emptying_order(s3, buckets):
        count = empty_bucket(s3, bucket)
        if count:
            say(f"  emptied s3://{bucket} ({count} objects)")


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


# -- aws: the CDK CLI ---------------------------------------------------------------------------------
def cdk_command(action: str, stack_name: str, context: dict[str, Any] | None, extra: list[str]) -> list[str]:
    """The CDK CLI command line for `action` (deploy|destroy) of this app."""
    npx = shutil.which("npx")
    if npx is None:
        raise DeployError("the aws backend deploys with the CDK CLI through npx: install Node.js (which has npx)")
    command = [
        npx, "--yes", f"aws-cdk@{PINNED_CDK_CLI}", action, stack_name,
        # The CLI runs --app through a shell; quote only what needs it (it mangles "a" "b").
        "--app", shlex.join([sys.executable, str(synth.INFRA_DIR / "app.py")]),
    ]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    return command + extra


def _run_cdk(command: list[str]) -> None:
    proc = subprocess.run(command, cwd=synth.INFRA_DIR, env=synth.jsii_env())
    if proc.returncode != 0:
        raise DeployError(
            f"`{' '.join(command[2:5])}` failed (exit {proc.returncode}); its output is above. "
            "A first deploy to an account/region needs `npx aws-cdk@" + PINNED_CDK_CLI + " bootstrap`."
        )


def _check_aws_environment() -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        raise DeployError(
            f"AWS_ENDPOINT_URL is set ({endpoint}), so AWS clients would reach it instead of AWS; "
            "unset it for the aws backend (`python -m pipeline_lib local env` exports it)"
        )


def deploy_aws(stack_name: str, context: dict[str, Any] | None) -> dict[str, str]:
    _check_aws_environment()
    with tempfile.TemporaryDirectory() as tmp:
        outputs_file = Path(tmp) / "outputs.json"
        _run_cdk(cdk_command("deploy", stack_name, context,
                             ["--require-approval", "never", "--outputs-file", str(outputs_file)]))
        return dict(json.loads(outputs_file.read_text()).get(stack_name, {}))


def destroy_aws(session: boto3.Session, stack_name: str, say: Callable[[str], None]) -> bool:
    _check_aws_environment()
    cfn = session.client("cloudformation")
    summary = stack_summary(cfn, stack_name)
    if summary is None:
        say(f"stack {stack_name} is not deployed")
        return False
    # (quiet: the CDK CLI reports what it deletes)
    empty_buckets(session.client("s3"), stack_buckets(stack_resources(cfn, summary["StackId"])), _quiet)
    _run_cdk(cdk_command("destroy", stack_name, None, ["--force"]))
    return True


# -- one deploy per assembly directory ----------------------------------------------------------------
@contextlib.contextmanager
def assembly_lock(out_dir: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold `<out_dir>/.lock` exclusively (released when the holder ends, however it ends); while
    another process or thread holds it, say so and wait."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            say(f"another deploy{f' (pid {holder})' if holder else ''} is using {out_dir}; waiting…")
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"{out_dir} is free again: deploying")
        handle.truncate(0)
        handle.write(str(os.getpid()))  # for the message of whoever waits next
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


# -- entry points ---------------------------------------------------------------------------------------
def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)  # stdout stays for results (the CLI prints the outputs there)


def _quiet(_message: str) -> None:
    pass


def deploy(backend: str | None = None, stack_name: str = STACK_NAME, context: dict[str, Any] | None = None,
           out_dir: str | Path | None = None, boto3_session: boto3.Session | None = None,
           progress: bool = True, say: Callable[[str], None] | None = None,
           synthesize: bool = True) -> dict[str, str]:
    """Deploy the stack on the backend; return its outputs. `synthesize=False` deploys the cloud
    assembly already in `out_dir` (local backend), as `cdk deploy --app cdk.out` would."""
    say = say or (_to_stderr if progress else _quiet)
    if current_backend(backend) == "aws":
        if not synthesize:
            raise DeployError("deploying an existing assembly is for the local backend; on aws the CDK CLI synthesizes")
        return deploy_aws(stack_name, context)
    session = boto3_session or connect("local")
    out = Path(out_dir or DEFAULT_OUT_DIR)
    # A wait is worth knowing about even when progress is off: it would look like a hang.
    with assembly_lock(out, say if say is not _quiet else _to_stderr):
        return deploy_local(session, stack_name, context, out, progress, say, synthesize)


def destroy(backend: str | None = None, stack_name: str = STACK_NAME, boto3_session: boto3.Session | None = None,
            progress: bool = True, say: Callable[[str], None] | None = None) -> bool:
    """Delete the stack (its buckets emptied first); False when it was not deployed."""
    say = say or (_to_stderr if progress else _quiet)
    if current_backend(backend) == "aws":
        return destroy_aws(boto3_session or boto3.Session(), stack_name, say)
    return destroy_local(boto3_session or connect("local"), stack_name, progress, say)
