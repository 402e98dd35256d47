"""Planning a stack update of AWS::DynamoDB::Table: replace or update in place (no moto)."""
from __future__ import annotations

from types import SimpleNamespace

from pipeline_lib.localcloud.dynamodb_kinesis.table_update import gsi_updates, needs_replacement

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}]


def table(**overrides):
    lsi = SimpleNamespace(describe=lambda: {"IndexName": "l1", "KeySchema": KEYS, "Projection": {}})
    fields = {"name": "orders", "schema": KEYS, "indexes": [lsi]}
    fields.update(overrides)
    return SimpleNamespace(**fields)


def test_name_key_schema_and_local_indexes_force_replacement():
    lsis = [{"IndexName": "l1", "KeySchema": KEYS, "Projection": {}}]
    assert not needs_replacement(table(), {"LocalSecondaryIndexes": lsis})
    assert not needs_replacement(table(), {"TableName": "orders", "KeySchema": KEYS, "LocalSecondaryIndexes": lsis,
                                           "BillingMode": "PAY_PER_REQUEST"})
    assert needs_replacement(table(), {"TableName": "renamed", "LocalSecondaryIndexes": lsis})
    assert needs_replacement(table(), {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "LocalSecondaryIndexes": lsis})
    assert needs_replacement(table(), {})  # the local index went away


def gsi(name: str, attr: str = "a", projection: str = "ALL") -> dict:
    return {"IndexName": name, "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": projection}}


def test_global_index_changes_become_creates_and_deletes():
    assert gsi_updates([gsi("a")], [gsi("a")]) == []
    assert gsi_updates([], [gsi("a")]) == [{"Create": gsi("a")}]
    assert gsi_updates([gsi("a")], []) == [{"Delete": {"IndexName": "a"}}]
    assert gsi_updates([gsi("a"), gsi("b")], [gsi("b", attr="c"), gsi("d")]) == [
        {"Delete": {"IndexName": "a"}}, {"Delete": {"IndexName": "b"}}, {"Create": gsi("b", attr="c")}, {"Create": gsi("d")}]
    assert gsi_updates([gsi("a")], [gsi("a", projection="KEYS_ONLY")]) == [
        {"Delete": {"IndexName": "a"}}, {"Create": gsi("a", projection="KEYS_ONLY")}]
