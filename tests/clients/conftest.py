"""Fixtures for the client compatibility suite.

The suite drives a real Tumbler server with the real aws CLI (v1) and boto3.
One server is started per test session:

    $TUMBLER_BIN serve --listen 127.0.0.1:<port> --data-dir <tmpdir>/data \
        --config <tmpdir>/tumbler.toml

TUMBLER_BIN defaults to /work/main/target/debug/tumbler.  Server output goes to
<tmpdir>/server.log (set TUMBLER_KEEP_TMP=1 to keep it).  Tests share the server,
so every test uses unique names.

The config declares fast rotation settings and the rotation functions the rotation tests
use (see rotation_functions()): the builtin SecretsManagerTestRotationLambda, and the Python
template function (tests/functions/template_rotation) run under awslambdaric through the
`process` kind (PyRotation, PyFailing, PyNosy) and through the `http` kind (PyHttp, served
by tests/functions/invoke_server.py, which the fixture starts first).

Needs: pytest, boto3, requests, awslambdaric and the aws CLI (v1, `pip install awscli`).
Run:   TUMBLER_BIN=/path/to/tumbler python3 -m pytest tests/clients -q
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

ACCESS_KEY_ID = "AKIATUMBLERTEST00001"
SECRET_ACCESS_KEY = "tumbler-test-secret-key-0000000000000000"
REGION = "us-east-1"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "..", "target", "debug", "tumbler")
FUNCTIONS_DIR = os.path.normpath(os.path.join(HERE, "..", "functions"))
TEMPLATE_DIR = os.path.join(FUNCTIONS_DIR, "template_rotation")
INVOKE_SERVER = os.path.join(FUNCTIONS_DIR, "invoke_server.py")

# The secret PyNosy tries to read in createSecret, outside its rotation's scope.  The
# rotation tests create it.
NOSY_TARGET = "tumbler-test/nosy-target"

# The [rotation] section of the session server's config: fast, so that failures and
# retries show within seconds.
ROTATION_SETTINGS = {
    "max_attempts": 2,
    "retry_delay_ms": 100,
    "poll_interval_ms": 100,
    "scheduler_interval_ms": 200,
    "lease_seconds": 5,
}

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


class FunctionFiles:
    """The files a template-based rotation function writes: its "database" and step logs."""

    def __init__(self, tmpdir, name):
        base = os.path.join(tmpdir, "functions", name)
        os.makedirs(base, exist_ok=True)
        self.target_file = os.path.join(base, "target.json")
        self.step_log = os.path.join(base, "steps.log")
        self.step_log_with_token = os.path.join(base, "steps-with-token.log")

    def env(self):
        return {
            "TARGET_FILE": self.target_file,
            "STEP_LOG": self.step_log,
            "STEP_LOG_WITH_TOKEN": self.step_log_with_token,
        }


class Server:
    def __init__(self, url, port, data_dir, log_path, proc, tmpdir=None, binary=None,
                 config_path=None, functions=None, invoke=None):
        self.url = url
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = proc
        self.tmpdir = tmpdir
        self.binary = binary
        self.config_path = config_path
        # Function name -> FunctionFiles, for the template-based functions.
        self.functions = functions or {}
        # The Lambda Invoke API server behind PyHttp.
        self.invoke = invoke
        # The template function's directory, and the secret PyNosy reads.
        self.template_dir = TEMPLATE_DIR
        self.nosy_target = NOSY_TARGET

    def log(self):
        return _read(self.log_path)


class InvokeServer:
    def __init__(self, url, port, log_path, proc):
        self.url = url
        self.port = port
        self.log_path = log_path
        self.proc = proc

    def log(self):
        return _read(self.log_path)


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _toml_str(value):
    # A TOML basic string; JSON's escapes are TOML's for these values.
    return json.dumps(str(value))


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return _toml_str(value)


def rotation_functions(tmpdir, invoke_url):
    """The [[functions]] of the session server, and the files of the template-based ones."""
    files = {name: FunctionFiles(tmpdir, name) for name in ("PyRotation", "PyFailing", "PyNosy", "PyHttp")}
    command = [sys.executable, "-m", "awslambdaric", "lambda_function.lambda_handler"]

    def process(name, **extra_env):
        return {
            "name": name,
            "kind": "process",
            "command": command,
            "workdir": TEMPLATE_DIR,
            "timeout_seconds": 60,
            "env": {**files[name].env(), **extra_env},
        }

    functions = [
        {"name": "SecretsManagerTestRotationLambda", "kind": "builtin", "builtin": "random-password"},
        process("PyRotation"),
        process("PyFailing", FAIL_STEP="setSecret"),
        process("PyNosy", TOUCH_OTHER_SECRET=NOSY_TARGET),
        {"name": "PyHttp", "kind": "http", "url": invoke_url, "timeout_seconds": 60},
    ]
    return functions, files


def write_config(path, functions):
    lines = ["[rotation]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in ROTATION_SETTINGS.items()]
    for f in functions:
        lines += ["", "[[functions]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in f.items()]
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def _wait_healthy(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_invoke_server(tmpdir, tumbler_url, files):
    """Starts tests/functions/invoke_server.py for PyHttp, with admin credentials."""
    port = _free_port()
    log_path = os.path.join(tmpdir, "invoke-server.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=_EMPTY_CONFIG,
        AWS_SHARED_CREDENTIALS_FILE=_EMPTY_CREDENTIALS,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION=REGION,
        SECRETS_MANAGER_ENDPOINT=tumbler_url,
        PYTHONUNBUFFERED="1",
        **files.env(),
    )
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, INVOKE_SERVER, "--port", str(port), "--function-dir", TEMPLATE_DIR],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    inv = InvokeServer(base + "/2015-03-31/functions/function/invocations", port, log_path, proc)
    if not _wait_healthy(base, proc):
        _stop(proc)
        pytest.fail(f"invoke_server.py did not start on port {port}; output:\n{inv.log()}")
    return inv


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
    url = f"http://127.0.0.1:{port}"
    invoke = None
    proc = None
    log = None
    try:
        # PyHttp's Lambda Invoke API server comes first: Tumbler's URL is known already.
        pyhttp_files = FunctionFiles(tmpdir, "PyHttp")
        invoke = start_invoke_server(tmpdir, url, pyhttp_files)
        functions, files = rotation_functions(tmpdir, invoke.url)
        config_path = os.path.join(tmpdir, "tumbler.toml")
        write_config(config_path, functions)

        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        for k in ("TUMBLER_DATABASE_URL", "TUMBLER_CONFIG", "TUMBLER_LISTEN", "TUMBLER_DATA_DIR"):
            env.pop(k, None)
        env.update(
            TUMBLER_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
            TUMBLER_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            RUST_LOG="info",
        )
        log = open(log_path, "wb")
        args = [
            binary, "serve", "--config", config_path,
            "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
        ]
        # The same suite runs against PostgreSQL when scripts/test names a database.
        database_url = os.environ.get("TUMBLER_CLIENTS_DATABASE_URL")
        if database_url:
            args += ["--database-url", database_url]
        proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        srv = Server(
            url, port, data_dir, log_path, proc,
            tmpdir=tmpdir, binary=binary, config_path=config_path,
            functions=files, invoke=invoke,
        )
        if not _wait_healthy(url, proc):
            pytest.fail(
                f"tumbler did not become healthy at {url}/health within 30 s "
                f"(exit code {proc.poll()}); server output:\n{srv.log()}"
            )
        yield srv
    finally:
        if proc is not None:
            _stop(proc)
        if log is not None:
            log.close()
        if invoke is not None:
            _stop(invoke.proc)
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



@pytest.fixture(scope="session")
def tumbler_admin(server):
    """Run `tumbler admin`: tumbler_admin(*args) -> (rc, parsed JSON or None, stdout, stderr).

    Runs `$TUMBLER_BIN admin --endpoint-url <server> --data-dir <data dir> *args` with the
    admin credentials in TUMBLER_ADMIN_ACCESS_KEY_ID / TUMBLER_ADMIN_SECRET_ACCESS_KEY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TUMBLER_"))}
    env.update(
        TUMBLER_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
        TUMBLER_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
    )

    def run(*args):
        argv = [
            server.binary, "admin", "--endpoint-url", server.url, "--data-dir", server.data_dir,
            *[str(a) for a in args],
        ]
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        parsed = None
        out = p.stdout.strip()
        if out:
            try:
                parsed = json.loads(out)
            except ValueError:
                parsed = None
        return p.returncode, parsed, p.stdout, p.stderr

    return run
