//! Rotation functions as users declare them: the `[[functions]]` tables of the config file, the
//! documents `tumbler admin functions put` sends, and the rows of the `functions` table are
//! all a [`FunctionDefinition`]; [`FunctionDefinition::validate`] turns one into the typed
//! [`FunctionSpec`] the runners use. A Lambda ARN names a function by its name (spec §4.1 step 5).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::domain::policy::Policy;
use crate::service::policy_document::{self, PolicyKind};

/// Lambda's own default is 3 s; rotation templates ask for 30 s or more.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Lambda's ceiling.
pub const MAX_TIMEOUT_SECS: u64 = 900;
pub const DEFAULT_MEMORY_SIZE_MB: u32 = 128;

/// One function, as written in TOML or JSON. Strict: an unknown key is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDefinition {
    pub name: String,
    /// `builtin`, `process` or `http`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The Lambda handler (`_HANDLER`); defaults to the command's last argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `http`: sign invocations with SigV4 for service `lambda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<SigV4Definition>,
    /// For builtins: GetRandomPassword's length (default 32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_length: Option<i64>,
    /// For builtins: characters the password must not contain (database builtins default to
    /// [`CONNECTION_STRING_CHARACTERS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_characters: Option<String>,
    /// For database builtins: `disable`, `prefer` or `require` (see [`TlsMode`]). Unset, the
    /// secret's `ssl` field decides, and without one TLS is preferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// For database builtins: PEM certificates the database's certificate must chain to
    /// (instead of the public web roots) when TLS is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<PathBuf>,
    /// The policy of the function's execution role, an IAM identity policy document (JSON).
    /// Unset, the role may call DescribeSecret, GetSecretValue, PutSecretValue and
    /// UpdateSecretVersionStage on the secret being rotated, and GetRandomPassword. Not for
    /// `http` functions, which sign with credentials of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_policy: Option<String>,
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigV4Definition {
    pub region: String,
    pub access_key_id: String,
    /// In a config file or an admin request. Never stored: see `secret_access_key_sealed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    /// As stored: sealed under the master key, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_sealed: Option<String>,
}

impl std::fmt::Debug for SigV4Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4Definition")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A validated function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub timeout: Duration,
    pub kind: FunctionKind,
    /// The execution role's own policy; `None` is the default role.
    pub role_policy: Option<Arc<Policy>>,
}

#[derive(Debug, Clone)]
pub enum FunctionKind {
    Builtin(Builtin),
    Process(ProcessSpec),
    Http(HttpSpec),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// Sets a new random password (GetRandomPassword's rules) in the `password` field of a
    /// JSON secret, or replaces a plain string secret. Needs no external system.
    RandomPassword(PasswordOptions),
    /// Changes a database user's password, as AWS's rotation templates for databases do.
    Database(DatabaseBuiltin),
}

/// The GetRandomPassword rules a builtin makes new passwords by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    pub length: Option<i64>,
    pub exclude_characters: Option<String>,
}

/// Characters that break connection strings and shell quoting, which AWS's database templates
/// exclude by default (`/ @ " ' \`), and `:`, which separates user and password in URLs.
pub const CONNECTION_STRING_CHARACTERS: &str = "/@\"'\\:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseBuiltin {
    pub engine: Engine,
    pub users: UserStrategy,
    pub password: PasswordOptions,
    /// `None`: as the secret's `ssl` field says.
    pub tls: Option<TlsMode>,
    pub tls_ca_file: Option<PathBuf>,
}

/// The database family a builtin speaks to, and the `engine` values of secrets it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
    Redis,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Redis => "redis",
        }
    }

    /// Whether a secret's `engine` field names this family (AWS's values for RDS and Aurora
    /// included, so secrets written for AWS's templates rotate unchanged).
    pub fn accepts(self, engine: &str) -> bool {
        let accepted: &[&str] = match self {
            Engine::Postgres => &["postgres", "postgresql", "aurora-postgresql"],
            Engine::Mysql => &["mysql", "mariadb", "aurora-mysql", "aurora"],
            Engine::Redis => &["redis", "valkey"],
        };
        accepted.contains(&engine.to_ascii_lowercase().as_str())
    }

    /// The port a secret without a `port` field means.
    pub fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
            Engine::Redis => 6379,
        }
    }
}

