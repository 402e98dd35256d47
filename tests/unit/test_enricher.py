"""The Firehose transformation Lambda, driven with Firehose-shaped events (no server)."""
from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline_lib.lambdas import enricher

CREATED = "2026-03-04T12:34:56.789Z"


def item(**extra: Any) -> dict[str, Any]:
    base = {
        "PK": {"S": "CUSTOMER#c-000001"},
        "SK": {"S": "ORDER#o-0000001"},
        "entityType": {"S": "order"},
        "customerId": {"S": "c-000001"},
        "createdAt": {"S": CREATED},
    }
    base.update(extra)
    return base


def change(event_name: str = "INSERT", new: dict | None = None, old: dict | None = None,
           when: int | None = 1_700_000_000_000, event_id: str = "e-1") -> dict[str, Any]:
    ddb: dict[str, Any] = {"Keys": {"PK": {"S": "CUSTOMER#c-000001"}, "SK": {"S": "ORDER#o-0000001"}},
                           "SizeBytes": 100}
    if when is not None:
        ddb["ApproximateCreationDateTime"] = when
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {"awsRegion": "us-east-1", "eventID": event_id, "eventName": event_name, "userIdentity": None,
            "recordFormat": "application/json", "tableName": "t", "dynamodb": ddb, "eventSource": "aws:dynamodb"}


def b64(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.b64encode(raw).decode()


def event(*datas: str) -> dict[str, Any]:
    return {
        "invocationId": "inv-1",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/k",
        "region": "us-east-1",
        "records": [
            {"recordId": f"r{i}", "approximateArrivalTimestamp": 1_700_000_000_000, "data": data,
             "kinesisRecordMetadata": {"shardId": "shardId-000000000000", "partitionKey": "pk",
                                       "sequenceNumber": str(i), "subsequenceNumber": "0",
                                       "approximateArrivalTimestamp": 1_700_000_000_000}}
            for i, data in enumerate(datas)
        ],
    }


def text_of(record: dict[str, Any]) -> str:
    return base64.b64decode(record["data"]).decode("utf-8")


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    text = text_of(record)
    assert text.endswith("\n") and text.count("\n") == 1
    return json.loads(text, parse_float=Decimal)


def one(payload: dict[str, Any]) -> dict[str, Any]:
    (record,) = enricher.handler(event(b64(payload)), None)["records"]
    return record


def test_insert_becomes_a_snake_case_row_without_keys_with_cdc_columns() -> None:
    record = one(change("INSERT", new=item(unitPrice={"N": "9.99"})))
    assert record["recordId"] == "r0" and record["result"] == "Ok"
    assert record["metadata"] == {"partitionKeys": {"year": "2026", "month": "03", "day": "04"}}
    assert row_of(record) == {
        "entity_type": "order",
        "customer_id": "c-000001",
        "created_at": CREATED,
        "unit_price": Decimal("9.99"),
        "cdc_operation": "INSERT",
        "cdc_event_time": "2023-11-14T22:13:20.000Z",
        "cdc_event_id": "e-1",
    }


def test_modify_takes_the_new_image() -> None:
    record = one(change("MODIFY", new=item(status={"S": "PAID"}), old=item(status={"S": "PENDING"})))
    row = row_of(record)
    assert row["status"] == "PAID" and row["cdc_operation"] == "MODIFY"


def test_remove_takes_the_old_image() -> None:
    record = one(change("REMOVE", old=item(status={"S": "CANCELLED"})))
    row = row_of(record)
    assert record["result"] == "Ok"
    assert row["status"] == "CANCELLED" and row["cdc_operation"] == "REMOVE"
    assert "pk" not in row and "sk" not in row and "PK" not in row


def test_every_dynamodb_type_becomes_plain_json_with_exact_numbers() -> None:
    image = item(
        total={"N": "12345678901234567890.12"},
        small={"N": "0.10"},
        loyaltyPoints={"N": "1500"},
        negative={"N": "-0.5e-3"},
        isActive={"BOOL": True},
        giftWrap={"BOOL": False},
        couponCode={"NULL": True},
        tags={"SS": ["new", "vip"]},
        scores={"NS": ["1.50", "2"]},
        blob={"B": "AAEC"},
        blobs={"BS": ["AAE=", "Ag=="]},
        address={"M": {"streetName": {"S": "1 Main St"}, "geo": {"M": {"lat": {"N": "51.5000"}}}}},
        items={"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "2"}, "unitPrice": {"N": "19.90"}}},
                     {"L": [{"S": "nested"}, {"NULL": True}]}]},
    )
    record = one(change("INSERT", new=image))
    text = text_of(record)
    # Exact digits, byte for byte, as JSON numbers (never through a float).
    for literal in ('"total":12345678901234567890.12', '"small":0.10', '"loyalty_points":1500',
                    '"negative":-0.5e-3', '"scores":[1.50,2]', '"unit_price":19.90', '"lat":51.5000'):
        assert literal in text
    row = row_of(record)
    assert row["is_active"] is True and row["gift_wrap"] is False
    assert row["coupon_code"] is None
    assert row["tags"] == ["new", "vip"]
    assert row["blob"] == "AAEC" and row["blobs"] == ["AAE=", "Ag=="]
    assert row["address"] == {"street_name": "1 Main St", "geo": {"lat": Decimal("51.5000")}}
    assert row["items"] == [{"sku": "SKU-1", "quantity": 2, "unit_price": Decimal("19.90")}, ["nested", None]]
    assert isinstance(json.loads(text)["loyalty_points"], int)


