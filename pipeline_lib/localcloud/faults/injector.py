"""The running cloud's faults: the configuration, one seeded generator per fault kind, and counts of
what was injected (for `local status`). Thread-safe; every service asks it through `decide`."""
from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from .config import FaultConfig

__all__ = ["Faults", "InjectedCrash", "InjectedS3Error", "NO_FAULTS", "ThroughputExceeded", "faults_of"]


class ThroughputExceeded(Exception):
    """An injected ProvisionedThroughputExceededException of an in-process write (the DynamoDB
    streaming destination's puts to Kinesis), which the writer retries as AWS's does."""


class InjectedS3Error(Exception):
    """An injected failure of an in-process S3 PutObject, as S3 answers a 500."""

    error_type = "InternalError"
    message = "We encountered an internal error. Please try again."

    def __init__(self) -> None:
        super().__init__(self.message)


class InjectedCrash(Exception):
    """An injected crash of a Firehose engine: it stops where it was, losing what it held in
    memory; the Firehose extension starts a new engine from the last checkpoint."""


class Faults:
    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration; generators restart from the seed, counts from zero."""
        with self._lock:
            self._config = config
            self._rngs = {name: random.Random(f"{config.seed}/{name}") for name in config.to_dict()}
            self.injected = Counter()

    def decide(self, kind: str, subject: str = "") -> bool:
        """Whether to inject fault `kind` now (for `subject`: a function name, an object key)."""
        config = self._config
        rate = getattr(config, kind)
        if rate <= 0:
            return False
        match = {"lambda_error": config.lambda_match, "lambda_timeout": config.lambda_match,
                 "s3_put_error": config.s3_match}.get(kind, "")
        if match and match not in subject:
            return False
        with self._lock:
            hit = self._rngs[kind].random() < rate
            if hit:
                self.injected[kind] += 1
        return hit

    def status(self) -> dict[str, Any]:
        config = self._config
        if not config.active and not self.injected:
            return {}
        return {"config": {k: v for k, v in config.to_dict().items() if v not in (0, 0.0, "")} | {"seed": config.seed},
                "injected": dict(self.injected)}


NO_FAULTS = Faults()  # what a cloud without the faults extension injects: nothing


def faults_of(cloud: Any) -> Faults:
    """The cloud's Faults (its `faults` extension), or NO_FAULTS for a cloud built without it."""
    find = getattr(cloud, "extension", None)  # stand-in clouds of unit tests have no extensions
    if find is None:
        return NO_FAULTS
    try:
        return find("faults").faults
    except KeyError:
        return NO_FAULTS
