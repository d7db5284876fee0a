//! `tumbler secretsmanager <command>` and `tumbler iam <command>`: the aws CLI's commands,
//! generated from the service models (`model.rs`), with the aws CLI's option names, parameter
//! syntax (`params.rs`, `shorthand.rs`), credential chain (`connection.rs`), awsJson and
//! awsQuery (`query.rs`), output formats and `--query` (`output.rs`), pagination and exit
//! codes; and `rotate-secret --wait` (`wait.rs`).
//!
//! Exit codes are the aws CLI version 2's: 0 success, 252 bad command line or parameters
//! (nothing sent), 253 credentials or configuration, 254 the service answered with an
//! error, 255 anything else (a failed `--wait` included).

pub(super) mod connection;
mod model;
mod output;
mod params;
mod query;
mod shorthand;
mod wait;

use std::ffi::OsString;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{Map, Value, json};

use connection::{CallError, Connection, ConnectionOptions};
pub use model::Service;
use model::{Model, cli_name};
use output::{Format, Query};

pub const EXIT_PARAMETERS: u8 = 252;
pub const EXIT_CONFIGURATION: u8 = 253;
pub const EXIT_SERVICE: u8 = 254;
pub const EXIT_OTHER: u8 = 255;

const GLOBAL_FLAGS: &[(&str, &str)] = &[
    (
        "debug",
        "Log each request and response (without bodies) to stderr.",
    ),
    (
        "no-verify-ssl",
        "Do not verify the endpoint's TLS certificate.",
    ),
    ("no-paginate", "One call only, for commands that paginate."),
    ("no-cli-pager", "Do not page output (Tumbler never pages)."),
];

const GLOBAL_OPTIONS: &[(&str, &str)] = &[
    (
        "endpoint-url",
        "The endpoint to call [default: the profile's, AWS's, or the local server's].",
    ),
    ("region", "The Region."),
    (
        "profile",
        "A profile from ~/.aws/credentials or ~/.aws/config.",
    ),
    ("output", "json, yaml, yaml-stream, text or table."),
    ("query", "A JMESPath query applied to the result."),
    (
        "cli-read-timeout",
        "Seconds to wait for a response (0: forever).",
    ),
    (
        "cli-connect-timeout",
        "Seconds to wait for a connection (0: forever).",
    ),
];

/// Arguments every operation has, named as the aws CLI names them.
const PAGINATION: &[(&str, &str)] = &[
    (
        "max-items",
        "The total number of items to return; a NextToken resumes after them.",
    ),
    (
        "starting-token",
        "The NextToken of an earlier call, to resume from.",
    ),
    ("page-size", "Items per service call."),
];

fn type_hint(model: &Model, shape: &str) -> &'static str {
    match model.shape(shape).kind.as_str() {
        "structure" => "structure",
        "list" => "list",
        "map" => "map",
        "integer" | "long" => "integer",
        "blob" => "blob",
        "timestamp" => "timestamp",
        _ => "string",
    }
}

/// The service's command (`secretsmanager`, `iam`) with a subcommand per operation.
pub fn command(model: &Model) -> clap::Command {
    let name = model.service.command_name();
    let about = match model.service {
        Service::SecretsManager => {
            "The aws CLI's secretsmanager commands, against Tumbler or any Secrets Manager endpoint"
        }
        Service::Iam => {
            "The aws CLI's iam commands for users, access keys and user policies, against Tumbler or IAM"
        }
    };
    let mut cmd = clap::Command::new(name)
        .about(about)
        .subcommand_required(true)
        .arg_required_else_help(true);
    for (name, help) in GLOBAL_OPTIONS {
        let mut arg = Arg::new(*name).long(*name).global(true).help(*help);
        if *name == "output" {
            arg = arg.value_parser(Format::NAMES);
        }
        cmd = cmd.arg(arg);
    }
    for (name, help) in GLOBAL_FLAGS {
        cmd = cmd.arg(
            Arg::new(*name)
                .long(*name)
                .global(true)
                .action(ArgAction::SetTrue)
                .help(*help),
        );
    }
    let mut operations: Vec<&String> = model.operations.keys().collect();
    operations.sort_by_key(|op| cli_name(op));
    for operation in operations {
        cmd = cmd.subcommand(operation_command(model, operation));
    }
    cmd
}

