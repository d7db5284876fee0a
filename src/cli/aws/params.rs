//! From command-line values to the request document, as the aws CLI builds it: shorthand or
//! JSON for structures and lists, `file://` and `fileb://` values, base64 for blobs (aws CLI
//! version 2), `--cli-input-json`/`--cli-input-yaml` under the options given, UUIDs for
//! idempotency tokens, and botocore's client-side validation. Also the skeletons of
//! `--generate-cli-skeleton`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value};

use super::model::{Model, Shape};
use super::shorthand;

/// A parameter the aws CLI would refuse before sending anything (exit 252).
#[derive(Debug)]
pub struct ParamError(pub String);

impl ParamError {
    fn parsing(option: &str, message: impl std::fmt::Display) -> ParamError {
        ParamError(format!("Error parsing parameter '{option}': {message}"))
    }
}

/// A raw option value, read from its file when it names one.
enum Raw {
    Text(String),
    Bytes(Vec<u8>),
}

fn load(option: &str, value: &str) -> Result<Raw, ParamError> {
    let unable = |path: &str, e: std::io::Error| {
        ParamError::parsing(
            option,
            format!("Unable to load paramfile {value}: {e}: '{path}'"),
        )
    };
    if let Some(path) = value.strip_prefix("fileb://") {
        let path = expand_home(path);
        return std::fs::read(&path)
            .map(Raw::Bytes)
            .map_err(|e| unable(&path, e));
    }
    if let Some(path) = value.strip_prefix("file://") {
        let path = expand_home(path);
        return std::fs::read_to_string(&path)
            .map(Raw::Text)
            .map_err(|e| unable(&path, e));
    }
    Ok(Raw::Text(value.to_owned()))
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => format!("{}/{rest}", home.to_string_lossy()),
        _ => path.to_owned(),
    }
}

fn text(option: &str, raw: Raw) -> Result<String, ParamError> {
    match raw {
        Raw::Text(t) => Ok(t),
        Raw::Bytes(b) => String::from_utf8(b)
            .map_err(|_| ParamError::parsing(option, "the file is not UTF-8 text")),
    }
}

/// The value of one option (`values` holds several for a list given as separate words).
pub fn option_value(
    model: &Model,
    option: &str,
    shape_name: &str,
    values: &[String],
) -> Result<Value, ParamError> {
    let shape = model.shape(shape_name);
    match shape.kind.as_str() {
        "list" if values.len() > 1 => {
            let member = shape.member.as_ref().expect("a list has a member");
            let mut items = Vec::new();
            for v in values {
                let raw = text(option, load(option, v)?)?;
                items.extend(list_items(model, option, &member.shape, &raw)?);
            }
            Ok(Value::Array(items))
        }
        _ => {
            let raw = load(option, &values[0])?;
            single_value(model, option, shape_name, raw)
        }
    }
}

fn single_value(
    model: &Model,
    option: &str,
    shape_name: &str,
    raw: Raw,
) -> Result<Value, ParamError> {
    let shape = model.shape(shape_name);
    match shape.kind.as_str() {
        "blob" => {
            // aws CLI version 2 reads blobs as base64 (cli_binary_format = base64); fileb://
            // gives the bytes themselves.
            let bytes = match raw {
                Raw::Bytes(b) => b,
                Raw::Text(t) => STANDARD.decode(t.trim()).map_err(|_| {
                    ParamError(format!(
                        "Invalid base64: \"{}\"",
                        if t.len() > 40 { &t[..40] } else { &t }
                    ))
                })?,
            };
            Ok(Value::String(STANDARD.encode(bytes)))
        }
        "structure" | "map" => {
            let t = text(option, raw)?;
            if t.trim_start().starts_with('{') {
                json_value(option, &t)
            } else {
                let parsed = shorthand::parse(&t).map_err(|e| ParamError::parsing(option, e))?;
                coerce(model, Value::Object(parsed), shape_name)
            }
        }
        "list" => {
            let t = text(option, raw)?;
            let member = shape.member.as_ref().expect("a list has a member");
            if t.trim_start().starts_with('[') {
                json_value(option, &t)
            } else {
                Ok(Value::Array(list_items(model, option, &member.shape, &t)?))
            }
        }
        _ => {
            let t = text(option, raw)?;
            coerce(model, Value::String(t), shape_name)
                .map_err(|ParamError(m)| ParamError(format!("argument {option}: {m}")))
        }
    }
}

