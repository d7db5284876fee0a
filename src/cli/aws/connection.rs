//! Where requests go and who signs them, resolved as the aws CLI resolves them: the
//! credential chain (`--profile`, the environment, `~/.aws/credentials`, `~/.aws/config`),
//! the Region and the endpoint. With no credentials anywhere, the local server's admin key
//! and `http://127.0.0.1:4584`, so that `tumbler serve` and `tumbler secretsmanager` work
//! together with nothing configured.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

use super::model::{Model, Service};
use super::query;
use crate::config::{Config, Overrides};
use crate::signing::Signer;

/// The global options that say how to connect.
#[derive(Debug, Default, Clone)]
pub struct ConnectionOptions {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub verify_ssl: bool,
    pub read_timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub debug: bool,
}

/// Credentials or settings that cannot be found or used (the aws CLI's exit 253).
#[derive(Debug)]
pub struct ConfigurationError(pub String);

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<String>,
}

pub struct Connection {
    pub endpoint: reqwest::Url,
    pub region: String,
    credentials: Credentials,
    client: reqwest::Client,
    debug: bool,
    target_prefix: String,
    signing_name: String,
    content_type: String,
}

/// A call that did not return a result.
#[derive(Debug)]
pub enum CallError {
    /// The service answered with an error (exit 254).
    Service { code: String, message: String },
    /// No answer: connection, TLS, timeout (exit 255).
    Transport(String),
}

/// An INI file of the aws CLI's: sections of `key = value`.
fn read_ini(path: &PathBuf) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return sections;
    };
    let mut current = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            sections.entry(name.trim().to_owned()).or_default();
        } else if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    sections
}

