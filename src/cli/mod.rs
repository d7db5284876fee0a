//! The command line: `tumbler serve`, `tumbler secretsmanager ...` (the aws CLI's commands),
//! `tumbler admin ...`, `tumbler completions` and `tumbler config example`.

mod admin;
mod aws;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

use crate::config::{self, Config, Overrides};
use crate::server::{Tumbler, shutdown_signal};

#[derive(Debug, Parser)]
#[command(
    name = "tumbler",
    version,
    about = "A self-hosted, AWS Secrets Manager-compatible secrets service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// The aws CLI's secretsmanager commands: `tumbler secretsmanager list-secrets`.
    #[command(disable_help_flag = true)]
    Secretsmanager {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
    /// The aws CLI's iam commands for users, access keys and user policies:
    /// `tumbler iam create-user --user-name reader`.
    #[command(disable_help_flag = true)]
    Iam {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
    /// Administer a running server: rotation functions, rotation history.
    Admin(Box<admin::AdminArgs>),
    /// Print a shell completion script: `source <(tumbler completions bash)`.
    Completions { shell: clap_complete::Shell },
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented example of every configuration key.
    Example,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "TUMBLER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:4584].
    #[arg(long, env = "TUMBLER_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the database, master key and admin credentials [default: ./tumbler-data].
    #[arg(long, env = "TUMBLER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://... [default: SQLite in the data directory].
    #[arg(long, env = "TUMBLER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The 12-digit account id in ARNs [default: 123456789012].
    #[arg(long, env = "TUMBLER_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// The 32-byte master key file [default: <data-dir>/master.key].
    #[arg(long, env = "TUMBLER_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The audit trail's JSON-lines file [default: <data-dir>/audit.log].
    #[arg(long, env = "TUMBLER_AUDIT_LOG_FILE")]
    pub audit_log_file: Option<PathBuf>,
    /// Development mode: temporary data, any credentials, reset endpoint. Never in production.
    #[arg(long, env = "TUMBLER_DEV")]
    pub dev: bool,
    /// text or json.
    #[arg(long, env = "TUMBLER_LOG_FORMAT")]
    pub log_format: Option<String>,
    #[arg(long, env = "TUMBLER_MAX_CLOCK_SKEW_SECONDS", hide = true)]
    pub max_clock_skew_seconds: Option<i64>,
    #[arg(long, env = "TUMBLER_PURGE_INTERVAL_SECONDS", hide = true)]
    pub purge_interval_seconds: Option<u64>,
}

impl ServeArgs {
    pub fn overrides(self) -> Overrides {
        Overrides {
            config_file: self.config,
            listen: self.listen,
            data_dir: self.data_dir,
            database_url: self.database_url,
            account_id: self.account_id,
            master_key_file: self.master_key_file,
            audit_log_file: self.audit_log_file,
            dev: self.dev,
            log_format: self.log_format,
            max_clock_skew_seconds: self.max_clock_skew_seconds,
            purge_interval_seconds: self.purge_interval_seconds,
            // Secrets come from the environment only, never from flags (they would show in `ps`).
            admin_access_key_id: std::env::var("TUMBLER_ADMIN_ACCESS_KEY_ID").ok(),
            admin_secret_access_key: std::env::var("TUMBLER_ADMIN_SECRET_ACCESS_KEY")
                .ok()
                .map(Zeroizing::new),
        }
    }
}

/// The whole command line, the generated `secretsmanager` and `iam` commands included (for
/// completions).
fn full_command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .mut_subcommand("secretsmanager", |_| {
            aws::generated_command(aws::Service::SecretsManager)
        })
        .mut_subcommand("iam", |_| aws::generated_command(aws::Service::Iam))
}

/// Runs a command; `Ok` holds the process's exit code.
pub fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(0)
        }
        Command::Secretsmanager { args } => Ok(aws::run(aws::Service::SecretsManager, args)),
        Command::Iam { args } => Ok(aws::run(aws::Service::Iam, args)),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut full_command(),
                "tumbler",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Admin(args) => admin::run(*args).map(|()| 0),
        Command::Serve(args) => {
            let args = *args;
            let config = Config::load(args.overrides()).map_err(|e| e.to_string())?;
            crate::telemetry::init_logging(config.log_format);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("starting the runtime: {e}"))?;
            runtime
                .block_on(async {
                    let tumbler = Tumbler::open(&config).await.map_err(|e| e.to_string())?;
                    let listener = tokio::net::TcpListener::bind(config.listen)
                        .await
                        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
                    tumbler
                        .serve(listener, shutdown_signal())
                        .await
                        .map_err(|e| e.to_string())
                })
                .map(|()| 0)
        }
    }
}