/// Whose login changes the password (AWS's two template families).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStrategy {
    /// The user changes its own password.
    Single,
    /// The user of the secret's `masterarn` sets the password of the user not in use,
    /// `<username>` or `<username>_clone`, and the secret alternates between the two.
    Alternating,
}

/// Whether connections to the database use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS if the server offers it, else plaintext; the certificate is not checked (as AWS's
    /// templates do when a secret has no `ssl` field).
    Prefer,
    /// TLS or nothing, and the server's certificate must chain to `tls_ca_file` (or the
    /// public web roots) and name the host.
    Require,
}

impl TlsMode {
    fn parse(text: &str) -> Option<TlsMode> {
        match text {
            "disable" => Some(TlsMode::Disable),
            "prefer" => Some(TlsMode::Prefer),
            "require" => Some(TlsMode::Require),
            _ => None,
        }
    }
}

/// Each builtin's name, and what it is.
pub const BUILTINS: &[&str] = &[
    "random-password",
    "postgres-single-user",
    "postgres-alternating-users",
    "mysql-single-user",
    "mysql-alternating-users",
    "redis-single-user",
];

fn database_builtin(name: &str) -> Option<(Engine, UserStrategy)> {
    Some(match name {
        "postgres-single-user" => (Engine::Postgres, UserStrategy::Single),
        "postgres-alternating-users" => (Engine::Postgres, UserStrategy::Alternating),
        "mysql-single-user" => (Engine::Mysql, UserStrategy::Single),
        "mysql-alternating-users" => (Engine::Mysql, UserStrategy::Alternating),
        "redis-single-user" => (Engine::Redis, UserStrategy::Single),
        _ => return None,
    })
}

#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub command: Vec<String>,
    pub workdir: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub handler: String,
    pub memory_size: u32,
}

#[derive(Clone)]
pub struct HttpSpec {
    pub url: String,
    pub signing: Option<HttpSigning>,
}

impl std::fmt::Debug for HttpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSpec")
            .field("url", &self.url)
            .field("signed", &self.signing.is_some())
            .finish()
    }
}

#[derive(Clone)]
pub struct HttpSigning {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("function {name:?}: {message}")]
pub struct DefinitionError {
    pub name: String,
    pub message: String,
}

