"""S3 objects through boto3: put, get (ranges), head, delete, delete many (quiet too), copy, listings (v2 with
prefix, delimiter, page size, continuation and StartAfter; v1; versions with url encoding), multipart uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any, unique: Callable[[str], str]) -> str:
    name = unique("to").lower()
    s3.create_bucket(Bucket=name)
    return name


def test_put_get_head_delete(s3: Any, bucket: str) -> None:
    body = b"hello world"
    put = s3.put_object(Bucket=bucket, Key="dir/héllo wörld+x.txt", Body=body, ContentType="text/plain",
                        Metadata={"owner": "me"}, CacheControl="max-age=60")
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="dir/héllo wörld+x.txt")
    assert got["Body"].read() == body
    assert (got["ETag"], got["ContentType"], got["ContentLength"]) == (etag, "text/plain", len(body))
    assert got["Metadata"] == {"owner": "me"}
    assert got["CacheControl"] == "max-age=60"
    head = s3.head_object(Bucket=bucket, Key="dir/héllo wörld+x.txt")
    assert head["ContentLength"] == len(body) and head["ETag"] == etag
    assert head["LastModified"] == got["LastModified"]
    ranged = s3.get_object(Bucket=bucket, Key="dir/héllo wörld+x.txt", Range="bytes=6-")
    assert ranged["Body"].read() == b"world"
    assert ranged["ContentRange"] == f"bytes 6-10/{len(body)}"
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="dir/héllo wörld+x.txt", Range="bytes=-3")["Body"].read() == b"rld"
    code, _, status = error_of(s3.get_object, Bucket=bucket, Key="dir/héllo wörld+x.txt", Range="bytes=50-60")
    assert (code, status) == ("InvalidRange", 416)
    assert s3.delete_object(Bucket=bucket, Key="dir/héllo wörld+x.txt")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.get_object, Bucket=bucket, Key="dir/héllo wörld+x.txt") == (
        "NoSuchKey", "The specified key does not exist.", 404)
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="dir/héllo wörld+x.txt")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.delete_object(Bucket=bucket, Key="never-there")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.put_object, Bucket=bucket + "-missing", Key="k", Body=b"")[0] == "NoSuchBucket"


def test_default_content_type_and_empty_body(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_delete_objects_verbose_and_quiet(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "zz"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    nulls = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c", "VersionId": "null"}]})
    assert nulls["Deleted"] == [{"Key": "c", "VersionId": "null"}]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_copy_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ContentType="text/csv", Metadata={"m": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(b"data").hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"data", "text/csv", {"m": "1"})
    assert error_of(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})[0] == \
        "NoSuchKey"


def test_list_objects_v2(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    full = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in full["Contents"]] == keys and full["KeyCount"] == 6 and not full["IsTruncated"]
    rolled = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in rolled["Contents"]] == ["c", "d"]
    inside = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["a/b/"]
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["a/1", "a/2"] and page["IsTruncated"]
    rest = s3.list_objects_v2(Bucket=bucket, MaxKeys=10, ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == keys[2:]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d"]
    paginator = s3.get_paginator("list_objects_v2")
    seen = [o["Key"] for pg in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 1})
            for o in pg.get("Contents", [])]
    assert seen == keys
    delimited = [p["Prefix"] for pg in paginator.paginate(Bucket=bucket, Delimiter="/",
                                                          PaginationConfig={"PageSize": 1})
                 for p in pg.get("CommonPrefixes", [])]
    assert delimited == ["a/", "b/"]
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in v1["Contents"]] == ["a/1", "a/2", "a/b/3"]


def test_list_object_versions_url_encoded(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="with space/é", Body=b"x")
    raw = s3.list_object_versions(Bucket=bucket, EncodingType="url")
    version = raw["Versions"][0]
    assert version["VersionId"] == "null" and version["IsLatest"] is True
    assert version["Key"] in ("with%20space/%C3%A9", "with space/é")  # boto3 may decode url-encoded keys
    plain = s3.list_object_versions(Bucket=bucket)
    assert plain["Versions"][0]["Key"] == "with space/é"


def test_multipart_upload(s3: Any, bucket: str) -> None:
    part1 = b"a" * (5 * 1024 * 1024)
    part2 = b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="application/x-test")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]] == [1, 2]
    assert error_of(s3.complete_multipart_upload, Bucket=bucket, Key="big", UploadId=upload,
                    MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]}
                    )[0] == "InvalidPartOrder"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                   {"PartNumber": 2, "ETag": e2}]})
    digest = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
    assert done["ETag"] == f'"{digest}-2"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == part1 + part2 and got["ContentType"] == "application/x-test"
    assert error_of(s3.upload_part, Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x")[0] == \
        "NoSuchUpload"
    small = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
    assert error_of(s3.list_parts, Bucket=bucket, Key="small", UploadId=small)[0] == "NoSuchUpload"


def test_bad_input_answers_s3_errors(server: Server, bucket: str) -> None:
    raw = server.client("s3", parameter_validation=False)
    assert error_of(raw.delete_objects, Bucket=bucket, Delete={"Objects": [{"VersionId": "null"}]})[:3:2] == (
        "MalformedXML", 400)
    code, _, status = error_of(raw.list_objects_v2, Bucket=bucket, ContinuationToken="%%not-a-token")
    assert (code, status) == ("InvalidArgument", 400)
    assert error_of(raw.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x") == (
        "KeyTooLongError", "Your key is too long", 400)
    code, _, status = error_of(raw.list_objects_v2, Bucket=bucket, MaxKeys=-1)
    assert (code, status) == ("InvalidArgument", 400)