/// One word of a list option: a structure in shorthand or JSON, or scalars separated by
/// commas.
fn list_items(
    model: &Model,
    option: &str,
    member: &str,
    word: &str,
) -> Result<Vec<Value>, ParamError> {
    let kind = model.shape(member).kind.as_str();
    if matches!(kind, "structure" | "map") {
        let item = if word.trim_start().starts_with('{') {
            json_value(option, word)?
        } else {
            let parsed = shorthand::parse(word).map_err(|e| ParamError::parsing(option, e))?;
            coerce(model, Value::Object(parsed), member)?
        };
        return Ok(vec![item]);
    }
    // Scalars: `a,b` is two of them, with the shorthand's quoting and `\,`.
    let parsed =
        shorthand::parse(&format!("_={word}")).map_err(|e| ParamError::parsing(option, e))?;
    let items = match parsed.into_iter().next().map(|(_, v)| v) {
        Some(Value::Array(items)) => items,
        Some(v) => vec![v],
        None => Vec::new(),
    };
    items
        .into_iter()
        .map(|v| coerce(model, v, member))
        .collect()
}

fn json_value(option: &str, text: &str) -> Result<Value, ParamError> {
    serde_json::from_str(text).map_err(|e| {
        ParamError::parsing(option, format!("Invalid JSON: {e}\nJSON received: {text}"))
    })
}

