//! The awsQuery protocol (IAM) on the client side, as botocore speaks it: a request's members
//! flattened into form parameters by the input shape (`Tags.member.1.Key`), and the XML answer
//! read back into JSON by the output shape, so the rest of the CLI (queries, output formats,
//! pagination) works on the same values as for awsJson services.

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use super::model::Model;

/// The form body of a call: `Action`, `Version` and the members.
pub fn serialize(model: &Model, operation: &str, input: &Value) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", operation);
    form.append_pair("Version", &model.metadata.api_version);
    if let Some(shape) = model.input_shape(operation) {
        let mut pairs = Vec::new();
        flatten(model, shape, input, "", &mut pairs);
        for (k, v) in pairs {
            form.append_pair(&k, &v);
        }
    }
    form.finish()
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn flatten(
    model: &Model,
    shape: &str,
    value: &Value,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let s = model.shape(shape);
    match (s.kind.as_str(), value) {
        ("structure", Value::Object(fields)) => {
            for (name, member) in model.members(shape) {
                if let Some(v) = fields.get(name) {
                    let key = member.location_name.as_deref().unwrap_or(name);
                    flatten(model, &member.shape, v, &join(prefix, key), out);
                }
            }
        }
        ("list", Value::Array(items)) => {
            let member = s.member.as_ref().expect("list member");
            if items.is_empty() {
                // botocore sends an empty list as the bare name.
                out.push((prefix.to_owned(), String::new()));
            }
            for (i, item) in items.iter().enumerate() {
                flatten(
                    model,
                    &member.shape,
                    item,
                    &format!("{prefix}.member.{}", i + 1),
                    out,
                );
            }
        }
        ("map", Value::Object(entries)) => {
            let key_shape = &s.key.as_ref().expect("map key").shape;
            let value_shape = &s.value.as_ref().expect("map value").shape;
            for (i, (k, v)) in entries.iter().enumerate() {
                let entry = format!("{prefix}.entry.{}", i + 1);
                flatten(
                    model,
                    key_shape,
                    &Value::String(k.clone()),
                    &join(&entry, "key"),
                    out,
                );
                flatten(model, value_shape, v, &join(&entry, "value"), out);
            }
        }
        ("timestamp", Value::Number(n)) => {
            let text = n
                .as_f64()
                .map(|secs| crate::clock::Millis((secs * 1000.0) as i64).to_iso8601_seconds())
                .unwrap_or_else(|| n.to_string());
            out.push((prefix.to_owned(), text));
        }
        ("blob", Value::String(text)) => {
            out.push((
                prefix.to_owned(),
                base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            ));
        }
        (_, Value::String(text)) => out.push((prefix.to_owned(), text.clone())),
        (_, Value::Bool(b)) => out.push((prefix.to_owned(), b.to_string())),
        (_, Value::Number(n)) => out.push((prefix.to_owned(), n.to_string())),
        _ => {}
    }
}

/// An XML element: its name, text and children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn parse_xml(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Element::default()];
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("the answer is not XML: {e}"))?
        {
            Event::Start(start) => stack.push(Element {
                name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                ..Default::default()
            }),
            Event::Empty(empty) => {
                let element = Element {
                    name: String::from_utf8_lossy(empty.local_name().as_ref()).into_owned(),
                    ..Default::default()
                };
                stack.last_mut().expect("root").children.push(element);
            }
            Event::Text(t) => {
                let text = t
                    .decode()
                    .map_err(|e| format!("the answer is not XML: {e}"))?;
                let text = quick_xml::escape::unescape(&text)
                    .map_err(|e| format!("the answer is not XML: {e}"))?;
                stack.last_mut().expect("root").text.push_str(&text);
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|e| format!("the answer is not XML: {e}"))?;
                let reference = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&reference)
                    .map_err(|e| format!("the answer is not XML: {e}"))?;
                stack.last_mut().expect("root").text.push_str(&resolved);
            }
            Event::CData(c) => {
                stack
                    .last_mut()
                    .expect("root")
                    .text
                    .push_str(&String::from_utf8_lossy(&c));
            }
            Event::End(_) => {
                let done = stack.pop().expect("balanced");
                stack
                    .last_mut()
                    .ok_or("unbalanced XML")?
                    .children
                    .push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut root = stack.pop().ok_or("empty XML")?;
    root.children.pop().ok_or_else(|| "empty XML".to_owned())
}

