"""The cheaper request path (localcloud/dispatch.py) answers every request as moto's own server
does, to the byte: the same calls go to moto's app (its dispatcher, no seams) and to ours, with
moto's random generator seeded alike before each (request ids are random), and the status, the
headers and the body must be equal."""
from __future__ import annotations

import io
from contextlib import contextmanager
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.moto_api._internal import mock_random
from werkzeug.test import EnvironBuilder

from pipeline_lib.localcloud import dispatch

ENDPOINT = "http://127.0.0.1:4599"


class _Body(io.BytesIO):
    """What botocore reads an answer's body from (urllib3's response, in a real call)."""

    def stream(self, amt: int = 1024, **_kwargs):
        while chunk := self.read(amt):
            yield chunk


def _call(app, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


class _SideBySide:
    """A botocore before-send hook: every request to moto's app and to ours, answers kept."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.seams = dispatch.build_seams()
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        self.our_app = dispatch.dispatcher_class()(create_backend_app)
        self.pairs: list[tuple[str, tuple, tuple]] = []
        self.compare = True  # False: set-up calls (a create), answered by moto's app alone

    @contextmanager
    def setting_up(self):
        self.compare = False
        try:
            yield
        finally:
            self.compare = True

    @staticmethod
    def environ(request, body: bytes) -> dict:
        url = urlsplit(request.url)
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        return EnvironBuilder(method=request.method, path=url.path, query_string=url.query, headers=headers,
                              data=body, base_url=ENDPOINT).get_environ()

    def __call__(self, request, **_kwargs):
        body = request.body or b""
        if hasattr(body, "read"):  # a stream (S3 uploads): read once, served to both apps
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        self.seams.restore()
        mock_random.seed(2026)
        expected = _call(self.moto_app, self.environ(request, body))
        if not self.compare:
            status, headers, body = expected
            return AWSResponse(request.url, int(status.split()[0]), dict(headers), _Body(body))
        self.seams.apply()
        mock_random.seed(2026)
        got = _call(self.our_app, self.environ(request, body))
        self.seams.restore()
        self.pairs.append((request.url, expected, got))
        status, headers, body = got
        return AWSResponse(request.url, int(status.split()[0]), dict(headers), _Body(body))


@pytest.fixture()
def side_by_side(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        hook = _SideBySide()
        session = boto3.Session(region_name="us-east-1")

        def client(service: str):
            made = session.client(service, endpoint_url=ENDPOINT)
            made.meta.events.register("before-send", hook)
            return made

        yield hook, client
        hook.seams.restore()


def _calls(client):
    ddb, kinesis, s3, sts, glue = (client(s) for s in ("dynamodb", "kinesis", "s3", "sts", "glue"))
    key = {"PK": {"S": "CUSTOMER#1"}, "SK": {"S": "PROFILE"}}
    item = {**key, "name": {"S": "Ada"}, "n": {"N": "12.50"}, "tags": {"SS": ["a", "b"]}, "b": {"B": b"\x00\xff"}}
    errors = (ddb.exceptions.ResourceNotFoundException, kinesis.exceptions.ResourceNotFoundException,
              s3.exceptions.NoSuchKey, glue.exceptions.EntityNotFoundException)

    def attempt(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except errors:
            pass
        except s3.exceptions.ClientError as exc:  # HeadBucket's 404 has no code of its own
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    # Each call is answered twice (moto's app, then ours): calls whose second answer would differ
    # from the first (a create, a sequence number) set things up without being compared.
    return ddb, kinesis, s3, sts, glue, key, item, attempt


def test_answers_equal_motos(side_by_side):
    hook, client = side_by_side
    ddb, kinesis, s3, sts, glue, key, item, attempt = _calls(client)
    ddb.list_tables()
    with hook.setting_up():
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                    {"AttributeName": "SK", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                               {"AttributeName": "SK", "AttributeType": "S"}])
        s3.create_bucket(Bucket="equal-bucket")
    ddb.put_item(TableName="t", Item=item)
    ddb.put_item(TableName="t", Item=item, ReturnValues="ALL_OLD")
    ddb.get_item(TableName="t", Key=key)
    ddb.query(TableName="t", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": key["PK"]})
    ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**item, "SK": {"S": f"S{i}"}}}}
                                             for i in range(5)]})
    ddb.update_item(TableName="t", Key=key, UpdateExpression="SET #n = :v", ExpressionAttributeNames={"#n": "name"},
                    ExpressionAttributeValues={":v": {"S": "Grace"}}, ReturnValues="ALL_NEW")
    try:
        ddb.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(PK)")
    except ddb.exceptions.ConditionalCheckFailedException:
        pass
    attempt(ddb.describe_table, TableName="missing")
    ddb.delete_item(TableName="t", Key={"PK": {"S": "nobody"}, "SK": {"S": "x"}})
    kinesis.list_streams()
    attempt(kinesis.describe_stream_summary, StreamName="missing")
    s3.list_buckets()
    attempt(s3.head_bucket, Bucket="missing-bucket")
    s3.put_object(Bucket="equal-bucket", Key="a/b.txt", Body=b"hello")
    s3.get_object(Bucket="equal-bucket", Key="a/b.txt")  # the body is compared as served, not re-read
    attempt(s3.get_object, Bucket="equal-bucket", Key="missing")
    s3.list_objects_v2(Bucket="equal-bucket")
    sts.get_caller_identity()
    glue.get_databases()
    attempt(glue.get_table, DatabaseName="missing", Name="missing")

    assert len(hook.pairs) >= 20
    for url, expected, got in hook.pairs:
        assert got == expected, url
    # Our dispatcher remembered the backends it resolved (the point of it).
    assert {"dynamodb", "kinesis", "s3", "sts", "glue"} <= set(hook.our_app._backends.values())


def test_method_names_answer_as_getmembers():
    import inspect

    from moto.dynamodb.responses import DynamoHandler

    listed = [name for name, _ in inspect.getmembers(DynamoHandler, predicate=inspect.isfunction)]
    names = dispatch.MethodNames(DynamoHandler)
    for name in listed:
        assert name in names
    for absent in ("", "no_such_action", "dynamodb_backend", "__class__", "__dict__", "region"):
        assert (absent in names) == (absent in listed), absent
    assert list(names) == listed
    # A method added later (a seam's) is seen, as moto's fresh list would see it.
    DynamoHandler.added_for_the_test = lambda self: None
    try:
        assert "added_for_the_test" in names
    finally:
        del DynamoHandler.added_for_the_test
    assert "added_for_the_test" not in names


def test_form_data_loads_without_flasks_debug_class():
    from flask import Flask
    from moto.moto_server.werkzeug_app import BackendRequest
    from werkzeug.datastructures import ImmutableMultiDict

    app = Flask("t")
    app.debug = True  # as moto's apps run
    app.request_class = BackendRequest

    def files_type() -> type:
        environ = EnvironBuilder(method="POST", path="/", data=b'{"a": 1}', content_type="application/json",
                                 base_url=ENDPOINT).get_environ()
        with app.request_context(environ) as ctx:
            assert ctx.request.data == b'{"a": 1}'
            assert dict(ctx.request.files) == {} and dict(ctx.request.form) == {}
            return type(ctx.request.files)

    seams = dispatch.build_seams()
    seams.restore()
    assert files_type() is not ImmutableMultiDict  # Flask's debug helper: a class made for the request
    seams.apply()
    try:
        assert files_type() is ImmutableMultiDict
    finally:
        seams.restore()
