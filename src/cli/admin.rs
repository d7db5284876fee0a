//! `tumbler admin`: the client of a running server's admin API (`api/admin.rs`). It finds the
//! server and the admin's credentials the way `tumbler serve` found them: the same config file,
//! `TUMBLER_*` variables and data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::aws::connection::{CallError, Connection, Credentials};
use crate::config::{ADMIN_CREDENTIALS_FILE, Config, Overrides};
use crate::rotation::definition::{FunctionDefinition, SigV4Definition};

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's endpoint [default: http://<listen address of the config>].
    #[arg(long, env = "TUMBLER_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The server's TOML configuration file, to find its address and data directory.
    #[arg(long, env = "TUMBLER_CONFIG")]
    pub config: Option<PathBuf>,
    /// The server's data directory, where the admin credentials file is.
    #[arg(long, env = "TUMBLER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The Region requests are signed for (secrets are found in it).
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    pub region: String,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Rotation functions: what a RotationLambdaARN names.
    #[command(subcommand)]
    Functions(FunctionsCommand),
    /// A secret's rotations and rotation events.
    Rotations {
        /// The secret's name or ARN.
        #[arg(long)]
        secret_id: String,
    },
    /// The audit trail: one CloudTrail-shaped JSON record per line, oldest first.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only calls about this secret (its name or ARN) and its rotation events.
    #[arg(long)]
    pub secret_id: Option<String>,
    /// Only calls by this user.
    #[arg(long)]
    pub user_name: Option<String>,
    /// Only this event: GetSecretValue, CreateUser, RotationSucceeded...
    #[arg(long)]
    pub event_name: Option<String>,
    /// Only records at or after this time (ISO 8601, e.g. 2026-11-27T09:00:00Z).
    #[arg(long)]
    pub start_time: Option<String>,
    /// Only records at or before this time (ISO 8601).
    #[arg(long)]
    pub end_time: Option<String>,
    /// Only calls that failed (denied ones included) and failed rotations.
    #[arg(long)]
    pub errors_only: bool,
    /// At most this many records.
    #[arg(long, default_value_t = 1000)]
    pub max_items: usize,
}

impl AuditArgs {
    /// The ListAuditEvents request, without paging.
    fn request(&self) -> Result<serde_json::Value, String> {
        let seconds = |flag: &str, text: &Option<String>| -> Result<Option<f64>, String> {
            text.as_deref()
                .map(|t| {
                    t.parse::<jiff::Timestamp>()
                        .map(|ts| ts.as_millisecond() as f64 / 1000.0)
                        .map_err(|e| format!("--{flag} {t}: not an ISO 8601 time ({e})"))
                })
                .transpose()
        };
        let mut body = serde_json::json!({ "ErrorsOnly": self.errors_only });
        for (key, value) in [
            ("SecretId", &self.secret_id),
            ("UserName", &self.user_name),
            ("EventName", &self.event_name),
        ] {
            if let Some(v) = value {
                body[key] = serde_json::json!(v);
            }
        }
        if let Some(t) = seconds("start-time", &self.start_time)? {
            body["StartTime"] = serde_json::json!(t);
        }
        if let Some(t) = seconds("end-time", &self.end_time)? {
            body["EndTime"] = serde_json::json!(t);
        }
        Ok(body)
    }
}

#[derive(Debug, Subcommand)]
pub enum FunctionsCommand {
    /// Register or replace a function.
    Put(Box<PutFunctionArgs>),
    /// Show one function.
    Get {
        #[arg(long)]
        name: String,
    },
    /// List the functions.
    List,
    /// Remove a function.
    Delete {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct PutFunctionArgs {
    /// A file holding the definition as TOML (the keys of a `[[functions]]` table) or JSON.
    /// Flags given as well override its keys.
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    /// builtin, process or http.
    #[arg(long)]
    pub kind: Option<String>,
    /// For builtin: random-password, postgres-single-user, postgres-alternating-users,
    /// mysql-single-user, mysql-alternating-users or redis-single-user.
    #[arg(long)]
    pub builtin: Option<String>,
    /// For http: the Lambda Invoke URL.
    #[arg(long)]
    pub url: Option<String>,
    /// For process: the working directory (LAMBDA_TASK_ROOT).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// For process: an environment variable, KEY=VALUE; repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// For process: the handler (_HANDLER) [default: the command's last argument].
    #[arg(long)]
    pub handler: Option<String>,
    #[arg(long)]
    pub timeout_seconds: Option<u64>,
    #[arg(long)]
    pub memory_size: Option<u32>,
    /// For builtins: the new passwords' length.
    #[arg(long)]
    pub password_length: Option<i64>,
    /// For builtins: characters new passwords leave out.
    #[arg(long)]
    pub exclude_characters: Option<String>,
    /// For database builtins: disable, prefer or require TLS.
    #[arg(long)]
    pub tls: Option<String>,
    /// For database builtins: PEM certificates a required TLS connection is checked against.
    #[arg(long)]
    pub tls_ca_file: Option<PathBuf>,
    /// For http: sign invocations with SigV4 in this Region (service lambda).
    #[arg(long, requires = "sigv4_access_key_id")]
    pub sigv4_region: Option<String>,
    #[arg(long, requires = "sigv4_region")]
    pub sigv4_access_key_id: Option<String>,
    /// The signing secret, read from this environment variable (never from a flag).
    #[arg(long, default_value = "TUMBLER_FUNCTION_SIGV4_SECRET_ACCESS_KEY")]
    pub sigv4_secret_env: String,
    /// The policy of the function's execution role (an IAM policy document, as JSON or
    /// file://PATH) [default: the calls a rotation makes, on the secret being rotated].
    #[arg(long)]
    pub role_policy: Option<String>,
    /// For process: the command and its arguments, after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

impl PutFunctionArgs {
    fn definition(self) -> Result<FunctionDefinition, String> {
        let mut def = match &self.file {
            Some(path) => read_definition(path)?,
            None => FunctionDefinition::default(),
        };
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = self.$field {
                    def.$field = v.into();
                }
            };
        }
        set!(name);
        set!(kind);
        if self.builtin.is_some() {
            def.builtin = self.builtin;
        }
        if self.url.is_some() {
            def.url = self.url;
        }
        if self.workdir.is_some() {
            def.workdir = self.workdir;
        }
        if self.handler.is_some() {
            def.handler = self.handler;
        }
        if self.timeout_seconds.is_some() {
            def.timeout_seconds = self.timeout_seconds;
        }
        if self.memory_size.is_some() {
            def.memory_size = self.memory_size;
        }
        if self.password_length.is_some() {
            def.password_length = self.password_length;
        }
        if self.tls.is_some() {
            def.tls = self.tls;
        }
        if self.tls_ca_file.is_some() {
            def.tls_ca_file = self.tls_ca_file;
        }
        if self.exclude_characters.is_some() {
            def.exclude_characters = self.exclude_characters;
        }
        if !self.command.is_empty() {
            def.command = Some(self.command);
        }
        if let Some(policy) = self.role_policy {
            def.role_policy = Some(match policy.strip_prefix("file://") {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| format!("--role-policy {path}: {e}"))?,
                None => policy,
            });
        }
        let mut env = BTreeMap::new();
        for pair in self.env {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("--env {pair}: expected KEY=VALUE"))?;
            env.insert(k.to_owned(), v.to_owned());
        }
        def.env.extend(env);
        if let (Some(region), Some(access_key_id)) = (self.sigv4_region, self.sigv4_access_key_id) {
            let secret = std::env::var(&self.sigv4_secret_env).map_err(|_| {
                format!(
                    "--sigv4-region: set the signing secret in ${}",
                    self.sigv4_secret_env
                )
            })?;
            def.sigv4 = Some(SigV4Definition {
                region,
                access_key_id,
                secret_access_key: Some(secret),
                secret_access_key_sealed: None,
            });
        }
        if def.name.is_empty() || def.kind.is_empty() {
            return Err("a function needs --name and --kind (or a --file that has them)".into());
        }
        Ok(def)
    }
}

