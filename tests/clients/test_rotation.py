"""Secret rotation through the real aws CLI (v1) and boto3 against Tumbler.

The session server (conftest.py) is started with a config declaring these rotation
functions (a RotationLambdaARN arn:aws:lambda:<region>:<account>:function:<name> names one):

- SecretsManagerTestRotationLambda: the builtin random-password function;
- PyRotation: the AWS-template-style Python function in tests/functions/template_rotation,
  run under awslambdaric through the `process` kind; its "database" is a JSON file;
- PyFailing: the same function raising in setSecret;
- PyNosy: the same function reading another secret (NOSY_TARGET) in createSecret, which the
  rotation's scoped credentials do not allow;
- PyHttp: the same function behind a Lambda Invoke API server (tests/functions/invoke_server.py),
  through the `http` kind.

Rotation runs in the background: RotateSecret answers at once and the tests poll (never a
fixed sleep) until the new version is AWSCURRENT or `tumbler admin rotations` shows the
rotation's end.  Rotation settings are fast (max_attempts 2, retry_delay_ms 100), so a
failing rotation ends within seconds.  Tests share one server and run one at a time; the
PyRotation "database" file is shared by its rotations, which never overlap.
"""

import json
import os
import secrets
import sys
import time
import uuid
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
OWN_KEYS = {"ResponseMetadata"}
STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
WAIT = 30.0  # seconds any one rotation may take here

# The Lambda ARN of the aws CLI's rotate-secret examples, as printed there (its account id has
# 13 digits); Tumbler goes by the function name alone.
CLI_EXAMPLE_LAMBDA_ARN = (
    "arn:aws:lambda:us-west-2:1234566789012:function:SecretsManagerTestRotationLambda"
)
MSG_PREVIOUS_ROTATION = "A previous rotation isn't complete. That rotation will be reattempted."
MSG_LAMBDA_DENIED = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the "
    "function policy grants access to the principal secretsmanager.amazonaws.com."
)
PY_FAILING_MESSAGE = "setSecret failed: the service refused the new credential"


def lambda_arn(name, region=REGION, account="123456789012"):
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def tok():
    return str(uuid.uuid4())


def keys(resp):
    return set(resp) - OWN_KEYS


def stages(sm, secret_id):
    return {
        k: sorted(v)
        for k, v in sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}).items()
    }


def labelled(stage_map):
    """The versions that carry a label (a version left without any is deprecated)."""
    return {k: v for k, v in stage_map.items() if v}


def current_value(sm, secret_id):
    return sm.get_secret_value(SecretId=secret_id)["SecretString"]


def wait_until(fn, timeout=WAIT, interval=0.1):
    """Call fn until it returns a truthy value (returned) or time runs out (last value)."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def epoch(value):
    """A date as the aws CLI prints it (epoch seconds by default) or boto3 gives it."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def assert_error(excinfo, code, message=None, status=400):
    err = excinfo.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    if message is not None:
        assert err["Error"]["Message"] == message, err


def steps_of(files, token):
    """The steps a template-based function logged for `token`, in order."""
    try:
        with open(files.step_log_with_token) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        step, _, logged = line.partition(" ")
        if logged == token:
            out.append(step)
    return out


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def diagnostics(server, admin, secret_id):
    rc, history, _, err = admin("rotations", "--secret-id", secret_id)
    log_tail = "\n".join(server.log().splitlines()[-60:])
    return (
        f"rotations (rc {rc}): {json.dumps(history, indent=1) if history else err}\n"
        f"server log tail:\n{log_tail}"
    )


