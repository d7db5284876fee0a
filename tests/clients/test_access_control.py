"""Access control through the real aws CLI (v1) and boto3 against Tumbler.

What is shown here:

- the IAM API (awsQuery: form-encoded POSTs signed for `iam`, XML answers) at the server's
  endpoint: users, access keys and inline user policies, with IAM's error codes and texts;
- identity policies enforced on Secrets Manager calls of users other than `admin` (actions,
  NotAction, resources with ARN wildcards, NotResource, explicit Deny, the condition operators
  and keys, policy variables), with AWS's AccessDeniedException texts;
- resource policies (Put/Get/Delete/ValidateResourcePolicy) and how they combine with the
  caller's identity policies;
- RotateSecret's second permission, lambda:InvokeFunction on the rotation function;
- the audit trail: <data dir>/audit.log (CloudTrail-shaped JSON lines) and `tumbler admin audit`.

The conftest's admin key belongs to the user `admin`, which may do everything. Every other user
is made here, with a unique name, an access key and the policy the test is about. The server is
shared by the whole session, so nothing depends on what else exists.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, _free_port, _wait_healthy
REGION = "us-east-1"
ACCOUNT = "123456789012"
ADMIN = "admin"

SECRET_ARN_PREFIX = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
BUILTIN_LAMBDA = "SecretsManagerTestRotationLambda"
BUILTIN_LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{BUILTIN_LAMBDA}"

MSG_NOT_FOUND = "Secrets Manager can't find the specified secret."
MSG_UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
MSG_PUBLIC_POLICY = (
    "You can't attach a resource-based policy that allows broad access to the secret."
)
MSG_KEYS_FIRST = "Cannot delete entity, must delete access keys first."
MSG_POLICIES_FIRST = "Cannot delete entity, must delete policies first."
MSG_KEY_QUOTA = "Cannot exceed quota for AccessKeysPerUser: 2"

AUDIT_WAIT = 5.0  # seconds a call may take to reach the audit trail
ROTATION_WAIT = 30.0  # seconds a rotation with the builtin function may take


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def user_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def secret_arn_pattern(name_pattern):
    return SECRET_ARN_PREFIX + name_pattern


def iam_name(label="u"):
    """A unique IAM user name ([\\w+=,.@-], at most 64 characters)."""
    return f"tt-{label}-{uuid.uuid4().hex[:12]}"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", condition=None, **extra):
    return statement("Allow", action, resource, condition, **extra)


def deny(action, resource="*", condition=None, **extra):
    return statement("Deny", action, resource, condition, **extra)


def statement(effect, action, resource, condition=None, **extra):
    s = {"Effect": effect}
    if action is not None:
        s["Action"] = action
    if resource is not None:
        s["Resource"] = resource
    if condition is not None:
        s["Condition"] = condition
    s.update(extra)
    return s


def denied(user, action, resource=None, by=None):
    """AWS's AccessDenied text: no allow (by=None), or an explicit deny in an identity-based
    (by="identity") or resource-based (by="resource") policy."""
    on = f" on resource: {resource}" if resource is not None else ""
    if by == "identity":
        why = "with an explicit deny in an identity-based policy"
    elif by == "resource":
        why = "with an explicit deny in a resource-based policy"
    else:
        why = f"because no identity-based policy allows the {action} action"
    return f"User: {user_arn(user)} is not authorized to perform: {action}{on} {why}"


def assert_error(excinfo, code, message=None, status=400):
    err = excinfo.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    if message is not None:
        assert err["Error"]["Message"] == message, err


def assert_denied(excinfo, user, action, resource=None, by=None):
    assert_error(excinfo, "AccessDeniedException", denied(user, action, resource, by))


def wait_until(fn, timeout, interval=0.1):
    """Call fn until it returns a truthy value (returned) or time runs out (last value)."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def request_id(resp_or_error):
    if isinstance(resp_or_error, ClientError):
        return resp_or_error.response["ResponseMetadata"]["RequestId"]
    if hasattr(resp_or_error, "value"):  # pytest's ExceptionInfo
        return resp_or_error.value.response["ResponseMetadata"]["RequestId"]
    return resp_or_error["ResponseMetadata"]["RequestId"]


def stages(sm, secret_id):
    return {
        k: sorted(v)
        for k, v in sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}).items()
    }


class ExtraServer:
    """Another `tumbler serve` process, for the tests about what is stored."""

    def __init__(self, binary, data_dir, log_path, extra_args=()):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None

    def start(self):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TUMBLER_"))}
        env.update(
            TUMBLER_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
            TUMBLER_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            RUST_LOG="info",
        )
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", self.data_dir,
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        log.close()
        if not _wait_healthy(self.url, self.proc):
            self.stop()
            with open(self.log_path, errors="replace") as f:
                pytest.fail(f"extra tumbler server did not start; output:\n{f.read()}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self, service, access_key=ACCESS_KEY_ID, secret_key=SECRET_ACCESS_KEY):
        return boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=REGION
        ).client(service, endpoint_url=self.url, config=NO_RETRIES)


NO_RETRIES = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60
)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
def _iam_client(server, access_key=ACCESS_KEY_ID, secret_key=SECRET_ACCESS_KEY):
    return boto3.client(
        "iam",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=NO_RETRIES,
    )


@pytest.fixture(scope="module")
def iam(server):
    """boto3 IAM client with the admin key."""
    return _iam_client(server)


@pytest.fixture(scope="module")
def aws_iam(server):
    """Run `aws iam <cmd> ...` with the admin key: -> (rc, parsed JSON or None, stderr)."""
    aws_bin = shutil.which("aws")
    if aws_bin is None:
        pytest.fail("aws CLI not found on PATH")
    # conftest.py already pointed AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE at empty files.
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    # (No AWS_RETRY_MODE=standard: with it botocore adds "(reached max retries: 0)" to errors.)
    env.pop("AWS_RETRY_MODE", None)

    def run(cmd, *args):
        argv = [aws_bin, "--endpoint-url", server.url, "--region", REGION, "--output", "json",
                "iam", cmd, *[str(a) for a in args]]
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        out = p.stdout.strip()
        parsed = None
        if out:
            try:
                parsed = json.loads(out)
            except ValueError:
                parsed = None
        return p.returncode, parsed, p.stderr

    return run


class User:
    def __init__(self, name, user_id, access_key_id, secret_access_key, sm, iam):
        self.name = name
        self.user_id = user_id
        self.arn = user_arn(name)
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.sm = sm
        self.iam = iam


@pytest.fixture
def new_user(server, iam, make_client):
    """new_user(*statements, label=...) -> User with an access key and, if statements are
    given, the inline policy "test" holding them."""

    def make(*statements, label="u"):
        name = iam_name(label)
        created = iam.create_user(UserName=name)["User"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        if statements:
            iam.put_user_policy(
                UserName=name, PolicyName="test", PolicyDocument=document(*statements)
            )
        sm = make_client(
            REGION, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]
        )
        return User(
            name, created["UserId"], key["AccessKeyId"], key["SecretAccessKey"], sm,
            _iam_client(server, key["AccessKeyId"], key["SecretAccessKey"]),
        )

    return make


@pytest.fixture
def secret(sm, unique):
    """secret(label, value=..., **create_args) -> the admin's CreateSecret response."""

    def make(label="s", value="value-1", name=None, **kw):
        return sm.create_secret(Name=name or unique(label), SecretString=value, **kw)

    return make


def audit_path(server):
    return os.path.join(server.data_dir, "audit.log")