/// Strings from shorthand or the command line, as the model's types.
fn coerce(model: &Model, value: Value, shape_name: &str) -> Result<Value, ParamError> {
    let shape = model.shape(shape_name);
    Ok(match (shape.kind.as_str(), value) {
        ("integer" | "long", Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(|n| Value::Number(Number::from(n)))
            .map_err(|_| ParamError(format!("invalid literal for int() with base 10: '{s}'")))?,
        ("boolean", Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(ParamError(format!("expected true or false, got '{s}'"))),
        },
        ("timestamp", Value::String(s)) => timestamp(&s)?,
        ("list", Value::Array(items)) => {
            let member = &shape.member.as_ref().expect("list member").shape;
            Value::Array(
                items
                    .into_iter()
                    .map(|v| coerce(model, v, member))
                    .collect::<Result<_, _>>()?,
            )
        }
        // `Values=a` for a list is a list of one.
        ("list", scalar @ Value::String(_)) => {
            let member = &shape.member.as_ref().expect("list member").shape;
            Value::Array(vec![coerce(model, scalar, member)?])
        }
        ("structure", Value::Object(fields)) => {
            let mut out = Map::new();
            for (k, v) in fields {
                let v = match shape.members.get(&k) {
                    Some(m) => coerce(model, v, &m.shape)?,
                    // Left for validation to name.
                    None => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        ("map", Value::Object(fields)) => {
            let value_shape = &shape.value.as_ref().expect("map value").shape;
            let mut out = Map::new();
            for (k, v) in fields {
                out.insert(k, coerce(model, v, value_shape)?);
            }
            Value::Object(out)
        }
        (_, other) => other,
    })
}

/// A timestamp as epoch seconds: given as ISO 8601 or as epoch seconds.
fn timestamp(text: &str) -> Result<Value, ParamError> {
    if let Ok(n) = text.parse::<f64>() {
        return Ok(Value::from(n));
    }
    let parsed: jiff::Timestamp = text
        .parse()
        .map_err(|_| ParamError(format!("Invalid timestamp value: {text}")))?;
    Ok(Value::from(parsed.as_millisecond() as f64 / 1000.0))
}

/// Fills idempotency tokens (ClientRequestToken) that were not given.
pub fn fill_idempotency_tokens(model: &Model, input_shape: &str, input: &mut Map<String, Value>) {
    for (name, member) in model.members(input_shape) {
        if member.idempotency_token && !input.contains_key(name) {
            input.insert(
                name.to_owned(),
                Value::String(uuid::Uuid::new_v4().to_string()),
            );
        }
    }
}

/// botocore's client-side validation: unknown and missing members, types, and minimum
/// lengths and values (botocore leaves maximums to the service). All problems at once, as
/// botocore reports them.
pub fn validate(model: &Model, input_shape: &str, input: &Value) -> Result<(), ParamError> {
    let mut errors = Vec::new();
    check(model, input_shape, input, "input", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ParamError(format!(
            "Parameter validation failed:\n{}",
            errors.join("\n")
        )))
    }
}

fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn check(model: &Model, shape_name: &str, value: &Value, path: &str, errors: &mut Vec<String>) {
    let shape: &Shape = model.shape(shape_name);
    let invalid_type = |valid: &str| {
        format!(
            "Invalid type for parameter {path}, value: {}, type: {}, valid types: {valid}",
            python_repr(value),
            python_type(value)
        )
    };
    let display_path = |member: &str| {
        if path == "input" {
            member.to_owned()
        } else {
            format!("{path}.{member}")
        }
    };
    match shape.kind.as_str() {
        "structure" => {
            let Value::Object(fields) = value else {
                errors.push(invalid_type("<class 'dict'>"));
                return;
            };
            for required in &shape.required {
                if !fields.contains_key(required) {
                    errors.push(format!(
                        "Missing required parameter in {path}: \"{required}\""
                    ));
                }
            }
            for (k, v) in fields {
                match shape.members.get(k) {
                    Some(m) => check(model, &m.shape, v, &display_path(k), errors),
                    None => errors.push(format!(
                        "Unknown parameter in {path}: \"{k}\", must be one of: {}",
                        shape.order.join(", ")
                    )),
                }
            }
        }
        "list" => {
            let Value::Array(items) = value else {
                errors.push(invalid_type("<class 'list'>, <class 'tuple'>"));
                return;
            };
            if let Some(min) = shape.min
                && (items.len() as i64) < min
            {
                errors.push(format!(
                    "Invalid length for parameter {path}, value: {}, valid min length: {min}",
                    items.len()
                ));
            }
            let member = &shape.member.as_ref().expect("list member").shape;
            for (i, item) in items.iter().enumerate() {
                check(model, member, item, &format!("{path}[{i}]"), errors);
            }
        }
        "map" if !value.is_object() => errors.push(invalid_type("<class 'dict'>")),
        "string" => {
            let Value::String(s) = value else {
                errors.push(invalid_type("<class 'str'>"));
                return;
            };
            let length = s.chars().count() as i64;
            if let Some(min) = shape.min
                && length < min
            {
                errors.push(format!(
                    "Invalid length for parameter {path}, value: {length}, valid min length: {min}"
                ));
            }
        }
        "integer" | "long" => match value.as_i64() {
            None => errors.push(invalid_type("<class 'int'>")),
            Some(n) => {
                if let Some(min) = shape.min
                    && n < min
                {
                    errors.push(format!(
                        "Invalid value for parameter {path}, value: {n}, valid min value: {min}"
                    ));
                }
            }
        },
        "boolean" if !value.is_boolean() => errors.push(invalid_type("<class 'bool'>")),
        "blob" if !value.is_string() => errors.push(invalid_type(
            "<class 'bytes'>, <class 'bytearray'>, file-like object",
        )),
        _ => {}
    }
}

/// `--generate-cli-skeleton input`: every member with a placeholder of its type.
pub fn skeleton(model: &Model, shape_name: &str) -> Value {
    skeleton_of(model, shape_name, 0)
}

fn skeleton_of(model: &Model, shape_name: &str, depth: usize) -> Value {
    let shape = model.shape(shape_name);
    match shape.kind.as_str() {
        "structure" => {
            let mut out = Map::new();
            if depth < 8 {
                for (name, member) in model.members(shape_name) {
                    out.insert(
                        name.to_owned(),
                        skeleton_of(model, &member.shape, depth + 1),
                    );
                }
            }
            Value::Object(out)
        }
        "list" => {
            let member = &shape.member.as_ref().expect("list member").shape;
            Value::Array(vec![skeleton_of(model, member, depth + 1)])
        }
        "map" => {
            let value = &shape.value.as_ref().expect("map value").shape;
            let mut out = Map::new();
            out.insert("KeyName".into(), skeleton_of(model, value, depth + 1));
            Value::Object(out)
        }
        "integer" | "long" => Value::from(0),
        "double" | "float" => Value::from(0.0),
        "boolean" => Value::Bool(true),
        "timestamp" => Value::String("1970-01-01T00:00:00".into()),
        _ => Value::String(shape.enum_values.first().cloned().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value(option: &str, shape: &str, values: &[&str]) -> Result<Value, ParamError> {
        let model = Model::load(crate::cli::aws::Service::SecretsManager);
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        option_value(&model, option, shape, &values)
    }

    #[test]
    fn shorthand_values_get_the_models_types() {
        assert_eq!(
            value(
                "--rotation-rules",
                "RotationRulesType",
                &["AutomaticallyAfterDays=10,Duration=3h"]
            )
            .unwrap(),
            json!({"AutomaticallyAfterDays": 10, "Duration": "3h"})
        );
        assert_eq!(
            value("--tags", "TagListType", &["Key=a,Value=b", "Key=c,Value=d"]).unwrap(),
            json!([{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}])
        );
        assert_eq!(
            value("--filters", "FiltersListType", &["Key=tag-key,Values=a,b"]).unwrap(),
            json!([{"Key": "tag-key", "Values": ["a", "b"]}])
        );
        assert_eq!(
            value(
                "--version-stages",
                "SecretVersionStagesType",
                &["AWSCURRENT,custom", "x"]
            )
            .unwrap(),
            json!(["AWSCURRENT", "custom", "x"])
        );
        assert_eq!(
            value("--tags", "TagListType", &[r#"[{"Key":"a","Value":"b"}]"#]).unwrap(),
            json!([{"Key": "a", "Value": "b"}])
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_aws_clis_words() {
        let e = value(
            "--rotation-rules",
            "RotationRulesType",
            &["AutomaticallyAfterDays"],
        )
        .unwrap_err();
        assert!(
            e.0.starts_with("Error parsing parameter '--rotation-rules': Expected: '='"),
            "{}",
            e.0
        );
        let e = value("--rotation-rules", "RotationRulesType", &["{bad json"]).unwrap_err();
        assert!(e.0.contains("Invalid JSON"), "{}", e.0);
        let e = value(
            "--secret-string",
            "SecretStringType",
            &["file:///nonexistent/x"],
        )
        .unwrap_err();
        assert!(
            e.0.contains("Unable to load paramfile file:///nonexistent/x"),
            "{}",
            e.0
        );
        let model = Model::load(crate::cli::aws::Service::SecretsManager);
        let e = validate(
            &model,
            "RotateSecretRequest",
            &json!({"RotationRules": {"AutomaticallyAfterDays": "ten", "Bogus": 1}}),
        )
        .unwrap_err();
        assert!(
            e.0.contains("Missing required parameter in input: \"SecretId\""),
            "{}",
            e.0
        );
        assert!(e.0.contains("Invalid type for parameter RotationRules.AutomaticallyAfterDays, value: ten, type: <class 'str'>, valid types: <class 'int'>"), "{}", e.0);
        assert!(e.0.contains("Unknown parameter in RotationRules: \"Bogus\", must be one of: AutomaticallyAfterDays, Duration, ScheduleExpression"), "{}", e.0);
    }

    #[test]
    fn a_missing_client_request_token_is_a_new_uuid_and_a_given_one_is_kept() {
        let model = Model::load(crate::cli::aws::Service::SecretsManager);
        let mut input = Map::new();
        fill_idempotency_tokens(&model, "CreateSecretRequest", &mut input);
        let token = input["ClientRequestToken"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(token).is_ok(), "{token}");
        let mut input = Map::new();
        input.insert("ClientRequestToken".into(), json!("mine"));
        fill_idempotency_tokens(&model, "PutSecretValueRequest", &mut input);
        assert_eq!(input["ClientRequestToken"], "mine");
        let mut input = Map::new();
        fill_idempotency_tokens(&model, "DescribeSecretRequest", &mut input);
        assert!(input.is_empty());
    }

    #[test]
    fn a_blob_is_base64_or_a_files_bytes() {
        assert_eq!(
            value("--secret-binary", "SecretBinaryType", &["aGk="]).unwrap(),
            json!("aGk=")
        );
        assert!(value("--secret-binary", "SecretBinaryType", &["not base64!"]).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b");
        std::fs::write(&path, [0u8, 1, 2]).unwrap();
        assert_eq!(
            value(
                "--secret-binary",
                "SecretBinaryType",
                &[&format!("fileb://{}", path.display())]
            )
            .unwrap(),
            json!("AAEC")
        );
    }

    #[test]
    fn the_input_skeleton_parses_back_as_input() {
        // Placeholders are empty (botocore then asks for lengths and values), but every
        // member is known and of its type.
        let model = Model::load(crate::cli::aws::Service::SecretsManager);
        for op in model.operations.keys() {
            if let Some(input) = model.input_shape(op) {
                let s = skeleton(&model, input);
                if let Err(e) = validate(&model, input, &s) {
                    for line in e.0.lines().skip(1) {
                        assert!(
                            line.starts_with("Invalid length") || line.starts_with("Invalid value"),
                            "{op}: {line}"
                        );
                    }
                }
            }
        }
    }
}
