"""`tumbler secretsmanager`: Tumbler's own CLI, judged against the aws CLI and botocore.

Every operation and member of botocore's service model is a command and an option with the
aws CLI's name; the rotate-secret page's examples print what the page shows; for a set of
commands Tumbler's CLI and the aws CLI, given the same arguments against the same server,
print the same JSON (timestamps aside: aws CLI v1 prints epoch seconds, version 2 and
Tumbler ISO 8601); shorthand, JSON, YAML and file input; skeletons; pagination; exit codes;
`rotate-secret --wait`.
"""

import base64
import json
import os
import re
import subprocess
import tempfile
import time

import pytest
import yaml
from botocore import xform_name
from botocore.session import get_session

from conftest import _EMPTY_CONFIG, _EMPTY_CREDENTIALS, ACCESS_KEY_ID, SECRET_ACCESS_KEY

REGION = "us-east-1"
CLI_EXAMPLE_LAMBDA_ARN = (
    "arn:aws:lambda:us-west-2:1234566789012:function:SecretsManagerTestRotationLambda"
)


def _isolated_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TUMBLER_"))}
    env.update(
        AWS_CONFIG_FILE=_EMPTY_CONFIG,
        AWS_SHARED_CREDENTIALS_FILE=_EMPTY_CREDENTIALS,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def tsm(server):
    """tsm(*args, env=None, endpoint=True) -> (rc, stdout, stderr) of `tumbler secretsmanager`."""

    def run(*args, env=None, endpoint=True, stdin=None):
        argv = [server.binary, "secretsmanager"]
        if endpoint:
            argv += ["--endpoint-url", server.url, "--region", REGION]
        argv += [str(a) for a in args]
        if env is None:
            env = _isolated_env(
                AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY
            )
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                           input=stdin)
        return p.returncode, p.stdout, p.stderr

    return run


def tsm_json(tsm, *args):
    rc, out, err = tsm(*args)
    assert rc == 0, err
    return json.loads(out) if out.strip() else None


