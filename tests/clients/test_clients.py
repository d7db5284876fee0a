"""Client compatibility tests: the real aws CLI (v1) and boto3 against Tumbler.

The behaviour asserted here comes from /work/shared/spec/secretsmanager-api.md
(section numbers in comments).  Details the spec marks [?] are not asserted;
for texts the spec only knows from fakes ([fake]) only the error code is
asserted.
"""

import base64
import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

# Same values as conftest.py (kept here so the module does not import conftest).
ACCESS_KEY_ID = "AKIATUMBLERTEST00001"
SECRET_ACCESS_KEY = "tumbler-test-secret-key-0000000000000000"
REGION = "us-east-1"

# ---------------------------------------------------------------------------
# Texts from the spec (§7)
# ---------------------------------------------------------------------------
MSG_NOT_FOUND = "Secrets Manager can't find the specified secret."
MSG_NO_LABEL = "Secrets Manager can't find the specified secret value for staging label: {}"
MSG_NO_VERSION = "Secrets Manager can't find the specified secret value for VersionId: {}"
MSG_STAGE_MISMATCH = "You provided a VersionStage that is not associated to the provided VersionId."
MSG_NO_TOKEN = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
MSG_MISSING_SECRET_ID = (
    "1 validation error detected: Value null at 'secretId' failed to satisfy "
    "constraint: Member must not be null"
)
MSG_BAD_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, "
    "or any of the following: -/_+=.@!"
)
MSG_NAME_EXISTS = "The operation failed because the secret {} already exists."
MSG_TOKEN_IN_USE = (
    "You can't use ClientRequestToken {} because that value is already in use "
    "for a version of secret {}."
)
MSG_CREATE_SCHEDULED = (
    "You can't create this secret because a secret with this name is already "
    "scheduled for deletion."
)
MSG_MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
MSG_WAS_DELETED = "You can't perform this operation on the secret because it was deleted."
MSG_NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
MSG_LAMBDA_DENIED = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the "
    "function policy grants access to the principal secretsmanager.amazonaws.com."
)
MSG_DAYS_AND_SCHEDULE = (
    "You cannot specify both rotation frequency and schedule expression together."
)
MSG_REMOVE_FROM_EMPTY = (
    "The parameter RemoveFromVersionId can't be empty. Staging label {} is currently "
    "attached to version {}, so you must explicitly reference that version in "
    "RemoveFromVersionId."
)
MSG_REMOVE_AWSCURRENT = (
    "You can only move staging label AWSCURRENT to a different secret version. "
    "It can't be completely removed."
)
MSG_STRING_AND_BINARY = (
    "You can't specify both a binary secret value and a string secret value in the same secret."
)
MSG_MISSING_AUTH = "Missing Authentication Token"
MSG_UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
MSG_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
LOWER = "abcdefghijklmnopqrstuvwxyz"
UPPER = LOWER.upper()
DIGITS = "0123456789"

OWN_KEYS = {"ResponseMetadata"}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def tok():
    return str(uuid.uuid4())


def keys(resp):
    return set(resp) - OWN_KEYS


def arn_re(name, region=REGION):
    return re.compile(
        r"^arn:aws:secretsmanager:%s:\d{12}:secret:%s-[A-Za-z0-9]{6}$"
        % (re.escape(region), re.escape(name))
    )


def account_of(arn):
    return arn.split(":")[4]


def partial_arn(arn):
    return arn[:-7]


def assert_error(excinfo, code, message=None, status=400, message_endswith=None):
    err = excinfo.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    if message is not None:
        assert err["Error"]["Message"] == message, err
    if message_endswith is not None:
        assert err["Error"]["Message"].endswith(message_endswith), err


def create(sm, name, value="value-1", token=None, **kw):
    args = dict(Name=name, **kw)
    if value is not None:
        if isinstance(value, bytes):
            args["SecretBinary"] = value
        else:
            args["SecretString"] = value
    if token is not None:
        args["ClientRequestToken"] = token
    return sm.create_secret(**args)


def stages(sm, secret_id):
    return {
        k: sorted(v)
        for k, v in sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}).items()
    }


def versions(sm, secret_id, include_deprecated=False):
    out = []
    kw = {}
    while True:
        r = sm.list_secret_version_ids(
            SecretId=secret_id, IncludeDeprecated=include_deprecated, **kw
        )
        out.extend(r["Versions"])
        if not r.get("NextToken"):
            return out
        kw["NextToken"] = r["NextToken"]


def list_all(sm, **kw):
    out = []
    for page in sm.get_paginator("list_secrets").paginate(**kw):
        out.extend(page["SecretList"])
    return out


def names_with_prefix(sm, prefix, extra_filters=(), **kw):
    filters = [{"Key": "name", "Values": [prefix]}] + list(extra_filters)
    return [e["Name"] for e in list_all(sm, Filters=filters, **kw)]