fn operation_command(model: &Model, operation: &str) -> clap::Command {
    let mut sub = clap::Command::new(cli_name(operation));
    let paginator = model.pagination.get(operation);
    for (member, shape_ref) in model.input_members(operation) {
        let long = cli_name(member);
        let hint = type_hint(model, &shape_ref.shape);
        // The aws CLI keeps a paginator's token and limit hidden, in favour of
        // --starting-token and --page-size; given, they turn pagination off.
        let hidden = paginator.is_some_and(|p| p.input_token == member || p.limit_key == member);
        // IAM's `MaxItems` is shadowed by the pagination option of the same name, as in the
        // aws CLI: `--page-size` sets it.
        if hidden && PAGINATION.iter().any(|(name, _)| *name == long) {
            continue;
        }
        if model.shape(&shape_ref.shape).kind == "boolean" {
            let negative = format!("no-{long}");
            sub = sub
                .arg(
                    Arg::new(member.to_owned())
                        .long(long)
                        .action(ArgAction::SetTrue)
                        .overrides_with(negative.clone())
                        .hide(hidden),
                )
                .arg(
                    Arg::new(negative.clone())
                        .long(negative)
                        .action(ArgAction::SetTrue)
                        .overrides_with(member.to_owned())
                        .hide(hidden),
                );
            continue;
        }
        let arg = Arg::new(member.to_owned())
            .long(long)
            .value_name(hint)
            .hide(hidden);
        // A list takes words up to the next option, as argparse's nargs='+'; a single value
        // may start with a hyphen.
        let arg = if hint == "list" {
            arg.num_args(1..).action(ArgAction::Append)
        } else {
            arg.num_args(1)
                .allow_hyphen_values(true)
                .action(ArgAction::Set)
        };
        sub = sub.arg(arg);
    }
    if paginator.is_some() {
        for (name, help) in PAGINATION {
            sub = sub.arg(Arg::new(*name).long(*name).help(*help));
        }
    }
    sub = sub
        .arg(
            Arg::new("cli-input-json")
                .long("cli-input-json")
                .value_name("JSON")
                .help("The request as JSON (or file://path); options given as well override it."),
        )
        .arg(
            Arg::new("cli-input-yaml")
                .long("cli-input-yaml")
                .value_name("YAML")
                .help("The request as YAML (or file://path); options given as well override it."),
        )
        .arg(
            Arg::new("generate-cli-skeleton")
                .long("generate-cli-skeleton")
                .num_args(0..=1)
                .default_missing_value("input")
                .value_parser(["input", "yaml-input", "output"])
                .help(
                    "Print a template of the request (input, yaml-input) or the response (output).",
                ),
        );
    if operation == "RotateSecret" {
        sub = sub.arg(
            Arg::new("wait")
                .long("wait")
                .action(ArgAction::SetTrue)
                .help("Follow the rotation step by step until it ends; exit 255 if it fails."),
        );
    }
    sub
}

/// A service's command tree, for `tumbler completions`.
pub fn generated_command(service: Service) -> clap::Command {
    command(&Model::load(service))
}

/// A failure and the exit code it means.
struct Exit(u8, String);

/// Runs `tumbler <service> <args>`; the process's exit code.
pub fn run(service: Service, args: Vec<OsString>) -> u8 {
    let model = Model::load(service);
    let mut argv = vec![OsString::from(format!(
        "tumbler {}",
        service.command_name()
    ))];
    argv.extend(args);
    let matches = match command(&model).try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_PARAMETERS } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("starting the runtime: {e}");
            return EXIT_OTHER;
        }
    };
    match runtime.block_on(execute(&model, &matches)) {
        Ok(()) => 0,
        Err(Exit(code, message)) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            code
        }
    }
}

fn value_of(m: &ArgMatches, id: &str) -> Option<String> {
    m.try_get_one::<String>(id).ok().flatten().cloned()
}

fn flag(m: &ArgMatches, id: &str) -> bool {
    m.try_get_one::<bool>(id)
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
}

fn seconds(m: &ArgMatches, id: &str) -> Result<Option<f64>, Exit> {
    value_of(m, id)
        .map(|v| {
            v.parse::<f64>().map_err(|_| {
                Exit(
                    EXIT_PARAMETERS,
                    format!("argument --{id}: invalid float value: '{v}'"),
                )
            })
        })
        .transpose()
}

fn integer(m: &ArgMatches, id: &str) -> Result<Option<i64>, Exit> {
    value_of(m, id)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                Exit(
                    EXIT_PARAMETERS,
                    format!("argument --{id}: invalid int value: '{v}'"),
                )
            })
        })
        .transpose()
}

