"""The README's "Least privilege" walk-through, command for command, with `tumbler iam`,
`tumbler secretsmanager` and `tumbler admin audit` against the session's server (whose
SecretsManagerTestRotationLambda is the builtin random-password function)."""

import json
import os
import subprocess
import time

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerTestRotationLambda"


def run(server, service, *args, key=(ACCESS_KEY_ID, SECRET_ACCESS_KEY)):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TUMBLER_"))}
    env.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
    argv = [server.binary, service, "--endpoint-url", server.url, "--region", "us-east-1",
            *[str(a) for a in args]]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def ok(result):
    rc, out, err = result
    assert rc == 0, err
    return json.loads(out) if out.strip() else None


def test_the_readme_walk_through_reader_rotator_and_their_audit_records(
        server, unique, tumbler_admin):
    prefix = unique("prod")
    db, payments = f"{prefix}/db", f"{prefix}/payments"
    ok(run(server, "secretsmanager", "create-secret", "--name", db,
           "--secret-string", '{"username":"app","password":"initial"}'))
    ok(run(server, "secretsmanager", "create-secret", "--name", payments,
           "--secret-string", '{"token":"t0"}'))
    reader, rotator = unique("reader").replace("/", "-"), unique("rotator").replace("/", "-")

    ok(run(server, "iam", "create-user", "--user-name", reader))
    ok(run(server, "iam", "put-user-policy", "--user-name", reader, "--policy-name",
           "read-prod-db", "--policy-document", json.dumps({
               "Version": "2012-10-17",
               "Statement": [{"Effect": "Allow",
                              "Action": ["secretsmanager:GetSecretValue",
                                         "secretsmanager:DescribeSecret"],
                              "Resource": f"arn:aws:secretsmanager:*:*:secret:{db}-??????"}]})))
    k = ok(run(server, "iam", "create-access-key", "--user-name", reader))["AccessKey"]
    reader_key = (k["AccessKeyId"], k["SecretAccessKey"])

    ok(run(server, "iam", "create-user", "--user-name", rotator))
    ok(run(server, "iam", "put-user-policy", "--user-name", rotator, "--policy-name",
           "rotate-prod", "--policy-document", json.dumps({
               "Version": "2012-10-17",
               "Statement": [
                   {"Effect": "Allow",
                    "Action": ["secretsmanager:RotateSecret", "secretsmanager:DescribeSecret"],
                    "Resource": f"arn:aws:secretsmanager:*:*:secret:{prefix}/*"},
                   {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                    "Resource": "arn:aws:lambda:*:*:function:SecretsManagerTestRotationLambda"}]})))
    k = ok(run(server, "iam", "create-access-key", "--user-name", rotator))["AccessKey"]
    rotator_key = (k["AccessKeyId"], k["SecretAccessKey"])

    # The reader reads its secret and nothing else.
    value = ok(run(server, "secretsmanager", "get-secret-value", "--secret-id", db,
                   "--query", "SecretString", key=reader_key))
    assert json.loads(value)["password"] == "initial"
    rc, _, err = run(server, "secretsmanager", "get-secret-value", "--secret-id", payments,
                     key=reader_key)
    assert rc == 254
    assert err.strip() == (
        "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: "
        f"User: arn:aws:iam::123456789012:user/{reader} is not authorized to perform: "
        f"secretsmanager:GetSecretValue on resource: {payments} because no identity-based "
        "policy allows the secretsmanager:GetSecretValue action")

    # The rotator rotates (and --wait follows through DescribeSecret), but cannot read.
    rc, out, err = run(server, "secretsmanager", "rotate-secret", "--secret-id", db, "--wait",
                       "--rotation-lambda-arn", LAMBDA, key=rotator_key)
    assert rc == 0, err
    rc, _, err = run(server, "secretsmanager", "get-secret-value", "--secret-id", db,
                     key=rotator_key)
    assert rc == 254 and "AccessDeniedException" in err
    value = ok(run(server, "secretsmanager", "get-secret-value", "--secret-id", db,
                   "--query", "SecretString", key=reader_key))
    assert json.loads(value)["password"] != "initial"

    # What they left in the audit trail.
    def records(*args):
        rc, _, out, err = tumbler_admin("audit", *args)
        assert rc == 0, err
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    deadline = time.time() + 10
    while True:
        mine = records("--user-name", reader)
        if len(mine) >= 4 or time.time() > deadline:
            break
        time.sleep(0.2)
    reads = [r for r in mine if r["eventName"] == "GetSecretValue"]
    assert [r["requestParameters"]["secretId"] for r in reads] == [db, payments, db]
    assert "errorCode" not in reads[0]
    assert reads[1]["errorCode"] == "AccessDeniedException"
    assert reads[1]["userIdentity"]["userName"] == reader
    assert reads[1]["userIdentity"]["arn"] == f"arn:aws:iam::123456789012:user/{reader}"
    assert all(r["eventSource"] == "secretsmanager.amazonaws.com" for r in reads)
    while True:
        rotated = records("--secret-id", db, "--event-name", "RotationSucceeded")
        if rotated or time.time() > deadline:
            break
        time.sleep(0.2)
    assert len(rotated) == 1 and rotated[0]["eventType"] == "AwsServiceEvent"
    errors = records("--errors-only", "--user-name", rotator)
    # --wait asked the admin API first (denied: the rotator is no admin), then watched
    # DescribeSecret; then the denied read.
    assert [r["eventName"] for r in errors] == ["ListRotations", "GetSecretValue"]
    # No record holds a secret value or a secret access key.
    with open(os.path.join(server.data_dir, "audit.log")) as f:
        trail = f.read()
    assert reader_key[1] not in trail and rotator_key[1] not in trail
    assert "initial" not in trail and '\\"token\\"' not in trail
