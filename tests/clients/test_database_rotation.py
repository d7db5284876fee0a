"""The README's walk-through: a real PostgreSQL password rotated with the aws CLI's
rotate-secret example, through the builtin postgres-single-user.

The PostgreSQL is private to this module: `initdb --auth=scram-sha-256` in a temporary
directory (as the postgres user when running as root, since initdb refuses root), on a free
port, so that a login proves the password (the shared server trusts everyone).  Logins are
checked with psql, as a reader of the README would.  Without initdb the test says it skipped;
in CI (CI set) it fails instead.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

FUNCTION = "PostgresRotation"
# The rotate-secret page's ARN form; Tumbler goes by the function name.
LAMBDA_ARN = f"arn:aws:lambda:us-west-2:1234566789012:function:{FUNCTION}"


def _postgres_bin():
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(found)
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        for version in sorted(os.listdir(root), reverse=True):
            candidate = os.path.join(root, version, "bin")
            if os.path.exists(os.path.join(candidate, "initdb")):
                return candidate
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="tumbler-pg-")
        self.port = _free_port()
        self.superuser_password = "Super-" + uuid.uuid4().hex
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.superuser_password)
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("fsync = off\nlisten_addresses = '127.0.0.1'\n")
        self._run("pg_ctl", "-D", self.data, "-o", f"-p {self.port} -k {self.dir}",
                  "-l", os.path.join(self.dir, "log"), "-w", "start")

    def _run(self, program, *args):
        argv = [os.path.join(self.bindir, program), *args]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{program}: {p.stdout}{p.stderr}"

    def psql(self, user, password, sql):
        """psql as the README runs it: (returncode, stdout, stderr)."""
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
        p = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres",
             "-Atc", sql],
            capture_output=True, text=True, env=env, timeout=60,
        )
        return p.returncode, p.stdout.strip(), p.stderr

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres():
    bindir = _postgres_bin()
    if bindir is None or shutil.which("psql") is None:
        if os.environ.get("CI"):
            pytest.fail("initdb, pg_ctl and psql are required in CI")
        pytest.skip("no initdb/pg_ctl/psql here (install postgresql)")
    pg = PrivatePostgres(bindir)
    try:
        yield pg
    finally:
        pg.stop()


def _wait_rotation_end(tumbler_admin, secret_id, version_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rc, out, _, err = tumbler_admin("rotations", "--secret-id", secret_id)
        assert rc == 0, err
        for r in out["Rotations"]:
            if r["VersionId"] == version_id and r["State"] != "active":
                return r
        time.sleep(0.1)
    pytest.fail(f"rotation {version_id} did not end within {timeout} s")


def test_the_readme_walk_through_rotates_a_real_postgres_password(
    private_postgres, aws, tumbler_admin, unique
):
    pg = private_postgres
    rc, _, err = pg.psql("postgres", pg.superuser_password,
                         "CREATE ROLE app LOGIN PASSWORD 'initial-password'")
    assert rc == 0, err
    rc, _, _, err = tumbler_admin("functions", "put", "--name", FUNCTION, "--kind", "builtin",
                                  "--builtin", "postgres-single-user")
    assert rc == 0, err

    name = unique("pg-walkthrough")
    secret = {"engine": "postgres", "host": "127.0.0.1", "port": pg.port, "username": "app",
              "password": "initial-password", "dbname": "postgres"}
    rc, created, err = aws("create-secret", "--name", name, "--secret-string", json.dumps(secret))
    assert rc == 0, err
    rc, out, err = aws("rotate-secret", "--secret-id", name, "--rotation-lambda-arn", LAMBDA_ARN,
                       "--rotation-rules", "AutomaticallyAfterDays=10")
    assert rc == 0, err
    assert set(out) == {"ARN", "Name", "VersionId"}
    assert out["ARN"] == created["ARN"]

    record = _wait_rotation_end(tumbler_admin, name, out["VersionId"])
    assert record["State"] == "succeeded", record

    rc, value, err = aws("get-secret-value", "--secret-id", name)
    assert rc == 0, err
    assert value["VersionId"] == out["VersionId"]
    new = json.loads(value["SecretString"])
    assert new["username"] == "app" and new["port"] == pg.port
    assert new["password"] != "initial-password" and len(new["password"]) == 32

    rc, who, err = pg.psql("app", new["password"], "SELECT current_user")
    assert (rc, who) == (0, "app"), err
    rc, _, err = pg.psql("app", "initial-password", "SELECT 1")
    assert rc != 0 and "password authentication failed" in err

    rc, described, err = aws("describe-secret", "--secret-id", name)
    assert rc == 0, err
    assert described["RotationEnabled"] is True
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 10
    assert "LastRotatedDate" in described and "NextRotationDate" in described
    tumbler_admin("functions", "delete", "--name", FUNCTION)


def test_a_database_rotation_that_cannot_log_in_says_why(
    private_postgres, aws, tumbler_admin, unique
):
    fname = "PostgresRotationRefused"
    rc, _, _, err = tumbler_admin("functions", "put", "--name", fname, "--kind", "builtin",
                                  "--builtin", "postgres-single-user")
    assert rc == 0, err
    name = unique("pg-refused")
    secret = {"engine": "postgres", "host": "127.0.0.1", "port": private_postgres.port,
              "username": "nobody", "password": "not-the-password"}
    assert aws("create-secret", "--name", name, "--secret-string", json.dumps(secret))[0] == 0
    rc, out, err = aws("rotate-secret", "--secret-id", name, "--rotation-lambda-arn",
                       f"arn:aws:lambda:us-east-1:123456789012:function:{fname}")
    assert rc == 0, err
    record = _wait_rotation_end(tumbler_admin, name, out["VersionId"], timeout=60)
    assert record["State"] == "failed", record
    assert record["Step"] == "setSecret"
    assert 'refused the login of user "nobody"' in record["Error"], record
    assert "not-the-password" not in record["Error"]
    # AWSPENDING stays on the new version, as on AWS.
    rc, described, _ = aws("describe-secret", "--secret-id", name)
    assert described["VersionIdsToStages"][out["VersionId"]] == ["AWSPENDING"]
    tumbler_admin("functions", "delete", "--name", fname)
