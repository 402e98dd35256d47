"""Fault settings: parsing, refusals with a clear message, seeded and independent draws."""
from __future__ import annotations

import random

import pytest

from pipeline_lib.localcloud.faults import FaultConfig, FaultConfigError, Faults


def test_words_env_and_merge() -> None:
    config = FaultConfig.parse_words(["dynamodb_throttle=0.25,seed=7", "lambda_match=enricher"])
    assert (config.seed, config.dynamodb_throttle, config.lambda_match) == (7, 0.25, "enricher")
    assert config.active == {"dynamodb_throttle": 0.25}
    assert FaultConfig.from_env({"PIPELINE_FAULTS": "kinesis_throttle=1"}).kinesis_throttle == 1.0
    assert FaultConfig.from_env({}) == FaultConfig() == FaultConfig.from_env({"PIPELINE_FAULTS": " "})
    assert config.merged({"s3_put_error": "0.5"}).to_dict() == {**config.to_dict(), "s3_put_error": 0.5}


@pytest.mark.parametrize(("words", "message"), [
    (["lambda_error=2"], "lambda_error must be a rate between 0 and 1, not '2'"),
    (["lambda_error=-0.1"], "lambda_error must be a rate between 0 and 1, not '-0.1'"),
    (["s3_put_error=often"], "s3_put_error must be a rate between 0 and 1, not 'often'"),
    (["seed=x"], "seed must be an integer, not 'x'"),
    (["throttle=0.1"], "unknown fault setting 'throttle'; known: seed, dynamodb_throttle"),
    (["dynamodb_throttle"], "expected NAME=VALUE, not 'dynamodb_throttle'"),
])
def test_bad_settings_are_refused_saying_what_is_accepted(words, message) -> None:
    with pytest.raises(FaultConfigError) as caught:
        FaultConfig.parse_words(words)
    assert str(caught.value).startswith(message)


def test_a_bad_environment_variable_names_itself() -> None:
    with pytest.raises(FaultConfigError, match=r"^PIPELINE_FAULTS: lambda_error must be a rate"):
        FaultConfig.from_env({"PIPELINE_FAULTS": "lambda_error=abc"})


def test_draws_follow_the_seed_per_kind_independently_of_other_kinds() -> None:
    faults = Faults(FaultConfig(seed=3, kinesis_throttle=0.5, dynamodb_throttle=0.5))
    first = [faults.decide("kinesis_throttle") for _ in range(200)]
    # What random.Random seeded "3/kinesis_throttle" draws, computed here independently.
    rng = random.Random("3/kinesis_throttle")
    assert first == [rng.random() < 0.5 for _ in range(200)]
    assert faults.injected["kinesis_throttle"] == sum(first)
    # Reconfiguring restarts the draws; draws of another kind in between change nothing.
    faults.configure(FaultConfig(seed=3, kinesis_throttle=0.5, dynamodb_throttle=0.5))
    again = []
    for _ in range(200):
        faults.decide("dynamodb_throttle")
        again.append(faults.decide("kinesis_throttle"))
    assert again == first


def test_rates_zero_and_one_and_filters() -> None:
    faults = Faults(FaultConfig(lambda_error=1.0, s3_put_error=1.0, s3_match="/data/", lambda_match="enricher"))
    assert not faults.decide("lambda_timeout")
    assert faults.decide("lambda_error", "CdcWorkbench-enricher-1") and not faults.decide("lambda_error", "seeder")
    assert faults.decide("s3_put_error", "lake/data/x") and not faults.decide("s3_put_error", "lake/errors/x")
    assert faults.status()["injected"] == {"lambda_error": 1, "s3_put_error": 1}
    assert Faults().status() == {}
