"""moto's model instances tracked weakly (localcloud/model_tracking.py): what is deleted is freed,
what is alive is still listed (moto's dashboard and S3's reset iterate the lists)."""
from __future__ import annotations

import gc
import pickle
import weakref

import boto3
import pytest
from moto import mock_aws
from moto.core.common_models import BaseModel
from moto.core.model_instances import reset_model_data

from pipeline_lib.localcloud import model_tracking


class Thing(BaseModel):
    __module__ = "tests.model_tracking"  # moto files a model under the second part of its module

    def __init__(self, n: int):
        self.n = n


@pytest.fixture
def tracking():
    seams = model_tracking.install()
    try:
        yield
    finally:
        seams.restore()


def _fill_and_delete_table(items: int) -> list[weakref.ref]:
    """A table of `items` items, deleted; weak references to the items moto made for it."""
    from moto.dynamodb.models.dynamo_type import Item

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}])
    before = {id(i) for i in Item.instances_tracked}
    for n in range(items):
        ddb.put_item(TableName="t", Item={"PK": {"S": f"k{n}"}, "v": {"N": str(n)}})
    made = [weakref.ref(i) for i in Item.instances_tracked if id(i) not in before]
    ddb.delete_table(TableName="t")
    gc.collect()
    return made


def test_stock_moto_keeps_a_deleted_tables_items():
    """Why the seam exists: moto's own tracking keeps every item of a deleted table."""
    from moto.dynamodb.models.dynamo_type import Item

    assert not model_tracking.build_seams().applied
    Item.instances_tracked = []
    try:
        with mock_aws():  # (leaving the mock resets moto's lists: look inside)
            made = _fill_and_delete_table(20)
            assert len(made) >= 20
            assert all(ref() is not None for ref in made)
    finally:
        Item.instances_tracked = []


def test_a_deleted_tables_items_are_freed(tracking):
    with mock_aws():
        made = _fill_and_delete_table(20)
        assert len(made) >= 20
        assert all(ref() is None for ref in made)


def test_live_instances_are_listed(tracking):
    things = [Thing(n) for n in range(5)]
    assert sorted(t.n for t in Thing.instances_tracked) == [0, 1, 2, 3, 4]
    del things[1], things[2]  # Thing(1) and Thing(3)
    gc.collect()
    assert sorted(t.n for t in Thing.instances_tracked) == [0, 2, 4]
    assert len(Thing.instances_tracked) == 3


def test_s3s_reset_disposes_the_live_keys(tracking):
    """moto's S3 reset iterates FakeKey.instances_tracked to dispose keys: still every live one."""
    from moto.s3.models import FakeKey, s3_backends

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="tracking-bucket")
        s3.put_bucket_versioning(Bucket="tracking-bucket", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="tracking-bucket", Key="k", Body=b"first")
        s3.put_object(Bucket="tracking-bucket", Key="k", Body=b"second")
        versions = [k for k in FakeKey.instances_tracked if k.name == "k"]
        assert len(versions) == 2 and all(not k._value_buffer.closed for k in versions)
        # its buckets' current keys, then the list's (the older version is only found there)
        s3_backends["123456789012"]["aws"].reset()
        assert all(k._value_buffer.closed for k in versions)


def test_lists_reset_by_moto_list_live_instances_again(tracking):
    reset_model_data()  # /moto-api/reset: fresh plain lists on every class
    kept = Thing(1)
    gone = weakref.ref(Thing(2))
    gc.collect()
    assert gone() is None
    assert list(Thing.instances_tracked) == [kept]


def test_install_frees_what_moto_listed_before():
    Thing.instances_tracked = []
    kept, dropped = Thing(1), Thing(2)  # moto's own __new__: plain list, strong
    gone = weakref.ref(dropped)
    del dropped
    seams = model_tracking.install()
    try:
        gc.collect()
        assert gone() is None
        assert list(Thing.instances_tracked) == [kept]
    finally:
        seams.restore()


def test_unpickled_models_are_tracked(tracking):
    """A loaded state's models (pickle makes them through __new__) are listed like made ones."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    key = DynamoType({"S": "k"})
    copy = pickle.loads(pickle.dumps(Item(key, None, {"PK": {"S": "k"}})))
    assert copy.hash_key == key
    assert any(i is copy for i in Item.instances_tracked)