@pytest.fixture
def rotation(server, sm, tumbler_admin):
    """Helpers bound to the session server: waiting for a rotation's end, and its history."""

    class Rotation:
        def history(self, secret_id):
            rc, out, _, err = tumbler_admin("rotations", "--secret-id", secret_id)
            assert rc == 0, err
            return out

        def events(self, secret_id, version_id):
            return [
                e for e in self.history(secret_id)["Events"] if e.get("VersionId") == version_id
            ]

        def record(self, secret_id, version_id):
            found = [
                r for r in self.history(secret_id)["Rotations"] if r["VersionId"] == version_id
            ]
            assert len(found) == 1, found
            return found[0]

        def wait_current(self, secret_id, version_id, timeout=WAIT):
            """Waits until `version_id` is AWSCURRENT and the rotation recorded its success."""

            def done():
                if "AWSCURRENT" not in stages(sm, secret_id).get(version_id, []):
                    return None
                ends = [
                    e for e in self.events(secret_id, version_id)
                    if e["Event"] != "RotationStarted"
                ]
                return ends or None

            ends = wait_until(done, timeout)
            if not ends:
                pytest.fail(
                    f"rotation {version_id} of {secret_id} did not finish within {timeout} s\n"
                    + diagnostics(server, tumbler_admin, secret_id)
                )
            assert [e["Event"] for e in ends] == ["RotationSucceeded"], ends
            return sm.describe_secret(SecretId=secret_id)

        def wait_end(self, secret_id, version_id, timeout=WAIT):
            """Waits until the rotation that made `version_id` ended; returns its end event."""

            def ended():
                return [
                    e for e in self.events(secret_id, version_id)
                    if e["Event"] != "RotationStarted"
                ]

            ends = wait_until(ended, timeout)
            if not ends:
                pytest.fail(
                    f"rotation {version_id} of {secret_id} did not end within {timeout} s\n"
                    + diagnostics(server, tumbler_admin, secret_id)
                )
            assert len(ends) == 1, ends
            return ends[0]

    return Rotation()


@pytest.fixture(scope="session")
def awslambdaric():
    """The `process` functions run the template under awslambdaric (same interpreter)."""
    try:
        import awslambdaric as ric  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("awslambdaric is required in CI (pip install awslambdaric)")
        pytest.skip("awslambdaric is not installed (pip install awslambdaric)")


def new_json_secret(sm, name, password="old-password", username="app"):
    c = sm.create_secret(
        Name=name, SecretString=json.dumps({"username": username, "password": password})
    )
    return c


# ---------------------------------------------------------------------------
# The aws CLI's rotate-secret examples, with the builtin function
# ---------------------------------------------------------------------------
def test_cli_rotate_secret_examples_rotate_with_the_builtin_function(aws, unique, rotation):
    name = unique("MyTestDatabaseSecret")
    rc, c, err = aws(
        "create-secret", "--name", name,
        "--secret-string", '{"username":"app","password":"old"}',
    )
    assert rc == 0, err

    # Example 1: configure and start automatic rotation.
    rc, out, err = aws(
        "rotate-secret", "--secret-id", name,
        "--rotation-lambda-arn", CLI_EXAMPLE_LAMBDA_ARN,
        "--rotation-rules", "AutomaticallyAfterDays=10",
    )
    assert rc == 0, err
    assert set(out) == {"ARN", "Name", "VersionId"}, out
    assert (out["ARN"], out["Name"]) == (c["ARN"], name)
    first = out["VersionId"]
    assert first != c["VersionId"]
    rotation.wait_current(name, first)
    rc, got, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert got["VersionId"] == first
    first_value = json.loads(got["SecretString"])
    assert first_value["username"] == "app"
    assert first_value["password"] != "old"
    assert len(first_value["password"]) == 32

    # Example 2: rotate now, with the configuration stored.
    rc, out, err = aws("rotate-secret", "--secret-id", name)
    assert rc == 0, err
    assert set(out) == {"ARN", "Name", "VersionId"}, out
    assert (out["ARN"], out["Name"]) == (c["ARN"], name)
    second = out["VersionId"]
    assert second not in (c["VersionId"], first)
    rotation.wait_current(name, second)
    rc, got, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert got["VersionId"] == second
    second_value = json.loads(got["SecretString"])
    assert second_value["username"] == "app"
    assert second_value["password"] not in ("old", first_value["password"])

    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert rc == 0, err
    assert labelled({k: sorted(v) for k, v in d["VersionIdsToStages"].items()}) == {
        first: ["AWSPREVIOUS"],
        second: ["AWSCURRENT"],
    }


def test_cli_describe_secret_after_rotation_shows_rotation_configuration(aws, unique, rotation):
    name = unique("MyTestDatabaseSecret")
    rc, c, err = aws(
        "create-secret", "--name", name,
        "--secret-string", '{"username":"app","password":"old"}',
    )
    assert rc == 0, err
    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert rc == 0, err
    for absent in ("RotationEnabled", "RotationLambdaARN", "RotationRules",
                   "LastRotatedDate", "NextRotationDate"):
        assert absent not in d, d

    started = time.time()
    rc, out, err = aws(
        "rotate-secret", "--secret-id", name,
        "--rotation-lambda-arn", CLI_EXAMPLE_LAMBDA_ARN,
        "--rotation-rules", "AutomaticallyAfterDays=10",
    )
    assert rc == 0, err
    rotation.wait_current(name, out["VersionId"])

    rc, d, err = aws("describe-secret", "--secret-id", name)
    assert rc == 0, err
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == CLI_EXAMPLE_LAMBDA_ARN
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 10
    last = epoch(d["LastRotatedDate"])
    assert started - 5 <= last <= time.time() + 5, d
    nxt = epoch(d["NextRotationDate"])
    # The next window: ten days on, to the end of its day (UTC).
    assert last + 9 * 86400 <= nxt <= last + 11 * 86400, d