def audit_text(server):
    try:
        with open(audit_path(server), errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def audit_records(server):
    out = []
    for line in audit_text(server).splitlines():
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def wait_audit(server, match, count=1, timeout=AUDIT_WAIT):
    """The audit records `match` accepts, once there are at least `count` (polls the file)."""

    def found():
        hits = [r for r in audit_records(server) if match(r)]
        return hits if len(hits) >= count else None

    hits = wait_until(found, timeout)
    assert hits, (
        f"no (or fewer than {count}) matching audit records within {timeout} s in "
        f"{audit_path(server)}; last lines:\n" + "\n".join(audit_text(server).splitlines()[-5:])
    )
    return hits


def by_request(*ids):
    wanted = set(ids)
    return lambda r: r.get("requestID") in wanted


@pytest.fixture(scope="module")
def admin_audit(server):
    """Run `tumbler admin audit ...` -> (rc, [records, one per output line], stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TUMBLER_"))}
    env.update(
        TUMBLER_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
        TUMBLER_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
    )

    def run(*args):
        argv = [server.binary, "admin", "--endpoint-url", server.url, "--data-dir",
                server.data_dir, "audit", *[str(a) for a in args]]
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        records = None
        if p.returncode == 0:
            records = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        return p.returncode, records, p.stderr

    return run


# ---------------------------------------------------------------------------
# IAM API: users
# ---------------------------------------------------------------------------
def test_iam_create_user_returns_name_path_arn_and_user_id(iam):
    name = iam_name("create")
    u = iam.create_user(UserName=name, Path="/team/")["User"]
    assert u["UserName"] == name
    assert u["Path"] == "/team/"
    assert u["Arn"] == user_arn(name, "/team/")
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", u["UserId"]), u
    assert isinstance(u["CreateDate"], datetime)
    assert abs((datetime.now(timezone.utc) - u["CreateDate"]).total_seconds()) < 120
    got = iam.get_user(UserName=name)["User"]
    assert (got["UserName"], got["Path"], got["Arn"], got["UserId"]) == (
        name, "/team/", user_arn(name, "/team/"), u["UserId"],
    )


def test_iam_get_user_without_name_answers_for_the_caller(iam):
    u = iam.get_user()["User"]
    assert u["UserName"] == ADMIN
    assert u["Arn"] == user_arn(ADMIN)


def test_iam_get_unknown_user_is_no_such_entity(iam):
    name = iam_name("missing")
    with pytest.raises(ClientError) as ei:
        iam.get_user(UserName=name)
    assert_error(ei, "NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_iam_user_names_are_unique_without_regard_to_case(iam):
    name = iam_name("Case")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.create_user(UserName=name.upper())
    assert_error(ei, "EntityAlreadyExists", f"User with name {name.upper()} already exists.", 409)
    with pytest.raises(ClientError) as ei:
        iam.create_user(UserName=name)
    assert_error(ei, "EntityAlreadyExists", f"User with name {name} already exists.", 409)


def test_iam_user_name_with_a_space_is_validation_error(iam):
    with pytest.raises(ClientError) as ei:
        iam.create_user(UserName="has space")
    assert_error(ei, "ValidationError", status=400)
    with pytest.raises(ClientError) as ei:
        iam.get_user(UserName="has space")
    assert_error(ei, "ValidationError", status=400)


def test_iam_list_users_filters_by_path_prefix_and_pages_with_marker(iam):
    path = f"/list-{uuid.uuid4().hex[:10]}/"
    names = sorted(iam_name("list") for _ in range(3))
    for n in names:
        iam.create_user(UserName=n, Path=path)
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == names[:2]
    assert first["IsTruncated"] is True
    assert first["Marker"]
    rest = iam.list_users(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == names[2:]
    assert rest["IsTruncated"] is False
    assert "Marker" not in rest
    assert all(u["Path"] == path for u in first["Users"] + rest["Users"])
    everyone = [u["UserName"] for page in iam.get_paginator("list_users").paginate()
                for u in page["Users"]]
    assert set(names) <= set(everyone)
    assert ADMIN in everyone


def test_iam_delete_user_needs_keys_then_policies_deleted_first(iam):
    name = iam_name("del")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName=name, PolicyName="p",
                        PolicyDocument=document(allow("secretsmanager:ListSecrets")))
    with pytest.raises(ClientError) as ei:
        iam.delete_user(UserName=name)
    assert_error(ei, "DeleteConflict", MSG_KEYS_FIRST, 409)
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    with pytest.raises(ClientError) as ei:
        iam.delete_user(UserName=name)
    assert_error(ei, "DeleteConflict", MSG_POLICIES_FIRST, 409)
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.get_user(UserName=name)
    assert_error(ei, "NoSuchEntity", f"The user with name {name} cannot be found.", 404)
    with pytest.raises(ClientError) as ei:
        iam.delete_user(UserName=name)
    assert_error(ei, "NoSuchEntity", f"The user with name {name} cannot be found.", 404)


# ---------------------------------------------------------------------------
# IAM API: access keys
# ---------------------------------------------------------------------------
def test_iam_create_access_key_returns_the_secret_once_and_list_shows_metadata(iam):
    name = iam_name("keys")
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    assert k["UserName"] == name
    assert k["Status"] == "Active"
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", k["AccessKeyId"]), k
    assert len(k["SecretAccessKey"]) == 40, k
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert len(listed) == 1
    assert listed[0]["AccessKeyId"] == k["AccessKeyId"]
    assert listed[0]["UserName"] == name
    assert listed[0]["Status"] == "Active"
    assert "SecretAccessKey" not in listed[0]


def test_iam_third_access_key_is_limit_exceeded(iam):
    name = iam_name("quota")
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.create_access_key(UserName=name)
    assert_error(ei, "LimitExceeded", MSG_KEY_QUOTA, 409)
    assert len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]) == 2


def test_iam_access_key_for_unknown_user_is_no_such_entity(iam):
    name = iam_name("nokeyuser")
    with pytest.raises(ClientError) as ei:
        iam.create_access_key(UserName=name)
    assert_error(ei, "NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_a_new_access_key_works_at_once(new_user, secret):
    c = secret("fresh")
    u = new_user(allow("secretsmanager:GetSecretValue"), label="fresh")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"


def test_an_inactive_key_is_unrecognized_until_made_active_again(iam, new_user, secret):
    c = secret("inactive")
    u = new_user(allow(["secretsmanager:GetSecretValue", "iam:GetUser"]), label="inactive")
    iam.update_access_key(UserName=u.name, AccessKeyId=u.access_key_id, Status="Inactive")
    listed = iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(u.access_key_id, "Inactive")]
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_error(ei, "UnrecognizedClientException", MSG_UNRECOGNIZED_CLIENT)
    with pytest.raises(ClientError) as ei:
        u.iam.get_user()
    assert_error(ei, "InvalidClientTokenId", MSG_UNRECOGNIZED_CLIENT, 403)
    iam.update_access_key(UserName=u.name, AccessKeyId=u.access_key_id, Status="Active")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    assert u.iam.get_user()["User"]["UserName"] == u.name


def test_a_deleted_key_is_unrecognized(iam, new_user, secret):
    c = secret("deletedkey")
    u = new_user(allow("secretsmanager:GetSecretValue"), label="deletedkey")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    iam.delete_access_key(UserName=u.name, AccessKeyId=u.access_key_id)
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_error(ei, "UnrecognizedClientException", MSG_UNRECOGNIZED_CLIENT)
    assert iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"] == []
    with pytest.raises(ClientError) as ei:
        iam.delete_access_key(UserName=u.name, AccessKeyId=u.access_key_id)
    assert_error(
        ei, "NoSuchEntity", f"The Access Key with id {u.access_key_id} cannot be found.", 404
    )


def test_iam_update_access_key_with_unknown_status_is_validation_error(iam, new_user):
    u = new_user(label="status")
    with pytest.raises(ClientError) as ei:
        iam.update_access_key(UserName=u.name, AccessKeyId=u.access_key_id, Status="Sometimes")
    assert_error(ei, "ValidationError", status=400)
    listed = iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]
    assert [k["Status"] for k in listed] == ["Active"]


def test_iam_a_key_named_with_another_user_is_no_such_entity(iam, new_user):
    owner = new_user(label="keyowner")
    other = new_user(label="keyother")
    with pytest.raises(ClientError) as ei:
        iam.update_access_key(UserName=other.name, AccessKeyId=owner.access_key_id,
                              Status="Inactive")
    assert_error(ei, "NoSuchEntity",
                 f"The Access Key with id {owner.access_key_id} cannot be found.", 404)
    with pytest.raises(ClientError) as ei:
        iam.delete_access_key(UserName=other.name, AccessKeyId=owner.access_key_id)
    assert_error(ei, "NoSuchEntity",
                 f"The Access Key with id {owner.access_key_id} cannot be found.", 404)
    listed = iam.list_access_keys(UserName=owner.name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(owner.access_key_id, "Active")]


# ---------------------------------------------------------------------------
# IAM API: inline user policies
# ---------------------------------------------------------------------------
def test_iam_user_policies_are_put_read_listed_and_deleted(iam):
    name = iam_name("pol")
    iam.create_user(UserName=name)
    doc = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Read",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": secret_arn_pattern("app/*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "a b&c<d>"}},
        }],
    }
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps(doc))
    iam.put_user_policy(UserName=name, PolicyName="another",
                        PolicyDocument=document(allow("secretsmanager:ListSecrets")))
    got = iam.get_user_policy(UserName=name, PolicyName="read")
    assert (got["UserName"], got["PolicyName"]) == (name, "read")
    assert got["PolicyDocument"] == doc
    assert sorted(iam.list_user_policies(UserName=name)["PolicyNames"]) == ["another", "read"]
    # Putting a policy of the same name replaces it.
    iam.put_user_policy(UserName=name, PolicyName="read",
                        PolicyDocument=document(allow("secretsmanager:GetRandomPassword")))
    assert iam.get_user_policy(UserName=name, PolicyName="read")["PolicyDocument"][
        "Statement"] == [allow("secretsmanager:GetRandomPassword")]
    iam.delete_user_policy(UserName=name, PolicyName="read")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["another"]
    with pytest.raises(ClientError) as ei:
        iam.get_user_policy(UserName=name, PolicyName="read")
    assert_error(ei, "NoSuchEntity", "The user policy with name read cannot be found.", 404)


def test_iam_policy_that_is_not_json_is_malformed_policy_document(iam):
    name = iam_name("badjson")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument='{"Version": ')
    assert_error(ei, "MalformedPolicyDocument", status=400)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_iam_identity_policy_with_a_principal_is_malformed_policy_document(iam):
    name = iam_name("principal")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.put_user_policy(
            UserName=name, PolicyName="p",
            PolicyDocument=document(allow("secretsmanager:*", Principal={"AWS": "*"})),
        )
    assert_error(ei, "MalformedPolicyDocument", status=400)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_iam_policy_with_an_unknown_condition_operator_is_malformed_policy_document(iam):
    name = iam_name("operator")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as ei:
        iam.put_user_policy(
            UserName=name, PolicyName="p",
            PolicyDocument=document(allow(
                "secretsmanager:GetSecretValue",
                condition={"StringSortOfEquals": {"aws:username": "x"}},
            )),
        )
    assert_error(ei, "MalformedPolicyDocument", status=400)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_iam_policy_for_unknown_user_is_no_such_entity(iam):
    name = iam_name("nopoluser")
    with pytest.raises(ClientError) as ei:
        iam.put_user_policy(UserName=name, PolicyName="p",
                            PolicyDocument=document(allow("secretsmanager:*")))
    assert_error(ei, "NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_iam_calls_by_a_user_without_iam_permissions_are_access_denied(new_user):
    u = new_user(allow("secretsmanager:*"), label="noiam")
    other = iam_name("wanted")
    with pytest.raises(ClientError) as ei:
        u.iam.create_user(UserName=other)
    assert_error(ei, "AccessDenied", denied(u.name, "iam:CreateUser", user_arn(other)), 403)
    with pytest.raises(ClientError) as ei:
        u.iam.get_user()
    assert_error(ei, "AccessDenied", denied(u.name, "iam:GetUser", u.arn), 403)
    with pytest.raises(ClientError) as ei:
        u.iam.create_access_key()
    assert_error(ei, "AccessDenied", denied(u.name, "iam:CreateAccessKey", u.arn), 403)


def test_iam_policy_with_username_variable_lets_a_user_manage_only_its_own_keys(iam, new_user):
    u = new_user(
        allow(["iam:CreateAccessKey", "iam:ListAccessKeys"],
              f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"),
        label="selfkeys",
    )
    other = new_user(label="otherkeys")
    mine = u.iam.create_access_key()["AccessKey"]
    assert mine["UserName"] == u.name
    listed = {k["AccessKeyId"] for k in u.iam.list_access_keys()["AccessKeyMetadata"]}
    assert listed == {u.access_key_id, mine["AccessKeyId"]}
    with pytest.raises(ClientError) as ei:
        u.iam.create_access_key(UserName=other.name)
    assert_error(ei, "AccessDenied",
                 denied(u.name, "iam:CreateAccessKey", other.arn), 403)
    assert len(iam.list_access_keys(UserName=other.name)["AccessKeyMetadata"]) == 1


def test_cli_iam_commands_manage_users_keys_and_policies(aws_iam):
    name = iam_name("cli")
    rc, out, err = aws_iam("create-user", "--user-name", name, "--path", "/cli/")
    assert rc == 0, err
    assert out["User"]["UserName"] == name
    assert out["User"]["Arn"] == user_arn(name, "/cli/")
    rc, out, err = aws_iam("create-access-key", "--user-name", name)
    assert rc == 0, err
    key_id = out["AccessKey"]["AccessKeyId"]
    assert out["AccessKey"]["Status"] == "Active"
    rc, out, err = aws_iam("list-access-keys", "--user-name", name)
    assert rc == 0, err
    assert [k["AccessKeyId"] for k in out["AccessKeyMetadata"]] == [key_id]
    doc = json.loads(document(allow("secretsmanager:GetSecretValue")))
    rc, out, err = aws_iam("put-user-policy", "--user-name", name, "--policy-name", "cli",
                           "--policy-document", json.dumps(doc))
    assert rc == 0, err
    rc, out, err = aws_iam("get-user-policy", "--user-name", name, "--policy-name", "cli")
    assert rc == 0, err
    assert out["PolicyDocument"] == doc
    rc, out, err = aws_iam("list-users", "--path-prefix", "/cli/")
    assert rc == 0, err
    assert name in [u["UserName"] for u in out["Users"]]
    # The aws CLI's exit code for a service error is its own affair (254 or 255 by version).
    rc, out, err = aws_iam("delete-user", "--user-name", name)
    assert rc in (254, 255), (rc, out, err)
    assert err.strip() == (
        "An error occurred (DeleteConflict) when calling the DeleteUser operation: "
        + MSG_KEYS_FIRST
    ), err
    missing = iam_name("climissing")
    rc, out, err = aws_iam("get-user", "--user-name", missing)
    assert rc in (254, 255), (rc, out, err)
    assert err.strip() == (
        "An error occurred (NoSuchEntity) when calling the GetUser operation: "
        f"The user with name {missing} cannot be found."
    ), err


# ---------------------------------------------------------------------------
# What is stored: users, keys and policies outlive the process / are seen by another node
# ---------------------------------------------------------------------------
def test_users_keys_and_policies_survive_a_restart(server, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    node = ExtraServer(server.binary, str(data_dir), str(tmp_path / "server.log"))
    node.start()
    try:
        iam = node.client("iam")
        admin_sm = node.client("secretsmanager")
        name = iam_name("restart")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        iam.put_user_policy(UserName=name, PolicyName="p",
                            PolicyDocument=document(allow("secretsmanager:GetSecretValue")))
        admin_sm.create_secret(Name="restart/secret", SecretString="kept")
        node.stop()
        node.start()
        iam = node.client("iam")
        assert iam.get_user(UserName=name)["User"]["UserName"] == name
        assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)[
            "AccessKeyMetadata"]] == [key["AccessKeyId"]]
        user_sm = node.client("secretsmanager", key["AccessKeyId"], key["SecretAccessKey"])
        assert user_sm.get_secret_value(SecretId="restart/secret")["SecretString"] == "kept"
        with pytest.raises(ClientError) as ei:
            user_sm.describe_secret(SecretId="restart/secret")
        assert_denied(ei, name, "secretsmanager:DescribeSecret", "restart/secret")
    finally:
        node.stop()


def test_a_second_node_on_the_same_database_knows_users_keys_and_policies(
    server, iam, sm, secret, tmp_path
):
    database_url = os.environ.get("TUMBLER_CLIENTS_DATABASE_URL")
    if not database_url:
        pytest.skip("only with a shared database (TUMBLER_CLIENTS_DATABASE_URL, PostgreSQL)")
    c = secret("second-node")
    name = iam_name("node2")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    iam.put_user_policy(UserName=name, PolicyName="p",
                        PolicyDocument=document(allow("secretsmanager:GetSecretValue")))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    node = ExtraServer(
        server.binary, str(data_dir), str(tmp_path / "server.log"),
        ["--database-url", database_url, "--config", server.config_path,
         "--master-key-file", os.path.join(server.data_dir, "master.key")],
    )
    node.start()
    try:
        user_sm = node.client("secretsmanager", key["AccessKeyId"], key["SecretAccessKey"])
        assert user_sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
        with pytest.raises(ClientError) as ei:
            user_sm.describe_secret(SecretId=c["Name"])
        assert_denied(ei, name, "secretsmanager:DescribeSecret", c["Name"])
    finally:
        node.stop()


# ---------------------------------------------------------------------------
# Identity policies on Secrets Manager calls
# ---------------------------------------------------------------------------
def test_a_user_without_policies_is_denied_in_aws_words(new_user, secret):
    c = secret("nopolicy")
    u = new_user(label="nopolicy")
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])
    # The resource is named as the caller sent it: here the full ARN.
    with pytest.raises(ClientError) as ei:
        u.sm.describe_secret(SecretId=c["ARN"])
    assert_denied(ei, u.name, "secretsmanager:DescribeSecret", c["ARN"])
    with pytest.raises(ClientError) as ei:
        u.sm.put_secret_value(SecretId=c["Name"], SecretString="new")
    assert_denied(ei, u.name, "secretsmanager:PutSecretValue", c["Name"])


def test_denied_calls_change_nothing(sm, new_user, secret):
    c = secret("nochange")
    u = new_user(allow("secretsmanager:DescribeSecret"), label="nochange")
    before = stages(sm, c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.put_secret_value(SecretId=c["Name"], SecretString="intruder")
    assert_denied(ei, u.name, "secretsmanager:PutSecretValue", c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"], ForceDeleteWithoutRecovery=True)
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"])
    assert stages(sm, c["Name"]) == before
    assert sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    assert "DeletedDate" not in sm.describe_secret(SecretId=c["Name"])


def test_whether_a_secret_exists_is_not_revealed_to_a_user_without_permission(
    new_user, unique
):
    missing = unique("missing")
    nobody = new_user(label="noperm")
    with pytest.raises(ClientError) as ei:
        nobody.sm.get_secret_value(SecretId=missing)
    assert_denied(ei, nobody.name, "secretsmanager:GetSecretValue", missing)
    reader = new_user(allow("secretsmanager:GetSecretValue"), label="reader")
    with pytest.raises(ClientError) as ei:
        reader.sm.get_secret_value(SecretId=missing)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_a_policy_put_applies_at_once_and_a_deleted_one_stops_applying(iam, new_user, secret):
    c = secret("atonce")
    u = new_user(label="atonce")
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])
    iam.put_user_policy(UserName=u.name, PolicyName="now",
                        PolicyDocument=document(allow("secretsmanager:GetSecretValue")))
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    iam.delete_user_policy(UserName=u.name, PolicyName="now")
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


def test_action_wildcard_allows_only_the_matching_actions(new_user, secret):
    c = secret("getstar")
    u = new_user(allow("secretsmanager:Get*"), label="getstar")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    assert u.sm.get_resource_policy(SecretId=c["Name"])["Name"] == c["Name"]
    assert len(u.sm.get_random_password(PasswordLength=20)["RandomPassword"]) == 20
    with pytest.raises(ClientError) as ei:
        u.sm.describe_secret(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:DescribeSecret", c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.put_secret_value(SecretId=c["Name"], SecretString="x")
    assert_denied(ei, u.name, "secretsmanager:PutSecretValue", c["Name"])


def test_action_names_match_without_regard_to_case(new_user, secret):
    c = secret("actioncase")
    u = new_user(allow("SecretsManager:getsecretVALUE"), label="actioncase")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"


def test_not_action_allows_everything_but_the_listed_actions(new_user, secret):
    c = secret("notaction")
    u = new_user(
        statement("Allow", None, "*",
                  NotAction=["secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue"]),
        label="notaction",
    )
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    assert u.sm.describe_secret(SecretId=c["Name"])["Name"] == c["Name"]
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.put_secret_value(SecretId=c["Name"], SecretString="x")
    assert_denied(ei, u.name, "secretsmanager:PutSecretValue", c["Name"])


def test_resource_arn_wildcard_scopes_access_to_a_name_prefix(new_user, secret, unique):
    team = f"tumbler-test/team-{uuid.uuid4().hex[:10]}"
    inside = secret(name=f"{team}/db")
    outside = secret("outside")
    lookalike = secret(name=f"{team}-other/db")
    u = new_user(
        allow("secretsmanager:GetSecretValue", secret_arn_pattern(f"{team}/*")), label="prefix"
    )
    assert u.sm.get_secret_value(SecretId=inside["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=inside["ARN"])["SecretString"] == "value-1"
    for other in (outside, lookalike):
        with pytest.raises(ClientError) as ei:
            u.sm.get_secret_value(SecretId=other["Name"])
        assert_denied(ei, u.name, "secretsmanager:GetSecretValue", other["Name"])


def test_resource_arn_wildcard_allows_creating_under_the_prefix_only(sm, new_user, unique):
    team = f"tumbler-test/create-{uuid.uuid4().hex[:10]}"
    u = new_user(
        allow("secretsmanager:CreateSecret", secret_arn_pattern(f"{team}/*")), label="create"
    )
    c = u.sm.create_secret(Name=f"{team}/new", SecretString="mine")
    assert c["Name"] == f"{team}/new"
    elsewhere = unique("elsewhere")
    with pytest.raises(ClientError) as ei:
        u.sm.create_secret(Name=elsewhere, SecretString="x")
    assert_denied(ei, u.name, "secretsmanager:CreateSecret", elsewhere)
    with pytest.raises(ClientError) as ei:
        sm.describe_secret(SecretId=elsewhere)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_not_resource_allows_every_secret_but_the_listed_ones(new_user, secret):
    private = f"tumbler-test/private-{uuid.uuid4().hex[:10]}"
    hidden = secret(name=f"{private}/key")
    visible = secret("visible")
    u = new_user(
        statement("Allow", "secretsmanager:GetSecretValue", None,
                  NotResource=secret_arn_pattern(f"{private}/*")),
        label="notresource",
    )
    assert u.sm.get_secret_value(SecretId=visible["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=hidden["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", hidden["Name"])


def test_explicit_deny_beats_allow(new_user, secret):
    c = secret("denied")
    other = secret("notdenied")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:GetSecretValue", secret_arn_pattern(c["Name"] + "-??????")),
        label="deny",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"], by="identity")
    assert u.sm.describe_secret(SecretId=c["Name"])["Name"] == c["Name"]
    assert u.sm.get_secret_value(SecretId=other["Name"])["SecretString"] == "value-1"


def test_explicit_deny_in_a_second_policy_beats_allow_in_the_first(iam, new_user, secret):
    c = secret("denytwo")
    u = new_user(allow("secretsmanager:*"), label="denytwo")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    iam.put_user_policy(UserName=u.name, PolicyName="deny",
                        PolicyDocument=document(deny("secretsmanager:GetSecretValue")))
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"], by="identity")


@pytest.mark.parametrize("key", ["secretsmanager:ResourceTag/team", "aws:ResourceTag/team"])
def test_resource_tag_condition_allows_only_secrets_with_that_tag(new_user, secret, key):
    team = f"blue-{uuid.uuid4().hex[:8]}"
    tagged = secret("blue", Tags=[{"Key": "team", "Value": team}])
    other_team = secret("red", Tags=[{"Key": "team", "Value": "red"}])
    untagged = secret("untagged")
    u = new_user(
        allow("secretsmanager:GetSecretValue", condition={"StringEquals": {key: team}}),
        label="restag",
    )
    assert u.sm.get_secret_value(SecretId=tagged["Name"])["SecretString"] == "value-1"
    for c in (other_team, untagged):
        with pytest.raises(ClientError) as ei:
            u.sm.get_secret_value(SecretId=c["Name"])
        assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


def test_request_tag_and_tag_keys_conditions_govern_create_secret_with_tags(
    sm, new_user, unique
):
    u = new_user(
        allow(
            ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
            condition={
                "StringEquals": {"aws:RequestTag/team": "blue"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]},
            },
        ),
        label="reqtag",
    )
    ok = unique("reqtag-ok")
    u.sm.create_secret(Name=ok, SecretString="v",
                       Tags=[{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "dev"}])
    assert {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=ok)["Tags"]} == {
        "team": "blue", "env": "dev",
    }
    refused = [
        [{"Key": "team", "Value": "red"}],  # the tag's value
        [{"Key": "team", "Value": "blue"}, {"Key": "owner", "Value": "x"}],  # a key not listed
        None,  # no tags: aws:RequestTag/team is absent
    ]
    for tags in refused:
        name = unique("reqtag-no")
        with pytest.raises(ClientError) as ei:
            if tags is None:
                u.sm.create_secret(Name=name, SecretString="v")
            else:
                u.sm.create_secret(Name=name, SecretString="v", Tags=tags)
        assert_denied(ei, u.name, "secretsmanager:CreateSecret", name)
        with pytest.raises(ClientError) as ei:
            sm.describe_secret(SecretId=name)
        assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_create_secret_with_tags_also_needs_tag_resource(sm, new_user, unique):
    u = new_user(allow("secretsmanager:CreateSecret"), label="notag")
    plain = unique("notag-plain")
    u.sm.create_secret(Name=plain, SecretString="v")
    tagged = unique("notag-tagged")
    with pytest.raises(ClientError) as ei:
        u.sm.create_secret(Name=tagged, SecretString="v", Tags=[{"Key": "k", "Value": "v"}])
    assert_denied(ei, u.name, "secretsmanager:TagResource", tagged)
    with pytest.raises(ClientError) as ei:
        sm.describe_secret(SecretId=tagged)
    assert_error(ei, "ResourceNotFoundException", MSG_NOT_FOUND)


def test_version_stage_condition_key_is_present_only_when_the_request_sends_it(new_user, secret):
    c = secret("stage")
    u = new_user(
        allow("secretsmanager:GetSecretValue",
              condition={"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}),
        label="stage",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])
    got = u.sm.get_secret_value(SecretId=c["Name"], VersionStage="AWSCURRENT")
    assert got["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"], VersionStage="AWSPREVIOUS")
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


def test_string_equals_if_exists_allows_requests_without_the_key(sm, new_user, secret):
    c = secret("ifexists")
    sm.put_secret_value(SecretId=c["Name"], SecretString="value-2")
    u = new_user(
        allow("secretsmanager:GetSecretValue",
              condition={"StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}}),
        label="ifexists",
    )
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-2"
    got = u.sm.get_secret_value(SecretId=c["Name"], VersionStage="AWSCURRENT")
    assert got["SecretString"] == "value-2"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"], VersionStage="AWSPREVIOUS")
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


def test_null_condition_denies_delete_secret_without_a_recovery_window(sm, new_user, secret):
    c = secret("null")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:DeleteSecret",
             condition={"Null": {"secretsmanager:RecoveryWindowInDays": "true"}}),
        label="null",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"], by="identity")
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"], ForceDeleteWithoutRecovery=True)
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"], by="identity")
    assert "DeletedDate" not in sm.describe_secret(SecretId=c["Name"])
    r = u.sm.delete_secret(SecretId=c["Name"], RecoveryWindowInDays=7)
    assert r["Name"] == c["Name"]
    assert "DeletedDate" in sm.describe_secret(SecretId=c["Name"])


def test_null_false_denies_only_requests_that_carry_the_key(sm, new_user, secret):
    c = secret("nullfalse")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:DeleteSecret",
             condition={"Null": {"secretsmanager:ForceDeleteWithoutRecovery": "false"}}),
        label="nullfalse",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"], ForceDeleteWithoutRecovery=True)
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"], by="identity")
    u.sm.delete_secret(SecretId=c["Name"])
    assert "DeletedDate" in sm.describe_secret(SecretId=c["Name"])


def test_bool_condition_denies_force_delete_without_recovery(sm, new_user, secret):
    c = secret("bool")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:DeleteSecret",
             condition={"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}}),
        label="bool",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.delete_secret(SecretId=c["Name"], ForceDeleteWithoutRecovery=True)
    assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"], by="identity")
    assert sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    u.sm.delete_secret(SecretId=c["Name"], RecoveryWindowInDays=7)
    assert "DeletedDate" in sm.describe_secret(SecretId=c["Name"])


def test_numeric_less_than_on_recovery_window_in_days(sm, new_user, secret):
    c = secret("numeric")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:DeleteSecret",
             condition={"NumericLessThan": {"secretsmanager:RecoveryWindowInDays": "14"}}),
        label="numeric",
    )
    for days in (7, 13):
        with pytest.raises(ClientError) as ei:
            u.sm.delete_secret(SecretId=c["Name"], RecoveryWindowInDays=days)
        assert_denied(ei, u.name, "secretsmanager:DeleteSecret", c["Name"], by="identity")
    assert "DeletedDate" not in sm.describe_secret(SecretId=c["Name"])
    u.sm.delete_secret(SecretId=c["Name"], RecoveryWindowInDays=14)
    assert "DeletedDate" in sm.describe_secret(SecretId=c["Name"])


def test_date_conditions_on_current_time(new_user, secret):
    after_2020 = secret("after2020")
    before_2020 = secret("before2020")
    before_2999 = secret("before2999")
    u = new_user(
        allow("secretsmanager:GetSecretValue", after_2020["ARN"],
              condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        allow("secretsmanager:GetSecretValue", before_2020["ARN"],
              condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        allow("secretsmanager:GetSecretValue", before_2999["ARN"],
              condition={"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}),
        label="date",
    )
    assert u.sm.get_secret_value(SecretId=after_2020["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=before_2999["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=before_2020["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", before_2020["Name"])


def test_source_ip_conditions(new_user, secret):
    loopback = secret("loopback")
    ten = secret("tennet")
    not_ten = secret("nottennet")
    u = new_user(
        allow("secretsmanager:GetSecretValue", loopback["ARN"],
              condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
        allow("secretsmanager:GetSecretValue", ten["ARN"],
              condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.1/32"]}}),
        allow("secretsmanager:GetSecretValue", not_ten["ARN"],
              condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        label="ip",
    )
    assert u.sm.get_secret_value(SecretId=loopback["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=not_ten["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=ten["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", ten["Name"])


def test_secure_transport_is_false_over_plain_http(new_user, secret):
    needs_tls = secret("tls")
    plain = secret("plain")
    u = new_user(
        allow("secretsmanager:GetSecretValue", needs_tls["ARN"],
              condition={"Bool": {"aws:SecureTransport": "true"}}),
        allow("secretsmanager:GetSecretValue", plain["ARN"],
              condition={"Bool": {"aws:SecureTransport": "false"}}),
        label="tls",
    )
    assert u.sm.get_secret_value(SecretId=plain["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=needs_tls["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", needs_tls["Name"])


def test_deny_unless_secure_transport_denies_plain_http(new_user, secret):
    c = secret("denyhttp")
    u = new_user(
        allow("secretsmanager:*"),
        deny("secretsmanager:*", condition={"Bool": {"aws:SecureTransport": "false"}}),
        label="denyhttp",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"], by="identity")


def test_arn_like_on_principal_arn(new_user, secret):
    mine = secret("arnlike-mine")
    theirs = secret("arnlike-theirs")
    u = new_user(
        allow("secretsmanager:GetSecretValue", mine["ARN"],
              condition={"ArnLike": {"aws:PrincipalArn": user_arn("tt-arnlike-*")}}),
        allow("secretsmanager:GetSecretValue", theirs["ARN"],
              condition={"ArnLike": {"aws:PrincipalArn": user_arn("someone-*")}}),
        label="arnlike",
    )
    assert u.sm.get_secret_value(SecretId=mine["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=theirs["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", theirs["Name"])


def test_username_policy_variable_in_resource(new_user, secret):
    u = new_user(
        allow("secretsmanager:GetSecretValue", secret_arn_pattern("home/${aws:username}/*")),
        label="home",
    )
    other = iam_name("home-other")
    mine = secret(name=f"home/{u.name}/db")
    theirs = secret(name=f"home/{other}/db")
    assert u.sm.get_secret_value(SecretId=mine["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=theirs["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", theirs["Name"])


def test_username_and_userid_conditions(iam, new_user, secret):
    by_name = secret("by-username")
    by_id = secret("by-userid")
    by_other = secret("by-othername")
    u = new_user(label="whoami")
    iam.put_user_policy(
        UserName=u.name, PolicyName="who",
        PolicyDocument=document(
            allow("secretsmanager:GetSecretValue", by_name["ARN"],
                  condition={"StringEquals": {"aws:username": u.name}}),
            allow("secretsmanager:GetSecretValue", by_id["ARN"],
                  condition={"StringEquals": {"aws:userid": u.user_id}}),
            allow("secretsmanager:GetSecretValue", by_other["ARN"],
                  condition={"StringEquals": {"aws:username": "someone-else"}}),
        ),
    )
    assert u.sm.get_secret_value(SecretId=by_name["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=by_id["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=by_other["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", by_other["Name"])


def test_list_secrets_needs_its_action_on_star(new_user, secret):
    c = secret("listable")
    scoped = new_user(allow("secretsmanager:ListSecrets", secret_arn_pattern("*")),
                      label="listscoped")
    with pytest.raises(ClientError) as ei:
        scoped.sm.list_secrets()
    assert_denied(ei, scoped.name, "secretsmanager:ListSecrets")
    lister = new_user(allow("secretsmanager:ListSecrets"), label="lister")
    found = lister.sm.list_secrets(Filters=[{"Key": "name", "Values": [c["Name"]]}])
    assert [e["Name"] for e in found["SecretList"]] == [c["Name"]]


def test_get_random_password_needs_its_action_on_star(new_user):
    allowed = new_user(allow("secretsmanager:GetRandomPassword"), label="pw")
    assert len(allowed.sm.get_random_password(PasswordLength=24)["RandomPassword"]) == 24
    refused = new_user(allow("secretsmanager:GetSecretValue"), label="nopw")
    with pytest.raises(ClientError) as ei:
        refused.sm.get_random_password()
    assert_denied(ei, refused.name, "secretsmanager:GetRandomPassword")


def test_batch_get_secret_value_reports_denied_secrets_in_errors(new_user, secret):
    readable = secret("batch-ok", value="batch-1")
    forbidden = secret("batch-no", value="batch-2")
    u = new_user(
        allow("secretsmanager:BatchGetSecretValue"),
        allow("secretsmanager:GetSecretValue", readable["ARN"]),
        label="batch",
    )
    r = u.sm.batch_get_secret_value(SecretIdList=[readable["Name"], forbidden["Name"]])
    assert [(v["Name"], v["SecretString"]) for v in r["SecretValues"]] == [
        (readable["Name"], "batch-1")
    ]
    assert r["Errors"] == [{
        "SecretId": forbidden["Name"],
        "ErrorCode": "AccessDeniedException",
        "Message": denied(u.name, "secretsmanager:GetSecretValue", forbidden["Name"]),
    }]


def test_batch_get_secret_value_needs_its_own_action_on_star(new_user, secret):
    c = secret("batch-only-get")
    u = new_user(allow("secretsmanager:GetSecretValue"), label="nobatch")
    with pytest.raises(ClientError) as ei:
        u.sm.batch_get_secret_value(SecretIdList=[c["Name"]])
    assert_denied(ei, u.name, "secretsmanager:BatchGetSecretValue")


def test_a_user_with_a_path_is_named_by_its_full_arn_in_denials(iam, make_client, secret):
    c = secret("pathuser")
    name = iam_name("pathuser")
    iam.create_user(UserName=name, Path="/team/ops/")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_sm = make_client(REGION, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as ei:
        user_sm.get_secret_value(SecretId=c["Name"])
    assert_error(
        ei, "AccessDeniedException",
        f"User: {user_arn(name, '/team/ops/')} is not authorized to perform: "
        f"secretsmanager:GetSecretValue on resource: {c['Name']} because no identity-based "
        "policy allows the secretsmanager:GetSecretValue action",
    )


def test_a_denial_names_a_partial_arn_as_sent(new_user, secret):
    c = secret("partialarn")
    u = new_user(label="partialarn")
    partial = c["ARN"][:-7]
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=partial)
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", partial)


def test_condition_keys_are_anded_and_a_keys_values_ored(new_user, secret):
    green_prod = secret("greenprod", Tags=[{"Key": "team", "Value": "green"},
                                           {"Key": "env", "Value": "prod"}])
    blue_dev = secret("bluedev", Tags=[{"Key": "team", "Value": "blue"},
                                       {"Key": "env", "Value": "dev"}])
    red_prod = secret("redprod", Tags=[{"Key": "team", "Value": "red"},
                                       {"Key": "env", "Value": "prod"}])
    u = new_user(
        allow("secretsmanager:GetSecretValue", condition={"StringEquals": {
            "aws:ResourceTag/team": ["blue", "green"],
            "aws:ResourceTag/env": "prod",
        }}),
        label="andor",
    )
    assert u.sm.get_secret_value(SecretId=green_prod["Name"])["SecretString"] == "value-1"
    for c in (blue_dev, red_prod):
        with pytest.raises(ClientError) as ei:
            u.sm.get_secret_value(SecretId=c["Name"])
        assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


def test_string_like_not_equals_and_ignore_case_operators(iam, new_user, secret):
    like = secret("strlike")
    not_equals = secret("strnotequals")
    ignore_case = secret("strignorecase")
    u = new_user(label="strops")
    # The policy names the user, so it is put once the user exists.
    doc = document(
        allow("secretsmanager:GetSecretValue", like["ARN"],
              condition={"StringLike": {"aws:username": "tt-strops-*"}}),
        allow("secretsmanager:GetSecretValue", not_equals["ARN"],
              condition={"StringNotEquals": {"aws:username": u.name}}),
        allow("secretsmanager:GetSecretValue", ignore_case["ARN"],
              condition={"StringEqualsIgnoreCase": {"aws:username": u.name.upper()}}),
    )
    iam.put_user_policy(UserName=u.name, PolicyName="ops", PolicyDocument=doc)
    assert u.sm.get_secret_value(SecretId=like["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=ignore_case["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=not_equals["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", not_equals["Name"])


def test_tag_keys_conditions_govern_tag_and_untag_resource(new_user, secret):
    c = secret("tagkeys", Tags=[{"Key": "owner", "Value": "x"}])
    u = new_user(
        allow(["secretsmanager:TagResource", "secretsmanager:UntagResource"],
              condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}),
        deny("secretsmanager:TagResource",
             condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["protected"]}}),
        label="tagkeys",
    )
    u.sm.tag_resource(SecretId=c["Name"], Tags=[{"Key": "team", "Value": "blue"}])
    with pytest.raises(ClientError) as ei:
        u.sm.tag_resource(SecretId=c["Name"], Tags=[{"Key": "team", "Value": "b"},
                                                    {"Key": "other", "Value": "o"}])
    assert_denied(ei, u.name, "secretsmanager:TagResource", c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.tag_resource(SecretId=c["Name"], Tags=[{"Key": "env", "Value": "dev"},
                                                    {"Key": "protected", "Value": "p"}])
    assert_denied(ei, u.name, "secretsmanager:TagResource", c["Name"], by="identity")
    with pytest.raises(ClientError) as ei:
        u.sm.untag_resource(SecretId=c["Name"], TagKeys=["owner"])
    assert_denied(ei, u.name, "secretsmanager:UntagResource", c["Name"])
    u.sm.untag_resource(SecretId=c["Name"], TagKeys=["team"])


def test_secret_id_condition_key_is_the_arn_however_the_secret_is_named(new_user, secret):
    team = f"tumbler-test/secretid-{uuid.uuid4().hex[:10]}"
    inside = secret(name=f"{team}/db")
    outside = secret("secretid-outside")
    u = new_user(
        allow("secretsmanager:GetSecretValue",
              condition={"ArnLike": {"secretsmanager:SecretId": secret_arn_pattern(f"{team}/*")}}),
        label="secretid",
    )
    assert u.sm.get_secret_value(SecretId=inside["Name"])["SecretString"] == "value-1"
    assert u.sm.get_secret_value(SecretId=inside["ARN"][:-7])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=outside["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", outside["Name"])


def test_name_condition_key_on_create_secret(sm, new_user, unique):
    prefix = f"tumbler-test/named-{uuid.uuid4().hex[:10]}/"
    u = new_user(
        allow("secretsmanager:CreateSecret",
              condition={"StringLike": {"secretsmanager:Name": prefix + "*"}}),
        label="named",
    )
    u.sm.create_secret(Name=prefix + "ok", SecretString="v")
    other = unique("named-no")
    with pytest.raises(ClientError) as ei:
        u.sm.create_secret(Name=other, SecretString="v")
    assert_denied(ei, u.name, "secretsmanager:CreateSecret", other)


# ---------------------------------------------------------------------------
# Resource policies
# ---------------------------------------------------------------------------
def test_resource_policy_is_put_returned_as_stored_and_deleted(sm, secret):
    c = secret("respol")
    text = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }],
    }, indent=2)
    r = sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy=text)
    assert (r["ARN"], r["Name"]) == (c["ARN"], c["Name"])
    got = sm.get_resource_policy(SecretId=c["Name"])
    assert (got["ARN"], got["Name"], got["ResourcePolicy"]) == (c["ARN"], c["Name"], text)
    d = sm.delete_resource_policy(SecretId=c["Name"])
    assert (d["ARN"], d["Name"]) == (c["ARN"], c["Name"])
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=c["Name"])


def test_resource_policy_without_principal_is_malformed(sm, secret):
    c = secret("respol-noprincipal")
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=c["Name"],
                               ResourcePolicy=document(allow("secretsmanager:GetSecretValue")))
    assert_error(ei, "MalformedPolicyDocumentException")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=c["Name"])


def test_resource_policy_that_is_not_json_is_malformed(sm, secret):
    c = secret("respol-badjson")
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy="{not json")
    assert_error(ei, "MalformedPolicyDocumentException")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=c["Name"])


def test_block_public_policy_refuses_principal_star_without_conditions(sm, secret):
    c = secret("public")
    public = document(allow("secretsmanager:GetSecretValue", Principal="*"))
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy=public, BlockPublicPolicy=True)
    assert_error(ei, "PublicPolicyException", MSG_PUBLIC_POLICY)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=c["Name"])
    aws_star = document(allow("secretsmanager:GetSecretValue", Principal={"AWS": "*"}))
    with pytest.raises(ClientError) as ei:
        sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy=aws_star,
                               BlockPublicPolicy=True)
    assert_error(ei, "PublicPolicyException", MSG_PUBLIC_POLICY)
    # With a condition it is not public; without BlockPublicPolicy anything goes.
    conditioned = document(allow("secretsmanager:GetSecretValue", Principal="*",
                                 condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}))
    sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy=conditioned,
                           BlockPublicPolicy=True)
    assert sm.get_resource_policy(SecretId=c["Name"])["ResourcePolicy"] == conditioned
    sm.put_resource_policy(SecretId=c["Name"], ResourcePolicy=public)
    assert sm.get_resource_policy(SecretId=c["Name"])["ResourcePolicy"] == public


def test_validate_resource_policy_reports_passed_and_errors(sm, secret):
    c = secret("validate")
    good = document(allow("secretsmanager:GetSecretValue", Principal={"AWS": user_arn(ADMIN)}))
    r = sm.validate_resource_policy(SecretId=c["Name"], ResourcePolicy=good)
    assert r["PolicyValidationPassed"] is True
    assert r["ValidationErrors"] == []
    r = sm.validate_resource_policy(ResourcePolicy=good)
    assert r["PolicyValidationPassed"] is True
    public = document(allow("secretsmanager:GetSecretValue", Principal="*"))
    r = sm.validate_resource_policy(SecretId=c["Name"], ResourcePolicy=public)
    assert r["PolicyValidationPassed"] is False
    assert len(r["ValidationErrors"]) == 1, r
    assert set(r["ValidationErrors"][0]) == {"CheckName", "ErrorMessage"}, r
    # Validating stores nothing.
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=c["Name"])


def test_resource_policy_allow_grants_a_user_without_identity_policies(sm, new_user, secret):
    c = secret("grant")
    u = new_user(label="granted")
    stranger = new_user(label="stranger")
    sm.put_resource_policy(
        SecretId=c["Name"],
        ResourcePolicy=document(allow("secretsmanager:GetSecretValue", Principal={"AWS": u.arn})),
    )
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    with pytest.raises(ClientError) as ei:
        u.sm.describe_secret(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:DescribeSecret", c["Name"])
    with pytest.raises(ClientError) as ei:
        stranger.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, stranger.name, "secretsmanager:GetSecretValue", c["Name"])


def test_resource_policy_deny_overrides_identity_allow(sm, new_user, secret):
    c = secret("resdeny")
    u = new_user(allow("secretsmanager:*"), label="resdeny")
    assert u.sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"
    sm.put_resource_policy(
        SecretId=c["Name"],
        ResourcePolicy=document(deny("secretsmanager:GetSecretValue", Principal={"AWS": u.arn})),
    )
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"], by="resource")
    assert u.sm.describe_secret(SecretId=c["Name"])["Name"] == c["Name"]
    # The admin is not named by the Deny.
    assert sm.get_secret_value(SecretId=c["Name"])["SecretString"] == "value-1"


def test_a_user_without_permission_cannot_put_a_resource_policy_granting_itself(
    sm, new_user, secret
):
    c = secret("selfgrant")
    u = new_user(allow("secretsmanager:GetResourcePolicy"), label="selfgrant")
    with pytest.raises(ClientError) as ei:
        u.sm.put_resource_policy(
            SecretId=c["Name"],
            ResourcePolicy=document(allow("secretsmanager:*", Principal={"AWS": u.arn})),
        )
    assert_denied(ei, u.name, "secretsmanager:PutResourcePolicy", c["Name"])
    assert "ResourcePolicy" not in u.sm.get_resource_policy(SecretId=c["Name"])


def test_identity_deny_beats_resource_policy_allow(sm, new_user, secret):
    c = secret("iddeny")
    u = new_user(deny("secretsmanager:GetSecretValue"), label="iddeny")
    sm.put_resource_policy(
        SecretId=c["Name"],
        ResourcePolicy=document(allow("secretsmanager:GetSecretValue", Principal={"AWS": u.arn})),
    )
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"], by="identity")


def test_resource_policy_naming_the_account_does_not_grant_a_user_without_identity_policy(
    sm, new_user, secret
):
    # AWS's policy evaluation within one account: a resource policy that
    # names a user's ARN grants that user on its own, but one that names the account
    # (arn:aws:iam::<account>:root, or the bare account id) delegates to the account, whose
    # identity policies must then allow the call too.
    c = secret("acctprincipal")
    u = new_user(label="acctprincipal")
    for principal in (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT):
        sm.put_resource_policy(
            SecretId=c["Name"],
            ResourcePolicy=document(allow("secretsmanager:GetSecretValue",
                                          Principal={"AWS": principal})),
        )
        with pytest.raises(ClientError) as ei:
            u.sm.get_secret_value(SecretId=c["Name"])
        assert_denied(ei, u.name, "secretsmanager:GetSecretValue", c["Name"])


# ---------------------------------------------------------------------------
# Rotation permissions
# ---------------------------------------------------------------------------
def test_rotate_secret_without_lambda_invoke_function_is_denied_and_stores_nothing(
    sm, new_user, secret
):
    c = secret("rotate-nolambda", value=json.dumps({"username": "app", "password": "old"}))
    u = new_user(allow("secretsmanager:RotateSecret", c["ARN"]), label="nolambda")
    before = stages(sm, c["Name"])
    with pytest.raises(ClientError) as ei:
        u.sm.rotate_secret(
            SecretId=c["Name"], RotationLambdaARN=BUILTIN_LAMBDA_ARN,
            RotationRules={"AutomaticallyAfterDays": 10},
        )
    assert_denied(ei, u.name, "lambda:InvokeFunction", BUILTIN_LAMBDA_ARN)
    d = sm.describe_secret(SecretId=c["Name"])
    assert not d.get("RotationEnabled"), d
    assert "RotationLambdaARN" not in d, d
    assert "RotationRules" not in d, d
    assert stages(sm, c["Name"]) == before
    time.sleep(0.5)  # a rotation started anyway would have made a version by now
    assert stages(sm, c["Name"]) == before


def test_rotate_secret_with_lambda_invoke_function_rotates(sm, new_user, secret):
    c = secret("rotate-allowed", value=json.dumps({"username": "app", "password": "old"}))
    u = new_user(
        allow("secretsmanager:RotateSecret", c["ARN"]),
        allow("lambda:InvokeFunction", BUILTIN_LAMBDA_ARN),
        label="rotator",
    )
    r = u.sm.rotate_secret(
        SecretId=c["Name"], RotationLambdaARN=BUILTIN_LAMBDA_ARN,
        RotationRules={"AutomaticallyAfterDays": 10},
    )
    assert (r["ARN"], r["Name"]) == (c["ARN"], c["Name"])
    new = r["VersionId"]
    assert new != c["VersionId"]
    done = wait_until(
        lambda: "AWSCURRENT" in stages(sm, c["Name"]).get(new, []), ROTATION_WAIT
    )
    assert done, stages(sm, c["Name"])
    d = sm.describe_secret(SecretId=c["Name"])
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == BUILTIN_LAMBDA_ARN
    assert stages(sm, c["Name"])[c["VersionId"]] == ["AWSPREVIOUS"]
    value = json.loads(sm.get_secret_value(SecretId=c["Name"])["SecretString"])
    assert value["username"] == "app"
    assert value["password"] != "old"


def test_rotate_secret_with_lambda_allowed_on_another_function_is_denied(sm, new_user, secret):
    c = secret("rotate-otherfn", value=json.dumps({"username": "app", "password": "old"}))
    other_fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:PyRotation"
    u = new_user(
        allow("secretsmanager:RotateSecret", c["ARN"]),
        allow("lambda:InvokeFunction", other_fn),
        label="otherfn",
    )
    with pytest.raises(ClientError) as ei:
        u.sm.rotate_secret(SecretId=c["Name"], RotationLambdaARN=BUILTIN_LAMBDA_ARN)
    assert_denied(ei, u.name, "lambda:InvokeFunction", BUILTIN_LAMBDA_ARN)
    assert "RotationLambdaARN" not in sm.describe_secret(SecretId=c["Name"])


# ---------------------------------------------------------------------------
# Audit trail: <data dir>/audit.log
# ---------------------------------------------------------------------------
def test_a_denied_call_is_audited_with_its_error_and_user(server, new_user, secret):
    c = secret("audit-denied")
    u = new_user(label="auditdenied")
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    rid = request_id(ei)
    [rec] = wait_audit(server, by_request(rid))
    assert rec["eventName"] == "GetSecretValue"
    assert rec["eventSource"] == "secretsmanager.amazonaws.com"
    assert rec["eventType"] == "AwsApiCall"
    assert rec["errorCode"] == "AccessDeniedException"
    assert rec["errorMessage"] == denied(u.name, "secretsmanager:GetSecretValue", c["Name"])
    assert rec["userIdentity"]["type"] == "IAMUser"
    assert rec["userIdentity"]["userName"] == u.name
    assert rec["userIdentity"]["arn"] == u.arn
    assert rec["userIdentity"]["accessKeyId"] == u.access_key_id
    assert rec["userIdentity"]["principalId"] == u.user_id
    assert rec["requestParameters"] == {"secretId": c["Name"]}


def test_an_allowed_call_is_audited_in_cloudtrail_shape(server, new_user, secret):
    c = secret("audit-allowed")
    u = new_user(allow("secretsmanager:GetSecretValue"), label="auditallowed")
    r = u.sm.get_secret_value(SecretId=c["Name"], VersionStage="AWSCURRENT")
    [rec] = wait_audit(server, by_request(request_id(r)))
    assert rec["eventVersion"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["eventTime"]), rec
    at = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - at).total_seconds()) < 60
    assert rec["eventSource"] == "secretsmanager.amazonaws.com"
    assert rec["eventName"] == "GetSecretValue"
    assert rec["awsRegion"] == REGION
    assert rec["sourceIPAddress"] == "127.0.0.1"
    assert "Boto3" in rec["userAgent"] or "botocore" in rec["userAgent"], rec
    assert rec["userIdentity"]["type"] == "IAMUser"
    assert rec["userIdentity"]["userName"] == u.name
    assert rec["userIdentity"]["arn"] == u.arn
    assert rec["userIdentity"]["accessKeyId"] == u.access_key_id
    assert rec["userIdentity"]["principalId"] == u.user_id
    assert rec["requestParameters"] == {"secretId": c["Name"], "versionStage": "AWSCURRENT"}
    assert "errorCode" not in rec
    assert "errorMessage" not in rec
    assert rec["eventType"] == "AwsApiCall"
    assert rec["readOnly"] is True
    uuid.UUID(rec["eventID"])
    # The value is never recorded.
    assert "value-1" not in json.dumps(rec)


def test_a_write_call_is_audited_as_not_read_only(server, sm, unique):
    name = unique("audit-write")
    r = sm.create_secret(Name=name, SecretString="write-value")
    [rec] = wait_audit(server, by_request(request_id(r)))
    assert rec["eventName"] == "CreateSecret"
    assert rec["readOnly"] is False
    assert rec["userIdentity"]["userName"] == ADMIN
    assert rec["userIdentity"]["accessKeyId"] == ACCESS_KEY_ID
    assert rec["requestParameters"]["name"] == name


def test_iam_calls_are_audited_with_the_iam_event_source(server, iam):
    name = iam_name("auditiam")
    r = iam.create_user(UserName=name)
    [rec] = wait_audit(server, by_request(request_id(r)))
    assert rec["eventSource"] == "iam.amazonaws.com"
    assert rec["eventName"] == "CreateUser"
    assert rec["eventType"] == "AwsApiCall"
    assert rec["readOnly"] is False
    assert rec["requestParameters"] == {"userName": name}
    assert rec["userIdentity"]["userName"] == ADMIN
    missing = iam_name("auditiam-missing")
    with pytest.raises(ClientError) as ei:
        iam.get_user(UserName=missing)
    [rec] = wait_audit(server, by_request(request_id(ei)))
    assert rec["eventName"] == "GetUser"
    assert rec["readOnly"] is True
    assert rec["errorCode"] == "NoSuchEntity"
    assert rec["errorMessage"] == f"The user with name {missing} cannot be found."


def test_a_denied_iam_call_is_audited_as_access_denied(server, new_user):
    u = new_user(label="auditiamdenied")
    wanted = iam_name("auditiamwanted")
    with pytest.raises(ClientError) as ei:
        u.iam.create_user(UserName=wanted)
    [rec] = wait_audit(server, by_request(request_id(ei)))
    assert rec["eventSource"] == "iam.amazonaws.com"
    assert rec["eventName"] == "CreateUser"
    assert rec["errorCode"] == "AccessDenied"
    assert rec["errorMessage"] == denied(u.name, "iam:CreateUser", user_arn(wanted))
    assert rec["userIdentity"]["userName"] == u.name
    assert rec["requestParameters"] == {"userName": wanted}


def test_secret_values_never_reach_the_audit_trail(server, sm, unique):
    markers = [f"MARKER-{uuid.uuid4().hex}" for _ in range(4)]
    name = unique("audit-values")
    ids = [
        request_id(sm.create_secret(Name=name, SecretString=markers[0])),
        request_id(sm.put_secret_value(SecretId=name, SecretString=markers[1])),
        request_id(sm.update_secret(SecretId=name, SecretString=markers[2])),
        request_id(sm.put_secret_value(SecretId=name, SecretBinary=markers[3].encode())),
        request_id(sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")),
        request_id(sm.get_secret_value(SecretId=name)),
    ]
    recs = wait_audit(server, by_request(*ids), count=len(ids))
    assert sorted(r["eventName"] for r in recs) == sorted([
        "CreateSecret", "PutSecretValue", "UpdateSecret", "PutSecretValue",
        "GetSecretValue", "GetSecretValue",
    ])
    text = audit_text(server)
    for m in markers:
        assert m not in text
        assert base64.b64encode(m.encode()).decode() not in text


def test_a_new_secret_access_key_never_reaches_the_audit_trail(server, iam):
    name = iam_name("auditkey")
    iam.create_user(UserName=name)
    r = iam.create_access_key(UserName=name)
    [rec] = wait_audit(server, by_request(request_id(r)))
    assert rec["eventName"] == "CreateAccessKey"
    assert rec["eventSource"] == "iam.amazonaws.com"
    secret_key = r["AccessKey"]["SecretAccessKey"]
    assert secret_key not in audit_text(server)


def test_a_random_password_never_reaches_the_audit_trail(server, sm):
    r = sm.get_random_password(PasswordLength=64, ExcludePunctuation=True)
    [rec] = wait_audit(server, by_request(request_id(r)))
    assert rec["eventName"] == "GetRandomPassword"
    assert rec["requestParameters"] == {"passwordLength": 64, "excludePunctuation": True}
    assert r["RandomPassword"] not in audit_text(server)


def test_a_failed_signature_is_audited_without_a_user(server, new_user, make_client, secret):
    c = secret("audit-badsig")
    u = new_user(label="badsig")
    wrong = make_client(REGION, access_key=u.access_key_id, secret_key="not-the-secret-key-0000")
    with pytest.raises(ClientError) as ei:
        wrong.get_secret_value(SecretId=c["Name"])
    assert ei.value.response["Error"]["Code"] == "InvalidSignatureException"
    rid = request_id(ei)
    [rec] = wait_audit(server, by_request(rid))
    assert rec["errorCode"] == "InvalidSignatureException"
    assert rec["userIdentity"]["accessKeyId"] == u.access_key_id
    assert "not-the-secret-key-0000" not in audit_text(server)


def test_rotation_events_are_audited_as_service_events(server, sm, secret):
    c = secret("audit-rotation", value=json.dumps({"username": "app", "password": "old"}))
    r = sm.rotate_secret(SecretId=c["Name"], RotationLambdaARN=BUILTIN_LAMBDA_ARN)
    new = r["VersionId"]

    def of_this_rotation(rec):
        details = rec.get("serviceEventDetails") or {}
        return rec.get("eventType") == "AwsServiceEvent" and details.get("secretId") == c["ARN"]

    def ended():
        recs = [x for x in audit_records(server) if of_this_rotation(x)]
        return recs if any(x["eventName"] != "RotationStarted" for x in recs) else None

    recs = wait_until(ended, ROTATION_WAIT + AUDIT_WAIT)
    assert recs, "no rotation end in the audit trail"
    names = [x["eventName"] for x in recs]
    assert names == ["RotationStarted", "RotationSucceeded"], recs
    for x in recs:
        assert x["eventSource"] == "secretsmanager.amazonaws.com"
        assert x["awsRegion"] == REGION
        assert x["serviceEventDetails"]["clientRequestToken"] == new
        assert "errorCode" not in x
    # The rotated value is not recorded either.
    password = json.loads(sm.get_secret_value(SecretId=c["Name"])["SecretString"])["password"]
    assert password not in audit_text(server)


# ---------------------------------------------------------------------------
# `tumbler admin audit`
# ---------------------------------------------------------------------------
def test_admin_audit_lists_a_secrets_records_by_name_or_arn(server, admin_audit, sm, new_user,
                                                            secret):
    c = secret("admin-audit")
    u = new_user(allow("secretsmanager:GetSecretValue"), label="adminaudit")
    ids = {
        request_id(c),
        request_id(u.sm.get_secret_value(SecretId=c["Name"])),
        request_id(sm.describe_secret(SecretId=c["ARN"])),
    }
    with pytest.raises(ClientError) as ei:
        u.sm.describe_secret(SecretId=c["Name"])
    ids.add(request_id(ei))
    wait_audit(server, by_request(*ids), count=len(ids))
    rc, recs, err = admin_audit("--secret-id", c["Name"])
    assert rc == 0, err
    assert {r["requestID"] for r in recs} == ids, recs
    # The same records by ARN, whichever way each call named the secret.
    rc, recs, err = admin_audit("--secret-id", c["ARN"])
    assert rc == 0, err
    # By ARN, the calls that named the secret by name come back too.
    assert {r["requestID"] for r in recs} == ids, [
        (r["eventName"], r["requestParameters"]) for r in recs
    ]
    rc, recs, err = admin_audit("--secret-id", c["Name"], "--event-name", "GetSecretValue")
    assert rc == 0, err
    assert [(r["eventName"], r["userIdentity"]["userName"]) for r in recs] == [
        ("GetSecretValue", u.name)
    ]
    rc, recs, err = admin_audit("--secret-id", c["Name"], "--max-items", 2)
    assert rc == 0, err
    assert len(recs) == 2, recs


def test_admin_audit_filters_by_user_and_errors_only(server, admin_audit, new_user, secret):
    c = secret("admin-audit-user")
    u = new_user(allow("secretsmanager:DescribeSecret"), label="adminaudituser")
    ok = request_id(u.sm.describe_secret(SecretId=c["Name"]))
    with pytest.raises(ClientError) as ei:
        u.sm.get_secret_value(SecretId=c["Name"])
    bad = request_id(ei)
    wait_audit(server, by_request(ok, bad), count=2)
    rc, recs, err = admin_audit("--user-name", u.name)
    assert rc == 0, err
    assert {r["requestID"] for r in recs} == {ok, bad}, recs
    rc, recs, err = admin_audit("--user-name", u.name, "--errors-only")
    assert rc == 0, err
    assert [(r["requestID"], r["errorCode"]) for r in recs] == [(bad, "AccessDeniedException")]


def test_admin_audit_filters_by_time(server, admin_audit, new_user, secret):
    c = secret("admin-audit-time")
    u = new_user(allow("secretsmanager:DescribeSecret"), label="adminaudittime")
    rid = request_id(u.sm.describe_secret(SecretId=c["Name"]))
    wait_audit(server, by_request(rid))
    rc, recs, err = admin_audit("--user-name", u.name, "--start-time", "2020-01-01T00:00:00Z",
                                "--end-time", "2999-01-01T00:00:00Z")
    assert rc == 0, err
    assert [r["requestID"] for r in recs] == [rid]
    rc, recs, err = admin_audit("--user-name", u.name, "--start-time", "2999-01-01T00:00:00Z")
    assert rc == 0, err
    assert recs == []
    rc, recs, err = admin_audit("--user-name", u.name, "--end-time", "2020-01-01T00:00:00Z")
    assert rc == 0, err
    assert recs == []


def test_admin_audit_shows_a_secrets_rotation_events(server, admin_audit, sm, secret):
    c = secret("admin-audit-rotation", value=json.dumps({"username": "app", "password": "old"}))
    new = sm.rotate_secret(SecretId=c["Name"], RotationLambdaARN=BUILTIN_LAMBDA_ARN)["VersionId"]

    def succeeded():
        rc, recs, err = admin_audit("--secret-id", c["Name"], "--event-name", "RotationSucceeded")
        assert rc == 0, err
        return recs

    recs = wait_until(succeeded, ROTATION_WAIT + AUDIT_WAIT, interval=0.3)
    assert len(recs) == 1, recs
    assert recs[0]["eventType"] == "AwsServiceEvent"
    assert recs[0]["serviceEventDetails"]["secretId"] == c["ARN"]
    assert recs[0]["serviceEventDetails"]["clientRequestToken"] == new
    rc, recs, err = admin_audit("--secret-id", c["ARN"], "--event-name", "RotationStarted")
    assert rc == 0, err
    assert [r["serviceEventDetails"]["clientRequestToken"] for r in recs] == [new]