fn aws_file(env: &str, name: &str) -> PathBuf {
    match std::env::var_os(env) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".aws")
            .join(name),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The profile in use: `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, or `default`.
fn profile_name(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_owned)
        .or_else(|| env("AWS_PROFILE"))
        .or_else(|| env("AWS_DEFAULT_PROFILE"))
        .unwrap_or_else(|| "default".into())
}

/// A profile's section in `~/.aws/config` (`[default]`, `[profile NAME]`).
fn config_section_name(profile: &str) -> String {
    if profile == "default" {
        profile.to_owned()
    } else {
        format!("profile {profile}")
    }
}

/// A setting of the profile in use from `~/.aws/config`, such as `output`.
pub fn profile_setting(explicit_profile: Option<&str>, key: &str) -> Option<String> {
    let section = config_section_name(&profile_name(explicit_profile));
    read_ini(&aws_file("AWS_CONFIG_FILE", "config"))
        .get(&section)
        .and_then(|s| s.get(key))
        .cloned()
}

impl Connection {
    /// A connection with everything given: `tumbler admin`, which signs with the admin key
    /// for the server it was told of.
    pub fn to_endpoint(
        endpoint: &str,
        region: &str,
        credentials: Credentials,
        target_prefix: &str,
    ) -> Result<Connection, ConfigurationError> {
        let endpoint = reqwest::Url::parse(&format!("{}/", endpoint.trim_end_matches('/')))
            .map_err(|e| ConfigurationError(format!("--endpoint-url {endpoint}: {e}")))?;
        Ok(Connection {
            endpoint,
            region: region.to_owned(),
            credentials,
            client: reqwest::Client::new(),
            debug: false,
            target_prefix: target_prefix.to_owned(),
            signing_name: "secretsmanager".into(),
            content_type: "application/x-amz-json-1.1".into(),
        })
    }

    /// `metadata` is the service model's: the target prefix, signing name and JSON version.
    pub fn resolve(
        options: &ConnectionOptions,
        model: &Model,
    ) -> Result<Connection, ConfigurationError> {
        let metadata = &model.metadata;
        let iam = model.service == Service::Iam;
        let explicit_profile = options.profile.clone();
        let profile = profile_name(explicit_profile.as_deref());
        let credentials_file = read_ini(&aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"));
        let config_file = read_ini(&aws_file("AWS_CONFIG_FILE", "config"));
        let config_section = config_file.get(&config_section_name(&profile));
        let credentials_section = credentials_file.get(&profile);
        if profile != "default"
            && (explicit_profile.is_some() || env("AWS_PROFILE").is_some())
            && config_section.is_none()
            && credentials_section.is_none()
        {
            return Err(ConfigurationError(format!(
                "The config profile ({profile}) could not be found"
            )));
        }
        let setting = |key: &str| {
            credentials_section
                .and_then(|s| s.get(key))
                .or_else(|| config_section.and_then(|s| s.get(key)))
                .cloned()
        };

        // An explicit --profile outranks the environment's keys, as in botocore.
        let from_env = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) if explicit_profile.is_none() => Some(Credentials {
                access_key_id: id,
                secret_access_key: Zeroizing::new(secret),
                session_token: env("AWS_SESSION_TOKEN"),
            }),
            _ => None,
        };
        let from_profile = match (
            setting("aws_access_key_id"),
            setting("aws_secret_access_key"),
        ) {
            (Some(id), Some(secret)) => Some(Credentials {
                access_key_id: id,
                secret_access_key: Zeroizing::new(secret),
                session_token: setting("aws_session_token"),
            }),
            _ => None,
        };
        let configured = from_env.or(from_profile);
        let local_default = configured.is_none();
        // Read only when nothing is configured: the local server's settings.
        let local = local_default.then(local_config).flatten();
        let credentials = match configured {
            Some(c) => c,
            None => local_admin_credentials(local.as_ref()).ok_or_else(|| {
                ConfigurationError(
                    "Unable to locate credentials. You can configure credentials by running \
                     \"aws configure\"."
                        .into(),
                )
            })?,
        };
        // IAM is global: the aws CLI signs its calls for us-east-1 whatever the Region.
        let region = iam
            .then(|| "us-east-1".to_owned())
            .or_else(|| options.region.clone())
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| setting("region"))
            .or_else(|| local_default.then(|| "us-east-1".to_owned()))
            .ok_or_else(|| {
                ConfigurationError(
                    "You must specify a region. You can also configure your region by running \
                     \"aws configure\"."
                        .into(),
                )
            })?;
        let endpoint = options
            .endpoint_url
            .clone()
            .or_else(|| {
                env(if iam {
                    "AWS_ENDPOINT_URL_IAM"
                } else {
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER"
                })
            })
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| setting("endpoint_url"))
            .unwrap_or_else(|| {
                if local_default {
                    local_endpoint(local.as_ref())
                } else {
                    if iam {
                        "https://iam.amazonaws.com".to_owned()
                    } else {
                        format!("https://secretsmanager.{region}.amazonaws.com")
                    }
                }
            });
        let endpoint = reqwest::Url::parse(&endpoint).map_err(|e| {
            ConfigurationError(format!("Bad value for --endpoint-url \"{endpoint}\": {e}"))
        })?;
        let mut client = reqwest::Client::builder()
            .danger_accept_invalid_certs(!options.verify_ssl)
            .connect_timeout(Duration::from_secs_f64(
                options.connect_timeout.filter(|t| *t > 0.0).unwrap_or(60.0),
            ));
        if let Some(t) = options.read_timeout.filter(|t| *t > 0.0) {
            client = client.read_timeout(Duration::from_secs_f64(t));
        }
        let client = client
            .build()
            .map_err(|e| ConfigurationError(format!("HTTP client: {e}")))?;
        Ok(Connection {
            endpoint,
            region,
            credentials,
            client,
            debug: options.debug,
            target_prefix: metadata.target_prefix.clone(),
            signing_name: metadata.signing_name().to_owned(),
            content_type: if metadata.is_query() {
                "application/x-www-form-urlencoded; charset=utf-8".to_owned()
            } else {
                format!("application/x-amz-json-{}", metadata.json_version)
            },
        })
    }

    /// Calls `operation` with `body`, retrying throttling, server errors and lost
    /// connections as the aws CLI's standard retry mode does (3 attempts in all).
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, CallError> {
        self.call_target(&format!("{}.{operation}", self.target_prefix), body)
            .await
    }

    /// Calls any JSON target on the same endpoint (Tumbler's admin API, for `--wait`).
    pub async fn call_target(&self, target: &str, body: &Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(body).expect("a JSON value serializes");
        self.with_retries(|| self.send(target, &body)).await
    }

    /// Calls `operation` in the model's protocol: awsJson, or awsQuery (IAM), whose answer is
    /// read into JSON by the operation's output shape.
    pub async fn call_operation(
        &self,
        model: &Model,
        operation: &str,
        body: &Value,
    ) -> Result<Value, CallError> {
        if !model.metadata.is_query() {
            return self.call(operation, body).await;
        }
        let form = query::serialize(model, operation, body);
        self.with_retries(|| async {
            let (status, text) = self.exchange(None, form.as_bytes()).await?;
            if status.is_success() {
                return query::parse_response(model, operation, &text)
                    .map_err(CallError::Transport);
            }
            let (code, message) = query::parse_error(&text)
                .unwrap_or_else(|| (format!("HTTP {}", status.as_u16()), "Unknown".to_owned()));
            Err(CallError::Service { code, message })
        })
        .await
    }

    /// Runs `attempt` up to 3 times while it fails with throttling, a server error or a lost
    /// connection, as the aws CLI's standard retry mode does.
    async fn with_retries<F, Fut>(&self, mut attempt_call: F) -> Result<Value, CallError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Value, CallError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = attempt_call().await;
            let retryable = match &outcome {
                Err(CallError::Transport(_)) => true,
                Err(CallError::Service { code, .. }) => matches!(
                    code.as_str(),
                    "ThrottlingException"
                        | "Throttling"
                        | "TooManyRequestsException"
                        | "RequestLimitExceeded"
                        | "InternalServiceError"
                        | "InternalFailure"
                        | "ServiceFailure"
                        | "ServiceUnavailable"
                ),
                Ok(_) => false,
            };
            if !retryable || attempt >= 3 {
                return outcome;
            }
            // Full jitter on a doubling base, as botocore's standard mode.
            let cap = 2u64.pow(attempt) * 100;
            let delay = rand::random_range(0..cap.max(1));
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    /// One signed POST: the HTTP status and body. `target` is awsJson's `X-Amz-Target`;
    /// without one the body is awsQuery's form.
    async fn exchange(
        &self,
        target: Option<&str>,
        body: &[u8],
    ) -> Result<(reqwest::StatusCode, String), CallError> {
        let url = self.endpoint.clone();
        let content_type = self.content_type.as_str();
        let mut headers = vec![("content-type", content_type)];
        if let Some(t) = target {
            headers.push(("x-amz-target", t));
        }
        let signed = Signer {
            access_key_id: &self.credentials.access_key_id,
            secret_access_key: &self.credentials.secret_access_key,
            region: &self.region,
            service: &self.signing_name,
            session_token: self.credentials.session_token.as_deref(),
        }
        .sign("POST", &url, &headers, body)
        .map_err(CallError::Transport)?;
        let mut request = self
            .client
            .post(url.clone())
            .header("content-type", content_type)
            .body(body.to_vec());
        if let Some(t) = target {
            request = request.header("x-amz-target", t);
        }
        for (k, v) in signed {
            request = request.header(k, v);
        }
        if self.debug {
            // Bodies are not shown: they carry secret values.
            eprintln!(
                "DEBUG - POST {url} {} ({} bytes)",
                target
                    .map(|t| format!("X-Amz-Target: {t}"))
                    .unwrap_or_else(|| "awsQuery".into()),
                body.len()
            );
        }
        let response = request.send().await.map_err(|e| {
            CallError::Transport(format!(
                "Could not connect to the endpoint URL: \"{url}\" ({})",
                error_chain(&e)
            ))
        })?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Transport(error_chain(&e)))?;
        if self.debug {
            eprintln!(
                "DEBUG - HTTP {status} RequestId: {request_id} ({} bytes)",
                text.len()
            );
        }
        Ok((status, text))
    }

    async fn send(&self, target: &str, body: &[u8]) -> Result<Value, CallError> {
        let (status, text) = self.exchange(Some(target), body).await?;
        let json: Value = if text.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(&text).map_err(|_| {
                CallError::Transport(format!("the endpoint answered HTTP {status}, not JSON"))
            })?
        };
        if status.is_success() {
            return Ok(json);
        }
        let raw_code = json["__type"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        // `com.amazonaws.secretsmanager#ResourceNotFoundException` and `Code:...` forms.
        let code = raw_code
            .rsplit('#')
            .next()
            .unwrap_or(&raw_code)
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let message = json["message"]
            .as_str()
            .or(json["Message"].as_str())
            .unwrap_or("Unknown")
            .to_owned();
        Err(CallError::Service { code, message })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The local server's settings, as `tumbler serve` with the same environment would use.