# ---------------------------------------------------------------------------
# The Python template function: process kind (awslambdaric) and http kind
# ---------------------------------------------------------------------------
def _assert_template_rotation(sm, server, rotation, name, fn_name, c, token):
    files = server.functions[fn_name]
    d = rotation.wait_current(name, token)
    assert labelled(stages(sm, name)) == {c["VersionId"]: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == lambda_arn(fn_name)
    assert "LastRotatedDate" in d and "NextRotationDate" in d

    new = json.loads(current_value(sm, name))
    assert new["username"] == "app"
    assert new["password"] != "old-password"
    old = json.loads(
        sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"]
    )
    assert old == {"username": "app", "password": "old-password"}
    # setSecret put the new password into the "database".
    assert read_json(files.target_file) == {"username": "app", "password": new["password"]}
    # The four steps, once each, in order, for this rotation.
    assert steps_of(files, token) == STEPS

    history = rotation.history(name)
    assert [e["Event"] for e in history["Events"] if e["VersionId"] == token] == [
        "RotationStarted",
        "RotationSucceeded",
    ]
    record = rotation.record(name, token)
    assert (record["Kind"], record["Function"], record["State"]) == ("rotate", fn_name, "succeeded")
    assert record["Attempt"] == 1
    assert "Error" not in record
    return new


def test_python_template_function_rotates_under_awslambdaric_through_the_process_kind(
    sm, server, unique, rotation, awslambdaric
):
    name = unique("pyrot")
    c = new_json_secret(sm, name)
    token = tok()
    r = sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyRotation"),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    assert keys(r) == {"ARN", "Name", "VersionId"}
    assert (r["ARN"], r["Name"], r["VersionId"]) == (c["ARN"], name, token)
    _assert_template_rotation(sm, server, rotation, name, "PyRotation", c, token)
    # STEP_LOG, the plain form other tests read: one step name a line.
    with open(server.functions["PyRotation"].step_log) as f:
        assert f.read().splitlines()[-4:] == STEPS


def test_python_template_function_rotates_through_the_http_kind(sm, server, unique, rotation):
    name = unique("pyhttp")
    c = new_json_secret(sm, name)
    token = tok()
    r = sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyHttp", region="eu-west-1", account="111122223333"),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    assert (r["ARN"], r["Name"], r["VersionId"]) == (c["ARN"], name, token)
    rotation.wait_current(name, token)
    files = server.functions["PyHttp"]
    new = json.loads(current_value(sm, name))
    assert new["password"] != "old-password"
    assert read_json(files.target_file) == {"username": "app", "password": new["password"]}
    assert steps_of(files, token) == STEPS
    assert labelled(stages(sm, name)) == {c["VersionId"]: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    record = rotation.record(name, token)
    assert (record["Kind"], record["Function"], record["State"]) == ("rotate", "PyHttp", "succeeded")
    # The invocations went through the Lambda Invoke API server.
    assert server.invoke.log().count("POST /2015-03-31/functions/function/invocations") >= 4


# ---------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------
def test_failing_function_leaves_awspending_blocks_rotation_until_it_is_removed(
    sm, aws, server, unique, rotation, awslambdaric
):
    name = unique("pyfail")
    c = new_json_secret(sm, name)
    token = tok()
    sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyFailing"),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    end = rotation.wait_end(name, token)
    assert end["Event"] == "RotationFailed", end
    assert end["Step"] == "setSecret", end
    assert PY_FAILING_MESSAGE in end["Error"], end
    assert end["Attempt"] == 2, end  # max_attempts runs of the whole rotation
    record = rotation.record(name, token)
    assert (record["State"], record["Step"], record["Attempt"]) == ("failed", "setSecret", 2)
    assert PY_FAILING_MESSAGE in record["Error"]
    # Each run started over from createSecret.
    assert steps_of(server.functions["PyFailing"], token) == ["createSecret", "setSecret"] * 2

    # AWSPENDING stays on the new version only; AWSCURRENT and the value are unchanged.
    assert labelled(stages(sm, name)) == {c["VersionId"]: ["AWSCURRENT"], token: ["AWSPENDING"]}
    assert json.loads(current_value(sm, name)) == {"username": "app", "password": "old-password"}
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True
    assert "LastRotatedDate" not in d

    # A new rotation is refused while the failed one's AWSPENDING is there.
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=name, ClientRequestToken=tok())
    assert_error(ei, "InvalidRequestException", MSG_PREVIOUS_ROTATION)
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(
            SecretId=name, ClientRequestToken=tok(), RotationLambdaARN=lambda_arn("PyRotation")
        )
    assert_error(ei, "InvalidRequestException", MSG_PREVIOUS_ROTATION)
    rc, _, err = aws("rotate-secret", "--secret-id", name)
    assert rc != 0
    assert "InvalidRequestException" in err and MSG_PREVIOUS_ROTATION in err, err

    # The documented way out: take AWSPENDING off the failed version, rotate again.
    sm.update_secret_version_stage(
        SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=token
    )
    assert labelled(stages(sm, name)) == {c["VersionId"]: ["AWSCURRENT"]}
    retry = tok()
    r = sm.rotate_secret(
        SecretId=name, ClientRequestToken=retry, RotationLambdaARN=lambda_arn("PyRotation")
    )
    assert r["VersionId"] == retry
    _assert_template_rotation(sm, server, rotation, name, "PyRotation", c, retry)
    assert sm.describe_secret(SecretId=name)["RotationRules"]["AutomaticallyAfterDays"] == 30


def test_function_reading_another_secret_is_denied_and_the_rotation_fails(
    sm, server, unique, rotation, awslambdaric
):
    try:
        sm.create_secret(Name=server.nosy_target, SecretString="not for PyNosy")
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceExistsException":
            raise
    name = unique("pynosy")
    c = new_json_secret(sm, name)
    token = tok()
    sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyNosy"),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    end = rotation.wait_end(name, token)
    assert end["Event"] == "RotationFailed", end
    assert end["Step"] == "createSecret", end
    assert "AccessDeniedException" in end["Error"], end
    assert "not authorized" in end["Error"], end
    assert "GetSecretValue" in end["Error"], end
    assert steps_of(server.functions["PyNosy"], token) == ["createSecret"] * 2
    # Nothing was written: the pending version has no value, AWSCURRENT is unchanged.
    assert labelled(stages(sm, name)) == {c["VersionId"]: ["AWSCURRENT"], token: ["AWSPENDING"]}
    with pytest.raises(ClientError) as ei:
        sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
    assert ei.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert json.loads(current_value(sm, name))["password"] == "old-password"
    assert current_value(sm, server.nosy_target) == "not for PyNosy"


# ---------------------------------------------------------------------------
# RotateImmediately=false: testSecret alone, on a temporary copy
# ---------------------------------------------------------------------------
def test_rotate_immediately_false_runs_only_test_secret_on_a_temporary_copy(
    sm, server, unique, rotation, awslambdaric
):
    files = server.functions["PyRotation"]
    # The "database" holds the secret's current password, as after a real setSecret: the
    # template's testSecret logs in with the pending value, here a copy of the current one.
    password = secrets.token_hex(16)
    write_json(files.target_file, {"username": "app", "password": password})
    name = unique("pytest-only")
    c = new_json_secret(sm, name, password=password)
    token = tok()
    r = sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyRotation"),
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    assert (r["ARN"], r["Name"]) == (c["ARN"], name)
    assert keys(r) <= {"ARN", "Name", "VersionId"}
    end = rotation.wait_end(name, token)
    assert end["Event"] == "RotationSucceeded", end
    record = rotation.record(name, token)
    assert (record["Kind"], record["State"]) == ("test", "succeeded")
    assert steps_of(files, token) == ["testSecret"]

    # AWSCURRENT and the value unchanged, the temporary version gone.
    assert stages(sm, name) == {c["VersionId"]: ["AWSCURRENT"]}
    ids = [v["VersionId"] for v in sm.list_secret_version_ids(
        SecretId=name, IncludeDeprecated=True)["Versions"]]
    assert ids == [c["VersionId"]]
    assert json.loads(current_value(sm, name))["password"] == password
    assert read_json(files.target_file)["password"] == password
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == lambda_arn("PyRotation")
    assert "NextRotationDate" in d
    assert "LastRotatedDate" not in d


def test_rotate_immediately_false_failing_test_removes_the_copy_and_leaves_rotation_open(
    sm, server, unique, rotation, awslambdaric
):
    files = server.functions["PyRotation"]
    # The "database" holds another password: the test of the current value fails.
    write_json(files.target_file, {"username": "app", "password": "something-else"})
    name = unique("pytest-fail")
    c = new_json_secret(sm, name)
    token = tok()
    sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=token,
        RotationLambdaARN=lambda_arn("PyRotation"),
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    end = rotation.wait_end(name, token)
    assert end["Event"] == "RotationFailed", end
    assert end["Step"] == "testSecret", end
    assert "the service does not accept the pending password" in end["Error"], end
    assert steps_of(files, token) == ["testSecret"] * 2
    assert stages(sm, name) == {c["VersionId"]: ["AWSCURRENT"]}
    assert json.loads(current_value(sm, name))["password"] == "old-password"

    # No AWSPENDING was left behind: a real rotation may start, and it fixes the "database".
    retry = tok()
    sm.rotate_secret(SecretId=name, ClientRequestToken=retry)
    _assert_template_rotation(sm, server, rotation, name, "PyRotation", c, retry)


# ---------------------------------------------------------------------------
# CancelRotateSecret
# ---------------------------------------------------------------------------
def test_cancel_rotate_secret_after_rotation_disables_it_and_keeps_its_configuration(
    sm, aws, unique, rotation
):
    name = unique("cancel")
    c = new_json_secret(sm, name)
    arn = lambda_arn("SecretsManagerTestRotationLambda")
    r = sm.rotate_secret(
        SecretId=name,
        ClientRequestToken=tok(),
        RotationLambdaARN=arn,
        RotationRules={"AutomaticallyAfterDays": 10},
    )
    rotation.wait_current(name, r["VersionId"])
    before = sm.describe_secret(SecretId=name)

    rc, out, err = aws("cancel-rotate-secret", "--secret-id", name)
    assert rc == 0, err
    assert (out["ARN"], out["Name"]) == (c["ARN"], name)
    assert set(out) <= {"ARN", "Name", "VersionId"}, out

    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is False
    assert d["RotationLambdaARN"] == arn
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 10
    assert "NextRotationDate" not in d
    assert d["LastRotatedDate"] == before["LastRotatedDate"]
    # The labels stay as they were.
    assert labelled(stages(sm, name)) == {
        c["VersionId"]: ["AWSPREVIOUS"],
        r["VersionId"]: ["AWSCURRENT"],
    }

    # RotateSecret with the stored configuration turns rotation back on.
    rc, again, err = aws("rotate-secret", "--secret-id", name)
    assert rc == 0, err
    rotation.wait_current(name, again["VersionId"])
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == arn
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 10
    assert "NextRotationDate" in d
    assert d["LastRotatedDate"] > before["LastRotatedDate"]
    assert labelled(stages(sm, name)) == {
        r["VersionId"]: ["AWSPREVIOUS"],
        again["VersionId"]: ["AWSCURRENT"],
    }


# ---------------------------------------------------------------------------
# tumbler admin functions
# ---------------------------------------------------------------------------
def test_admin_functions_put_get_list_delete_and_rotate_with_a_registered_builtin(
    sm, unique, rotation, tumbler_admin
):
    fname = f"TumblerTestBuiltin_{uuid.uuid4().hex[:8]}"
    rc, out, _, err = tumbler_admin(
        "functions", "put", "--name", fname, "--kind", "builtin",
        "--builtin", "random-password", "--password-length", "20",
    )
    assert rc == 0, err
    definition = {"name": fname, "kind": "builtin", "builtin": "random-password", "password_length": 20}
    assert out["Function"] == definition

    rc, out, _, err = tumbler_admin("functions", "get", "--name", fname)
    assert rc == 0, err
    assert out["Function"] == definition
    assert "UpdatedDate" in out
    rc, out, _, err = tumbler_admin("functions", "list")
    assert rc == 0, err
    listed = {f["Function"]["name"]: f["Function"] for f in out["Functions"]}
    assert listed[fname] == definition
    assert {"SecretsManagerTestRotationLambda", "PyRotation", "PyHttp"} <= set(listed)

    # A plain string secret: the builtin replaces the whole value with a new password.
    name = unique("adminfn")
    c = sm.create_secret(Name=name, SecretString="initial")
    arn = lambda_arn(fname, region="eu-central-1", account="111122223333")
    r = sm.rotate_secret(
        SecretId=name, ClientRequestToken=tok(), RotationLambdaARN=arn,
        RotationRules={"AutomaticallyAfterDays": 7},
    )
    rotation.wait_current(name, r["VersionId"])
    value = current_value(sm, name)
    assert value != "initial" and len(value) == 20
    assert rotation.record(name, r["VersionId"])["Function"] == fname
    assert labelled(stages(sm, name)) == {
        c["VersionId"]: ["AWSPREVIOUS"],
        r["VersionId"]: ["AWSCURRENT"],
    }

    rc, _, _, err = tumbler_admin("functions", "delete", "--name", fname)
    assert rc == 0, err
    rc, _, out, err = tumbler_admin("functions", "get", "--name", fname)
    assert rc != 0
    assert "ResourceNotFoundException" in err, (out, err)
    rc, out, _, err = tumbler_admin("functions", "list")
    assert rc == 0, err
    assert fname not in {f["Function"]["name"] for f in out["Functions"]}
    rc, _, _, err = tumbler_admin("functions", "delete", "--name", fname)
    assert rc != 0
    assert "ResourceNotFoundException" in err, err

    # A function no longer registered is one Secrets Manager cannot invoke.
    with pytest.raises(ClientError) as ei:
        sm.rotate_secret(SecretId=name, ClientRequestToken=tok())
    assert_error(ei, "AccessDeniedException", MSG_LAMBDA_DENIED)
    assert labelled(stages(sm, name)) == {
        c["VersionId"]: ["AWSPREVIOUS"],
        r["VersionId"]: ["AWSCURRENT"],
    }


def test_admin_functions_put_registers_a_process_function_given_after_double_dash(
    sm, server, unique, rotation, tumbler_admin, awslambdaric, tmp_path
):
    template_dir = server.template_dir
    fname = f"TumblerTestProcess_{uuid.uuid4().hex[:8]}"
    target = str(tmp_path / "target.json")
    step_log = str(tmp_path / "steps.log")
    rc, out, _, err = tumbler_admin(
        "functions", "put", "--name", fname, "--kind", "process",
        "--workdir", template_dir, "--timeout-seconds", "30",
        "--env", f"TARGET_FILE={target}", "--env", f"STEP_LOG={step_log}",
        "--", sys.executable, "-m", "awslambdaric", "lambda_function.lambda_handler",
    )
    assert rc == 0, err
    rc, out, _, err = tumbler_admin("functions", "get", "--name", fname)
    assert rc == 0, err
    f = out["Function"]
    assert f["kind"] == "process"
    assert f["command"] == [sys.executable, "-m", "awslambdaric", "lambda_function.lambda_handler"]
    assert f["workdir"] == template_dir
    assert f["env"] == {"TARGET_FILE": target, "STEP_LOG": step_log}
    assert f["timeout_seconds"] == 30
    try:
        name = unique("adminproc")
        new_json_secret(sm, name)
        r = sm.rotate_secret(
            SecretId=name, ClientRequestToken=tok(), RotationLambdaARN=lambda_arn(fname),
            RotationRules={"AutomaticallyAfterDays": 30},
        )
        rotation.wait_current(name, r["VersionId"])
        new = json.loads(current_value(sm, name))
        assert read_json(target) == {"username": "app", "password": new["password"]}
        with open(step_log) as fh:
            assert fh.read().splitlines() == STEPS
    finally:
        rc, _, _, err = tumbler_admin("functions", "delete", "--name", fname)
        assert rc == 0, err


# ---------------------------------------------------------------------------
# The Lambda Invoke API server behind PyHttp
# ---------------------------------------------------------------------------
def test_invoke_server_answers_a_raising_handler_as_lambda_does(server, unique):
    import requests

    event = {
        "Step": "createSecret",
        "SecretId": unique("invoke-missing"),
        "ClientRequestToken": tok(),
        "RotationToken": tok(),
    }
    r = requests.post(server.invoke.url, json=event, timeout=30)
    assert r.status_code == 200
    assert r.headers.get("X-Amz-Function-Error") == "Unhandled"
    body = r.json()
    assert set(body) == {"errorMessage", "errorType"}
    assert "ResourceNotFoundException" in body["errorMessage"], body
    r = requests.post(server.invoke.url.replace("/function/", "/other/"), json=event, timeout=30)
    assert r.status_code == 404