async fn execute(model: &Model, matches: &ArgMatches) -> Result<(), Exit> {
    let (command, m) = matches.subcommand().expect("a subcommand is required");
    let operation = model
        .operation_named(command)
        .expect("subcommands are operations");
    let input_shape = model.input_shape(operation);
    let bad = |message: String| Exit(EXIT_PARAMETERS, message);

    if let Some(kind) = value_of(m, "generate-cli-skeleton") {
        let text = match kind.as_str() {
            "output" => output::json(
                &model
                    .output_shape(operation)
                    .map(|s| params::skeleton(model, s))
                    .unwrap_or(json!({})),
            ),
            other => {
                let skeleton = input_shape
                    .map(|s| params::skeleton(model, s))
                    .unwrap_or(json!({}));
                if other == "yaml-input" {
                    output::yaml(&skeleton)
                } else {
                    output::json(&skeleton)
                }
            }
        };
        print!("{text}");
        return Ok(());
    }

    let format_name = value_of(m, "output")
        .or_else(|| std::env::var("AWS_DEFAULT_OUTPUT").ok())
        .or_else(|| connection::profile_setting(value_of(m, "profile").as_deref(), "output"))
        .unwrap_or_else(|| "json".into());
    let format = Format::parse(&format_name).ok_or_else(|| {
        bad(format!(
            "argument --output: Invalid choice, valid choices are: json | yaml | yaml-stream | text | table (got '{format_name}')"
        ))
    })?;
    let query = value_of(m, "query")
        .map(|q| Query::compile(&q))
        .transpose()
        .map_err(bad)?;

    // The request: --cli-input-json/yaml, then the options given.
    let mut input = Map::new();
    match (value_of(m, "cli-input-json"), value_of(m, "cli-input-yaml")) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "Only one of --cli-input-json and --cli-input-yaml may be given.".into(),
            ));
        }
        (Some(text), None) => {
            let text = read_input_file("--cli-input-json", &text).map_err(bad)?;
            input = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(o)) => o,
                Ok(_) => return Err(bad("Invalid JSON: the input is not a JSON object".into())),
                Err(e) => return Err(bad(format!("Invalid JSON: {e}\nJSON received: {text}"))),
            };
        }
        (None, Some(text)) => {
            let text = read_input_file("--cli-input-yaml", &text).map_err(bad)?;
            input = match serde_norway::from_str::<Value>(&text) {
                Ok(Value::Object(o)) => o,
                Ok(Value::Null) => Map::new(),
                Ok(_) => return Err(bad("Invalid YAML: the input is not a mapping".into())),
                Err(e) => return Err(bad(format!("Invalid YAML: {e}"))),
            };
        }
        (None, None) => {}
    }
    let mut explicit_pagination_member = false;
    let paginator = model.pagination.get(operation);
    for (member, shape_ref) in model.input_members(operation) {
        let given = if model.shape(&shape_ref.shape).kind == "boolean" {
            if flag(m, member) {
                Some(Value::Bool(true))
            } else if flag(m, &format!("no-{}", cli_name(member))) {
                Some(Value::Bool(false))
            } else {
                None
            }
        } else {
            match m.try_get_many::<String>(member).ok().flatten() {
                Some(values) => {
                    let values: Vec<String> = values.cloned().collect();
                    Some(
                        params::option_value(
                            model,
                            &format!("--{}", cli_name(member)),
                            &shape_ref.shape,
                            &values,
                        )
                        .map_err(|e| bad(e.0))?,
                    )
                }
                None => None,
            }
        };
        if let Some(v) = given {
            if paginator.is_some_and(|p| p.input_token == member || p.limit_key == member) {
                explicit_pagination_member = true;
            }
            input.insert(member.to_owned(), v);
        }
    }
    if let Some(shape) = input_shape {
        params::fill_idempotency_tokens(model, shape, &mut input);
        let missing: Vec<String> = model
            .shape(shape)
            .required
            .iter()
            .filter(|r| !input.contains_key(*r))
            .map(|r| format!("--{}", cli_name(r)))
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!(
                "tumbler {} {command}: error: the following arguments are required: {}",
                model.service.command_name(),
                missing.join(", ")
            )));
        }
        params::validate(model, shape, &Value::Object(input.clone())).map_err(|e| bad(e.0))?;
    }

    let options = ConnectionOptions {
        endpoint_url: value_of(m, "endpoint-url"),
        region: value_of(m, "region"),
        profile: value_of(m, "profile"),
        verify_ssl: !flag(m, "no-verify-ssl"),
        read_timeout: seconds(m, "cli-read-timeout")?,
        connect_timeout: seconds(m, "cli-connect-timeout")?,
        debug: flag(m, "debug"),
    };
    let conn = Connection::resolve(&options, model).map_err(|e| Exit(EXIT_CONFIGURATION, e.0))?;

    let failed = |e: CallError| match e {
        CallError::Service { code, message } => Exit(
            EXIT_SERVICE,
            format!(
                "\nAn error occurred ({code}) when calling the {operation} operation: {message}"
            ),
        ),
        CallError::Transport(message) => Exit(EXIT_OTHER, format!("\n{message}")),
    };
    let paginate = paginator.filter(|_| !flag(m, "no-paginate") && !explicit_pagination_member);
    let mut result = match paginate {
        Some(p) => {
            let pages = Pages {
                result_key: &p.result_key,
                input_token: &p.input_token,
                output_token: &p.output_token,
                more_results: p.more_results.as_deref(),
                limit_key: &p.limit_key,
                max_items: integer(m, "max-items")?,
                page_size: integer(m, "page-size")?,
                starting_token: value_of(m, "starting-token")
                    .map(|t| decode_token(&t))
                    .transpose()
                    .map_err(bad)?,
            };
            let stream = (format == Format::YamlStream && query.is_none()).then_some(());
            pages
                .collect(&conn, model, operation, input.clone(), stream.is_some())
                .await
                .map_err(failed)?
        }
        None => conn
            .call_operation(model, operation, &Value::Object(input.clone()))
            .await
            .map_err(failed)?,
    };
    if let Some(shape) = model.output_shape(operation) {
        output::convert_timestamps(model, shape, &mut result);
    }
    let shown = match &query {
        Some(q) => q.apply(&result).map_err(|e| Exit(EXIT_OTHER, e))?,
        None => result.clone(),
    };
    // Paginated yaml-stream pages were printed as they came.
    // An empty answer (DeleteUser, PutUserPolicy) prints nothing, as in the aws CLI.
    let empty = shown.as_object().is_some_and(|o| o.is_empty()) && query.is_none();
    let streamed = paginate.is_some() && format == Format::YamlStream && query.is_none();
    if !empty && !streamed {
        print!("{}", output::render(format, &shown, operation));
    }

    if operation == "RotateSecret" && flag(m, "wait") {
        let secret_id = input["SecretId"].as_str().unwrap_or_default();
        let version = result["VersionId"].as_str().unwrap_or_default().to_owned();
        wait::follow(&conn, secret_id, &version)
            .await
            .map_err(|cause| Exit(EXIT_OTHER, cause))?;
    }
    Ok(())
}

