"""Which backend a session talks to, and a boto3 Session that reaches it by itself.

`local` (the default) is the embedded local cloud; `aws` is the user's default credential chain.
This is the only backend-specific code besides deployment: everything else calls AWS APIs with
the session it is given (`boto3_session=`), or with `session()` of the configured backend.

A local session carries its endpoint, dummy credentials and region in its own botocore
configuration: nothing is written to `os.environ`, so an `aws` session made later in the same
process goes to AWS, and every client made from the session (boto3's, awswrangler's, the seeder's
with their own botocore `Config`) reaches the local cloud. For shells and other tools,
`python -m pipeline_lib local env` prints the equivalent exports.
"""
from __future__ import annotations

import os
import threading

import boto3
import botocore.session

__all__ = ["BACKENDS", "BackendError", "connect", "current_backend", "endpoint_url", "session"]

BACKENDS = ("local", "aws")
# The credentials a local cloud accepts (any will do; these are moto's usual ones).
_LOCAL_ACCESS_KEY = "testing"
_LOCAL_SECRET_KEY = "testing"  # noqa: S105 (not a secret: the local cloud checks nothing)
_DEFAULT_REGION = "us-east-1"

_cache: dict[tuple[str, str | None], boto3.Session] = {}
_cache_lock = threading.Lock()


class BackendError(RuntimeError):
    """A backend cannot be used as asked; the message says what to change."""


def current_backend(backend: str | None = None) -> str:
    """`backend`, else $PIPELINE_BACKEND, else `local`."""
    name = (backend or os.environ.get("PIPELINE_BACKEND") or "local").lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: set PIPELINE_BACKEND to one of {', '.join(BACKENDS)}")
    return name


def connect(backend: str | None = None, *, state_dir: str | None = None) -> boto3.Session:
    """A new boto3 Session for the backend.

    local: the running local cloud (the one a shell's `local env` exports as AWS_ENDPOINT_URL, else
    the one of `state_dir`, default the project's; started if none runs), and a session whose
    clients reach it whatever else the environment says.
    aws: the default credential chain (profile, environment, instance role), region included.
    """
    if current_backend(backend) == "aws":
        return _aws_session()
    from .localcloud import lifecycle

    return _local_session(lifecycle.ensure_running(state_dir), _region())


def session(backend: str | None = None, *, state_dir: str | None = None) -> boto3.Session:
    """The session library functions use when they are given none: one per backend (and local
    cloud endpoint), made by `connect` on first use and kept."""
    name = current_backend(backend)
    if name == "aws":
        key: tuple[str, str | None] = (name, None)
    else:
        from .localcloud import lifecycle

        # Cheap (a health check): a cloud restarted on another port gets a session of its own.
        key = (name, lifecycle.ensure_running(state_dir))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _aws_session() if name == "aws" else _local_session(key[1] or "", _region())
            _cache[key] = cached
        return cached


def endpoint_url(boto3_session: boto3.Session) -> str | None:
    """The endpoint a session's clients go to when it carries one (a local session), else None."""
    store = boto3_session._session.get_component("config_store")
    return store.get_config_variable("endpoint_url")


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or _DEFAULT_REGION


def _local_session(endpoint: str, region: str) -> boto3.Session:
    core = botocore.session.Session()
    store = core.get_component("config_store")
    # Overrides in the session's config store win over the environment and the config files for
    # every client the session makes (botocore.session.Session.set_config_variable would not: a
    # client's endpoint comes from a provider that skips the session's variables). No profile: a
    # user's AWS_PROFILE (which may not even exist here) has nothing to say about the local cloud.
    store.set_config_variable("endpoint_url", endpoint)
    store.set_config_variable("profile", None)
    return boto3.Session(
        aws_access_key_id=_LOCAL_ACCESS_KEY, aws_secret_access_key=_LOCAL_SECRET_KEY, region_name=region,
        botocore_session=core,
    )


def _aws_session() -> boto3.Session:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        raise BackendError(
            f"AWS_ENDPOINT_URL is set ({endpoint}), so AWS clients would reach it instead of AWS; "
            "unset it for the aws backend (`python -m pipeline_lib local env` exports it)"
        )
    return boto3.Session()
