"""moto's backend of a service for one account and region: the local cloud's one lookup.

moto keeps each service's state in a `BackendDict` of account -> region -> backend; global
services (S3, IAM) are keyed by partition ("aws", "aws-cn", ...) instead of region, which
moto's own `get_partition(region)` gives. Lambda is special: with `use_docker` off, moto keeps
functions in its "simple" backend, which `moto.awslambda.utils.get_backend` returns and
`moto.backends.get_backend("lambda")` does not (it stays empty). So is Step Functions: with
`execute_state_machine` on, the API answers from moto's parser backend, which
`moto.stepfunctions.responses.get_backend` returns.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)

__all__ = ["backend", "backends", "holdings", "stable_read", "PARTITIONED"]

# Services whose backends moto keys by partition, not region.
PARTITIONED = frozenset({"s3", "iam", "organizations", "route53", "cloudfront"})


def _backend_dict(service: str) -> Any:
    if service == "lambda":
        from moto.core.config import default_user_config

        if default_user_config.get("lambda", {}).get("use_docker", True) is False:
            from moto.awslambda_simple.models import lambda_simple_backends

            return lambda_simple_backends
        from moto.awslambda.models import lambda_backends

        return lambda_backends
    if service == "stepfunctions":
        from moto.core.config import default_user_config

        if default_user_config.get("stepfunctions", {}).get("execute_state_machine"):
            from moto.stepfunctions.parser.models import stepfunctions_parser_backends

            return stepfunctions_parser_backends
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def backend(service: str, account_id: str, region: str) -> Any:
    """moto's `service` backend of `account_id` in `region` (the partition of `region` for a
    global service such as S3)."""
    if service == "lambda":
        from moto.awslambda.utils import get_backend

        return get_backend(account_id, region)
    if service == "stepfunctions":
        from moto.stepfunctions.responses import get_backend as stepfunctions_backend

        return stepfunctions_backend(account_id, region)
    if service in PARTITIONED:
        from moto.utilities.utils import get_partition

        region = get_partition(region)
    return _backend_dict(service)[account_id][region]


def stable_read(read: Callable[[], Any], attempts: int = 50) -> Any:
    """Run a read of moto's dicts again if a request thread resized one mid-iteration (moto's
    request threads change them without a lock the local cloud could take)."""
    for _ in range(attempts - 1):
        try:
            return read()
        except RuntimeError as exc:
            if "changed size during iteration" not in str(exc) and "mutated during iteration" not in str(exc):
                raise
    return read()


def backends(service: str) -> Iterator[Any]:
    """Every backend of `service` moto has made so far (all accounts and regions)."""
    for _account, regions in list(_backend_dict(service).items()):
        for _region, found in list(regions.items()):
            yield found


def holdings() -> dict[str, int]:
    """How many buckets, tables, streams, ... moto holds, over all accounts and regions. The
    attributes read here are declared in `declare`, so a moto that renamed one is refused at
    start instead of counting zero."""
    probes: dict[str, tuple[str, Callable[[Any], int]]] = {
        "s3 buckets": ("s3", lambda b: len(b.buckets)),
        "dynamodb tables": ("dynamodb", lambda b: len(b.tables)),
        "kinesis streams": ("kinesis", lambda b: len(b.streams)),
        "firehose delivery streams": ("firehose", lambda b: len(b.delivery_streams)),
        "lambda functions": ("lambda", lambda b: len(list(b.list_functions()))),
        "cloudformation stacks": ("cloudformation", lambda b: sum(
            1 for s in b.stacks.values() if s.status != "DELETE_COMPLETE")),
        "glue databases": ("glue", lambda b: len(b.databases)),
    }
    counts: dict[str, int] = {}
    for label, (service, probe) in probes.items():
        try:
            counts[label] = sum(probe(found) for found in backends(service))
        except Exception:  # `local status` reports what it can; the log says what failed
            log.warning("counting %s failed", label, exc_info=True)
            counts[label] = 0
    return counts


def declare(seams: Any) -> None:
    """The moto names this module relies on, for a service's `SeamSet`."""
    import moto.awslambda.utils as lambda_utils
    import moto.awslambda.models as lambda_models
    import moto.awslambda_simple.models as simple
    import moto.backends as moto_backends
    import moto.stepfunctions.responses as stepfunctions_responses
    import moto.utilities.utils as utilities

    seams.expect(moto_backends, "get_backend", ("name",))
    seams.expect(lambda_utils, "get_backend", ("account_id", "region"))
    seams.expect(simple, "lambda_simple_backends")
    seams.expect(lambda_models, "lambda_backends")
    seams.expect(stepfunctions_responses, "get_backend", ("account", "region"))
    import moto.stepfunctions.parser.models as stepfunctions_parser

    seams.expect(stepfunctions_parser, "stepfunctions_parser_backends")
    seams.expect(utilities, "get_partition", ("region",))
    # What `holdings` reads.
    from moto.cloudformation.models import CloudFormationBackend, Stack
    from moto.dynamodb.models import DynamoDBBackend
    from moto.firehose.models import FirehoseBackend
    from moto.glue.models import GlueBackend
    from moto.kinesis.models import KinesisBackend
    from moto.s3.models import S3Backend

    seams.reads(S3Backend, "buckets")
    seams.reads(DynamoDBBackend, "tables")
    seams.reads(KinesisBackend, "streams")
    seams.reads(FirehoseBackend, "delivery_streams")
    seams.reads(CloudFormationBackend, "stacks")
    seams.reads(Stack, "status")
    seams.reads(GlueBackend, "databases")
    seams.expect(simple.LambdaSimpleBackend, "list_functions", ("self", "func_version"))