fn read_input_file(option: &str, value: &str) -> Result<String, String> {
    match value.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            format!("Error parsing parameter '{option}': Unable to load paramfile {value}: {e}")
        }),
        None => Ok(value.to_owned()),
    }
}

/// A `--starting-token`/`NextToken` of the CLI's, as botocore encodes it: base64 of
/// `{"NextToken": <the service's token>, "boto_truncate_amount": <items already shown>}`.
#[derive(Debug, Clone, PartialEq)]
struct ResumeToken {
    service_token: Option<String>,
    truncate: usize,
}

fn encode_token(token: &ResumeToken, input_token: &str) -> String {
    let service_token = token
        .service_token
        .clone()
        .map(Value::String)
        .unwrap_or(Value::Null);
    // Python's json.dumps separators (", " and ": "), so the tokens are botocore's bytes.
    let mut text = format!(
        "{{{}: {service_token}",
        Value::String(input_token.to_owned())
    );
    if token.truncate > 0 {
        text.push_str(&format!(", \"boto_truncate_amount\": {}", token.truncate));
    }
    text.push('}');
    STANDARD.encode(text)
}

fn decode_token(text: &str) -> Result<ResumeToken, String> {
    let invalid = || format!("Bad value for --starting-token: {text}");
    let bytes = STANDARD.decode(text.trim()).map_err(|_| invalid())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let service_token = doc
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.as_str() != "boto_truncate_amount")
                .map(|(_, v)| v.as_str().map(str::to_owned))
        })
        .ok_or_else(invalid)?;
    Ok(ResumeToken {
        service_token,
        truncate: doc["boto_truncate_amount"].as_u64().unwrap_or(0) as usize,
    })
}

struct Pages<'a> {
    result_key: &'a str,
    input_token: &'a str,
    output_token: &'a str,
    more_results: Option<&'a str>,
    limit_key: &'a str,
    max_items: Option<i64>,
    page_size: Option<i64>,
    starting_token: Option<ResumeToken>,
}

