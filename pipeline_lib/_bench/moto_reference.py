"""Stock moto 5.2.5's DynamoDB, in process (no HTTP, none of the local cloud's seams), given the
same BatchWriteItem writes as the benchmark: the reference rate `moto_write_items_per_s`.

Run as `python -m pipeline_lib._bench.moto_reference --items N --seed S --concurrency C`: a process
of its own, because moto's mock patches botocore for the whole process. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline_lib._bench.moto_reference")
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--bad", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")

    import boto3
    from moto import mock_aws

    from ..data import generate_items
    from ..lambdas.seeder import seed_requests, seeding_client

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        client = seeding_client(session, args.concurrency)
        client.create_table(TableName="moto-reference", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                       {"AttributeName": "SK", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                                  {"AttributeName": "SK", "AttributeType": "S"}])
        items = list(generate_items(args.items, seed=args.seed, bad=args.bad))
        result = seed_requests(client, "moto-reference", items, concurrency=args.concurrency)
    json.dump({"items": result.written, "seconds": result.seconds}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
