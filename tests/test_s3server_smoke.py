import boto3

from tests.s3server import SeaweedS3


def test_seaweed_serves_s3_with_conditional_put(s3_server: SeaweedS3) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url,
                      aws_access_key_id=s3_server.access_key,
                      aws_secret_access_key=s3_server.secret_key, region_name="us-east-1")
    s3.put_object(Bucket=s3_server.bucket, Key="smoke/a", Body=b"1", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=s3_server.bucket, Key="smoke/a", Body=b"2", IfNoneMatch="*")
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "PreconditionFailed"
    else:
        raise AssertionError("a second conditional PUT must be refused")
    assert s3.get_object(Bucket=s3_server.bucket, Key="smoke/a")["Body"].read() == b"1"