def aws_raw(server, *args):
    env = _isolated_env(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
    )
    argv = ["aws", "--endpoint-url", server.url, "--region", REGION, "secretsmanager",
            *[str(a) for a in args]]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def without_dates(value):
    """Timestamps aside: every member whose name ends in Date."""
    if isinstance(value, dict):
        return {k: without_dates(v) for k, v in value.items() if not k.endswith("Date")}
    if isinstance(value, list):
        return [without_dates(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------
def test_every_operation_and_member_of_botocore_is_a_command_and_option(tsm):
    model = get_session().get_service_model("secretsmanager")
    paginators = get_session().get_paginator_model("secretsmanager")
    names = model.operation_names
    assert len(names) == 23
    for op in names:
        command = xform_name(op, "-")
        rc, out, err = tsm(command, "--help", endpoint=False)
        assert rc == 0, f"{command}: {err}"
        shown = set(re.findall(r"--[a-z0-9-]+", out))
        expected = set()
        hidden = set()
        try:
            p = paginators.get_paginator(op)
            hidden = {p["input_token"], p["limit_key"]}
            expected |= {"--max-items", "--starting-token", "--page-size"}
        except ValueError:
            pass
        members = model.operation_model(op).input_shape.members
        for member, shape in members.items():
            if member in hidden:
                continue
            expected.add("--" + xform_name(member, "-"))
            if shape.type_name == "boolean":
                expected.add("--no-" + xform_name(member, "-"))
        missing = expected - shown
        assert not missing, f"{command} lacks {sorted(missing)}"
        extra = shown - expected - {
            "--help", "--cli-input-json", "--cli-input-yaml", "--generate-cli-skeleton",
            "--wait", "--endpoint-url", "--region", "--profile", "--output", "--query",
            "--no-verify-ssl", "--cli-read-timeout", "--cli-connect-timeout", "--debug",
            "--no-cli-pager", "--no-paginate",
        }
        assert not extra, f"{command} has options botocore does not: {sorted(extra)}"


# ---------------------------------------------------------------------------
# The rotate-secret page's examples
# ---------------------------------------------------------------------------
def test_the_rotate_secret_pages_examples_print_what_the_page_shows(tsm, unique):
    name = unique("MyTestDatabaseSecret")
    created = tsm_json(tsm, "create-secret", "--name", name,
                       "--secret-string", '{"username":"app","password":"old"}')
    # Example 1, with --wait to see it through before example 2.
    rc, out, err = tsm(
        "rotate-secret", "--secret-id", name,
        "--rotation-lambda-arn", CLI_EXAMPLE_LAMBDA_ARN,
        "--rotation-rules", '{"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"}',
        "--wait",
    )
    assert rc == 0, err
    first = json.loads(out)
    assert list(first) == ["ARN", "Name", "VersionId"]
    assert (first["ARN"], first["Name"]) == (created["ARN"], name)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        assert step in err, err
    assert "rotation succeeded" in err
    # Example 2: rotate now, with the stored configuration.
    second = tsm_json(tsm, "rotate-secret", "--secret-id", name)
    assert list(second) == ["ARN", "Name", "VersionId"]
    assert second["VersionId"] != first["VersionId"]


def test_wait_reports_the_failure_cause_and_exits_non_zero(tsm, unique):
    name = unique("wait-fails")
    tsm_json(tsm, "create-secret", "--name", name, "--secret-string", '{"password":"x"}')
    rc, out, err = tsm(
        "rotate-secret", "--secret-id", name,
        "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:123456789012:function:PyFailing",
        "--wait",
    )
    assert rc == 255, err
    assert json.loads(out)["VersionId"]
    assert "the rotation failed at setSecret" in err, err


# ---------------------------------------------------------------------------
# The same JSON as the aws CLI
# ---------------------------------------------------------------------------
def test_tumblers_cli_prints_the_same_json_as_the_aws_cli(server, tsm, unique):
    name = unique("same-json")
    rc, out, err = aws_raw(server, "create-secret", "--name", name, "--secret-string", "v1",
                           "--description", "d", "--tags", "Key=team,Value=a", "Key=env,Value=b")
    assert rc == 0, err
    token = "a" * 32
    commands = [
        ["describe-secret", "--secret-id", name],
        ["get-secret-value", "--secret-id", name, "--version-stage", "AWSCURRENT"],
        ["list-secret-version-ids", "--secret-id", name, "--include-deprecated"],
        ["put-secret-value", "--secret-id", name, "--secret-string", "v2",
         "--client-request-token", token, "--version-stages", "AWSCURRENT", "custom"],
        ["list-secrets", "--filters", f"Key=name,Values={name}", "--include-planned-deletion"],
        ["list-secrets", "--filters", f'[{{"Key":"name","Values":["{name}"]}}]'],
        ["get-resource-policy", "--secret-id", name],
        ["describe-secret", "--secret-id", name, "--query", "Tags[?Key=='team'].Value"],
        ["list-secret-version-ids", "--secret-id", name, "--query", "Versions[].VersionStages"],
    ]
    for args in commands:
        rc_a, out_a, err_a = aws_raw(server, *args)
        rc_t, out_t, err_t = tsm(*args)
        assert (rc_a, rc_t) == (0, 0), f"{args}: {err_a} {err_t}"
        assert without_dates(json.loads(out_t)) == without_dates(json.loads(out_a)), args
    # The same text, too.
    for args in (["describe-secret", "--secret-id", name, "--query", "[Name, Description]"],
                 ["list-secrets", "--filters", f"Key=name,Values={name}", "--query",
                  "SecretList[].Tags[]"]):
        out_a = aws_raw(server, *args, "--output", "text")[1]
        out_t = tsm(*args, "--output", "text")[1]
        assert out_t == out_a, args
    # And the same tables (stdout is not a terminal: 80 columns for both).
    for args in (["describe-secret", "--secret-id", name, "--query", "{Name:Name,Tags:Tags}"],
                 ["list-secret-version-ids", "--secret-id", name, "--query",
                  "Versions[].{Id:VersionId,Stages:VersionStages}"]):
        out_a = aws_raw(server, *args, "--output", "table")[1]
        out_t = tsm(*args, "--output", "table")[1]
        assert out_t == out_a, f"{args}\n{out_t}\n{out_a}"


def test_errors_are_the_aws_clis_with_its_exit_codes(server, tsm, unique):
    rc, out, err = tsm("get-secret-value", "--secret-id", unique("missing"))
    assert rc == 254
    assert err.strip() == (
        "An error occurred (ResourceNotFoundException) when calling the GetSecretValue "
        "operation: Secrets Manager can't find the specified secret."
    )
    assert err == aws_raw(server, "get-secret-value", "--secret-id", unique("missing"))[2]
    # Bad parameters: nothing is sent.
    rc, _, err = tsm("get-secret-value")
    assert rc == 252 and "the following arguments are required: --secret-id" in err
    rc, _, err = tsm("describe-secret", "--secret-id", "x", "--bogus")
    assert rc == 252
    rc, _, err = tsm("get-random-password", "--password-length", "abc")
    assert rc == 252
    # Nothing reachable.
    rc, _, err = tsm("list-secrets", "--endpoint-url", "http://127.0.0.1:9",
                     "--cli-connect-timeout", "2")
    assert rc == 255 and "Could not connect to the endpoint URL" in err


def test_no_credentials_anywhere_is_a_configuration_error(tsm):
    home = tempfile.mkdtemp()
    rc, _, err = tsm("list-secrets", env=_isolated_env(HOME=home, TUMBLER_DATA_DIR=home))
    assert rc == 253
    assert "Unable to locate credentials" in err


def test_with_nothing_configured_it_talks_to_the_local_server(server, tsm):
    # The admin key where `tumbler serve` writes it, in its data directory.
    data_dir = tempfile.mkdtemp()
    with open(os.path.join(data_dir, "admin-credentials"), "w") as f:
        f.write(f"[default]\naws_access_key_id = {ACCESS_KEY_ID}\n"
                f"aws_secret_access_key = {SECRET_ACCESS_KEY}\n")
    host_port = server.url.split("//", 1)[1]
    env = _isolated_env(HOME=tempfile.mkdtemp(), TUMBLER_DATA_DIR=data_dir,
                        TUMBLER_LISTEN=host_port)
    rc, out, err = tsm("list-secrets", "--max-items", "1", env=env, endpoint=False)
    assert rc == 0, err
    assert "SecretList" in json.loads(out)


def test_profiles_from_the_shared_files_sign_requests(server, tsm):
    d = tempfile.mkdtemp()
    creds, config = os.path.join(d, "credentials"), os.path.join(d, "config")
    with open(creds, "w") as f:
        f.write(f"[dev]\naws_access_key_id = {ACCESS_KEY_ID}\n"
                f"aws_secret_access_key = {SECRET_ACCESS_KEY}\n")
    with open(config, "w") as f:
        f.write(f"[profile dev]\nregion = {REGION}\nendpoint_url = {server.url}\noutput = yaml\n")
    env = _isolated_env(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=config)
    rc, out, err = tsm("list-secrets", "--profile", "dev", "--max-items", "1",
                       env=env, endpoint=False)
    assert rc == 0, err
    # The profile's output setting: YAML.
    assert "SecretList" in yaml.safe_load(out) and not out.lstrip().startswith("{")
    rc, _, err = tsm("list-secrets", "--profile", "nope", env=env, endpoint=False)
    assert rc == 253 and "The config profile (nope) could not be found" in err


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
def test_shorthand_json_and_files_build_the_same_request(tsm, unique):
    a, b, c = unique("sh"), unique("js"), unique("fi")
    tsm_json(tsm, "create-secret", "--name", a, "--secret-string", "x",
             "--tags", "Key=team,Value=a b", "Key=env,Value=x\\,y")
    tsm_json(tsm, "create-secret", "--name", b, "--secret-string", "x",
             "--tags", '[{"Key":"team","Value":"a b"},{"Key":"env","Value":"x,y"}]')
    d = tempfile.mkdtemp()
    path = os.path.join(d, "tags.json")
    with open(path, "w") as f:
        f.write('[{"Key":"team","Value":"a b"},{"Key":"env","Value":"x,y"}]')
    value_path = os.path.join(d, "value.bin")
    with open(value_path, "wb") as f:
        f.write(b"\x00\x01\xff")
    tsm_json(tsm, "create-secret", "--name", c, "--secret-binary", f"fileb://{value_path}",
             "--tags", f"file://{path}")
    tags = [tsm_json(tsm, "describe-secret", "--secret-id", n)["Tags"] for n in (a, b, c)]
    assert tags[0] == tags[1] == tags[2] == [{"Key": "team", "Value": "a b"},
                                             {"Key": "env", "Value": "x,y"}]
    got = tsm_json(tsm, "get-secret-value", "--secret-id", c)
    assert base64.b64decode(got["SecretBinary"]) == b"\x00\x01\xff"


def test_shorthand_errors_point_at_the_bad_character_as_the_aws_clis_do(server, tsm, unique):
    name = unique("bad-shorthand")
    cases = {
        "AutomaticallyAfterDays": "AutomaticallyAfterDays\n                      ^",
        "AutomaticallyAfterDays=1,'x": "AutomaticallyAfterDays=1,'x\n                         ^",
        "Duration=2h,Duration=3h": "Duration=2h,Duration=3h\n            ^",
    }
    for bad, location in cases.items():
        rc, _, err = tsm("rotate-secret", "--secret-id", name, "--rotation-rules", bad)
        assert rc == 252, err
        _, _, aws_err = aws_raw(server, "rotate-secret", "--secret-id", name,
                                "--rotation-rules", bad)
        # The same first line; the location under it is what aws CLI v1.4x means to print
        # (its message template has a slip and prints "{self._error_location()}").
        assert err.strip().splitlines()[0] == aws_err.strip().splitlines()[0], bad
        assert location in err, err
    rc, _, err = tsm("rotate-secret", "--secret-id", name, "--rotation-rules",
                     "AutomaticallyAfterDays=ten")
    assert rc == 252
    rc, _, err = tsm("rotate-secret", "--secret-id", name, "--rotation-rules", "Bogus=1")
    assert rc == 252 and 'Unknown parameter in RotationRules: "Bogus"' in err


def test_cli_input_json_and_yaml_with_options_overriding_them(tsm, unique):
    a, b = unique("in-json"), unique("in-yaml")
    tsm_json(tsm, "create-secret", "--cli-input-json",
             json.dumps({"Name": a, "SecretString": "j", "Description": "from json"}),
             "--description", "from the command line")
    tsm_json(tsm, "create-secret", "--cli-input-yaml",
             f"Name: {b}\nSecretString: y\nTags:\n  - Key: k\n    Value: v\n")
    assert tsm_json(tsm, "describe-secret", "--secret-id", a)["Description"] == \
        "from the command line"
    assert tsm_json(tsm, "describe-secret", "--secret-id", b)["Tags"] == [{"Key": "k", "Value": "v"}]
    rc, _, err = tsm("create-secret", "--cli-input-json", "{}", "--cli-input-yaml", "{}")
    assert rc == 252


def test_skeletons_parse_back_as_input(tsm, unique):
    skeleton = tsm_json(tsm, "create-secret", "--generate-cli-skeleton")
    assert {"Name", "SecretString", "Tags", "ClientRequestToken"} <= set(skeleton)
    name = unique("skeleton")
    skeleton.update(Name=name, SecretString="s", Description="d",
                    Tags=[{"Key": "k", "Value": "v"}])
    for key in ("KmsKeyId", "SecretBinary", "AddReplicaRegions", "ClientRequestToken",
                "ForceOverwriteReplicaSecret", "Type"):
        skeleton.pop(key, None)
    created = tsm_json(tsm, "create-secret", "--cli-input-json", json.dumps(skeleton))
    assert created["Name"] == name

    rc, out, err = tsm("rotate-secret", "--generate-cli-skeleton", "yaml-input")
    assert rc == 0, err
    doc = yaml.safe_load(out)
    assert {"SecretId", "RotationRules", "RotateImmediately"} <= set(doc)
    rc, out, err = tsm("rotate-secret", "--generate-cli-skeleton", "output")
    assert set(json.loads(out)) == {"ARN", "Name", "VersionId"}


# ---------------------------------------------------------------------------
# Output and pagination
# ---------------------------------------------------------------------------
def test_output_formats(tsm, unique):
    name = unique("formats")
    tsm_json(tsm, "create-secret", "--name", name, "--secret-string", "v")
    rc, out, _ = tsm("describe-secret", "--secret-id", name, "--output", "yaml")
    assert yaml.safe_load(out)["Name"] == name
    rc, out, _ = tsm("describe-secret", "--secret-id", name)
    assert out.startswith('{\n    "ARN": ')
    assert re.search(r'"CreatedDate": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00"', out)
    rc, out, _ = tsm("describe-secret", "--secret-id", name, "--output", "table")
    lines = out.splitlines()
    assert "DescribeSecret" in lines[1] and len({len(l) for l in lines[1:]}) == 1, out
    rc, out, _ = tsm("list-secrets", "--filters", f"Key=name,Values={name}", "--output",
                     "yaml-stream")
    assert yaml.safe_load(out)[0]["SecretList"][0]["Name"] == name
    rc, out, err = tsm("describe-secret", "--secret-id", name, "--query", "[[")
    assert rc == 252 and "Bad value for --query" in err
    # Global options before the command as well as after it.
    rc, out, err = tsm("--output", "text", "--query", "Name", "describe-secret", "--secret-id",
                       name)
    assert (rc, out) == (0, name + "\n"), err


def test_list_secrets_paginates_with_max_items_starting_token_and_page_size(tsm, unique):
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        tsm_json(tsm, "create-secret", "--name", n, "--secret-string", "v")
    base = ["list-secrets", "--filters", f"Key=name,Values={prefix}", "--sort-order", "asc",
            "--sort-by", "name"]
    everything = tsm_json(tsm, *base, "--page-size", "2")
    assert [s["Name"] for s in everything["SecretList"]] == names
    assert "NextToken" not in everything
    seen, token = [], None
    while True:
        args = base + ["--max-items", "2", "--page-size", "3"]
        if token:
            args += ["--starting-token", token]
        page = tsm_json(tsm, *args)
        seen += [s["Name"] for s in page["SecretList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    one = tsm_json(tsm, *base, "--no-paginate", "--max-results", "2")
    assert len(one["SecretList"]) == 2 and one["NextToken"]


def test_completions_cover_the_generated_commands(server):
    for shell in ("bash", "zsh", "fish"):
        p = subprocess.run([server.binary, "completions", shell], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert "rotate-secret" in p.stdout and "rotation-lambda-arn" in p.stdout


def test_debug_shows_each_call_but_never_a_secret_value(tsm, unique):
    name = unique("debug")
    tsm_json(tsm, "create-secret", "--name", name, "--secret-string", "s3cr3t-marker")
    rc, out, err = tsm("get-secret-value", "--secret-id", name, "--debug")
    assert rc == 0, err
    assert "X-Amz-Target: secretsmanager.GetSecretValue" in err
    assert "HTTP 200" in err
    assert "s3cr3t-marker" in out and "s3cr3t-marker" not in err


# ---------------------------------------------------------------------------
# tumbler iam
# ---------------------------------------------------------------------------
IAM_OPERATIONS = [
    "CreateUser", "GetUser", "ListUsers", "DeleteUser",
    "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
    "PutUserPolicy", "GetUserPolicy", "ListUserPolicies", "DeleteUserPolicy",
]


@pytest.fixture(scope="session")
def tiam(server):
    """tiam(*args) -> (rc, stdout, stderr) of `tumbler iam` with the admin key."""

    def run(*args):
        argv = [server.binary, "iam", "--endpoint-url", server.url, *[str(a) for a in args]]
        env = _isolated_env(AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    return run


def aws_iam(server, *args):
    env = _isolated_env(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
    )
    argv = ["aws", "--endpoint-url", server.url, "--region", REGION, "iam",
            *[str(a) for a in args]]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_every_served_iam_operation_and_member_is_a_command_and_option(server, tiam):
    model = get_session().get_service_model("iam")
    paginators = get_session().get_paginator_model("iam")
    for op in IAM_OPERATIONS:
        command = xform_name(op, "-")
        rc, out, err = tiam(command, "--help")
        assert rc == 0, f"{command}: {err}"
        shown = set(re.findall(r"--[a-z0-9-]+", out))
        hidden = set()
        try:
            p = paginators.get_paginator(op)
            hidden = {p["input_token"], p["limit_key"]}
        except ValueError:
            pass
        for member in model.operation_model(op).input_shape.members:
            if member not in hidden:
                assert "--" + xform_name(member, "-") in shown, (command, member)
    # Only the served operations.
    rc, out, _ = tiam("--help")
    commands = set(re.findall(r"^  ([a-z][a-z-]+)", out, re.M)) - {"help"}
    assert commands == {xform_name(op, "-") for op in IAM_OPERATIONS}


def test_tumbler_iam_prints_the_same_json_as_the_aws_cli(server, tiam, unique):
    user = unique("cli-user").replace("/", "-")
    rc, out, err = tiam("create-user", "--user-name", user, "--path", "/team/")
    assert rc == 0, err
    created = json.loads(out)["User"]
    assert created["Arn"] == f"arn:aws:iam::123456789012:user/team/{user}"
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": "arn:aws:secretsmanager:*:*:secret:app/%-*"}]}
    rc, out, err = tiam("put-user-policy", "--user-name", user, "--policy-name", "read",
                        "--policy-document", json.dumps(document))
    assert (rc, out) == (0, ""), err
    for args in (["get-user", "--user-name", user],
                 ["get-user-policy", "--user-name", user, "--policy-name", "read"],
                 ["list-user-policies", "--user-name", user],
                 ["list-access-keys", "--user-name", user],
                 ["list-users", "--path-prefix", "/team/"]):
        rc_a, out_a, err_a = aws_iam(server, *args)
        rc_t, out_t, err_t = tiam(*args)
        assert (rc_a, rc_t) == (0, 0), f"{args}: {err_a} {err_t}"
        # Dates aside: aws CLI v1 prints IAM's as sent, Tumbler in v2's ISO 8601 form.
        assert without_dates(json.loads(out_t)) == without_dates(json.loads(out_a)), args
    # The policy document comes back decoded, the '%' included.
    rc, out, _ = tiam("get-user-policy", "--user-name", user, "--policy-name", "read")
    assert json.loads(out)["PolicyDocument"] == document
    # Keys: the secret is shown once, at creation; then listed without it.
    rc, out, err = tiam("create-access-key", "--user-name", user)
    key = json.loads(out)["AccessKey"]
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40
    rc, out, err = tiam("update-access-key", "--user-name", user, "--access-key-id",
                        key["AccessKeyId"], "--status", "Inactive")
    assert rc == 0, err
    rc, out, _ = tiam("list-access-keys", "--user-name", user, "--query",
                      "AccessKeyMetadata[].Status", "--output", "text")
    assert out.strip() == "Inactive"
    # Pagination with --max-items, as for Secrets Manager.
    rc, out, _ = tiam("list-users", "--max-items", "1")
    page = json.loads(out)
    assert len(page["Users"]) == 1 and "NextToken" in page


def test_tumbler_iam_errors_are_the_aws_clis(server, tiam, unique):
    missing = unique("nobody").replace("/", "-")
    rc, _, err = tiam("get-user", "--user-name", missing)
    assert rc == 254
    assert err.strip() == (f"An error occurred (NoSuchEntity) when calling the GetUser "
                           f"operation: The user with name {missing} cannot be found.")
    assert err == aws_iam(server, "get-user", "--user-name", missing)[2]
    rc, _, err = tiam("delete-user-policy", "--user-name", missing)
    assert rc == 252 and "the following arguments are required: --policy-name" in err