def wait_until(fn, timeout=20.0, interval=0.25):
    """Call fn until it returns a truthy value (returned) or time runs out (last value)."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def utc(dt):
    return dt.astimezone(timezone.utc)


def assert_midnight_utc_today(dt):
    d = utc(dt)
    assert (d.hour, d.minute, d.second, d.microsecond) == (0, 0, 0, 0), d
    today = datetime.now(timezone.utc).date()
    assert d.date() in (today, today - timedelta(days=1)), d


def assert_close(dt, expected, tolerance=timedelta(minutes=5)):
    assert abs(utc(dt) - expected) <= tolerance, (dt, expected)


def policy_for(arn):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_of(arn)}:root"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )


# ---------------------------------------------------------------------------
# Raw protocol helper (§1)
# ---------------------------------------------------------------------------
def raw_call(
    server,
    target,
    body,
    *,
    sign=True,
    access_key=ACCESS_KEY_ID,
    secret_key=SECRET_ACCESS_KEY,
    region=REGION,
    signing_time=None,
):
    """POST / with X-Amz-Target secretsmanager.<target>; body is a dict or raw bytes."""
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    if isinstance(data, str):
        data = data.encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"secretsmanager.{target}",
    }
    if sign:
        req = AWSRequest(method="POST", url=server.url + "/", data=data, headers=headers)
        auth = SigV4Auth(Credentials(access_key, secret_key), "secretsmanager", region)
        if signing_time is not None:
            with mock.patch("botocore.auth.get_current_datetime", return_value=signing_time):
                auth.add_auth(req)
        else:
            auth.add_auth(req)
        headers = dict(req.headers.items())
    return requests.post(server.url + "/", data=data, headers=headers, timeout=30)


def raw_error(resp):
    body = resp.json()
    code = body.get("__type", "")
    message = body.get("Message", body.get("message"))
    return code, message, body


def request_id(resp):
    return resp.headers.get("x-amzn-RequestId")


UUID_RE = re.compile(r"^[0-9a-fA-F-]{20,}$")


# ===========================================================================
# Raw protocol (§1.1, §1.3, §1.4)
# ===========================================================================
def test_raw_create_secret_without_client_request_token_is_invalid_request(server, unique):
    r = raw_call(server, "CreateSecret", {"Name": unique("rawtok"), "SecretString": "x"})
    assert r.status_code == 400
    code, message, body = raw_error(r)
    assert code == "InvalidRequestException"
    assert body.get("Message") == MSG_NO_TOKEN


def test_raw_create_secret_without_token_creates_nothing(server, sm, unique):
    name = unique("rawtok")
    raw_call(server, "CreateSecret", {"Name": name, "SecretString": "x"})
    with pytest.raises(ClientError) as ei:
        sm.describe_secret(SecretId=name)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_raw_put_secret_value_without_client_request_token_is_invalid_request(server, sm, unique):
    name = unique("rawtok")
    create(sm, name)
    r = raw_call(server, "PutSecretValue", {"SecretId": name, "SecretString": "y"})
    assert r.status_code == 400
    code, message, body = raw_error(r)
    assert code == "InvalidRequestException"
    assert body.get("Message") == MSG_NO_TOKEN


def test_raw_update_secret_with_value_without_client_request_token_is_invalid_request(
    server, sm, unique
):
    name = unique("rawtok")
    create(sm, name)
    r = raw_call(server, "UpdateSecret", {"SecretId": name, "SecretString": "y"})
    assert r.status_code == 400
    code, message, body = raw_error(r)
    assert code == "InvalidRequestException"
    assert body.get("Message") == MSG_NO_TOKEN


def test_raw_rotate_secret_without_token_is_invalid_parameter_before_lookup(server, unique):
    # §4.1 step 1: checked before the secret is looked up (recorded on a missing secret).
    r = raw_call(server, "RotateSecret", {"SecretId": unique("rawrot")})
    assert r.status_code == 400
    code, message, body = raw_error(r)
    assert code == "InvalidParameterException"
    assert body.get("Message") == MSG_NO_TOKEN


def test_raw_unknown_target_is_unknown_operation_exception(server):
    r = raw_call(server, "NoSuchOperation", {})
    assert r.status_code == 400
    code, _, _ = raw_error(r)
    assert code.split("#")[-1] == "UnknownOperationException"


def test_raw_malformed_json_body_is_serialization_exception(server):
    r = raw_call(server, "ListSecrets", b"{this is not json")
    assert r.status_code == 400
    code, _, _ = raw_error(r)
    assert code.split("#")[-1] == "SerializationException"


def test_raw_request_without_authorization_is_missing_authentication_token(server):
    r = raw_call(server, "ListSecrets", {}, sign=False)
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "MissingAuthenticationTokenException"
    assert message == MSG_MISSING_AUTH


def test_raw_request_signed_with_wrong_secret_key_is_invalid_signature(server):
    r = raw_call(server, "ListSecrets", {}, secret_key="wrong-secret-key-000000000000000000000000")
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "InvalidSignatureException"
    assert message.startswith(MSG_BAD_SIGNATURE), message


def test_raw_request_with_unknown_access_key_is_unrecognized_client(server):
    r = raw_call(server, "ListSecrets", {}, access_key="AKIAUNKNOWNKEY000000")
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "UnrecognizedClientException"
    assert message == MSG_UNRECOGNIZED_CLIENT


# Tumbler allows 15 minutes of clock skew either way (the product's choice, and the usual AWS
# front-end window); one recorded Secrets Manager reply says 5, which max_clock_skew_seconds=300
# reproduces. The message shape is AWS's either way.
def test_raw_request_signed_sixteen_minutes_ago_is_signature_expired(server):
    old = (datetime.now(timezone.utc) - timedelta(minutes=16)).replace(tzinfo=None)
    r = raw_call(server, "ListSecrets", {}, signing_time=old)
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "InvalidSignatureException"
    stamp = old.strftime("%Y%m%dT%H%M%SZ")
    assert re.match(
        r"^Signature expired: %s is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$"
        % stamp,
        message,
    ), message


def test_raw_request_signed_sixteen_minutes_ahead_is_signature_not_yet_current(server):
    future = (datetime.now(timezone.utc) + timedelta(minutes=16)).replace(tzinfo=None)
    r = raw_call(server, "ListSecrets", {}, signing_time=future)
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "InvalidSignatureException"
    stamp = future.strftime("%Y%m%dT%H%M%SZ")
    assert re.match(
        r"^Signature not yet current: %s is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$"
        % stamp,
        message,
    ), message


def test_raw_request_signing_extra_headers_is_accepted(server):
    # §1.4: other SDKs sign more headers; the server must verify exactly SignedHeaders.
    data = b"{}"
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.ListSecrets",
        "X-Amz-Content-Sha256": __import__("hashlib").sha256(data).hexdigest(),
        "X-Amz-Api-Version": "2017-10-17",
    }
    req = AWSRequest(method="POST", url=server.url + "/", data=data, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "secretsmanager", REGION).add_auth(req)
    auth = req.headers["Authorization"]
    assert "x-amz-api-version" in auth and "x-amz-content-sha256" in auth
    r = requests.post(server.url + "/", data=data, headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 200, r.text
    assert "SecretList" in r.json()


def test_raw_malformed_authorization_header_is_incomplete_signature(server):
    data = b"{}"
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.ListSecrets",
        "X-Amz-Date": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        "Authorization": "AWS4-HMAC-SHA256 garbage",
    }
    r = requests.post(server.url + "/", data=data, headers=headers, timeout=30)
    assert r.status_code == 400
    code, _, _ = raw_error(r)
    assert code.split("#")[-1] == "IncompleteSignatureException"


def test_raw_create_secret_without_name_is_validation_exception(server):
    r = raw_call(server, "CreateSecret", {"SecretString": "x", "ClientRequestToken": tok()})
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "ValidationException"
    assert message == (
        "1 validation error detected: Value null at 'name' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_raw_get_secret_value_without_secret_id_is_validation_exception(server):
    r = raw_call(server, "GetSecretValue", {})
    assert r.status_code == 400
    code, message, _ = raw_error(r)
    assert code.split("#")[-1] == "ValidationException"
    assert message == MSG_MISSING_SECRET_ID


def test_raw_error_body_has_bare_type_and_capital_message(server, unique):
    r = raw_call(server, "DescribeSecret", {"SecretId": unique("raw")})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    body = r.json()
    assert body["__type"] == "ResourceNotFoundException"
    assert body["Message"] == MSG_NOT_FOUND


def test_raw_success_response_is_amz_json_with_status_200(server):
    r = raw_call(server, "GetRandomPassword", {})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert len(r.json()["RandomPassword"]) == 32


def test_raw_every_response_has_request_id(server, unique):
    responses = [
        raw_call(server, "GetRandomPassword", {}),  # success
        raw_call(server, "DescribeSecret", {"SecretId": unique("raw")}),  # modelled error
        raw_call(server, "NoSuchOperation", {}),  # front-end error
        raw_call(server, "ListSecrets", b"{nope"),  # serialization error
        raw_call(server, "ListSecrets", {}, sign=False),  # auth error
        raw_call(server, "ListSecrets", {}, access_key="AKIAUNKNOWNKEY000000"),
    ]
    ids = [request_id(r) for r in responses]
    for r, rid in zip(responses, ids):
        assert rid, (r.status_code, r.text, dict(r.headers))
        assert UUID_RE.match(rid), rid
    assert len(set(ids)) == len(ids)


def test_boto3_responses_carry_request_id(sm, unique):
    r = sm.get_random_password()
    assert UUID_RE.match(r["ResponseMetadata"]["RequestId"])
    with pytest.raises(ClientError) as ei:
        sm.describe_secret(SecretId=unique("missing"))
    assert UUID_RE.match(ei.value.response["ResponseMetadata"]["RequestId"])


def test_raw_unknown_members_are_ignored(server, sm, unique):
    name = unique("rawextra")
    r = raw_call(
        server,
        "CreateSecret",
        {
            "Name": name,
            "SecretString": "x",
            "ClientRequestToken": tok(),
            "SomeFutureMember": {"a": 1},
        },
    )
    assert r.status_code == 200, r.text
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"


def test_raw_response_leaves_out_members_without_value(server, sm, unique):
    name = unique("rawnull")
    create(sm, name)
    r = raw_call(server, "DescribeSecret", {"SecretId": name})
    assert r.status_code == 200
    body = r.json()
    assert all(v is not None for v in body.values()), body
    for absent in ("Description", "KmsKeyId", "RotationEnabled", "DeletedDate", "Tags"):
        assert absent not in body


def test_raw_timestamps_are_epoch_seconds_numbers(server, sm, unique):
    name = unique("rawts")
    create(sm, name)
    body = raw_call(server, "DescribeSecret", {"SecretId": name}).json()
    for k in ("CreatedDate", "LastChangedDate"):
        assert isinstance(body[k], (int, float)) and not isinstance(body[k], bool), body
        assert abs(body[k] - time.time()) < 600
        # at most millisecond precision
        assert abs(round(body[k] * 1000) - body[k] * 1000) < 1e-3


def test_raw_secret_binary_is_base64_on_the_wire(server, sm, unique):
    name = unique("rawbin")
    data = bytes(range(256))
    create(sm, name, value=data)
    body = raw_call(server, "GetSecretValue", {"SecretId": name}).json()
    assert body["SecretBinary"] == base64.b64encode(data).decode()
    assert "SecretString" not in body


# ===========================================================================
# CreateSecret (§3, §5.2)
# ===========================================================================
def test_create_secret_returns_arn_name_and_token_as_version_id(sm, unique):
    name = unique("create")
    token = tok()
    r = create(sm, name, token=token)
    assert keys(r) == {"ARN", "Name", "VersionId"}
    assert arn_re(name).match(r["ARN"]), r["ARN"]
    assert r["Name"] == name
    assert r["VersionId"] == token


def test_create_secret_accepts_non_uuid_client_request_token(sm, unique):
    name = unique("create")
    token = "terraform-20260202192845100500000001"
    r = create(sm, name, token=token)
    assert r["VersionId"] == token
    assert sm.get_secret_value(SecretId=name)["VersionId"] == token


def test_create_secret_first_version_is_awscurrent(sm, unique):
    name = unique("create")
    r = create(sm, name)
    assert stages(sm, name) == {r["VersionId"]: ["AWSCURRENT"]}


def test_create_secret_without_value_has_no_version(sm, unique):
    name = unique("novalue")
    r = create(sm, name, value=None, token=tok())
    assert keys(r) == {"ARN", "Name"}
    d = sm.describe_secret(SecretId=name)
    assert "VersionIdsToStages" not in d
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name)
    assert_error(ei, "ResourceNotFoundException", MSG_NO_LABEL.format("AWSCURRENT"))


def test_create_secret_with_existing_name_is_resource_exists(sm, unique):
    name = unique("dup")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        create(sm, name, value="other")
    assert_error(ei, "ResourceExistsException", MSG_NAME_EXISTS.format(name))


def test_create_secret_with_same_token_and_same_value_is_idempotent(sm, unique):
    name = unique("idem")
    token = tok()
    r1 = create(sm, name, value="same", token=token)
    r2 = create(sm, name, value="same", token=token)
    assert r2["ARN"] == r1["ARN"]
    assert r2["Name"] == name
    assert r2["VersionId"] == token
    assert [v["VersionId"] for v in versions(sm, name, include_deprecated=True)] == [token]


def test_create_secret_replay_after_new_versions_changes_nothing(sm, unique):
    name = unique("idemreplay")
    t0, t1 = tok(), tok()
    arn = create(sm, name, value="zero", token=t0)["ARN"]
    sm.put_secret_value(SecretId=name, SecretString="one", ClientRequestToken=t1)
    r = create(sm, name, value="zero", token=t0)
    assert r["ARN"] == arn and r["VersionId"] == t0
    assert stages(sm, name) == {t0: ["AWSPREVIOUS"], t1: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "one"


def test_create_secret_with_same_token_and_other_value_is_resource_exists(sm, unique):
    name = unique("idem")
    token = tok()
    r1 = create(sm, name, value="first", token=token)
    with pytest.raises(ClientError) as ei:
        create(sm, name, value="second", token=token)
    assert_error(ei, "ResourceExistsException", MSG_TOKEN_IN_USE.format(token, r1["ARN"]))
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"


@pytest.mark.parametrize("bad", [" ", "*", "?", "!", "]", "\\", "#", "%", "é"])
def test_create_secret_with_invalid_name_character_is_validation_exception(sm, unique, bad):
    with pytest.raises(ClientError) as ei:
        create(sm, unique("bad") + bad + "x")
    assert_error(ei, "ValidationException", MSG_BAD_NAME)


def test_create_secret_accepts_every_allowed_name_character(sm, unique):
    name = unique("chars") + "/A_b+c=d.e@f-G9"
    r = create(sm, name)
    assert r["Name"] == name
    assert sm.get_secret_value(SecretId=name)["Name"] == name


def test_create_secret_name_longer_than_512_is_validation_exception(sm):
    with pytest.raises(ClientError) as ei:
        create(sm, "n" * 513)
    assert_error(ei, "ValidationException")


def test_create_secret_name_ending_in_hyphen_and_six_characters_is_accepted(sm, unique):
    name = unique("six") + "-a1b2c3"
    r = create(sm, name)
    assert r["Name"] == name
    assert arn_re(name).match(r["ARN"])


def test_create_secret_with_string_and_binary_is_invalid_parameter(sm, unique):
    name = unique("both")
    with pytest.raises(ClientError) as ei:
        sm.create_secret(
            Name=name, SecretString="s", SecretBinary=b"b", ClientRequestToken=tok()
        )
    # §2: 2018 recording had the prefix "The request had invalid params: "; whether it is
    # still sent is unknown, so only the ending is asserted.
    assert_error(ei, "InvalidParameterException", message_endswith=MSG_STRING_AND_BINARY)


def test_create_secret_with_description_and_tags_shows_them_in_describe(sm, unique):
    name = unique("desc")
    tags = [{"Key": "b-key", "Value": "1"}, {"Key": "a-key", "Value": ""}, {"Key": "C", "Value": "3"}]
    create(sm, name, Description="my description", Tags=tags)
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "my description"
    assert d["Tags"] == tags
    assert "KmsKeyId" not in d  # default key is left out (§3 CreateSecret)


def test_create_secret_recreated_after_force_delete_gets_new_arn_suffix(sm, unique):
    name = unique("recreate")
    first = create(sm, name)["ARN"]
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

    def try_create():
        try:
            return create(sm, name, value="again")
        except ClientError as e:
            # §3 DeleteSecret: while the purge runs, the name is still taken.
            assert e.response["Error"]["Code"] == "InvalidRequestException", e.response
            assert e.response["Error"]["Message"] == MSG_WAS_DELETED, e.response
            return None

    second = wait_until(try_create, timeout=30)
    assert second, "name still taken 30 s after a forced delete"
    assert arn_re(name).match(second["ARN"])
    assert second["ARN"] != first
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "again"


def test_create_secret_with_name_scheduled_for_deletion_is_invalid_request(sm, unique):
    name = unique("sched")
    create(sm, name)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as ei:
        create(sm, name, value="new")
    assert_error(ei, "InvalidRequestException", MSG_CREATE_SCHEDULED)


def test_secret_string_of_65536_characters_is_accepted(sm, unique):
    name = unique("big")
    value = "x" * 65536
    create(sm, name, value=value)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == value


def test_secret_string_of_65537_characters_is_rejected(sm, unique):
    with pytest.raises(ClientError) as ei:
        create(sm, unique("big"), value="x" * 65537)
    assert_error(ei, "ValidationException")


def test_secret_binary_of_65536_bytes_is_accepted(sm, unique):
    name = unique("bigbin")
    value = bytes(i % 256 for i in range(65536))
    create(sm, name, value=value)
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == value


def test_secret_binary_of_65537_bytes_is_rejected(sm, unique):
    with pytest.raises(ClientError) as ei:
        create(sm, unique("bigbin"), value=b"\x01" * 65537)
    assert_error(ei, "ValidationException")


def test_put_secret_value_over_65536_characters_is_rejected(sm, unique):
    name = unique("bigput")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=name, SecretString="y" * 65537)
    assert_error(ei, "ValidationException")


# ===========================================================================
# GetSecretValue (§3, §2 identifiers)
# ===========================================================================
def test_get_secret_value_for_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_get_secret_value_returns_full_shape(sm, unique):
    name = unique("get")
    token = tok()
    c = create(sm, name, value="hello", token=token)
    r = sm.get_secret_value(SecretId=name)
    assert keys(r) == {"ARN", "Name", "VersionId", "SecretString", "VersionStages", "CreatedDate"}
    assert r["ARN"] == c["ARN"]
    assert r["Name"] == name
    assert r["VersionId"] == token
    assert r["SecretString"] == "hello"
    assert r["VersionStages"] == ["AWSCURRENT"]
    assert isinstance(r["CreatedDate"], datetime)


def test_get_secret_value_by_full_arn(sm, unique):
    name = unique("arn")
    arn = create(sm, name, value="by-arn")["ARN"]
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "by-arn"


def test_get_secret_value_by_partial_arn(sm, unique):
    name = unique("parn")
    arn = create(sm, name, value="by-partial")["ARN"]
    r = sm.get_secret_value(SecretId=partial_arn(arn))
    assert r["SecretString"] == "by-partial"
    assert r["ARN"] == arn


def test_get_secret_value_by_arn_with_wrong_suffix_is_resource_not_found(sm, unique):
    name = unique("wrongsfx")
    arn = create(sm, name)["ARN"]
    suffix = arn[-6:]
    other = "".join("B" if ch == "A" else "A" for ch in suffix)
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=arn[:-6] + other)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_partial_arn_of_name_ending_in_hyphen_and_six_characters_is_not_found(sm, unique):
    name = unique("six") + "-a1b2c3"
    arn = create(sm, name, value="six")["ARN"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "six"
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "six"
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=partial_arn(arn))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


@pytest.mark.parametrize("ending", ["-a1b2c3-", "-a1b2"])
def test_partial_arn_works_for_names_not_ending_in_hyphen_and_six_characters(sm, unique, ending):
    name = unique("parn") + ending
    arn = create(sm, name, value="ok")["ARN"]
    assert sm.get_secret_value(SecretId=partial_arn(arn))["SecretString"] == "ok"


def test_get_secret_value_by_version_id(sm, unique):
    name = unique("byver")
    t1, t2 = tok(), tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    r = sm.get_secret_value(SecretId=name, VersionId=t1)
    assert r["SecretString"] == "one"
    assert r["VersionId"] == t1
    assert r["VersionStages"] == ["AWSPREVIOUS"]


def test_get_secret_value_by_version_stage_awsprevious(sm, unique):
    name = unique("bystage")
    create(sm, name, value="one")
    sm.put_secret_value(SecretId=name, SecretString="two")
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"] == "two"


def test_get_secret_value_with_matching_version_id_and_stage(sm, unique):
    name = unique("both")
    t1 = tok()
    create(sm, name, value="one", token=t1)
    r = sm.get_secret_value(SecretId=name, VersionId=t1, VersionStage="AWSCURRENT")
    assert r["SecretString"] == "one"


def test_get_secret_value_for_unknown_version_id_is_resource_not_found(sm, unique):
    name = unique("nover")
    create(sm, name)
    missing = tok()
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name, VersionId=missing)
    assert_error(ei, "ResourceNotFoundException", MSG_NO_VERSION.format(missing))


def test_get_secret_value_for_unknown_stage_is_resource_not_found(sm, unique):
    name = unique("nostage")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name, VersionStage="NOPE")
    assert_error(ei, "ResourceNotFoundException", MSG_NO_LABEL.format("NOPE"))


def test_get_secret_value_for_awsprevious_of_single_version_is_resource_not_found(sm, unique):
    name = unique("noprev")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert_error(ei, "ResourceNotFoundException", MSG_NO_LABEL.format("AWSPREVIOUS"))


def test_get_secret_value_with_mismatched_version_id_and_stage_is_invalid_request(sm, unique):
    name = unique("mismatch")
    t1 = tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two")
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name, VersionId=t1, VersionStage="AWSCURRENT")
    assert_error(ei, "InvalidRequestException", MSG_STAGE_MISMATCH)


def test_secret_binary_round_trips_as_bytes(sm, unique):
    name = unique("bin")
    data = bytes(range(256)) * 3
    create(sm, name, value=data)
    r = sm.get_secret_value(SecretId=name)
    assert r["SecretBinary"] == data
    assert "SecretString" not in r


def test_put_secret_value_binary_round_trips(sm, unique):
    name = unique("binput")
    create(sm, name, value="text")
    data = b"\x00\xffbinary\x80"
    sm.put_secret_value(SecretId=name, SecretBinary=data)
    r = sm.get_secret_value(SecretId=name)
    assert r["SecretBinary"] == data
    assert "SecretString" not in r


def test_secret_string_round_trips_unicode_and_json(sm, unique):
    name = unique("uni")
    value = json.dumps({"user": "zoë", "password": "p@ss\"w\\ord\n☃"}, ensure_ascii=False)
    create(sm, name, value=value)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == value


# ===========================================================================
# Timestamps (§1.2)
# ===========================================================================
def test_timestamps_are_datetimes_with_millisecond_precision(sm, unique):
    created = []
    for _ in range(5):
        name = unique("ts")
        create(sm, name)
        d = sm.describe_secret(SecretId=name)
        for k in ("CreatedDate", "LastChangedDate"):
            assert isinstance(d[k], datetime), d
            assert d[k].tzinfo is not None
            assert d[k].microsecond % 1000 == 0, d[k]
            assert_close(d[k], datetime.now(timezone.utc))
        created.append(d["CreatedDate"])
    # Milliseconds are kept, not cut to whole seconds (chance of five zeros: 1e-15).
    assert any(c.microsecond != 0 for c in created), created


def test_describe_secret_of_fresh_secret_has_no_last_accessed_date(sm, unique):
    name = unique("noaccess")
    create(sm, name)
    sm.describe_secret(SecretId=name)
    d = sm.describe_secret(SecretId=name)
    assert "LastAccessedDate" not in d


def test_last_accessed_date_is_midnight_utc_after_get_secret_value(sm, unique):
    name = unique("access")
    create(sm, name)
    sm.get_secret_value(SecretId=name)
    d = sm.describe_secret(SecretId=name)
    assert_midnight_utc_today(d["LastAccessedDate"])


def test_version_last_accessed_date_is_midnight_utc_after_get_secret_value(sm, unique):
    name = unique("vaccess")
    create(sm, name)
    sm.get_secret_value(SecretId=name)
    (v,) = versions(sm, name)
    assert_midnight_utc_today(v["LastAccessedDate"])


def test_last_changed_date_moves_on_update(sm, unique):
    name = unique("changed")
    create(sm, name)
    before = sm.describe_secret(SecretId=name)["LastChangedDate"]
    time.sleep(0.05)
    sm.update_secret(SecretId=name, Description="changed")
    after = sm.describe_secret(SecretId=name)["LastChangedDate"]
    assert after > before


# ===========================================================================
# PutSecretValue and labels (§3, §5)
# ===========================================================================
def test_put_secret_value_returns_arn_name_version_and_stages(sm, unique):
    name = unique("put")
    arn = create(sm, name)["ARN"]
    token = tok()
    r = sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=token)
    assert keys(r) == {"ARN", "Name", "VersionId", "VersionStages"}
    assert r["ARN"] == arn
    assert r["Name"] == name
    assert r["VersionId"] == token
    assert r["VersionStages"] == ["AWSCURRENT"]


def test_put_secret_value_moves_awscurrent_and_sets_awsprevious(sm, unique):
    name = unique("put")
    t1, t2 = tok(), tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    assert stages(sm, name) == {t1: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"


def test_third_put_secret_value_leaves_first_version_deprecated(sm, unique):
    name = unique("put3")
    t1, t2, t3 = tok(), tok(), tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=t3)
    assert stages(sm, name) == {t2: ["AWSPREVIOUS"], t3: ["AWSCURRENT"]}


def test_put_secret_value_with_same_token_and_same_value_is_a_no_op(sm, unique):
    name = unique("putidem")
    create(sm, name, value="one")
    token = tok()
    r1 = sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)
    r2 = sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)
    assert r2["VersionId"] == r1["VersionId"] == token
    assert r2["VersionStages"] == ["AWSCURRENT"]
    assert r2["ARN"] == r1["ARN"]
    assert len(versions(sm, name, include_deprecated=True)) == 2
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "one"


def test_put_secret_value_replay_of_older_version_returns_its_current_labels(sm, unique):
    # §5.2: the no-op returns {ARN, Name, VersionId, VersionStages} of that version
    name = unique("putreplay")
    t0, t1, t2 = tok(), tok(), tok()
    create(sm, name, value="zero", token=t0)
    sm.put_secret_value(SecretId=name, SecretString="one", ClientRequestToken=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    r = sm.put_secret_value(SecretId=name, SecretString="one", ClientRequestToken=t1)
    assert r["VersionId"] == t1
    assert r["VersionStages"] == ["AWSPREVIOUS"]
    assert stages(sm, name) == {t1: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}


def test_same_client_request_token_can_be_used_in_two_secrets(sm, unique):
    token = tok()
    a, b = unique("tokshare"), unique("tokshare")
    create(sm, a, value="a", token=token)
    r = create(sm, b, value="b", token=token)
    assert r["VersionId"] == token
    assert sm.get_secret_value(SecretId=a)["SecretString"] == "a"
    assert sm.get_secret_value(SecretId=b)["SecretString"] == "b"


def test_put_secret_value_with_same_token_and_other_value_is_resource_exists(sm, unique):
    name = unique("putidem")
    arn = create(sm, name, value="one")["ARN"]
    token = tok()
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=token)
    assert_error(ei, "ResourceExistsException", MSG_TOKEN_IN_USE.format(token, arn))
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"


def test_put_secret_value_reusing_the_create_token_with_other_value_is_resource_exists(sm, unique):
    name = unique("putidem")
    token = tok()
    arn = create(sm, name, value="one", token=token)["ARN"]
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)
    assert_error(ei, "ResourceExistsException", MSG_TOKEN_IN_USE.format(token, arn))


def test_put_secret_value_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=unique("missing"), SecretString="x")
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_put_secret_value_without_any_value_is_invalid_request(sm, unique):
    name = unique("putnone")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=name)
    # text is only known from fakes (§7): code only
    assert_error(ei, "InvalidRequestException")


def test_put_secret_value_with_string_and_binary_is_invalid_parameter(sm, unique):
    name = unique("putboth")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(SecretId=name, SecretString="s", SecretBinary=b"b")
    assert_error(ei, "InvalidParameterException", message_endswith=MSG_STRING_AND_BINARY)


def test_first_version_with_custom_stages_also_gets_awscurrent(sm, unique):
    # §5.2: "First version of a secret always also gets AWSCURRENT"
    name = unique("putfirstcustom")
    create(sm, name, value=None)
    token = tok()
    sm.put_secret_value(
        SecretId=name, SecretString="first", ClientRequestToken=token, VersionStages=["X"]
    )
    assert stages(sm, name) == {token: ["AWSCURRENT", "X"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"


def test_put_secret_value_on_secret_without_versions_becomes_awscurrent(sm, unique):
    name = unique("putfirst")
    create(sm, name, value=None)
    token = tok()
    r = sm.put_secret_value(SecretId=name, SecretString="first", ClientRequestToken=token)
    assert r["VersionStages"] == ["AWSCURRENT"]
    assert stages(sm, name) == {token: ["AWSCURRENT"]}


def test_put_secret_value_with_custom_stages_does_not_move_awscurrent(sm, unique):
    name = unique("custom")
    t0, t1 = tok(), tok()
    create(sm, name, value="zero", token=t0)
    r = sm.put_secret_value(
        SecretId=name, SecretString="one", ClientRequestToken=t1, VersionStages=["one", "two"]
    )
    assert sorted(r["VersionStages"]) == ["one", "two"]
    assert stages(sm, name) == {t0: ["AWSCURRENT"], t1: ["one", "two"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "zero"
    assert sm.get_secret_value(SecretId=name, VersionStage="two")["SecretString"] == "one"


def test_put_secret_value_custom_stages_are_taken_off_other_versions(sm, unique):
    # §5.2 example: [one,two,three] then [one,two,four] -> old keeps [three]
    name = unique("custom")
    t0, t1, t2 = tok(), tok(), tok()
    create(sm, name, value="zero", token=t0)
    sm.put_secret_value(
        SecretId=name, SecretString="a", ClientRequestToken=t1, VersionStages=["one", "two", "three"]
    )
    sm.put_secret_value(
        SecretId=name, SecretString="b", ClientRequestToken=t2, VersionStages=["one", "two", "four"]
    )
    assert stages(sm, name) == {
        t0: ["AWSCURRENT"],
        t1: ["three"],
        t2: ["four", "one", "two"],
    }


def test_put_secret_value_taking_all_labels_deprecates_old_version(sm, unique):
    # §5.2 example: [one,two,three] then [one,two,three,four] -> old becomes deprecated
    name = unique("custom")
    t0, t1, t2 = tok(), tok(), tok()
    create(sm, name, value="zero", token=t0)
    sm.put_secret_value(
        SecretId=name, SecretString="a", ClientRequestToken=t1, VersionStages=["one", "two", "three"]
    )
    sm.put_secret_value(
        SecretId=name,
        SecretString="b",
        ClientRequestToken=t2,
        VersionStages=["one", "two", "three", "four"],
    )
    assert stages(sm, name) == {t0: ["AWSCURRENT"], t2: ["four", "one", "three", "two"]}
    deprecated = [v for v in versions(sm, name, include_deprecated=True) if v["VersionId"] == t1]
    assert len(deprecated) == 1
    assert "VersionStages" not in deprecated[0]


def test_put_secret_value_with_explicit_awscurrent_makes_old_current_awsprevious(sm, unique):
    # §5.1: VersionStages [AWSCURRENT, PUT0] over A=[AWSCURRENT] leaves A=[AWSPREVIOUS]
    name = unique("explicit")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    r = sm.put_secret_value(
        SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["AWSCURRENT", "PUT0"]
    )
    assert sorted(r["VersionStages"]) == ["AWSCURRENT", "PUT0"]
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT", "PUT0"]}


def test_put_secret_value_with_more_than_20_stages_is_validation_exception(sm, unique):
    name = unique("manystages")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.put_secret_value(
            SecretId=name, SecretString="x", VersionStages=[f"L{i}" for i in range(21)]
        )
    assert_error(ei, "ValidationException")


def test_version_stage_lists_come_back_sorted(sm, unique):
    name = unique("sorted")
    t0, t1 = tok(), tok()
    create(sm, name, value="zero", token=t0)
    sm.put_secret_value(
        SecretId=name,
        SecretString="x",
        ClientRequestToken=t1,
        VersionStages=["two", "one", "three", "four"],
    )
    d = sm.describe_secret(SecretId=name)
    assert d["VersionIdsToStages"][t1] == ["four", "one", "three", "two"]


def test_put_secret_value_new_current_abandons_pending_on_current_version(sm, unique):
    # §5.1: A=[AWSCURRENT, AWSPENDING], then put with no VersionStages -> A=[AWSPREVIOUS]
    name = unique("abandon")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", MoveToVersionId=ta)
    assert stages(sm, name) == {ta: ["AWSCURRENT", "AWSPENDING"]}
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb)
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT"]}


def test_put_secret_value_new_current_removes_awspending_from_other_version(sm, unique):
    # §4.6 / §5.1 RotationAbandoned: a manual new current value removes AWSPENDING wherever it is
    name = unique("abandon")
    ta, tp, tb = tok(), tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(
        SecretId=name, SecretString="p", ClientRequestToken=tp, VersionStages=["AWSPENDING"]
    )
    assert stages(sm, name) == {ta: ["AWSCURRENT"], tp: ["AWSPENDING"]}
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb)
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT"]}


def test_update_secret_with_value_abandons_pending_rotation(sm, unique):
    name = unique("abandonupd")
    ta, tp, tb = tok(), tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(
        SecretId=name, SecretString="p", ClientRequestToken=tp, VersionStages=["AWSPENDING"]
    )
    sm.update_secret(SecretId=name, SecretString="b", ClientRequestToken=tb)
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT"]}


# ===========================================================================
# UpdateSecret (§3)
# ===========================================================================
def test_update_secret_description_only_returns_arn_and_name(sm, unique):
    name = unique("upd")
    t1 = tok()
    arn = create(sm, name, token=t1)["ARN"]
    r = sm.update_secret(SecretId=name, Description="new description")
    assert keys(r) == {"ARN", "Name"}
    assert r["ARN"] == arn and r["Name"] == name
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "new description"
    assert stages(sm, name) == {t1: ["AWSCURRENT"]}


def test_update_secret_without_members_returns_arn_and_name(sm, unique):
    name = unique("upd")
    arn = create(sm, name)["ARN"]
    r = sm.update_secret(SecretId=name)
    assert keys(r) == {"ARN", "Name"}
    assert r["ARN"] == arn


def test_update_secret_with_value_creates_new_current_version(sm, unique):
    name = unique("updval")
    t1, t2 = tok(), tok()
    create(sm, name, value="one", token=t1)
    r = sm.update_secret(SecretId=name, SecretString="two", ClientRequestToken=t2)
    assert keys(r) == {"ARN", "Name", "VersionId"}
    assert r["VersionId"] == t2
    assert stages(sm, name) == {t1: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"


def test_update_secret_with_same_token_and_same_value_returns_token_as_version_id(sm, unique):
    name = unique("updidem")
    create(sm, name, value="one")
    token = tok()
    sm.update_secret(SecretId=name, SecretString="two", ClientRequestToken=token)
    r = sm.update_secret(SecretId=name, SecretString="two", ClientRequestToken=token)
    assert r["VersionId"] == token
    assert len(versions(sm, name, include_deprecated=True)) == 2


def test_update_secret_replay_does_not_move_awscurrent_back(sm, unique):
    name = unique("updreplay")
    t0, t1, t2 = tok(), tok(), tok()
    create(sm, name, value="zero", token=t0)
    sm.update_secret(SecretId=name, SecretString="one", ClientRequestToken=t1)
    sm.update_secret(SecretId=name, SecretString="two", ClientRequestToken=t2)
    r = sm.update_secret(SecretId=name, SecretString="one", ClientRequestToken=t1)
    assert r["VersionId"] == t1
    assert stages(sm, name) == {t1: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}


def test_update_secret_with_same_token_and_other_value_is_resource_exists(sm, unique):
    name = unique("updidem")
    arn = create(sm, name, value="one")["ARN"]
    token = tok()
    sm.update_secret(SecretId=name, SecretString="two", ClientRequestToken=token)
    with pytest.raises(ClientError) as ei:
        sm.update_secret(SecretId=name, SecretString="three", ClientRequestToken=token)
    assert_error(ei, "ResourceExistsException", MSG_TOKEN_IN_USE.format(token, arn))


def test_update_secret_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.update_secret(SecretId=unique("missing"), Description="x")
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# DescribeSecret (§3, §4.7)
# ===========================================================================
def test_describe_secret_of_fresh_secret_has_only_basic_fields(sm, unique):
    name = unique("desc")
    c = create(sm, name)
    d = sm.describe_secret(SecretId=name)
    assert keys(d) == {"ARN", "Name", "CreatedDate", "LastChangedDate", "VersionIdsToStages"}
    assert d["ARN"] == c["ARN"]
    assert d["Name"] == name
    assert d["VersionIdsToStages"] == {c["VersionId"]: ["AWSCURRENT"]}


def test_describe_secret_for_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.describe_secret(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_describe_secret_by_partial_arn(sm, unique):
    name = unique("descparn")
    arn = create(sm, name)["ARN"]
    assert sm.describe_secret(SecretId=partial_arn(arn))["ARN"] == arn


@pytest.mark.parametrize(
    "op",
    [
        "describe_secret",
        "get_secret_value",
        "list_secret_version_ids",
        "put_secret_value",
        "tag_resource",
        "untag_resource",
        "update_secret",
        "delete_secret",
        "force_delete_secret",
        "validate_resource_policy",
        "rotate_secret",
    ],
)
def test_invalid_secret_id_name_is_validation_exception(sm, op):
    bad = "bad name*with?chars"
    calls = {
        "describe_secret": lambda: sm.describe_secret(SecretId=bad),
        "get_secret_value": lambda: sm.get_secret_value(SecretId=bad),
        "list_secret_version_ids": lambda: sm.list_secret_version_ids(SecretId=bad),
        "put_secret_value": lambda: sm.put_secret_value(SecretId=bad, SecretString="x"),
        "tag_resource": lambda: sm.tag_resource(SecretId=bad, Tags=[{"Key": "k", "Value": "v"}]),
        "untag_resource": lambda: sm.untag_resource(SecretId=bad, TagKeys=["k"]),
        "update_secret": lambda: sm.update_secret(SecretId=bad, Description="x"),
        "delete_secret": lambda: sm.delete_secret(SecretId=bad),
        "force_delete_secret": lambda: sm.delete_secret(
            SecretId=bad, ForceDeleteWithoutRecovery=True
        ),
        "validate_resource_policy": lambda: sm.validate_resource_policy(
            SecretId=bad, ResourcePolicy=policy_for("arn:aws:x:y:123456789012:z")
        ),
        "rotate_secret": lambda: sm.rotate_secret(SecretId=bad),
    }
    with pytest.raises(ClientError) as ei:
        calls[op]()
    assert_error(ei, "ValidationException", MSG_BAD_NAME)


# ===========================================================================
# ListSecretVersionIds (§3)
# ===========================================================================
def test_list_secret_version_ids_returns_versions_with_stages_and_kms_key_ids(sm, unique):
    name = unique("lv")
    t1, t2 = tok(), tok()
    arn = create(sm, name, value="one", token=t1)["ARN"]
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    r = sm.list_secret_version_ids(SecretId=name)
    assert r["ARN"] == arn
    assert r["Name"] == name
    by_id = {v["VersionId"]: v for v in r["Versions"]}
    assert set(by_id) == {t1, t2}
    assert by_id[t1]["VersionStages"] == ["AWSPREVIOUS"]
    assert by_id[t2]["VersionStages"] == ["AWSCURRENT"]
    for v in by_id.values():
        assert isinstance(v["CreatedDate"], datetime)
        assert v["KmsKeyIds"] == ["DefaultEncryptionKey"]


def test_list_secret_version_ids_hides_deprecated_versions_by_default(sm, unique):
    name = unique("lvdep")
    t1, t2, t3 = tok(), tok(), tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=t3)
    assert {v["VersionId"] for v in versions(sm, name)} == {t2, t3}


def test_list_secret_version_ids_include_deprecated_lists_them_without_version_stages(sm, unique):
    name = unique("lvdep")
    t1, t2, t3 = tok(), tok(), tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=t3)
    by_id = {v["VersionId"]: v for v in versions(sm, name, include_deprecated=True)}
    assert set(by_id) == {t1, t2, t3}
    assert "VersionStages" not in by_id[t1]
    assert by_id[t2]["VersionStages"] == ["AWSPREVIOUS"]
    assert by_id[t3]["VersionStages"] == ["AWSCURRENT"]


def test_deprecated_version_is_still_readable_by_version_id(sm, unique):
    name = unique("lvdep")
    t1 = tok()
    create(sm, name, value="one", token=t1)
    sm.put_secret_value(SecretId=name, SecretString="two")
    sm.put_secret_value(SecretId=name, SecretString="three")
    r = sm.get_secret_value(SecretId=name, VersionId=t1)
    assert r["SecretString"] == "one"
    assert "VersionStages" not in r or r["VersionStages"] == []


def test_list_secret_version_ids_paginates_with_max_results(sm, unique):
    name = unique("lvpage")
    tokens = [tok() for _ in range(4)]
    create(sm, name, value="v0", token=tokens[0])
    for i, t in enumerate(tokens[1:], 1):
        sm.put_secret_value(SecretId=name, SecretString=f"v{i}", ClientRequestToken=t)
    seen = []
    kw = {}
    for _ in range(20):
        r = sm.list_secret_version_ids(
            SecretId=name, IncludeDeprecated=True, MaxResults=1, **kw
        )
        assert len(r["Versions"]) <= 1
        seen.extend(v["VersionId"] for v in r["Versions"])
        if not r.get("NextToken"):
            break
        kw["NextToken"] = r["NextToken"]
    assert sorted(seen) == sorted(tokens)


def test_list_secret_version_ids_for_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.list_secret_version_ids(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_list_secret_version_ids_with_bad_next_token_is_invalid_next_token(sm, unique):
    name = unique("lvtok")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.list_secret_version_ids(SecretId=name, NextToken="not-a-real-token")
    assert_error(ei, "InvalidNextTokenException")


# ===========================================================================
# UpdateSecretVersionStage (§5.3)
# ===========================================================================
def test_update_secret_version_stage_moves_awscurrent_and_sets_awsprevious(sm, unique):
    name = unique("uvs")
    ta, tb = tok(), tok()
    arn = create(sm, name, value="a", token=ta)["ARN"]
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["X"])
    r = sm.update_secret_version_stage(
        SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=tb, RemoveFromVersionId=ta
    )
    assert keys(r) == {"ARN", "Name"}
    assert r["ARN"] == arn and r["Name"] == name
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT", "X"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "b"


def test_update_secret_version_stage_keeps_custom_labels_on_old_current(sm, unique):
    # §5.1: custom labels on A stay on A ([AWSPREVIOUS, PUT0])
    name = unique("uvs")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.update_secret_version_stage(SecretId=name, VersionStage="PUT0", MoveToVersionId=ta)
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["NEW"])
    sm.update_secret_version_stage(
        SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=tb, RemoveFromVersionId=ta
    )
    assert stages(sm, name) == {ta: ["AWSPREVIOUS", "PUT0"], tb: ["AWSCURRENT", "NEW"]}


def test_update_secret_version_stage_keeps_awspending_on_new_current(sm, unique):
    name = unique("uvs")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(
        SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["AWSPENDING"]
    )
    sm.update_secret_version_stage(
        SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=tb, RemoveFromVersionId=ta
    )
    assert stages(sm, name) == {ta: ["AWSPREVIOUS"], tb: ["AWSCURRENT", "AWSPENDING"]}


def test_update_secret_version_stage_moving_awscurrent_without_remove_from_is_invalid_parameter(
    sm, unique
):
    name = unique("uvserr")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["X"])
    with pytest.raises(ClientError) as ei:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=tb)
    assert_error(ei, "InvalidParameterException", MSG_REMOVE_FROM_EMPTY.format("AWSCURRENT", ta))
    assert stages(sm, name) == {ta: ["AWSCURRENT"], tb: ["X"]}


def test_update_secret_version_stage_moving_custom_label_without_remove_from_is_invalid_parameter(
    sm, unique
):
    # "presumably same pattern for other labels": code only
    name = unique("uvserr")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["X"])
    with pytest.raises(ClientError) as ei:
        sm.update_secret_version_stage(SecretId=name, VersionStage="X", MoveToVersionId=ta)
    assert_error(ei, "InvalidParameterException")


def test_update_secret_version_stage_removing_awscurrent_is_invalid_parameter(sm, unique):
    name = unique("uvserr")
    ta = tok()
    create(sm, name, value="a", token=ta)
    with pytest.raises(ClientError) as ei:
        sm.update_secret_version_stage(
            SecretId=name, VersionStage="AWSCURRENT", RemoveFromVersionId=ta
        )
    assert_error(ei, "InvalidParameterException", MSG_REMOVE_AWSCURRENT)
    assert stages(sm, name) == {ta: ["AWSCURRENT"]}


def test_update_secret_version_stage_remove_only_detaches_label(sm, unique):
    name = unique("uvsrm")
    ta, tb = tok(), tok()
    create(sm, name, value="a", token=ta)
    sm.put_secret_value(
        SecretId=name, SecretString="b", ClientRequestToken=tb, VersionStages=["AWSPENDING"]
    )
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=tb)
    assert stages(sm, name) == {ta: ["AWSCURRENT"]}


def test_update_secret_version_stage_adds_new_label_with_move_to_only(sm, unique):
    name = unique("uvsadd")
    ta = tok()
    create(sm, name, value="a", token=ta)
    sm.update_secret_version_stage(SecretId=name, VersionStage="MYLABEL", MoveToVersionId=ta)
    assert stages(sm, name) == {ta: ["AWSCURRENT", "MYLABEL"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="MYLABEL")["SecretString"] == "a"


def test_update_secret_version_stage_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.update_secret_version_stage(
            SecretId=unique("missing"), VersionStage="X", MoveToVersionId=tok()
        )
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# DeleteSecret / RestoreSecret (§3, §6.1)
# ===========================================================================
def test_delete_secret_default_recovery_window_is_30_days(sm, unique):
    name = unique("del")
    arn = create(sm, name)["ARN"]
    r = sm.delete_secret(SecretId=name)
    assert keys(r) == {"ARN", "Name", "DeletionDate"}
    assert r["ARN"] == arn and r["Name"] == name
    assert_close(r["DeletionDate"], datetime.now(timezone.utc) + timedelta(days=30))
    d = sm.describe_secret(SecretId=name)
    assert abs(utc(d["DeletedDate"]) - utc(r["DeletionDate"])) < timedelta(seconds=2)


def test_delete_secret_with_recovery_window_of_7_days(sm, unique):
    name = unique("del7")
    create(sm, name)
    r = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert_close(r["DeletionDate"], datetime.now(timezone.utc) + timedelta(days=7))


@pytest.mark.parametrize("days", [6, 31])
def test_delete_secret_with_recovery_window_out_of_range_is_invalid_parameter(sm, unique, days):
    name = unique("delrange")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
    assert_error(ei, "InvalidParameterException")  # text [fake]/[?]
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_delete_secret_with_force_and_recovery_window_is_invalid_parameter(sm, unique):
    name = unique("delboth")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert_error(ei, "InvalidParameterException")  # text [fake]
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_force_delete_secret_removes_it(sm, unique):
    name = unique("force")
    arn = create(sm, name)["ARN"]
    r = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert r["ARN"] == arn and r["Name"] == name
    assert_close(r["DeletionDate"], datetime.now(timezone.utc))

    def gone():
        try:
            sm.describe_secret(SecretId=name)
        except ClientError as e:
            return e.response["Error"]["Code"] == "ResourceNotFoundException"
        return False

    assert wait_until(gone, timeout=30), "secret still there 30 s after forced delete"
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_force_delete_of_unknown_secret_succeeds(sm, unique):
    name = unique("forcemissing")
    r = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert r["Name"] == name
    assert "ARN" in r
    assert_close(r["DeletionDate"], datetime.now(timezone.utc))


def test_force_delete_of_scheduled_secret_succeeds(sm, unique):
    name = unique("forcesched")
    create(sm, name)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    r = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert r["Name"] == name
    assert_close(r["DeletionDate"], datetime.now(timezone.utc))


def test_delete_secret_twice_without_force_is_invalid_request(sm, unique):
    name = unique("deltwice")
    create(sm, name)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as ei:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert_error(ei, "InvalidRequestException")  # text [?]


def test_delete_secret_without_force_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.delete_secret(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_describe_secret_of_scheduled_secret_shows_deleted_date(sm, unique):
    name = unique("deldesc")
    create(sm, name)
    r = sm.delete_secret(SecretId=name, RecoveryWindowInDays=10)
    d = sm.describe_secret(SecretId=name)
    assert d["Name"] == name
    assert isinstance(d["DeletedDate"], datetime)
    assert_close(d["DeletedDate"], utc(r["DeletionDate"]), tolerance=timedelta(seconds=2))


def test_restore_secret_makes_it_usable_again(sm, unique):
    name = unique("restore")
    arn = create(sm, name, value="keep")["ARN"]
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    r = sm.restore_secret(SecretId=name)
    assert keys(r) == {"ARN", "Name"}
    assert r["ARN"] == arn and r["Name"] == name
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "keep"
    sm.put_secret_value(SecretId=name, SecretString="after-restore")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "after-restore"


def test_restore_secret_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.restore_secret(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


@pytest.mark.parametrize(
    "op",
    [
        "get_secret_value",
        "put_secret_value",
        "update_secret",
        "tag_resource",
        "untag_resource",
        "get_resource_policy",
        "delete_resource_policy",
        "update_secret_version_stage",
    ],
)
def test_operation_on_secret_marked_for_deletion_is_invalid_request(sm, unique, op):
    name = unique("marked")
    ta = tok()
    create(sm, name, token=ta)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    calls = {
        "get_secret_value": lambda: sm.get_secret_value(SecretId=name),
        "put_secret_value": lambda: sm.put_secret_value(SecretId=name, SecretString="x"),
        "update_secret": lambda: sm.update_secret(SecretId=name, SecretString="x"),
        "tag_resource": lambda: sm.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v"}]),
        "untag_resource": lambda: sm.untag_resource(SecretId=name, TagKeys=["k"]),
        "get_resource_policy": lambda: sm.get_resource_policy(SecretId=name),
        "delete_resource_policy": lambda: sm.delete_resource_policy(SecretId=name),
        "update_secret_version_stage": lambda: sm.update_secret_version_stage(
            SecretId=name, VersionStage="X", MoveToVersionId=ta
        ),
    }
    with pytest.raises(ClientError) as ei:
        calls[op]()
    assert_error(ei, "InvalidRequestException", MSG_MARKED_FOR_DELETION)


def test_rotate_secret_on_secret_marked_for_deletion_is_invalid_request(sm, unique):
    name = unique("markedrot")
    create(sm, name)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=name)
    assert_error(ei, "InvalidRequestException")  # exact text for Rotate [?]


def test_cancel_rotate_secret_on_secret_marked_for_deletion_is_invalid_request(sm, unique):
    name = unique("markedcancel")
    create(sm, name)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as ei:
        sm.cancel_rotate_secret(SecretId=name)
    assert_error(ei, "InvalidRequestException")  # §4.8 [doc]


# ===========================================================================
# ListSecrets (§3, §6.2, §6.3)
# ===========================================================================
def test_list_secrets_entry_uses_secret_versions_to_stages(sm, unique):
    name = unique("lsentry")
    c = create(sm, name, Description="entry")
    (entry,) = list_all(sm, Filters=[{"Key": "name", "Values": [name]}])
    assert entry["ARN"] == c["ARN"]
    assert entry["Name"] == name
    assert entry["Description"] == "entry"
    assert entry["SecretVersionsToStages"] == {c["VersionId"]: ["AWSCURRENT"]}
    assert "VersionIdsToStages" not in entry
    assert "ReplicationStatus" not in entry
    assert isinstance(entry["CreatedDate"], datetime)
    assert isinstance(entry["LastChangedDate"], datetime)


def test_list_secrets_name_filter_slash_finds_names_starting_with_slash(sm, unique):
    p = "/" + unique("lsslash") + "/"
    create(sm, p + "a")
    got = names_with_prefix(sm, "/", extra_filters=[{"Key": "name", "Values": [p]}])
    assert got == [p + "a"]


def test_list_secrets_name_filter_is_case_sensitive_prefix(sm, unique):
    p = unique("lsname") + "/"
    for n in ("Alpha", "alpha2", "beta", "xalpha"):
        create(sm, p + n)
    assert names_with_prefix(sm, p + "alpha") == [p + "alpha2"]
    assert names_with_prefix(sm, p + "Alpha") == [p + "Alpha"]
    assert sorted(names_with_prefix(sm, p)) == sorted(p + n for n in ("Alpha", "alpha2", "beta", "xalpha"))
    assert names_with_prefix(sm, p[1:]) == []  # prefix of the whole name only


def test_list_secrets_two_name_filters_are_anded(sm, unique):
    p = unique("lsand") + "/"
    for n in ("aa1", "aa2", "ab1"):
        create(sm, p + n)
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "name", "Values": [p + "aa"]}])
    assert sorted(got) == [p + "aa1", p + "aa2"]


def test_list_secrets_negated_name_filter_excludes_matches(sm, unique):
    p = unique("lsneg") + "/"
    for n in ("keep1", "keep2", "drop1"):
        create(sm, p + n)
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "name", "Values": ["!" + p + "drop"]}])
    assert sorted(got) == [p + "keep1", p + "keep2"]


def test_list_secrets_description_filter_is_case_insensitive_word_prefix(sm, unique):
    p = unique("lsdesc") + "/"
    create(sm, p + "one", Description="a secret")
    create(sm, p + "two", Description="an secret")
    create(sm, p + "three", Description="asecret")
    create(sm, p + "four", Description="something else")
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "description", "Values": ["a secret"]}])
    assert sorted(got) == sorted([p + "one", p + "two"])
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "description", "Values": ["A SECRET"]}])
    assert sorted(got) == sorted([p + "one", p + "two"])
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "description", "Values": ["ELSE"]}])
    assert got == [p + "four"]


def test_list_secrets_tag_key_filter(sm, unique):
    p = unique("lstagk") + "/"
    k = "key" + uuid.uuid4().hex[:8]
    create(sm, p + "tagged", Tags=[{"Key": k, "Value": "v"}])
    create(sm, p + "other", Tags=[{"Key": "unrelated", "Value": "v"}])
    create(sm, p + "untagged")
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "tag-key", "Values": [k]}])
    assert got == [p + "tagged"]


def test_list_secrets_negated_tag_key_filter(sm, unique):
    p = unique("lstagneg") + "/"
    k = "key" + uuid.uuid4().hex[:8]
    create(sm, p + "tagged", Tags=[{"Key": k, "Value": "v"}])
    create(sm, p + "other", Tags=[{"Key": "unrelated", "Value": "v"}])
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "tag-key", "Values": ["!" + k]}])
    assert got == [p + "other"]


def test_list_secrets_tag_value_filter(sm, unique):
    p = unique("lstagv") + "/"
    v = "val" + uuid.uuid4().hex[:8]
    create(sm, p + "tagged", Tags=[{"Key": "k", "Value": v}])
    create(sm, p + "other", Tags=[{"Key": "k", "Value": "something"}])
    got = names_with_prefix(sm, p, extra_filters=[{"Key": "tag-value", "Values": [v]}])
    assert got == [p + "tagged"]


def test_list_secrets_all_filter_matches_words_of_name_description_and_tags(sm, unique):
    p = unique("lsall") + "/"
    create(sm, p + "SecretOne")
    create(sm, p + "plain", Description="my special value")
    create(sm, p + "other", Tags=[{"Key": "team", "Value": "specops"}])
    create(sm, p + "nothing")

    def q(value):
        return sorted(names_with_prefix(sm, p, extra_filters=[{"Key": "all", "Values": [value]}]))

    assert q("sec") == [p + "SecretOne"]
    assert q("spe") == sorted([p + "plain", p + "other"])
    assert q("TEAM") == [p + "other"]
    assert q("ret") == []


def test_list_secrets_default_order_is_created_date_ascending(sm, unique):
    p = unique("lsorder") + "/"
    order = ["c", "a", "b", "e", "d"]
    for n in order:
        create(sm, p + n)
        time.sleep(0.02)
    assert names_with_prefix(sm, p) == [p + n for n in order]


def test_list_secrets_sort_order_desc_reverses_creation_order(sm, unique):
    p = unique("lsdesc") + "/"
    order = ["c", "a", "b"]
    for n in order:
        create(sm, p + n)
        time.sleep(0.02)
    got = names_with_prefix(sm, p, SortBy="created-date", SortOrder="desc")
    assert got == [p + n for n in reversed(order)]


def test_list_secrets_sort_by_name(sm, unique):
    p = unique("lssort") + "/"
    for n in ("b", "c", "a"):
        create(sm, p + n)
    assert names_with_prefix(sm, p, SortBy="name", SortOrder="asc") == [p + "a", p + "b", p + "c"]
    assert names_with_prefix(sm, p, SortBy="name", SortOrder="desc") == [p + "c", p + "b", p + "a"]


def test_list_secrets_paginator_returns_every_secret_once(sm, unique):
    p = unique("lspage") + "/"
    expected = [p + f"s{i}" for i in range(5)]
    for n in expected:
        create(sm, n)
    pages = list(
        sm.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [p]}], PaginationConfig={"PageSize": 2}
        )
    )
    got = [e["Name"] for page in pages for e in page["SecretList"]]
    assert sorted(got) == expected
    assert all(len(page["SecretList"]) <= 2 for page in pages)
    assert len(pages) >= 3
    assert any(page.get("NextToken") for page in pages)


def test_list_secrets_max_results_returns_next_token(sm, unique):
    p = unique("lsmax") + "/"
    for i in range(3):
        create(sm, p + f"s{i}")
    r = sm.list_secrets(Filters=[{"Key": "name", "Values": [p]}], MaxResults=1)
    assert len(r["SecretList"]) <= 1
    assert r.get("NextToken")


def test_list_secrets_max_results_over_100_is_validation_exception(sm):
    with pytest.raises(ClientError) as ei:
        sm.list_secrets(MaxResults=101)
    assert_error(ei, "ValidationException")


def test_list_secret_version_ids_max_results_over_100_is_validation_exception(sm, unique):
    name = unique("lvmax")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.list_secret_version_ids(SecretId=name, MaxResults=101)
    assert_error(ei, "ValidationException")


def test_description_longer_than_2048_is_validation_exception(sm, unique):
    with pytest.raises(ClientError) as ei:
        create(sm, unique("longdesc"), Description="d" * 2049)
    assert_error(ei, "ValidationException")


def test_list_secrets_with_bad_next_token_is_invalid_next_token(sm):
    with pytest.raises(ClientError) as ei:
        sm.list_secrets(NextToken="not-a-real-token")
    assert_error(ei, "InvalidNextTokenException")


def test_list_secrets_hides_scheduled_secrets_unless_include_planned_deletion(sm, unique):
    p = unique("lsplanned") + "/"
    create(sm, p + "live")
    create(sm, p + "doomed")
    sm.delete_secret(SecretId=p + "doomed", RecoveryWindowInDays=7)
    assert names_with_prefix(sm, p) == [p + "live"]
    entries = list_all(sm, Filters=[{"Key": "name", "Values": [p]}], IncludePlannedDeletion=True)
    by_name = {e["Name"]: e for e in entries}
    assert set(by_name) == {p + "live", p + "doomed"}
    assert isinstance(by_name[p + "doomed"]["DeletedDate"], datetime)
    assert "DeletedDate" not in by_name[p + "live"]


def test_list_secrets_shows_tags_and_last_accessed_date(sm, unique):
    name = unique("lstags")
    tags = [{"Key": "z", "Value": "1"}, {"Key": "a", "Value": "2"}]
    create(sm, name, Tags=tags)
    sm.get_secret_value(SecretId=name)
    (entry,) = list_all(sm, Filters=[{"Key": "name", "Values": [name]}])
    assert entry["Tags"] == tags
    assert_midnight_utc_today(entry["LastAccessedDate"])


# ===========================================================================
# Tags (§3, §6.4)
# ===========================================================================
def test_tag_resource_appends_tags_in_insertion_order(sm, unique):
    name = unique("tag")
    create(sm, name, Tags=[{"Key": "first", "Value": "1"}])
    r = sm.tag_resource(
        SecretId=name, Tags=[{"Key": "second", "Value": "2"}, {"Key": "a-third", "Value": "3"}]
    )
    assert keys(r) == set()
    assert sm.describe_secret(SecretId=name)["Tags"] == [
        {"Key": "first", "Value": "1"},
        {"Key": "second", "Value": "2"},
        {"Key": "a-third", "Value": "3"},
    ]


def test_tag_keys_are_case_sensitive(sm, unique):
    name = unique("tagcase")
    create(sm, name)
    sm.tag_resource(SecretId=name, Tags=[{"Key": "env", "Value": "a"}, {"Key": "Env", "Value": "b"}])
    tags = sm.describe_secret(SecretId=name)["Tags"]
    assert {"Key": "env", "Value": "a"} in tags
    assert {"Key": "Env", "Value": "b"} in tags
    assert len(tags) == 2


def test_untag_resource_removes_only_named_keys(sm, unique):
    name = unique("untag")
    create(sm, name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}])
    r = sm.untag_resource(SecretId=name, TagKeys=["b"])
    assert keys(r) == set()
    assert sm.describe_secret(SecretId=name)["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "c", "Value": "3"},
    ]


def test_untag_resource_of_all_tags_leaves_empty_tags_list(sm, unique):
    name = unique("untagall")
    create(sm, name, Tags=[{"Key": "a", "Value": "1"}])
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    d = sm.describe_secret(SecretId=name)
    assert "Tags" in d
    assert d["Tags"] == []


def test_untag_resource_of_absent_key_succeeds(sm, unique):
    name = unique("untagabsent")
    create(sm, name, Tags=[{"Key": "a", "Value": "1"}])
    sm.untag_resource(SecretId=name, TagKeys=["never-there"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "a", "Value": "1"}]


def test_tag_resource_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.tag_resource(SecretId=unique("missing"), Tags=[{"Key": "k", "Value": "v"}])
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_untag_resource_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.untag_resource(SecretId=unique("missing"), TagKeys=["k"])
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# GetRandomPassword (§3, §6)
# ===========================================================================
def test_get_random_password_default_is_32_chars_of_every_type(sm):
    for _ in range(5):
        r = sm.get_random_password()
        assert keys(r) == {"RandomPassword"}
        pw = r["RandomPassword"]
        assert len(pw) == 32
        assert set(pw) <= set(LOWER + UPPER + DIGITS + PUNCTUATION)
        assert " " not in pw
        assert set(pw) & set(LOWER)
        assert set(pw) & set(UPPER)
        assert set(pw) & set(DIGITS)
        assert set(pw) & set(PUNCTUATION)


@pytest.mark.parametrize("length", [1, 4, 20, 4096])
def test_get_random_password_honours_password_length(sm, length):
    args = dict(PasswordLength=length)
    if length < 4:
        args["RequireEachIncludedType"] = False
    assert len(sm.get_random_password(**args)["RandomPassword"]) == length


def test_get_random_password_exclude_characters(sm):
    excluded = "xyzDje@?!."
    for _ in range(5):
        pw = sm.get_random_password(PasswordLength=120, ExcludeCharacters=excluded)["RandomPassword"]
        assert len(pw) == 120
        assert not set(pw) & set(excluded), pw


@pytest.mark.parametrize(
    "flag,chars",
    [
        ("ExcludeNumbers", DIGITS),
        ("ExcludePunctuation", PUNCTUATION),
        ("ExcludeUppercase", UPPER),
        ("ExcludeLowercase", LOWER),
    ],
)
def test_get_random_password_exclude_flags(sm, flag, chars):
    for _ in range(5):
        pw = sm.get_random_password(PasswordLength=100, **{flag: True})["RandomPassword"]
        assert len(pw) == 100
        assert not set(pw) & set(chars), pw


def test_get_random_password_only_digits(sm):
    pw = sm.get_random_password(
        PasswordLength=50, ExcludePunctuation=True, ExcludeUppercase=True, ExcludeLowercase=True
    )["RandomPassword"]
    assert len(pw) == 50 and set(pw) <= set(DIGITS)


def test_get_random_password_require_each_included_type_in_four_chars(sm):
    for _ in range(25):
        pw = sm.get_random_password(PasswordLength=4, RequireEachIncludedType=True)["RandomPassword"]
        assert len(pw) == 4
        for cls in (LOWER, UPPER, DIGITS, PUNCTUATION):
            assert set(pw) & set(cls), pw


def test_get_random_password_default_requires_each_type_even_when_short(sm):
    for _ in range(25):
        pw = sm.get_random_password(PasswordLength=3, ExcludePunctuation=True)["RandomPassword"]
        assert len(pw) == 3
        for cls in (LOWER, UPPER, DIGITS):
            assert set(pw) & set(cls), pw


def test_get_random_password_include_space_only_adds_space_to_alphabet(sm):
    pw = sm.get_random_password(PasswordLength=200, IncludeSpace=True)["RandomPassword"]
    assert len(pw) == 200
    assert set(pw) <= set(LOWER + UPPER + DIGITS + PUNCTUATION + " ")


def test_get_random_password_too_long_is_validation_exception(sm):
    with pytest.raises(ClientError) as ei:
        sm.get_random_password(PasswordLength=5000)
    assert_error(ei, "ValidationException")


def test_get_random_passwords_differ(sm):
    pws = {sm.get_random_password()["RandomPassword"] for _ in range(5)}
    assert len(pws) == 5


# ===========================================================================
# BatchGetSecretValue (§3)
# ===========================================================================
def test_batch_get_secret_value_with_secret_id_list_returns_values_and_errors(sm, unique):
    n1, n2, missing = unique("batch"), unique("batch"), unique("batchmissing")
    c1 = create(sm, n1, value="one")
    c2 = create(sm, n2, value="two")
    r = sm.batch_get_secret_value(SecretIdList=[n1, c2["ARN"], missing])
    by_name = {v["Name"]: v for v in r["SecretValues"]}
    assert set(by_name) == {n1, n2}
    v1 = by_name[n1]
    assert v1["ARN"] == c1["ARN"]
    assert v1["VersionId"] == c1["VersionId"]
    assert v1["SecretString"] == "one"
    assert v1["VersionStages"] == ["AWSCURRENT"]
    assert isinstance(v1["CreatedDate"], datetime)
    assert by_name[n2]["SecretString"] == "two"
    assert len(r["Errors"]) == 1
    err = r["Errors"][0]
    assert err["SecretId"] == missing
    assert err["ErrorCode"] == "ResourceNotFoundException"
    assert err["Message"] == MSG_NOT_FOUND


def test_batch_get_secret_value_returns_awscurrent(sm, unique):
    name = unique("batchcur")
    create(sm, name, value="old")
    sm.put_secret_value(SecretId=name, SecretString="new")
    r = sm.batch_get_secret_value(SecretIdList=[name])
    assert [v["SecretString"] for v in r["SecretValues"]] == ["new"]
    assert not r.get("Errors")


def test_batch_get_secret_value_returns_secret_binary(sm, unique):
    name = unique("batchbin")
    create(sm, name, value=b"\x00\x01\xfe\xff")
    (v,) = sm.batch_get_secret_value(SecretIdList=[name])["SecretValues"]
    assert v["SecretBinary"] == b"\x00\x01\xfe\xff"
    assert "SecretString" not in v


def test_batch_get_secret_value_with_filters(sm, unique):
    p = unique("batchf") + "/"
    create(sm, p + "a", value="va")
    create(sm, p + "b", value="vb")
    got = {}
    kw = {}
    for _ in range(20):
        r = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [p]}], **kw)
        for v in r["SecretValues"]:
            got[v["Name"]] = v["SecretString"]
        if not r.get("NextToken"):
            break
        kw["NextToken"] = r["NextToken"]
    assert got == {p + "a": "va", p + "b": "vb"}


def test_batch_get_secret_value_with_filters_and_max_results_pages(sm, unique):
    p = unique("batchfm") + "/"
    for n in ("a", "b", "c"):
        create(sm, p + n, value=n)
    got = []
    kw = {}
    for _ in range(20):
        r = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [p]}], MaxResults=1, **kw)
        assert len(r["SecretValues"]) <= 1
        got.extend(v["Name"] for v in r["SecretValues"])
        if not r.get("NextToken"):
            break
        kw["NextToken"] = r["NextToken"]
    assert sorted(got) == [p + "a", p + "b", p + "c"]


def test_batch_get_secret_value_with_max_results_but_no_filters_is_rejected(sm, unique):
    name = unique("batchmax")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.batch_get_secret_value(SecretIdList=[name], MaxResults=5)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_batch_get_secret_value_with_both_list_and_filters_is_rejected(sm, unique):
    name = unique("batchboth")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.batch_get_secret_value(
            SecretIdList=[name], Filters=[{"Key": "name", "Values": [name]}]
        )
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ===========================================================================
# Resource policies (§3)
# ===========================================================================
def test_get_resource_policy_without_policy_has_no_resource_policy(sm, unique):
    name = unique("nopol")
    arn = create(sm, name)["ARN"]
    r = sm.get_resource_policy(SecretId=name)
    assert r["ARN"] == arn and r["Name"] == name
    assert "ResourcePolicy" not in r


def test_resource_policy_put_get_delete_round_trip(sm, unique):
    name = unique("pol")
    arn = create(sm, name)["ARN"]
    policy = policy_for(arn)
    r = sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert keys(r) == {"ARN", "Name"}
    assert r["ARN"] == arn and r["Name"] == name
    g = sm.get_resource_policy(SecretId=name)
    assert g["ARN"] == arn and g["Name"] == name
    assert g["ResourcePolicy"] == policy
    d = sm.delete_resource_policy(SecretId=name)
    assert keys(d) == {"ARN", "Name"}
    assert d["ARN"] == arn and d["Name"] == name
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_put_resource_policy_keeps_text_as_stored(sm, unique):
    name = unique("poltext")
    arn = create(sm, name)["ARN"]
    policy = json.dumps(json.loads(policy_for(arn)), indent=4)
    sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == policy


def test_put_resource_policy_with_malformed_json_is_malformed_policy_document(sm, unique):
    name = unique("polbad")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=name, ResourcePolicy='{"Version": "2012-10-17", "Statement": [')
    assert_error(ei, "MalformedPolicyDocumentException")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_put_resource_policy_blocking_public_policy_rejects_wildcard_principal(sm, unique):
    name = unique("polpublic")
    create(sm, name)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=policy, BlockPublicPolicy=True)
    assert_error(ei, "PublicPolicyException")


def test_validate_resource_policy_passes_for_valid_policy(sm, unique):
    name = unique("polval")
    arn = create(sm, name)["ARN"]
    r = sm.validate_resource_policy(SecretId=name, ResourcePolicy=policy_for(arn))
    assert r["PolicyValidationPassed"] is True
    assert not r.get("ValidationErrors")


def test_validate_resource_policy_without_secret_id(sm, unique):
    arn = create(sm, unique("polval2"))["ARN"]
    r = sm.validate_resource_policy(ResourcePolicy=policy_for(arn))
    assert r["PolicyValidationPassed"] is True


def test_get_resource_policy_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.get_resource_policy(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_put_resource_policy_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(
            SecretId=unique("missing"), ResourcePolicy=policy_for("arn:aws:x:y:123456789012:z")
        )
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_delete_resource_policy_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.delete_resource_policy(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# Rotation (§4)
# ===========================================================================
def missing_lambda_arn():
    return f"arn:aws:lambda:us-east-1:123456789012:function:tumbler-test-missing-{uuid.uuid4().hex[:8]}"


def test_rotate_secret_without_rotation_function_is_invalid_request(sm, unique):
    name = unique("rot")
    t1 = tok()
    create(sm, name, token=t1)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=name)
    assert_error(ei, "InvalidRequestException", MSG_NO_LAMBDA)
    d = sm.describe_secret(SecretId=name)
    assert "RotationEnabled" not in d
    assert stages(sm, name) == {t1: ["AWSCURRENT"]}


def test_rotate_secret_with_rules_but_no_rotation_function_is_invalid_request(sm, unique):
    name = unique("rot")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 30})
    assert_error(ei, "InvalidRequestException", MSG_NO_LAMBDA)
    d = sm.describe_secret(SecretId=name)
    for absent in ("RotationEnabled", "RotationRules", "RotationLambdaARN", "NextRotationDate"):
        assert absent not in d


def test_rotate_secret_with_missing_lambda_function_is_access_denied_and_stores_nothing(sm, unique):
    name = unique("rotdenied")
    t1 = tok()
    create(sm, name, token=t1)
    before = sm.describe_secret(SecretId=name)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(
            SecretId=name,
            RotationLambdaARN=missing_lambda_arn(),
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    assert_error(ei, "AccessDeniedException", MSG_LAMBDA_DENIED)
    d = sm.describe_secret(SecretId=name)
    for absent in (
        "RotationEnabled",
        "RotationRules",
        "RotationLambdaARN",
        "NextRotationDate",
        "LastRotatedDate",
    ):
        assert absent not in d, d
    assert d["VersionIdsToStages"] == {t1: ["AWSCURRENT"]}
    assert d["LastChangedDate"] == before["LastChangedDate"]


def test_rotate_secret_with_days_and_schedule_expression_is_invalid_parameter(sm, unique):
    name = unique("rotboth")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(
            SecretId=name,
            RotationLambdaARN=missing_lambda_arn(),
            RotationRules={"AutomaticallyAfterDays": 10, "ScheduleExpression": "rate(10 days)"},
        )
    assert_error(ei, "InvalidParameterException", MSG_DAYS_AND_SCHEDULE)


def test_rotate_secret_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=unique("missing"), RotationLambdaARN=missing_lambda_arn())
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_cancel_rotate_secret_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.cancel_rotate_secret(SecretId=unique("missing"))
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# Replication and Regions (§3)
# ===========================================================================
def _replica_arn(arn, region="us-west-2"):
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def _wait_replica(sm_west, name, timeout=15):
    """Wait until the replica exists in us-west-2 (DescribeSecret works); returns it."""

    def get():
        try:
            return sm_west.describe_secret(SecretId=name)
        except ClientError:
            return None

    d = wait_until(get, timeout=timeout)
    assert d, f"replica {name} not visible in us-west-2 within {timeout} s"
    return d


def _wait_replica_value(sm_west, name, timeout=15):
    """Wait until GetSecretValue works on the replica; fails with the last error."""
    last = {}

    def get():
        try:
            return sm_west.get_secret_value(SecretId=name)
        except ClientError as e:
            last["error"] = e.response["Error"]
            return None

    r = wait_until(get, timeout=timeout)
    assert r, f"GetSecretValue on the replica in us-west-2 kept failing: {last.get('error')}"
    return r


def test_replicate_secret_to_regions_returns_replication_status(sm, unique):
    name = unique("repl")
    arn = create(sm, name, value="replicated")["ARN"]
    r = sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    assert r["ARN"] == arn
    (status,) = r["ReplicationStatus"]
    assert status["Region"] == "us-west-2"
    assert status["Status"] in ("InSync", "InProgress")


def test_replica_is_readable_in_replica_region_with_same_name(sm, sm_west, unique):
    name = unique("repl")
    arn = create(sm, name, value="replicated")["ARN"]
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    r = _wait_replica_value(sm_west, name)
    assert r["Name"] == name
    assert r["SecretString"] == "replicated"
    assert r["ARN"] == _replica_arn(arn)


def test_replica_arn_is_primary_arn_with_region_swapped(sm, sm_west, unique):
    name = unique("replarn")
    arn = create(sm, name, value="replicated")["ARN"]
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    d = _wait_replica(sm_west, name)
    assert d["Name"] == name
    assert d["ARN"] == _replica_arn(arn)
    assert arn_re(name, "us-west-2").match(d["ARN"])
    (entry,) = list_all(sm_west, Filters=[{"Key": "name", "Values": [name]}])
    assert entry["ARN"] == _replica_arn(arn)


def test_describe_primary_shows_replication_status_and_replica_shows_primary_region(
    sm, sm_west, unique
):
    name = unique("repl")
    create(sm, name, value="replicated")
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    _wait_replica(sm_west, name)

    def in_sync():
        st = sm.describe_secret(SecretId=name).get("ReplicationStatus", [])
        return st if st and st[0].get("Status") == "InSync" else None

    st = wait_until(in_sync, timeout=30)
    assert st, sm.describe_secret(SecretId=name)
    assert [s["Region"] for s in st] == ["us-west-2"]
    d = sm_west.describe_secret(SecretId=name)
    assert d["PrimaryRegion"] == "us-east-1"
    assert "ReplicationStatus" not in d
    assert "PrimaryRegion" not in sm.describe_secret(SecretId=name) or (
        sm.describe_secret(SecretId=name)["PrimaryRegion"] == "us-east-1"
    )


def test_create_secret_with_add_replica_regions_returns_replication_status(sm, sm_west, unique):
    name = unique("replcreate")
    r = sm.create_secret(
        Name=name,
        SecretString="v",
        ClientRequestToken=tok(),
        AddReplicaRegions=[{"Region": "us-west-2"}],
    )
    (status,) = r["ReplicationStatus"]
    assert status["Region"] == "us-west-2"
    assert status["Status"] in ("InSync", "InProgress")
    rep = _wait_replica_value(sm_west, name)
    assert rep["SecretString"] == "v"


def test_replica_is_read_only(sm, sm_west, unique):
    name = unique("replro")
    create(sm, name, value="v")
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    _wait_replica(sm_west, name)
    with pytest.raises(ClientError) as ei:
        sm_west.put_secret_value(SecretId=name, SecretString="changed-in-replica")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_replicate_secret_to_own_region_is_invalid_parameter(sm, unique):
    name = unique("replself")
    create(sm, name)
    with pytest.raises(ClientError) as ei:
        sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-east-1"}])
    assert_error(ei, "InvalidParameterException")  # text [fake]


def test_replicate_secret_to_regions_on_unknown_secret_is_resource_not_found(sm, unique):
    with pytest.raises(ClientError) as ei:
        sm.replicate_secret_to_regions(
            SecretId=unique("missing"), AddReplicaRegions=[{"Region": "us-west-2"}]
        )
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_remove_regions_from_replication_deletes_replica(sm, sm_west, unique):
    name = unique("replrm")
    arn = create(sm, name, value="v")["ARN"]
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    _wait_replica(sm_west, name)
    r = sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["us-west-2"])
    assert r["ARN"] == arn
    assert all(s["Region"] != "us-west-2" for s in r.get("ReplicationStatus", []))

    def replica_gone():
        return error_code(lambda: sm_west.describe_secret(SecretId=name)) == "ResourceNotFoundException"

    assert wait_until(replica_gone, timeout=30)
    d = sm.describe_secret(SecretId=name)
    assert all(s["Region"] != "us-west-2" for s in d.get("ReplicationStatus", []))
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"


def test_delete_secret_of_primary_with_replicas_is_rejected(sm, sm_west, unique):
    # §3 DeleteSecret: "A primary with replicas can't be deleted" [doc]; code not recorded
    name = unique("repldel")
    create(sm, name)
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    _wait_replica(sm_west, name)
    with pytest.raises(ClientError) as ei:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_remove_regions_from_replication_is_idempotent(sm, unique):
    name = unique("replrm2")
    arn = create(sm, name)["ARN"]
    r = sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["us-west-2"])
    assert r["ARN"] == arn


def test_stop_replication_to_replica_promotes_replica(sm, sm_west, unique):
    name = unique("replstop")
    arn = create(sm, name, value="v")["ARN"]
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])
    _wait_replica(sm_west, name)
    r = sm_west.stop_replication_to_replica(SecretId=name)
    assert keys(r) == {"ARN"}
    assert r["ARN"] == _replica_arn(arn)
    d = sm_west.describe_secret(SecretId=name)
    assert "PrimaryRegion" not in d or d["PrimaryRegion"] == "us-west-2"
    # standalone now: writable in us-west-2, independent of the primary
    sm_west.put_secret_value(SecretId=name, SecretString="promoted")
    assert sm_west.get_secret_value(SecretId=name)["SecretString"] == "promoted"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"

    def primary_forgot():
        st = sm.describe_secret(SecretId=name).get("ReplicationStatus", [])
        return all(s["Region"] != "us-west-2" for s in st)

    assert wait_until(primary_forgot, timeout=30)


def test_same_name_in_two_regions_are_separate_secrets(make_client, unique):
    east = make_client("us-east-1")
    eu = make_client("eu-west-1")
    name = unique("regions")
    a = create(east, name, value="east")
    b = create(eu, name, value="eu")
    assert arn_re(name, "us-east-1").match(a["ARN"])
    assert arn_re(name, "eu-west-1").match(b["ARN"])
    assert east.get_secret_value(SecretId=name)["SecretString"] == "east"
    assert eu.get_secret_value(SecretId=name)["SecretString"] == "eu"
    eu_list = list_all(eu, Filters=[{"Key": "name", "Values": [name]}])
    assert [e["ARN"] for e in eu_list] == [b["ARN"]]
    eu.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert east.get_secret_value(SecretId=name)["SecretString"] == "east"


def test_secret_is_not_visible_from_another_region(make_client, unique):
    east = make_client("us-east-1")
    ap = make_client("ap-southeast-2")
    name = unique("regions")
    create(east, name)
    with pytest.raises(ClientError) as ei:
        ap.get_secret_value(SecretId=name)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


# ===========================================================================
# aws CLI (v1)
# ===========================================================================
def cli_error(stderr, code, op, message):
    # botocore adds " (reached max retries: N)" when retry metadata is present.
    pattern = re.compile(
        r"An error occurred \(%s\) when calling the %s operation"
        r"(?: \(reached max retries: \d+\))?: %s\s*$"
        % (re.escape(code), re.escape(op), re.escape(message)),
        re.MULTILINE,
    )
    assert pattern.search(stderr), stderr


def test_cli_create_secret_and_get_secret_value(aws, unique):
    name = unique("cli")
    token = tok()
    rc, out, err = aws(
        "create-secret", "--name", name, "--secret-string", '{"k":"v"}',
        "--client-request-token", token, "--description", "from cli",
    )
    assert rc == 0, err
    assert set(out) == {"ARN", "Name", "VersionId"}
    assert out["Name"] == name and out["VersionId"] == token
    assert arn_re(name).match(out["ARN"])
    rc, got, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert got["SecretString"] == '{"k":"v"}'
    assert got["VersionId"] == token
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert got["ARN"] == out["ARN"]
    assert isinstance(got["CreatedDate"], (int, float))  # CLI v1 prints raw epoch numbers


def test_cli_get_secret_value_for_unknown_secret_reports_resource_not_found(aws, unique):
    rc, out, err = aws("get-secret-value", "--secret-id", unique("missing"))
    assert rc != 0
    assert out is None
    cli_error(err, "ResourceNotFoundException", "GetSecretValue", MSG_NOT_FOUND)


def test_cli_create_secret_with_existing_name_reports_resource_exists(aws, unique):
    name = unique("clidup")
    assert aws("create-secret", "--name", name, "--secret-string", "a")[0] == 0
    rc, _, err = aws("create-secret", "--name", name, "--secret-string", "b")
    assert rc != 0
    cli_error(err, "ResourceExistsException", "CreateSecret", MSG_NAME_EXISTS.format(name))


def test_cli_create_secret_with_invalid_name_reports_validation_exception(aws, unique):
    rc, _, err = aws("create-secret", "--name", unique("cli") + " bad", "--secret-string", "a")
    assert rc != 0
    cli_error(err, "ValidationException", "CreateSecret", MSG_BAD_NAME)


def test_cli_secret_binary_is_shown_as_base64(aws, unique, tmp_path):
    name = unique("clibin")
    data = bytes(range(200))
    path = tmp_path / "secret.bin"
    path.write_bytes(data)
    rc, _, err = aws("create-secret", "--name", name, "--secret-binary", f"fileb://{path}")
    assert rc == 0, err
    rc, got, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert got["SecretBinary"] == base64.b64encode(data).decode()
    assert "SecretString" not in got


def test_cli_put_secret_value_moves_awscurrent(aws, unique):
    name = unique("cliput")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "one")
    assert rc == 0, err
    token = tok()
    rc, p, err = aws(
        "put-secret-value", "--secret-id", name, "--secret-string", "two",
        "--client-request-token", token,
    )
    assert rc == 0, err
    assert set(p) == {"ARN", "Name", "VersionId", "VersionStages"}
    assert p["VersionId"] == token and p["VersionStages"] == ["AWSCURRENT"]
    rc, prev, err = aws("get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS")
    assert rc == 0, err
    assert prev["SecretString"] == "one" and prev["VersionId"] == c["VersionId"]


def test_cli_put_secret_value_with_reused_token_and_other_value_reports_resource_exists(aws, unique):
    name = unique("cliidem")
    token = tok()
    rc, c, err = aws(
        "create-secret", "--name", name, "--secret-string", "one", "--client-request-token", token
    )
    assert rc == 0, err
    rc, _, err = aws(
        "put-secret-value", "--secret-id", name, "--secret-string", "two",
        "--client-request-token", token,
    )
    assert rc != 0
    cli_error(err, "ResourceExistsException", "PutSecretValue", MSG_TOKEN_IN_USE.format(token, c["ARN"]))


def test_cli_describe_secret(aws, unique):
    name = unique("clidesc")
    rc, c, err = aws(
        "create-secret", "--name", name, "--secret-string", "x", "--description", "described",
        "--tags", "Key=team,Value=core", "Key=env,Value=test",
    )
    assert rc == 0, err
    rc, d, err = aws("describe-secret", "--secret-id", c["ARN"])
    assert rc == 0, err
    assert d["ARN"] == c["ARN"] and d["Name"] == name
    assert d["Description"] == "described"
    assert d["Tags"] == [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "test"}]
    assert d["VersionIdsToStages"] == {c["VersionId"]: ["AWSCURRENT"]}
    assert isinstance(d["CreatedDate"], (int, float))
    assert "RotationEnabled" not in d and "DeletedDate" not in d


def test_cli_list_secrets_with_name_filter_shorthand(aws, unique):
    p = unique("clilist") + "/"
    for n in ("b", "a", "c"):
        assert aws("create-secret", "--name", p + n, "--secret-string", "x")[0] == 0
    rc, out, err = aws("list-secrets", "--filters", f"Key=name,Values={p}")
    assert rc == 0, err
    assert [e["Name"] for e in out["SecretList"]] == [p + "b", p + "a", p + "c"]
    assert all("SecretVersionsToStages" in e for e in out["SecretList"])


def test_cli_list_secrets_with_negated_filter_and_pagination(aws, unique):
    p = unique("clineg") + "/"
    for n in ("keep1", "keep2", "keep3", "drop1"):
        assert aws("create-secret", "--name", p + n, "--secret-string", "x")[0] == 0
    rc, out, err = aws(
        "list-secrets", "--filters", f"Key=name,Values={p}", f"Key=name,Values=!{p}drop",
        "--page-size", "1",
    )
    assert rc == 0, err
    assert sorted(e["Name"] for e in out["SecretList"]) == [p + "keep1", p + "keep2", p + "keep3"]


def test_cli_list_secrets_with_description_filter(aws, unique):
    p = unique("clidescf") + "/"
    assert aws("create-secret", "--name", p + "x", "--secret-string", "x", "--description", "Database Password")[0] == 0
    assert aws("create-secret", "--name", p + "y", "--secret-string", "x", "--description", "api key")[0] == 0
    rc, out, err = aws(
        "list-secrets", "--filters", f"Key=name,Values={p}", "Key=description,Values=data",
    )
    assert rc == 0, err
    assert [e["Name"] for e in out["SecretList"]] == [p + "x"]


def test_cli_list_secret_version_ids_include_deprecated(aws, unique):
    name = unique("clilv")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "1")
    assert rc == 0, err
    assert aws("put-secret-value", "--secret-id", name, "--secret-string", "2")[0] == 0
    assert aws("put-secret-value", "--secret-id", name, "--secret-string", "3")[0] == 0
    rc, out, err = aws("list-secret-version-ids", "--secret-id", name)
    assert rc == 0, err
    assert len(out["Versions"]) == 2
    assert c["VersionId"] not in {v["VersionId"] for v in out["Versions"]}
    rc, out, err = aws("list-secret-version-ids", "--secret-id", name, "--include-deprecated")
    assert rc == 0, err
    by_id = {v["VersionId"]: v for v in out["Versions"]}
    assert len(by_id) == 3
    assert "VersionStages" not in by_id[c["VersionId"]]
    assert out["Name"] == name and out["ARN"] == c["ARN"]


def test_cli_update_secret_version_stage(aws, unique):
    name = unique("cliuvs")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "1")
    assert rc == 0, err
    rc, p, err = aws(
        "put-secret-value", "--secret-id", name, "--secret-string", "2",
        "--version-stages", "STAGED",
    )
    assert rc == 0, err
    assert p["VersionStages"] == ["STAGED"]
    rc, out, err = aws(
        "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT",
        "--move-to-version-id", p["VersionId"], "--remove-from-version-id", c["VersionId"],
    )
    assert rc == 0, err
    assert set(out) == {"ARN", "Name"}
    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert {k: sorted(v) for k, v in d["VersionIdsToStages"].items()} == {
        c["VersionId"]: ["AWSPREVIOUS"],
        p["VersionId"]: ["AWSCURRENT", "STAGED"],
    }


def test_cli_update_secret_version_stage_without_remove_from_reports_error(aws, unique):
    name = unique("cliuvserr")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "1")
    rc, p, err = aws(
        "put-secret-value", "--secret-id", name, "--secret-string", "2", "--version-stages", "S"
    )
    rc, _, err = aws(
        "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT",
        "--move-to-version-id", p["VersionId"],
    )
    assert rc != 0
    cli_error(
        err, "InvalidParameterException", "UpdateSecretVersionStage",
        MSG_REMOVE_FROM_EMPTY.format("AWSCURRENT", c["VersionId"]),
    )


def test_cli_delete_secret_and_restore_secret(aws, unique):
    name = unique("clidel")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "keep")
    assert rc == 0, err
    rc, d, err = aws("delete-secret", "--secret-id", name, "--recovery-window-in-days", "7")
    assert rc == 0, err
    assert set(d) == {"ARN", "Name", "DeletionDate"}
    assert abs(d["DeletionDate"] - (time.time() + 7 * 86400)) < 600
    rc, _, err = aws("get-secret-value", "--secret-id", name)
    assert rc != 0
    cli_error(err, "InvalidRequestException", "GetSecretValue", MSG_MARKED_FOR_DELETION)
    rc, r, err = aws("restore-secret", "--secret-id", name)
    assert rc == 0, err
    assert r == {"ARN": c["ARN"], "Name": name}
    rc, got, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert got["SecretString"] == "keep"


def test_cli_force_delete_secret(aws, unique):
    name = unique("cliforce")
    assert aws("create-secret", "--name", name, "--secret-string", "x")[0] == 0
    rc, d, err = aws("delete-secret", "--secret-id", name, "--force-delete-without-recovery")
    assert rc == 0, err
    assert d["Name"] == name
    assert abs(d["DeletionDate"] - time.time()) < 600


def test_cli_tag_resource_and_untag_resource(aws, unique):
    name = unique("clitag")
    assert aws("create-secret", "--name", name, "--secret-string", "x")[0] == 0
    rc, out, err = aws("tag-resource", "--secret-id", name, "--tags", "Key=a,Value=1", "Key=b,Value=2")
    assert rc == 0, err
    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert d["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    rc, out, err = aws("untag-resource", "--secret-id", name, "--tag-keys", "a", "b")
    assert rc == 0, err
    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert d["Tags"] == []


def test_cli_get_random_password(aws):
    rc, out, err = aws(
        "get-random-password", "--password-length", "40", "--exclude-punctuation",
        "--exclude-characters", "abcABC012",
    )
    assert rc == 0, err
    pw = out["RandomPassword"]
    assert len(pw) == 40
    assert set(pw) <= set(LOWER + UPPER + DIGITS) - set("abcABC012")
    rc, out, err = aws("get-random-password")
    assert rc == 0, err
    assert len(out["RandomPassword"]) == 32


def test_cli_batch_get_secret_value_with_secret_id_list(aws, unique):
    n1, n2, missing = unique("clibatch"), unique("clibatch"), unique("clibatchmissing")
    assert aws("create-secret", "--name", n1, "--secret-string", "one")[0] == 0
    assert aws("create-secret", "--name", n2, "--secret-string", "two")[0] == 0
    rc, out, err = aws("batch-get-secret-value", "--secret-id-list", n1, n2, missing)
    assert rc == 0, err
    assert {v["Name"]: v["SecretString"] for v in out["SecretValues"]} == {n1: "one", n2: "two"}
    assert [(e["SecretId"], e["ErrorCode"]) for e in out["Errors"]] == [
        (missing, "ResourceNotFoundException")
    ]


def test_cli_batch_get_secret_value_with_filters(aws, unique):
    p = unique("clibatchf") + "/"
    assert aws("create-secret", "--name", p + "a", "--secret-string", "A")[0] == 0
    assert aws("create-secret", "--name", p + "b", "--secret-string", "B")[0] == 0
    rc, out, err = aws("batch-get-secret-value", "--filters", f"Key=name,Values={p}")
    assert rc == 0, err
    assert {v["Name"]: v["SecretString"] for v in out["SecretValues"]} == {p + "a": "A", p + "b": "B"}


def test_cli_update_secret(aws, unique):
    name = unique("cliupd")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "one")
    assert rc == 0, err
    rc, out, err = aws("update-secret", "--secret-id", name, "--description", "new desc")
    assert rc == 0, err
    assert out == {"ARN": c["ARN"], "Name": name}
    token = tok()
    rc, out, err = aws(
        "update-secret", "--secret-id", name, "--secret-string", "two",
        "--client-request-token", token,
    )
    assert rc == 0, err
    assert out == {"ARN": c["ARN"], "Name": name, "VersionId": token}
    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert d["Description"] == "new desc"
    assert {k: sorted(v) for k, v in d["VersionIdsToStages"].items()} == {
        c["VersionId"]: ["AWSPREVIOUS"],
        token: ["AWSCURRENT"],
    }


def test_cli_rotate_secret_without_rotation_function_reports_invalid_request(aws, unique):
    name = unique("clirot")
    assert aws("create-secret", "--name", name, "--secret-string", "x")[0] == 0
    rc, _, err = aws("rotate-secret", "--secret-id", name)
    assert rc != 0
    cli_error(err, "InvalidRequestException", "RotateSecret", MSG_NO_LAMBDA)


def test_cli_resource_policy_round_trip(aws, unique):
    name = unique("clipol")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "x")
    assert rc == 0, err
    policy = policy_for(c["ARN"])
    rc, out, err = aws("put-resource-policy", "--secret-id", name, "--resource-policy", policy)
    assert rc == 0, err
    assert out == {"ARN": c["ARN"], "Name": name}
    rc, out, err = aws("get-resource-policy", "--secret-id", name)
    assert rc == 0, err
    assert out["ResourcePolicy"] == policy
    rc, out, err = aws("delete-resource-policy", "--secret-id", name)
    assert rc == 0, err
    rc, out, err = aws("get-resource-policy", "--secret-id", name)
    assert rc == 0, err
    assert "ResourcePolicy" not in out


def test_cli_replica_in_another_region(aws, unique):
    name = unique("clirepl")
    rc, c, err = aws("create-secret", "--name", name, "--secret-string", "x")
    assert rc == 0, err
    rc, out, err = aws(
        "replicate-secret-to-regions", "--secret-id", name,
        "--add-replica-regions", "Region=us-west-2",
    )
    assert rc == 0, err
    assert out["ReplicationStatus"][0]["Region"] == "us-west-2"

    def replica():
        rc, got, _ = aws("get-secret-value", "--secret-id", name, region="us-west-2")
        return got if rc == 0 else None

    got = wait_until(replica, timeout=15, interval=1)
    assert got and got["SecretString"] == "x"
    assert got["ARN"] == _replica_arn(c["ARN"])