/// Lambda's rule for function names.
pub fn is_valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The function a Lambda ARN names: `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
/// Region and account are not checked: the ARN is how AWS clients spell a function, and
/// Tumbler has one namespace of functions.
pub fn function_name_of(lambda_arn: &str) -> Option<&str> {
    let rest = lambda_arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(7, ':');
    let (_partition, service, _region, _account, resource, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (service == "lambda" && resource == "function" && is_valid_function_name(name)).then_some(name)
}

impl FunctionDefinition {
    fn err(&self, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            name: self.name.clone(),
            message: message.into(),
        }
    }

    /// Checks the definition and gives the typed function. A sealed SigV4 secret is opened
    /// with `master_key`.
    pub fn validate(
        &self,
        master_key: Option<&MasterKey>,
    ) -> Result<FunctionSpec, DefinitionError> {
        if !is_valid_function_name(&self.name) {
            return Err(
                self.err("a function name is 1 to 64 letters, digits, hyphens or underscores")
            );
        }
        let timeout_secs = self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if !(1..=MAX_TIMEOUT_SECS).contains(&timeout_secs) {
            return Err(self.err(format!(
                "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECS}"
            )));
        }
        let only = |allowed: &[&str]| -> Result<(), DefinitionError> {
            let present = [
                ("builtin", self.builtin.is_some()),
                ("command", self.command.is_some()),
                ("workdir", self.workdir.is_some()),
                ("env", !self.env.is_empty()),
                ("handler", self.handler.is_some()),
                ("memory_size", self.memory_size.is_some()),
                ("url", self.url.is_some()),
                ("sigv4", self.sigv4.is_some()),
                ("password_length", self.password_length.is_some()),
                ("exclude_characters", self.exclude_characters.is_some()),
                ("tls", self.tls.is_some()),
                ("tls_ca_file", self.tls_ca_file.is_some()),
            ];
            match present
                .iter()
                .find(|(key, set)| *set && !allowed.contains(key))
            {
                Some((key, _)) => {
                    Err(self.err(format!("{key} does not apply to a {} function", self.kind)))
                }
                None => Ok(()),
            }
        };
        let kind = match self.kind.as_str() {
            "builtin" => {
                let password = PasswordOptions {
                    length: self.password_length,
                    exclude_characters: self.exclude_characters.clone(),
                };
                match self.builtin.as_deref() {
                    Some("random-password") => {
                        only(&["builtin", "password_length", "exclude_characters"])?;
                        FunctionKind::Builtin(Builtin::RandomPassword(password))
                    }
                    Some(name) if database_builtin(name).is_some() => {
                        only(&[
                            "builtin",
                            "password_length",
                            "exclude_characters",
                            "tls",
                            "tls_ca_file",
                        ])?;
                        let (engine, users) = database_builtin(name).expect("matched above");
                        let tls = match self.tls.as_deref() {
                            None => None,
                            Some(t) => Some(TlsMode::parse(t).ok_or_else(|| {
                                self.err(format!(
                                    "tls must be disable, prefer or require, not {t:?}"
                                ))
                            })?),
                        };
                        if let Some(path) = &self.tls_ca_file
                            && !path.is_file()
                        {
                            return Err(self.err(format!(
                                "tls_ca_file {} is not a readable file",
                                path.display()
                            )));
                        }
                        FunctionKind::Builtin(Builtin::Database(DatabaseBuiltin {
                            engine,
                            users,
                            password: PasswordOptions {
                                exclude_characters: password
                                    .exclude_characters
                                    .or_else(|| Some(CONNECTION_STRING_CHARACTERS.to_owned())),
                                ..password
                            },
                            tls,
                            tls_ca_file: self.tls_ca_file.clone(),
                        }))
                    }
                    Some(other) => {
                        return Err(self.err(format!(
                            "unknown builtin {other:?}; builtins: {}",
                            BUILTINS.join(", ")
                        )));
                    }
                    None => {
                        return Err(self.err(format!(
                            "a builtin function names its builtin: {}",
                            BUILTINS.join(", ")
                        )));
                    }
                }
            }
            "process" => {
                only(&["command", "workdir", "env", "handler", "memory_size"])?;
                let command = self
                    .command
                    .clone()
                    .filter(|c| !c.is_empty() && !c[0].is_empty())
                    .ok_or_else(|| self.err("a process function needs a command"))?;
                let handler = self
                    .handler
                    .clone()
                    .or_else(|| command.last().cloned())
                    .unwrap_or_default();
                FunctionKind::Process(ProcessSpec {
                    command,
                    workdir: self.workdir.clone(),
                    env: self.env.clone(),
                    handler,
                    memory_size: self.memory_size.unwrap_or(DEFAULT_MEMORY_SIZE_MB),
                })
            }
            "http" => {
                only(&["url", "sigv4"])?;
                let url = self
                    .url
                    .clone()
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .ok_or_else(|| self.err("an http function needs an http:// or https:// url"))?;
                let signing = match &self.sigv4 {
                    None => None,
                    Some(s) => {
                        let secret =
                            match (&s.secret_access_key, &s.secret_access_key_sealed) {
                                (Some(plain), _) => Zeroizing::new(plain.clone()),
                                (None, Some(sealed)) => {
                                    let key = master_key.ok_or_else(|| {
                                        self.err("a sealed SigV4 secret needs the master key")
                                    })?;
                                    let bytes = STANDARD
                                        .decode(sealed)
                                        .ok()
                                        .and_then(|c| key.open(&c, &sigv4_aad(&self.name)).ok())
                                        .ok_or_else(|| {
                                            self.err("the stored SigV4 secret cannot be opened")
                                        })?;
                                    Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(
                                        |_| self.err("the stored SigV4 secret is not text"),
                                    )?)
                                }
                                (None, None) => {
                                    return Err(self.err("sigv4 needs secret_access_key"));
                                }
                            };
                        Some(HttpSigning {
                            region: s.region.clone(),
                            access_key_id: s.access_key_id.clone(),
                            secret_access_key: secret,
                        })
                    }
                };
                FunctionKind::Http(HttpSpec { url, signing })
            }
            other => {
                return Err(self.err(format!(
                    "kind must be builtin, process or http, not {other:?}"
                )));
            }
        };
        let role_policy = match &self.role_policy {
            None => None,
            Some(_) if matches!(kind, FunctionKind::Http(_)) => {
                return Err(self.err(
                    "role_policy is for builtin and process functions: an http function signs with credentials of its own",
                ));
            }
            Some(text) => Some(Arc::new(
                policy_document::parse(text, PolicyKind::Identity)
                    .map_err(|e| self.err(format!("role_policy: {e}")))?,
            )),
        };
        Ok(FunctionSpec {
            name: self.name.clone(),
            timeout: Duration::from_secs(timeout_secs),
            kind,
            role_policy,
        })
    }

    /// The form the database keeps: any SigV4 secret sealed under the master key.
    pub fn sealed(&self, master_key: &MasterKey) -> FunctionDefinition {
        let mut stored = self.clone();
        if let Some(s) = &mut stored.sigv4
            && let Some(plain) = s.secret_access_key.take()
        {
            let plain = Zeroizing::new(plain);
            s.secret_access_key_sealed =
                Some(STANDARD.encode(master_key.seal(plain.as_bytes(), &sigv4_aad(&self.name))));
        }
        stored
    }

    /// The form shown to an admin: no secret, sealed or not.
    pub fn redacted(&self) -> FunctionDefinition {
        let mut shown = self.clone();
        if let Some(s) = &mut shown.sigv4 {
            s.secret_access_key = None;
            s.secret_access_key_sealed = None;
        }
        shown
    }
}

/// Binds a sealed SigV4 secret to its function's name.
fn sigv4_aad(function_name: &str) -> Vec<u8> {
    format!("tumbler:function-sigv4:{function_name}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(toml_text: &str) -> FunctionDefinition {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn a_lambda_arn_names_a_function_with_or_without_a_qualifier() {
        assert_eq!(
            function_name_of(
                "arn:aws:lambda:us-west-2:1234566789012:function:SecretsManagerTestRotationLambda"
            ),
            Some("SecretsManagerTestRotationLambda")
        );
        assert_eq!(
            function_name_of("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"),
            Some("f")
        );
        assert_eq!(function_name_of("arn:aws:s3:::bucket"), None);
        assert_eq!(function_name_of("MyFunction"), None);
    }

    #[test]
    fn the_issue_examples_validate() {
        let b = def(
            "name = \"SecretsManagerTestRotationLambda\"\nkind = \"builtin\"\nbuiltin = \"random-password\"",
        );
        assert!(matches!(
            b.validate(None).unwrap().kind,
            FunctionKind::Builtin(Builtin::RandomPassword(_))
        ));
        let p = def(
            "name = \"MyPythonRotation\"\nkind = \"process\"\ncommand = [\"python3\", \"-m\", \"awslambdaric\", \"lambda_function.lambda_handler\"]\nworkdir = \"/srv\"\nenv = { EXCLUDE_CHARACTERS = \"/@\" }\ntimeout_seconds = 60",
        );
        let FunctionKind::Process(spec) = p.validate(None).unwrap().kind else {
            panic!("process")
        };
        assert_eq!(spec.handler, "lambda_function.lambda_handler");
        let h = def(
            "name = \"MyHttpRotation\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9000/2015-03-31/functions/function/invocations\"",
        );
        assert!(matches!(
            h.validate(None).unwrap().kind,
            FunctionKind::Http(_)
        ));
    }

    #[test]
    fn a_definition_says_what_is_wrong_with_it() {
        let e = def("name = \"f\"\nkind = \"builtin\"\nbuiltin = \"oracle\"")
            .validate(None)
            .unwrap_err();
        assert!(e.to_string().contains("unknown builtin"), "{e}");
        let e = def("name = \"f\"\nkind = \"process\"\nurl = \"http://x\"")
            .validate(None)
            .unwrap_err();
        assert!(e.to_string().contains("url does not apply"), "{e}");
        let e = def("name = \"bad name\"\nkind = \"http\"\nurl = \"http://x\"")
            .validate(None)
            .unwrap_err();
        assert!(e.to_string().contains("1 to 64"), "{e}");
        assert!(
            toml::from_str::<FunctionDefinition>("name = \"f\"\nkind = \"http\"\nbogus = 1")
                .is_err()
        );
    }

    #[test]
    fn database_builtins_exclude_connection_string_characters_unless_told_otherwise() {
        let FunctionKind::Builtin(Builtin::Database(db)) = def(
            "name = \"f\"\nkind = \"builtin\"\nbuiltin = \"postgres-alternating-users\"\ntls = \"require\"",
        )
        .validate(None)
        .unwrap()
        .kind
        else {
            panic!("database builtin")
        };
        assert_eq!(
            (db.engine, db.users, db.tls),
            (
                Engine::Postgres,
                UserStrategy::Alternating,
                Some(TlsMode::Require)
            )
        );
        assert_eq!(db.password.exclude_characters.as_deref(), Some("/@\"'\\:"));
        let FunctionKind::Builtin(Builtin::Database(db)) = def(
            "name = \"f\"\nkind = \"builtin\"\nbuiltin = \"redis-single-user\"\nexclude_characters = \"\"\npassword_length = 64",
        )
        .validate(None)
        .unwrap()
        .kind
        else {
            panic!("database builtin")
        };
        assert_eq!(db.password.exclude_characters.as_deref(), Some(""));
        assert_eq!(db.password.length, Some(64));
    }

    #[test]
    fn tls_settings_are_checked_and_belong_to_database_builtins() {
        let e = def(
            "name = \"f\"\nkind = \"builtin\"\nbuiltin = \"mysql-single-user\"\ntls = \"always\"",
        )
        .validate(None)
        .unwrap_err();
        assert!(e.to_string().contains("disable, prefer or require"), "{e}");
        let e = def(
            "name = \"f\"\nkind = \"builtin\"\nbuiltin = \"random-password\"\ntls = \"require\"",
        )
        .validate(None)
        .unwrap_err();
        assert!(e.to_string().contains("tls does not apply"), "{e}");
        let e = def("name = \"f\"\nkind = \"builtin\"\nbuiltin = \"mysql-single-user\"\ntls_ca_file = \"/nonexistent/ca.pem\"")
            .validate(None)
            .unwrap_err();
        assert!(e.to_string().contains("not a readable file"), "{e}");
    }

    #[test]
    fn a_sigv4_secret_is_stored_sealed_and_shown_to_nobody() {
        let key = MasterKey::generate();
        let d = def(
            "name = \"f\"\nkind = \"http\"\nurl = \"http://x\"\nsigv4 = { region = \"us-east-1\", access_key_id = \"AKID\", secret_access_key = \"s3cr3t\" }",
        );
        let stored = d.sealed(&key);
        let json = serde_json::to_string(&stored).unwrap();
        assert!(!json.contains("s3cr3t"));
        let FunctionKind::Http(spec) = stored.validate(Some(&key)).unwrap().kind else {
            panic!("http")
        };
        assert_eq!(spec.signing.unwrap().secret_access_key.as_str(), "s3cr3t");
        assert!(
            !serde_json::to_string(&stored.redacted())
                .unwrap()
                .contains("sealed")
        );
    }
}