def test_numbers_that_are_not_json_spelled_are_normalised_and_garbage_fails() -> None:
    record = one(change("INSERT", new=item(a={"N": "+5"}, b={"N": ".25"})))
    assert '"a":5,' in text_of(record) and '"b":0.25' in text_of(record)
    for bad in ("abc", "NaN", "Infinity", ""):
        assert one(change("INSERT", new=item(a={"N": bad})))["result"] == "ProcessingFailed"


def test_non_ascii_strings_survive() -> None:
    row = row_of(one(change("INSERT", new=item(name={"S": "Zoë Ünal \u4e2d"}))))
    assert row["name"] == "Zoë Ünal \u4e2d"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("createdAt", "created_at"), ("unitPrice", "unit_price"), ("customerId", "customer_id"),
     ("isActive", "is_active"), ("HTTPStatus", "http_status"), ("already_snake", "already_snake"),
     ("name", "name"), ("line2Total", "line2_total"), ("some_Thing", "some_thing")],
)
def test_snake_case(name: str, expected: str) -> None:
    assert enricher.snake_case(name) == expected


@pytest.mark.parametrize(
    ("created_at", "partition"),
    [
        ("2026-01-01T01:30:00+05:00", ("2025", "12", "31")),  # offset converted to UTC
        ("2025-12-31T22:00:00.5-03:00", ("2026", "01", "01")),
        ("2026-03-04T00:00:00Z", ("2026", "03", "04")),  # no fraction
        ("0999-01-02T03:04:05.123456789Z", ("0999", "01", "02")),  # zero-padded, nanoseconds
        ("2026-02-09T23:59:59.999+0000", ("2026", "02", "09")),
    ],
)
def test_partition_keys_are_utc_and_zero_padded(created_at: str, partition: tuple[str, str, str]) -> None:
    record = one(change("INSERT", new=item(createdAt={"S": created_at})))
    assert record["result"] == "Ok"
    assert record["metadata"]["partitionKeys"] == dict(zip(("year", "month", "day"), partition))
    assert row_of(record)["created_at"] == created_at  # the value itself is kept as written


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
        (1_772_627_696_789, "2026-03-04T12:34:56.789Z"),
        (1_700_000_000_123_456, "2023-11-14T22:13:20.123456Z"),  # MICROSECOND precision
        (None, None),
    ],
)
def test_cdc_event_time(when: int | None, expected: str | None) -> None:
    assert row_of(one(change("INSERT", new=item(), when=when)))["cdc_event_time"] == expected