impl Pages<'_> {
    /// Calls page after page, as botocore's paginator with the aws CLI's `--max-items`:
    /// the items of every page under the result key, and a `NextToken` to resume from when
    /// `--max-items` stopped early. With `stream`, each page is printed as YAML as it comes.
    async fn collect(
        &self,
        conn: &Connection,
        model: &Model,
        operation: &str,
        mut input: Map<String, Value>,
        stream: bool,
    ) -> Result<Value, CallError> {
        let mut items: Vec<Value> = Vec::new();
        let mut token = self.starting_token.clone();
        let max = self.max_items.map(|n| n.max(0) as usize);
        if let Some(size) = self.page_size {
            input.insert(self.limit_key.to_owned(), json!(size));
        }
        let mut first_page: Option<Map<String, Value>> = None;
        let mut resume: Option<ResumeToken> = None;
        loop {
            let used = token.as_ref().and_then(|t| t.service_token.clone());
            match &used {
                Some(t) => input.insert(self.input_token.to_owned(), json!(t)),
                None => input.remove(self.input_token),
            };
            let page = conn
                .call_operation(model, operation, &Value::Object(input.clone()))
                .await?;
            let mut page_items = page[self.result_key]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let skip = token.as_ref().map(|t| t.truncate).unwrap_or(0);
            page_items.drain(..skip.min(page_items.len()));
            let next = page[self.output_token].as_str().map(str::to_owned);
            if first_page.is_none() {
                first_page = page.as_object().cloned();
            }
            let room = max.map(|m| m.saturating_sub(items.len()));
            let mut page_shown = page_items.clone();
            if let Some(room) = room
                && page_items.len() > room
            {
                page_shown.truncate(room);
                resume = Some(ResumeToken {
                    service_token: used.clone(),
                    truncate: skip + room,
                });
            }
            if stream {
                let mut doc = Map::new();
                doc.insert(self.result_key.to_owned(), Value::Array(page_shown.clone()));
                print!("{}", output::yaml(&Value::Array(vec![Value::Object(doc)])));
            }
            items.extend(page_shown);
            if resume.is_some() {
                break;
            }
            match next {
                Some(next) if max.is_none_or(|m| items.len() < m) => {
                    token = Some(ResumeToken {
                        service_token: Some(next),
                        truncate: 0,
                    });
                }
                Some(next) => {
                    resume = Some(ResumeToken {
                        service_token: Some(next),
                        truncate: 0,
                    });
                    break;
                }
                None => break,
            }
        }
        let mut result = first_page.unwrap_or_default();
        result.remove(self.output_token);
        if let Some(more) = self.more_results {
            result.remove(more);
        }
        result.insert(self.result_key.to_owned(), Value::Array(items));
        // The aws CLI's resume token is `NextToken`, whatever the service calls its own.
        if let Some(r) = resume {
            result.insert(
                "NextToken".to_owned(),
                Value::String(encode_token(&r, self.input_token)),
            );
        }
        Ok(Value::Object(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_member_is_an_option() {
        let model = Model::load(model::Service::SecretsManager);
        let cmd = command(&model);
        let rotate = cmd.find_subcommand("rotate-secret").unwrap();
        for long in [
            "secret-id",
            "client-request-token",
            "rotation-lambda-arn",
            "rotation-rules",
            "rotate-immediately",
            "no-rotate-immediately",
            "wait",
            "cli-input-json",
            "cli-input-yaml",
            "generate-cli-skeleton",
        ] {
            assert!(
                rotate.get_arguments().any(|a| a.get_long() == Some(long)),
                "--{long}"
            );
        }
        assert_eq!(cmd.get_subcommands().count(), 23);
    }

    #[test]
    fn resume_tokens_round_trip_as_botocore_encodes_them() {
        let t = ResumeToken {
            service_token: Some("abc".into()),
            truncate: 2,
        };
        let encoded = encode_token(&t, "NextToken");
        assert_eq!(decode_token(&encoded).unwrap(), t);
        let plain: Value = serde_json::from_slice(&STANDARD.decode(&encoded).unwrap()).unwrap();
        assert_eq!(
            plain,
            json!({"NextToken": "abc", "boto_truncate_amount": 2})
        );
        assert!(decode_token("not-a-token").is_err());
        // The very bytes the aws CLI printed for IAM's list-users --max-items 1.
        let iam = ResumeToken {
            service_token: None,
            truncate: 1,
        };
        assert_eq!(
            encode_token(&iam, "Marker"),
            "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="
        );
    }
}
