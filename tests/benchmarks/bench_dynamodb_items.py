"""DynamoDB items as the local cloud keeps them (packed: localcloud/dynamodb/items.py) against moto's
Item and the request path before packing (items.py of `BENCH_ITEMS_OLD_REF`, default 0e92e8a,
the commit packing started from): retained memory per stored item (tracemalloc) and CPU per write (moto's WSGI app in
process, PutItem and BatchWriteItem of 25), the three variants alternating in one run.

`BENCH_ITEMS` (default 20,000) generated items (pipeline_lib.data, 14 attributes, ~553 bytes of
JSON each) are written to a table with a hash and a range key and one global index; the
capture's snapshot (the Kinesis destination's images) and a Query on the index (which reads every
item of the table) are timed on the stored items too. Each figure is the best of two rounds.
"""
from __future__ import annotations

import gc
import importlib.util
import json
import os
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import orjson
import pytest

from pipeline_lib.data import generate_items

pytestmark = pytest.mark.benchmark

N = int(os.environ.get("BENCH_ITEMS", "20000"))
OLD_REF = os.environ.get("BENCH_ITEMS_OLD_REF", "0e92e8a")
ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:4599"


def _old_items_module():
    """items.py as it was before packing (from git), loaded on its own (it imports nothing local)."""
    text = subprocess.run(["git", "show", f"{OLD_REF}:pipeline_lib/localcloud/dynamodb/items.py"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_items.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("old_items", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _variants(cloud):
    """name -> (apply, restore): stock moto, the path before packing, the path now."""
    from moto.dynamodb.models.dynamo_type import Item

    from pipeline_lib.localcloud.dynamodb import seams as now
    from pipeline_lib.localcloud.seam import SeamSet

    old_items = _old_items_module()
    current = now.build_seams(cloud)
    before = SeamSet("dynamodb")  # the same tag: the sets take over from each other cleanly
    import moto.dynamodb.responses as responses
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler

    before.add(DynamoHandler, "parse_parameters", now._parse_parameters(BaseResponse.parse_parameters))
    before.replace(Item, "__init__", ("self", "hash_key", "range_key", "attrs"), old_items.item_init)
    before.replace(responses, "dynamo_json_dump", ("dynamo_object",), lambda _original: old_items.json_dump)
    return {"stock": (lambda: None, lambda: None), "before": (before.apply, before.restore),
            "packed": (current.apply, current.restore)}


def _request(target: str, body: bytes) -> dict:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(method="POST", path="/", base_url=ENDPOINT, data=body, headers={
        "X-Amz-Target": f"DynamoDB_20120810.{target}", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=x"}).get_environ()


def _call(app, environ) -> bytes:
    status = {}

    def start_response(code, headers, exc_info=None):
        status["code"] = code

    body = b"".join(app(environ, start_response))
    assert status["code"].startswith("200"), (status, body[:300])
    return body


def _fresh_table(app, name: str) -> None:
    body = json.dumps({"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                       "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                       "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                                for a in ("PK", "SK", "entityType", "createdAt")],
                       "GlobalSecondaryIndexes": [{"IndexName": "by-type", "Projection": {"ProjectionType": "ALL"},
                                                   "KeySchema": [{"AttributeName": "entityType", "KeyType": "HASH"},
                                                                 {"AttributeName": "createdAt", "KeyType": "RANGE"}]}]}).encode()
    _call(app, _request("CreateTable", body))


def _table(name: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["us-east-1"].get_table(name)


def test_items_memory_and_cpu(bare_cloud, monkeypatch):
    from moto import mock_aws
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from pipeline_lib.localcloud import dispatch
    from pipeline_lib.localcloud.dynamodb_kinesis.capture import snapshot

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    items = [r["PutRequest"]["Item"] for r in generate_items(N, 11)]
    texts = [orjson.dumps(i) for i in items]
    print(f"\n{N} items, {statistics.mean(len(t) for t in texts):.0f} bytes of JSON each, "
          f"load average {os.getloadavg()[0]:.1f}")
    variants = _variants(bare_cloud)
    memory: dict[str, list[float]] = {v: [] for v in variants}
    put_us: dict[str, list[float]] = {v: [] for v in variants}
    batch_us: dict[str, list[float]] = {v: [] for v in variants}
    snap_us: dict[str, list[float]] = {v: [] for v in variants}
    query_ms: dict[str, list[float]] = {v: [] for v in variants}
    dispatch_seams = dispatch.build_seams()
    dispatch_seams.apply()
    try:
        with mock_aws():
            app = DomainDispatcherApplication(create_backend_app)
            for round_no in range(2):
                for name, (apply, restore) in variants.items():
                    apply()
                    try:
                        table = f"t{round_no}{name}"
                        _fresh_table(app, table)
                        moto_table = _table(table)
                        # Retained memory: the items written straight into moto's Table, each from
                        # a fresh parse of its JSON, nothing but the table keeping them.
                        gc.collect()
                        tracemalloc.start()
                        start = tracemalloc.get_traced_memory()[0]
                        for text in texts:
                            moto_table.put_item(orjson.loads(text))
                        gc.collect()
                        retained = tracemalloc.get_traced_memory()[0] - start
                        tracemalloc.stop()
                        memory[name].append(retained / N)
                        stored = moto_table.all_items()[:2000]
                        started = time.process_time()
                        for item in stored:
                            snapshot(item)
                        snap_us[name].append((time.process_time() - started) / len(stored) * 1e6)
                        # A Query on the index reads every item of the table (moto's loop).
                        query = b'{"TableName":"%s","IndexName":"by-type","Limit":100,' \
                                b'"KeyConditionExpression":"entityType = :t",' \
                                b'"ExpressionAttributeValues":{":t":{"S":"customer"}}}' % table.encode()
                        started = time.process_time()
                        _call(app, _request("Query", query))
                        query_ms[name].append((time.process_time() - started) * 1e3)
                        # CPU per write through moto's WSGI app: PutItem, then BatchWriteItem of 25.
                        bodies = [b'{"TableName":"%s","Item":%s}' % (table.encode(), t) for t in texts[:3000]]
                        started = time.process_time()
                        for body in bodies:
                            _call(app, _request("PutItem", body))
                        put_us[name].append((time.process_time() - started) / len(bodies) * 1e6)
                        batches = [b'{"RequestItems":{"%s":[%s]}}' % (table.encode(), b",".join(
                            b'{"PutRequest":{"Item":%s}}' % t for t in texts[i:i + 25])) for i in range(0, 6000, 25)]
                        started = time.process_time()
                        for body in batches:
                            _call(app, _request("BatchWriteItem", body))
                        batch_us[name].append((time.process_time() - started) / (len(batches) * 25) * 1e6)
                        _call(app, _request("DeleteTable", b'{"TableName":"%s"}' % table.encode()))
                        del moto_table, stored
                        gc.collect()
                    finally:
                        restore()
    finally:
        dispatch_seams.restore()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("variant   retained B/item  PutItem µs CPU  BatchWriteItem µs CPU/item  snapshot µs  index Query ms CPU")
    for name in variants:
        print(f"{name:8}  {min(memory[name]):15,.0f}  {min(put_us[name]):14.1f}  {min(batch_us[name]):26.1f}"
              f"  {min(snap_us[name]):11.2f}  {min(query_ms[name]):18.0f}")
    ratio = min(memory["before"]) / min(memory["packed"])
    print(f"retained memory before/packed: {ratio:.1f}x; PutItem CPU packed/before: "
          f"{min(put_us['packed']) / min(put_us['before']):.2f}; BatchWriteItem: "
          f"{min(batch_us['packed']) / min(batch_us['before']):.2f}")
    assert min(memory["packed"]) < min(memory["before"])
