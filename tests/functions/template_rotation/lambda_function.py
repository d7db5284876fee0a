"""A rotation function written the way AWS's published templates are
(aws-samples/aws-secrets-manager-rotation-lambdas, SecretsManagerRotationTemplate), run by
Tumbler under awslambdaric through the `process` kind, unmodified apart from its "service":
the credential it rotates is kept in a JSON file (TARGET_FILE), standing in for a database.

Test hooks, all off unless their environment variable is set:
- STEP_LOG: append each invocation's step to this file.
- STEP_LOG_WITH_TOKEN: append each invocation's "step token" to this file.
- FAIL_STEP: raise in this step (a failing function).
- HANG_ONCE_FILE: in setSecret, if this file does not exist, create it and hang (so a test
  can kill the server mid-rotation); the re-run after a restart goes through.
- TOUCH_OTHER_SECRET: in createSecret, try to read this other secret first (must be denied).
"""

import json
import logging
import os
import time

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    arn = event["SecretId"]
    token = event["ClientRequestToken"]
    step = event["Step"]
    logger.info("step %s for %s version %s", step, arn, token)
    if os.environ.get("STEP_LOG"):
        with open(os.environ["STEP_LOG"], "a") as f:
            f.write(step + "\n")
    if os.environ.get("STEP_LOG_WITH_TOKEN"):
        with open(os.environ["STEP_LOG_WITH_TOKEN"], "a") as f:
            f.write("%s %s\n" % (step, token))

    # Setup the client: the endpoint comes from the environment, as in AWS's templates.
    service_client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])

    # Make sure the version is staged correctly
    metadata = service_client.describe_secret(SecretId=arn)
    if not metadata["RotationEnabled"]:
        logger.error("Secret %s is not enabled for rotation" % arn)
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        logger.error("Secret version %s has no stage for rotation of secret %s." % (token, arn))
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s." % (token, arn))
        return
    elif "AWSPENDING" not in versions[token]:
        logger.error("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))

    if os.environ.get("FAIL_STEP") == step:
        raise RuntimeError("%s failed: the service refused the new credential" % step)

    if step == "createSecret":
        create_secret(service_client, arn, token)
    elif step == "setSecret":
        set_secret(service_client, arn, token)
    elif step == "testSecret":
        test_secret(service_client, arn, token)
    elif step == "finishSecret":
        finish_secret(service_client, arn, token)
    else:
        raise ValueError("Invalid step parameter")


def create_secret(service_client, arn, token):
    """Create the secret: a new password in the AWSPENDING version, unless it exists."""
    if os.environ.get("TOUCH_OTHER_SECRET"):
        service_client.get_secret_value(SecretId=os.environ["TOUCH_OTHER_SECRET"])
    # Make sure the current secret exists
    current_dict = json.loads(service_client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])

    # Now try to get the secret version, if that fails, put a new secret
    try:
        service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: Successfully retrieved secret for %s." % arn)
    except service_client.exceptions.ResourceNotFoundException:
        # Get exclude characters from environment variable
        exclude_characters = os.environ["EXCLUDE_CHARACTERS"] if "EXCLUDE_CHARACTERS" in os.environ else "/@\"'\\"
        # Generate a random password
        passwd = service_client.get_random_password(ExcludeCharacters=exclude_characters)
        current_dict["password"] = passwd["RandomPassword"]

        # Put the secret
        service_client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(current_dict),
            VersionStages=["AWSPENDING"],
        )
        logger.info("createSecret: Successfully put secret for ARN %s and version %s." % (arn, token))


def _pending(service_client, arn, token):
    return json.loads(
        service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    )


def set_secret(service_client, arn, token):
    """Set the secret in the service: here, the credential file."""
    hang_file = os.environ.get("HANG_ONCE_FILE")
    if hang_file and not os.path.exists(hang_file):
        open(hang_file, "w").close()
        logger.info("setSecret: hanging once (test hook)")
        time.sleep(3600)
    pending = _pending(service_client, arn, token)
    target = os.environ["TARGET_FILE"]
    tmp = target + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"username": pending.get("username"), "password": pending["password"]}, f)
    os.replace(tmp, target)
    logger.info("setSecret: set the new password for %s" % arn)


def test_secret(service_client, arn, token):
    """Test the secret against the service: log in with the pending credential."""
    pending = _pending(service_client, arn, token)
    with open(os.environ["TARGET_FILE"]) as f:
        stored = json.load(f)
    if stored["password"] != pending["password"]:
        raise ValueError("testSecret: the service does not accept the pending password")
    logger.info("testSecret: the pending password works for %s" % arn)


def finish_secret(service_client, arn, token):
    """Finish the secret: move AWSCURRENT to the new version."""
    metadata = service_client.describe_secret(SecretId=arn)
    current_version = None
    for version in metadata["VersionIdsToStages"]:
        if "AWSCURRENT" in metadata["VersionIdsToStages"][version]:
            if version == token:
                # The correct version is already marked as current, return
                logger.info("finishSecret: Version %s already marked as AWSCURRENT for %s" % (version, arn))
                return
            current_version = version
            break

    # Finalize by staging the secret version current
    service_client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_version
    )
    logger.info("finishSecret: Successfully set AWSCURRENT stage to version %s for secret %s." % (token, arn))
