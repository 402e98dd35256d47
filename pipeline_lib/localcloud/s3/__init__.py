"""S3: bucket policies evaluated as AWS does (seams.py, policy.py), and the bucket configuration,
bucket policies and CDK bucket custom resources stacks create (cloudformation.py,
bucket_deployment.py, auto_delete.py)."""
from __future__ import annotations

from .extension import S3Extension, extension

__all__ = ["S3Extension", "extension"]