/// A successful answer, as JSON shaped by the operation's output.
pub fn parse_response(model: &Model, operation: &str, xml: &str) -> Result<Value, String> {
    let root = parse_xml(xml)?;
    let Some(output) = model.operations[operation].output.as_ref() else {
        return Ok(Value::Object(Map::new()));
    };
    let wrapper = output
        .result_wrapper
        .clone()
        .unwrap_or_else(|| format!("{operation}Result"));
    let Some(result) = root.child(&wrapper) else {
        return Ok(Value::Object(Map::new()));
    };
    Ok(read(model, &output.shape, result))
}

fn read(model: &Model, shape: &str, element: &Element) -> Value {
    let s = model.shape(shape);
    match s.kind.as_str() {
        "structure" => {
            let mut fields = Map::new();
            for (name, member) in model.members(shape) {
                let key = member.location_name.as_deref().unwrap_or(name);
                if let Some(child) = element.child(key) {
                    fields.insert(name.to_owned(), read(model, &member.shape, child));
                }
            }
            Value::Object(fields)
        }
        "list" => {
            let member = s.member.as_ref().expect("list member");
            let name = member.location_name.as_deref().unwrap_or("member");
            Value::Array(
                element
                    .children
                    .iter()
                    .filter(|c| c.name == name)
                    .map(|c| read(model, &member.shape, c))
                    .collect(),
            )
        }
        "map" => {
            let key_shape = &s.key.as_ref().expect("map key").shape;
            let value_shape = &s.value.as_ref().expect("map value").shape;
            let mut fields = Map::new();
            for entry in element.children.iter().filter(|c| c.name == "entry") {
                if let (Some(k), Some(v)) = (entry.child("key"), entry.child("value")) {
                    let key = read(model, key_shape, k);
                    fields.insert(
                        key.as_str().unwrap_or_default().to_owned(),
                        read(model, value_shape, v),
                    );
                }
            }
            Value::Object(fields)
        }
        "boolean" => Value::Bool(element.text.trim() == "true"),
        "integer" | "long" => element
            .text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        "double" | "float" => element
            .text
            .trim()
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        // As epoch seconds, which the output formats print as the aws CLI does.
        "timestamp" => element
            .text
            .trim()
            .parse::<jiff::Timestamp>()
            .map(|t| Value::from(t.as_millisecond() as f64 / 1000.0))
            .unwrap_or_else(|_| Value::String(element.text.clone())),
        // botocore decodes IAM's URL-encoded policy documents into JSON.
        _ if shape == "policyDocumentType" => {
            let decoded = percent_encoding::percent_decode_str(&element.text).decode_utf8_lossy();
            serde_json::from_str(&decoded).unwrap_or_else(|_| Value::String(decoded.into_owned()))
        }
        _ => Value::String(element.text.clone()),
    }
}

/// An `<ErrorResponse>`'s code and message.
pub fn parse_error(xml: &str) -> Option<(String, String)> {
    let root = parse_xml(xml).ok()?;
    let error = root.child("Error")?;
    let code = error.child("Code")?.text.clone();
    let message = error
        .child("Message")
        .map(|m| m.text.clone())
        .unwrap_or_default();
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::model::Service;
    use super::*;

    #[test]
    fn members_and_lists_are_flattened_as_botocore_does() {
        let model = Model::load(Service::Iam);
        let body = serialize(
            &model,
            "CreateUser",
            &json!({"UserName": "alice", "Tags": [{"Key": "team", "Value": "a b"}]}),
        );
        assert_eq!(
            body,
            "Action=CreateUser&Version=2010-05-08&UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=a+b"
        );
    }

    #[test]
    fn answers_are_read_by_the_output_shape() {
        let model = Model::load(Service::Iam);
        let xml = r#"<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users><member><Path>/</Path><UserName>a&amp;b</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::123456789012:user/a</Arn><CreateDate>2026-11-27T02:00:00Z</CreateDate></member></Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>"#;
        let v = parse_response(&model, "ListUsers", xml).unwrap();
        assert_eq!(v["Users"][0]["UserName"], "a&b");
        assert_eq!(v["IsTruncated"], false);
        assert_eq!(v["Users"][0]["CreateDate"], json!(1_795_744_800.0));
    }

    #[test]
    fn policy_documents_are_decoded_into_json() {
        let model = Model::load(Service::Iam);
        let xml = "<GetUserPolicyResponse><GetUserPolicyResult><UserName>a</UserName><PolicyName>p</PolicyName><PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</PolicyDocument></GetUserPolicyResult></GetUserPolicyResponse>";
        let v = parse_response(&model, "GetUserPolicy", xml).unwrap();
        assert_eq!(v["PolicyDocument"], json!({"Version": "2012-10-17"}));
    }

    #[test]
    fn errors_give_code_and_message() {
        let xml = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name x cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_error(xml),
            Some((
                "NoSuchEntity".to_owned(),
                "The user with name x cannot be found.".to_owned()
            ))
        );
    }
}
