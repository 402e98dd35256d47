"""Which backend a session talks to, and a boto3 Session for it.

`local` (the default) is the embedded local cloud; `aws` is the user's default credential chain.
This is the only backend-specific code besides deployment: everything else calls AWS APIs.
"""
from __future__ import annotations

import os

import boto3

BACKENDS = ("local", "aws")


def current_backend(backend: str | None = None) -> str:
    name = (backend or os.environ.get("PIPELINE_BACKEND") or "local").lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: set PIPELINE_BACKEND to one of {', '.join(BACKENDS)}")
    return name


def connect(backend: str | None = None, state_dir: str | None = None) -> boto3.Session:
    """A boto3 Session for the backend. For `local`, starts the cloud if needed and points this
    process's AWS clients (boto3, awswrangler, the aws CLI it spawns) at it via AWS_ENDPOINT_URL."""
    if current_backend(backend) == "aws":
        return boto3.Session()
    from .localcloud import lifecycle

    endpoint = lifecycle.ensure_running(state_dir)
    os.environ.update(lifecycle.client_env(endpoint, os.environ.get("AWS_DEFAULT_REGION")))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    return boto3.Session(region_name=os.environ["AWS_DEFAULT_REGION"])
