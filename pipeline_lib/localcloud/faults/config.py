"""Which faults a local cloud injects, and how often: a `FaultConfig` (pure; parsed from the CLI's
`key=value` words, the control API's JSON or the PIPELINE_FAULTS environment variable).

Every rate is a probability in [0, 1], drawn from a generator seeded by `seed` (one generator per
fault kind, so a run with the same seed and the same calls injects the same faults).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Iterable, Mapping

__all__ = ["ENV_VAR", "FILTERS", "FaultConfig", "FaultConfigError", "RATES"]

ENV_VAR = "PIPELINE_FAULTS"

# rate name -> what it injects (the CLI's help and `local faults show` print these).
RATES: dict[str, str] = {
    "dynamodb_throttle": "DynamoDB writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem) refused whole with "
                         "ProvisionedThroughputExceededException, per request",
    "dynamodb_unprocessed": "BatchWriteItem requests returned in UnprocessedItems, per write request",
    "kinesis_throttle": "Kinesis PutRecord refused with ProvisionedThroughputExceededException per request; "
                        "PutRecords per record (ErrorCode/ErrorMessage, FailedRecordCount); the DynamoDB "
                        "streaming destination's puts, per put (it retries)",
    "lambda_error": "Lambda invocations that fail with an unhandled function error, per invocation",
    "lambda_timeout": "Lambda invocations that time out (Sandbox.Timedout), per invocation",
    "s3_put_error": "S3 PutObject by Firehose delivery that fails with InternalError, per attempt",
    "firehose_crash": "Firehose engine crashes before writing an object (restarted from its last checkpoint), "
                      "per object",
}
# Filters narrowing where a rate applies (empty: everywhere).
FILTERS: dict[str, str] = {
    "lambda_match": "only functions whose name contains this text",
    "s3_match": "only object keys (bucket/key) that contain this text",
}


class FaultConfigError(ValueError):
    """A fault setting that cannot be used; the message says what is accepted."""


@dataclass(frozen=True)
class FaultConfig:
    seed: int = 0
    dynamodb_throttle: float = 0.0
    dynamodb_unprocessed: float = 0.0
    kinesis_throttle: float = 0.0
    lambda_error: float = 0.0
    lambda_timeout: float = 0.0
    s3_put_error: float = 0.0
    firehose_crash: float = 0.0
    lambda_match: str = ""
    s3_match: str = ""

    @property
    def active(self) -> dict[str, float]:
        """The rates that inject something."""
        return {name: getattr(self, name) for name in RATES if getattr(self, name) > 0}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, settings: Mapping[str, Any]) -> "FaultConfig":
        """This configuration with `settings` (names and values as strings or numbers) applied."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, raw in settings.items():
            if name not in known:
                raise FaultConfigError(
                    f"unknown fault setting {name!r}; known: seed, {', '.join(RATES)}, {', '.join(FILTERS)}")
            if name == "seed":
                try:
                    changes[name] = int(raw)
                except (TypeError, ValueError):
                    raise FaultConfigError(f"seed must be an integer, not {raw!r}") from None
            elif name in FILTERS:
                changes[name] = str(raw)
            else:
                try:
                    rate = float(raw)
                except (TypeError, ValueError):
                    raise FaultConfigError(f"{name} must be a rate between 0 and 1, not {raw!r}") from None
                if not 0.0 <= rate <= 1.0:
                    raise FaultConfigError(f"{name} must be a rate between 0 and 1, not {raw!r}")
                changes[name] = rate
        return replace(self, **changes)

    @classmethod
    def parse_words(cls, words: Iterable[str], base: "FaultConfig | None" = None) -> "FaultConfig":
        """`["dynamodb_throttle=0.1", "seed=7"]` (the CLI's words; commas also separate)."""
        settings: dict[str, str] = {}
        for word in words:
            for part in word.split(","):
                part = part.strip()
                if not part:
                    continue
                name, sep, value = part.partition("=")
                if not sep:
                    raise FaultConfigError(f"expected NAME=VALUE, not {part!r} (e.g. dynamodb_throttle=0.1)")
                settings[name.strip()] = value.strip()
        return (base or cls()).merged(settings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "FaultConfig":
        """PIPELINE_FAULTS="dynamodb_throttle=0.1,seed=7" (unset or empty: no faults)."""
        text = environ.get(ENV_VAR, "").strip()
        if not text:
            return cls()
        try:
            return cls.parse_words([text])
        except FaultConfigError as exc:
            raise FaultConfigError(f"{ENV_VAR}: {exc}") from None
