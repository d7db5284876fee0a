"""Fixtures for the client compatibility suite.

The suite drives a real Tumbler server with the real aws CLI (v1) and boto3.
One server is started per test session:

    $TUMBLER_BIN serve --listen 127.0.0.1:<port> --data-dir <tmpdir>

TUMBLER_BIN defaults to /work/main/target/debug/tumbler.  Server output goes to
<tmpdir>/server.log (set TUMBLER_KEEP_TMP=1 to keep it).  Tests share the server,
so every test uses unique names.

Needs: pytest, boto3, requests and the aws CLI (v1, `pip install awscli`).
Run:   TUMBLER_BIN=/path/to/tumbler python3 -m pytest tests/clients -q
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

ACCESS_KEY_ID = "AKIATUMBLERTEST00001"
SECRET_ACCESS_KEY = "tumbler-test-secret-key-0000000000000000"
REGION = "us-east-1"
DEFAULT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "debug", "tumbler")

# Keep any user/machine AWS configuration out of this process (boto3) before
# anything creates a botocore session.
_ISOLATION_DIR = tempfile.mkdtemp(prefix="tumbler-clients-awscfg-")
_EMPTY_CONFIG = os.path.join(_ISOLATION_DIR, "config")
_EMPTY_CREDENTIALS = os.path.join(_ISOLATION_DIR, "credentials")
for _p in (_EMPTY_CONFIG, _EMPTY_CREDENTIALS):
    open(_p, "w").close()
for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = _EMPTY_CONFIG
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = _EMPTY_CREDENTIALS
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url, port, data_dir, log_path, proc):
        self.url = url
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = proc

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("TUMBLER_BIN", DEFAULT_BIN)
    if not os.path.exists(binary):
        pytest.fail(f"server binary {binary} does not exist (set TUMBLER_BIN)")
    tmpdir = tempfile.mkdtemp(prefix="tumbler-clienttests-")
    data_dir = os.path.join(tmpdir, "data")
    os.makedirs(data_dir)
    log_path = os.path.join(tmpdir, "server.log")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        TUMBLER_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
        TUMBLER_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        RUST_LOG="info",
    )
    log = open(log_path, "wb")
    args = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir]
    # The same suite runs against PostgreSQL when scripts/test names a database.
    database_url = os.environ.get("TUMBLER_CLIENTS_DATABASE_URL")
    if database_url:
        args += ["--database-url", database_url]
    env.pop("TUMBLER_DATABASE_URL", None)
    proc = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    srv = Server(url, port, data_dir, log_path, proc)
    deadline = time.monotonic() + 30
    healthy = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    healthy = True
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    if not healthy:
        rc = proc.poll()
        if rc is None:
            proc.kill()
            proc.wait()
        log.close()
        pytest.fail(
            f"tumbler did not become healthy at {url}/health within 30 s "
            f"(exit code {proc.returncode}); server output:\n{srv.log()}"
        )
    try:
        yield srv
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        if os.environ.get("TUMBLER_KEEP_TMP"):
            print(f"\nserver tmpdir kept: {tmpdir}")
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


@pytest.fixture(scope="session")
def make_client(server):
    import boto3
    from botocore.config import Config

    cache = {}

    def make(region=REGION, access_key=ACCESS_KEY_ID, secret_key=SECRET_ACCESS_KEY):
        key = (region, access_key, secret_key)
        if key not in cache:
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
            )
            cache[key] = session.client(
                "secretsmanager",
                endpoint_url=server.url,
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        return cache[key]

    return make


@pytest.fixture(scope="session")
def sm(make_client):
    """boto3 Secrets Manager client for us-east-1."""
    return make_client(REGION)


@pytest.fixture(scope="session")
def sm_west(make_client):
    """boto3 Secrets Manager client for us-west-2 (replica Region)."""
    return make_client("us-west-2")


@pytest.fixture(scope="session")
def aws(server):
    """Run the aws CLI: aws(cmd, *args, region=...) -> (rc, parsed JSON or None, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_CONFIG_FILE=_EMPTY_CONFIG,
        AWS_SHARED_CREDENTIALS_FILE=_EMPTY_CREDENTIALS,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
    )
    aws_bin = shutil.which("aws")
    if aws_bin is None:
        pytest.fail("aws CLI not found on PATH")

    def run(cmd, *args, region=REGION):
        argv = [
            aws_bin,
            "--endpoint-url",
            server.url,
            "--region",
            region,
            "--output",
            "json",
            "secretsmanager",
            cmd,
            *[str(a) for a in args],
        ]
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


@pytest.fixture
def unique():
    """Factory for unique secret names: unique('get') -> 'tumbler-test/get/<hex>'."""

    def make(label="s"):
        return f"tumbler-test/{label}/{uuid.uuid4().hex[:16]}"

    return make