fn local_config() -> Option<Config> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    Config::load(Overrides {
        config_file: var("TUMBLER_CONFIG").map(PathBuf::from),
        data_dir: var("TUMBLER_DATA_DIR").map(PathBuf::from),
        listen: var("TUMBLER_LISTEN").map(|v| v.to_string_lossy().into_owned()),
        ..Default::default()
    })
    .ok()
}

fn local_admin_credentials(local: Option<&Config>) -> Option<Credentials> {
    let data_dir = local
        .map(|c| c.data_dir.path().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("tumbler-data"));
    let (id, secret) = super::super::admin::admin_credentials(&data_dir).ok()?;
    Some(Credentials {
        access_key_id: id,
        secret_access_key: secret,
        session_token: None,
    })
}

fn local_endpoint(local: Option<&Config>) -> String {
    match local {
        Some(c) => format!("http://{}", c.listen),
        None => "http://127.0.0.1:4584".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_files_are_read_by_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "[default]\nregion = eu-west-1\n# comment\n[profile dev]\nregion=us-west-2\nendpoint_url = http://localhost:4584\n",
        )
        .unwrap();
        let ini = read_ini(&path);
        assert_eq!(ini["default"]["region"], "eu-west-1");
        assert_eq!(ini["profile dev"]["endpoint_url"], "http://localhost:4584");
    }
}
