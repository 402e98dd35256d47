"""Fault injection: AWS's failures, at seeded rates, configured per run.

Configured by PIPELINE_FAULTS at `local up` ("dynamodb_throttle=0.1,seed=7"), then by the control
API (`/_workbench/faults`: GET shows, POST {"set": {...}} changes, DELETE clears) or the CLI
(`python -m pipeline_lib local faults set|show|clear`); `local status` shows the configuration
and what was injected. What each rate does is in `config.RATES`. Where faults are injected:
- DynamoDB and Kinesis API calls: this package's seams (seams.py);
- the DynamoDB streaming destination's puts to Kinesis: its forwarder (retries, as AWS's does);
- Lambda invocations (any caller): the Lambda runtime (an unhandled error, or Sandbox.Timedout);
- Firehose's S3 PutObject (retried as Firehose does) and engine crashes (restart from the last
  checkpoint): the Firehose engine and extension.
"""
from __future__ import annotations

from .config import ENV_VAR, RATES, FaultConfig, FaultConfigError
from .extension import FaultsExtension, extension
from .injector import Faults, InjectedCrash, InjectedS3Error, ThroughputExceeded, faults_of

__all__ = ["ENV_VAR", "RATES", "FaultConfig", "FaultConfigError", "Faults", "FaultsExtension", "InjectedCrash", "InjectedS3Error",
           "ThroughputExceeded", "extension", "faults_of"]