fn read_definition(path: &Path) -> Result<FunctionDefinition, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    } else {
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The admin's access key: from the environment, or the credentials file the server wrote.
pub(super) fn admin_credentials(data_dir: &Path) -> Result<(String, Zeroizing<String>), String> {
    if let (Ok(id), Ok(secret)) = (
        std::env::var("TUMBLER_ADMIN_ACCESS_KEY_ID"),
        std::env::var("TUMBLER_ADMIN_SECRET_ACCESS_KEY"),
    ) {
        return Ok((id, Zeroizing::new(secret)));
    }
    let path = data_dir.join(ADMIN_CREDENTIALS_FILE);
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (set TUMBLER_ADMIN_ACCESS_KEY_ID and TUMBLER_ADMIN_SECRET_ACCESS_KEY, or --data-dir)",
            path.display()
        )
    })?);
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    match (value("aws_access_key_id"), value("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok((id, Zeroizing::new(secret))),
        _ => Err(format!("{}: no access key in it", path.display())),
    }
}

pub fn run(args: AdminArgs) -> Result<(), String> {
    let config = Config::load(Overrides {
        config_file: args.config.clone(),
        data_dir: args.data_dir.clone(),
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let endpoint = args
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let (access_key_id, secret_access_key) = admin_credentials(config.data_dir.path())?;
    let conn = Connection::to_endpoint(
        &endpoint,
        &args.region,
        Credentials {
            access_key_id,
            secret_access_key,
            session_token: None,
        },
        "TumblerAdmin",
    )
    .map_err(|e| e.0)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let call = |operation: &str, body: &serde_json::Value| {
        runtime
            .block_on(conn.call(operation, body))
            .map_err(|e| match e {
                CallError::Service { code, message } => format!("{code}: {message}"),
                CallError::Transport(message) => message,
            })
    };
    let (operation, body) = match args.command {
        AdminCommand::Functions(FunctionsCommand::Put(put)) => {
            let def = put.definition()?;
            (
                "PutFunction",
                serde_json::to_value(&def).map_err(|e| e.to_string())?,
            )
        }
        AdminCommand::Functions(FunctionsCommand::Get { name }) => {
            ("GetFunction", serde_json::json!({ "Name": name }))
        }
        AdminCommand::Functions(FunctionsCommand::List) => ("ListFunctions", serde_json::json!({})),
        AdminCommand::Functions(FunctionsCommand::Delete { name }) => {
            ("DeleteFunction", serde_json::json!({ "Name": name }))
        }
        AdminCommand::Rotations { secret_id } => (
            "ListRotations",
            serde_json::json!({ "SecretId": secret_id }),
        ),
        AdminCommand::Audit(audit) => {
            // Page through, printing records as they come, as the file holds them.
            let mut body = audit.request()?;
            let mut printed = 0;
            while printed < audit.max_items {
                body["MaxResults"] = serde_json::json!((audit.max_items - printed).min(1000));
                let page = call("ListAuditEvents", &body)?;
                for event in page["Events"].as_array().into_iter().flatten() {
                    println!("{event}");
                    printed += 1;
                }
                match page["NextToken"].as_str() {
                    Some(token) => body["NextToken"] = serde_json::json!(token),
                    None => break,
                }
            }
            return Ok(());
        }
    };
    let response = call(operation, &body)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&response).map_err(|e| e.to_string())?
    );
    Ok(())
}