def test_bad_records_fail_alone_with_their_data_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    good = b64(change("INSERT", new=item()))
    bad = {
        "bad base64": "this is not base64!!",
        "bad json": b64(b"{not json"),
        "not utf-8": b64(b"\xff\xfe"),
        "not a change": b64({"hello": "world"}),
        "unknown operation": b64(change("UPSERT", new=item())),
        "missing image": b64(change("INSERT", old=item())),
        "remove without old image": b64(change("REMOVE", new=item())),
        "missing createdAt": b64(change("INSERT", new={k: v for k, v in item().items() if k != "createdAt"})),
        "unparsable createdAt": b64(change("INSERT", new=item(createdAt={"S": "yesterday"}))),
        "createdAt without zone": b64(change("INSERT", new=item(createdAt={"S": "2026-03-04T12:34:56"}))),
        "impossible date": b64(change("INSERT", new=item(createdAt={"S": "2026-02-30T00:00:00Z"}))),
        "createdAt not a string": b64(change("INSERT", new=item(createdAt={"N": "1"}))),
        "two spellings of a column": b64(change("INSERT", new=item(created_at={"S": CREATED}))),
        "unknown type": b64(change("INSERT", new=item(x={"Q": "1"}))),
    }
    datas = [good]
    for data in bad.values():
        datas += [data, good]
    response = enricher.handler(event(*datas), None)
    records = response["records"]
    assert [r["recordId"] for r in records] == [f"r{i}" for i in range(len(datas))]
    for i, record in enumerate(records):
        if i % 2 == 0:
            assert record["result"] == "Ok"
            assert row_of(record)["customer_id"] == "c-000001"
        else:
            assert record == {"recordId": f"r{i}", "result": "ProcessingFailed", "data": datas[i]}
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failures = [line for line in logs if line["message"] == "record failed"]
    assert [f["recordId"] for f in failures] == [f"r{i}" for i in range(1, len(datas), 2)]
    assert all(f["reason"] for f in failures)
    assert "createdAt" in failures[7]["reason"] and "yesterday" in failures[8]["reason"]
    assert logs[-1] == {"level": "INFO", "message": "batch transformed", "invocationId": "inv-1",
                        "records": len(datas), "ok": len(bad) + 1, "failed": len(bad)}


def test_empty_batch() -> None:
    assert enricher.handler(event(), None) == {"records": []}


def test_a_malformed_event_is_an_invocation_error_not_a_silent_success() -> None:
    with pytest.raises(ValueError, match="recordId"):
        enricher.handler({"records": [{"data": "e30="}]}, None)


def test_output_columns_are_those_of_the_lake_schema() -> None:
    schema = json.loads((Path(__file__).parents[2] / "pipeline_lib" / "data" / "schema.json").read_text())
    columns = {c["name"] for c in schema["columns"]}
    image = {
        "PK": {"S": "CUSTOMER#c-1"}, "SK": {"S": "ORDER#o-1"}, "entityType": {"S": "order"},
        "customerId": {"S": "c-1"}, "orderId": {"S": "o-1"}, "status": {"S": "PAID"},
        "total": {"N": "10.00"}, "currency": {"S": "EUR"}, "giftWrap": {"BOOL": False},
        "couponCode": {"NULL": True}, "tags": {"SS": ["a"]}, "createdAt": {"S": CREATED},
        "updatedAt": {"S": CREATED},
        "items": {"L": [{"M": {"sku": {"S": "S"}, "quantity": {"N": "1"}, "unitPrice": {"N": "10.00"}}}]},
    }
    assert set(row_of(one(change("INSERT", new=image)))) <= columns
