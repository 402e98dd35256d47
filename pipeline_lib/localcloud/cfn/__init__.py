"""CloudFormation in the local cloud: the resource types moto skips (or gets wrong), and stack
operations that end as AWS's do.

- registry.py: which model creates a type; a type nobody models fails the stack, naming it.
- stack.py: resource events, dependency order, rollback, DELETE_FAILED; reads never create.
- firehose.py, glue.py, logs.py: AWS::KinesisFirehose::DeliveryStream,
  AWS::Glue::Database/Table/Crawler, AWS::Logs::LogStream (AWS::Athena::WorkGroup is
  ..athena.cloudformation, registered here).
- s3.py: AWS::S3::BucketPolicy, the bucket configuration moto's AWS::S3::Bucket drops, and S3's
  evaluation of bucket policies. stepfunctions.py: state machines in the backend the API reads.
  lambda_layer.py: AWS::Lambda::LayerVersion's Ref.
- bucket_deployment.py, auto_delete.py: CDK's Custom::CDKBucketDeployment and
  Custom::S3AutoDeleteObjects, provided natively (their handlers need the aws CLI / Node.js).
- lambda_backed.py: any other custom resource, run by the local Lambda runtime.

Seams: registry, stack, s3 and lambda_backed list theirs in their docstrings and declare them in
one ..seam.SeamSet (seams.py); every one is checked against moto's attribute and signature when
the extension installs (a changed moto is refused, naming its version), and installing twice
patches once.
"""
from __future__ import annotations

from typing import Any

from ..extension import Extension

RESPONSE_TIMEOUT = 60.0  # seconds a Lambda-backed custom resource may take to answer


class CfnExtension(Extension):
    name = "cfn"

    def install(self) -> None:
        from . import lambda_backed
        from .seams import cfn_seams

        cfn_seams().apply()
        lambda_backed._CONTEXT = self._custom_resource_context

    def _custom_resource_context(self) -> tuple[str, Any, float]:
        try:
            runtime = getattr(self.cloud.extension("lambda"), "runtime", None)
        except KeyError:
            runtime = None
        return self.cloud.endpoint, runtime, RESPONSE_TIMEOUT

    def status(self) -> dict[str, Any]:
        from .registry import MODELS

        return {"resource types": sorted(MODELS)}


def extension(cloud: Any) -> CfnExtension:
    return CfnExtension(cloud)
