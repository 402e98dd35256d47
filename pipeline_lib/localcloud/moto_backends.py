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

from typing import Any, Iterator

__all__ = ["backend", "backends", "PARTITIONED"]

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


def backends(service: str) -> Iterator[Any]:
    """Every backend of `service` moto has made so far (all accounts and regions)."""
    for _account, regions in list(_backend_dict(service).items()):
        for _region, found in list(regions.items()):
            yield found


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
    seams.expect(utilities, "get_partition", ("region",))
