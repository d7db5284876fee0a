"""A small server speaking the AWS Lambda Invoke API for one rotation function, so that
Tumbler's `http` function kind can be tested against a real function.

    python3 invoke_server.py --port 9000 [--function-dir DIR] [--handler lambda_function.lambda_handler]

Serves `POST /2015-03-31/functions/function/invocations` (RequestResponse) by calling
`lambda_handler(event, None)` from the function's module (default: the template in
`template_rotation/` beside this file):

- the handler returned: 200, body the JSON of what it returned (`null` for None);
- the handler raised: 200 with `X-Amz-Function-Error: Unhandled` and body
  `{"errorMessage": str(e), "errorType": type(e).__name__}`, as Lambda answers.

`GET /health` answers 200 once the function is imported. The function's settings come from
this process's environment, as a Lambda's do: SECRETS_MANAGER_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, TARGET_FILE, STEP_LOG, ...
"""

import argparse
import importlib
import json
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_handler(function_dir, handler):
    module_name, _, func_name = handler.rpartition(".")
    if not module_name or not func_name:
        raise SystemExit(f"--handler must be module.function, not {handler!r}")
    sys.path.insert(0, function_dir)
    module = importlib.import_module(module_name)
    return getattr(module, func_name)


def make_request_handler(handler):
    class InvokeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status, body, headers=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, '{"status":"ok"}')
            else:
                self._send(404, json.dumps({"message": f"no route for GET {self.path}"}))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.split("?", 1)[0] != INVOKE_PATH:
                self._send(404, json.dumps({"message": f"no route for POST {self.path}"}))
                return
            try:
                event = json.loads(raw or b"null")
            except ValueError as e:
                self._send(
                    400,
                    json.dumps({"Type": "User", "message": f"Could not parse request body into json: {e}"}),
                )
                return
            try:
                result = handler(event, None)
            except Exception as e:  # the function's own failure, reported as Lambda does
                traceback.print_exc()
                self._send(
                    200,
                    json.dumps({"errorMessage": str(e), "errorType": type(e).__name__}),
                    headers=[("X-Amz-Function-Error", "Unhandled"), ("X-Amz-Executed-Version", "$LATEST")],
                )
                return
            self._send(200, json.dumps(result), headers=[("X-Amz-Executed-Version", "$LATEST")])

        def log_message(self, fmt, *args):
            sys.stderr.write("invoke_server: %s - %s\n" % (self.address_string(), fmt % args))

    return InvokeHandler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("INVOKE_PORT", "9000")))
    parser.add_argument("--function-dir", default=os.path.join(HERE, "template_rotation"))
    parser.add_argument("--handler", default="lambda_function.lambda_handler")
    args = parser.parse_args(argv)

    handler = load_handler(os.path.abspath(args.function_dir), args.handler)
    server = ThreadingHTTPServer((args.host, args.port), make_request_handler(handler))
    server.daemon_threads = True
    print(f"invoke_server: listening on http://{args.host}:{args.port}{INVOKE_PATH}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
