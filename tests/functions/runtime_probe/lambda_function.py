"""A probe of the Lambda environment Tumbler gives a `process` function, run under
awslambdaric. It records what it sees, misbehaves on request, then rotates with the AWS-style
template next door (../template_rotation).

Environment knobs (all optional):
- PROBE_FILE: append one JSON line per invocation: step, pid, the Lambda variables, the
  remaining time, and the invoked function ARN.
- CRASH_ONCE_FILE: in createSecret, if this file does not exist, create it and exit the
  process (a crashed runtime).
- SLEEP_IN_STEP / SLEEP_SECONDS: sleep that long in that step (to overrun the deadline).
"""

import importlib.util
import json
import os
import time

# The template is also a module named lambda_function: load it under another name.
_spec = importlib.util.spec_from_file_location(
    "template_rotation",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "template_rotation", "lambda_function.py"),
)
template = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(template)

VARIABLES = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "TZ",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "SECRETS_MANAGER_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
]


def lambda_handler(event, context):
    step = event["Step"]
    print("PROBE-MARKER step=%s" % step, flush=True)
    if os.environ.get("PROBE_FILE"):
        with open(os.environ["PROBE_FILE"], "a") as f:
            f.write(
                json.dumps(
                    {
                        "step": step,
                        "pid": os.getpid(),
                        "env": {k: os.environ.get(k) for k in VARIABLES},
                        "remaining_ms": context.get_remaining_time_in_millis(),
                        "function_arn": context.invoked_function_arn,
                        "request_id": context.aws_request_id,
                    }
                )
                + "\n"
            )
    crash = os.environ.get("CRASH_ONCE_FILE")
    if crash and step == "createSecret" and not os.path.exists(crash):
        open(crash, "w").close()
        os._exit(3)
    if os.environ.get("SLEEP_IN_STEP") == step:
        time.sleep(float(os.environ.get("SLEEP_SECONDS", "30")))
    return template.lambda_handler(event, context)
