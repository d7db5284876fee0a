//! Printing results as the aws CLI version 2 does: `json` (4-space indent, timestamps in
//! ISO 8601), `yaml`, `yaml-stream`, `text` and `table`, after `--query`.

use serde_json::Value;

use super::model::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    YamlStream,
    Text,
    Table,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["json", "yaml", "yaml-stream", "text", "table"];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "json" => Format::Json,
            "yaml" => Format::Yaml,
            "yaml-stream" => Format::YamlStream,
            "text" => Format::Text,
            "table" => Format::Table,
            _ => return None,
        })
    }
}

/// Timestamps in `value` (per the model's `shape_name`) from epoch seconds to ISO 8601, as
/// aws CLI version 2 prints them (`2026-11-26T23:44:23.081000+00:00`; times in UTC).
pub fn convert_timestamps(model: &Model, shape_name: &str, value: &mut Value) {
    let shape = model.shape(shape_name);
    match (shape.kind.as_str(), value) {
        ("timestamp", v @ Value::Number(_)) => {
            if let Some(seconds) = v.as_f64() {
                *v = Value::String(iso8601(seconds));
            }
        }
        ("structure", Value::Object(fields)) => {
            for (k, v) in fields.iter_mut() {
                if let Some(m) = shape.members.get(k) {
                    convert_timestamps(model, &m.shape, v);
                }
            }
        }
        ("list", Value::Array(items)) => {
            let member = &shape.member.as_ref().expect("list member").shape;
            for item in items {
                convert_timestamps(model, member, item);
            }
        }
        ("map", Value::Object(fields)) => {
            let value_shape = &shape.value.as_ref().expect("map value").shape;
            for v in fields.values_mut() {
                convert_timestamps(model, value_shape, v);
            }
        }
        _ => {}
    }
}

/// Python's `datetime.isoformat()` of a UTC time: microseconds only when there are any.
pub fn iso8601(epoch_seconds: f64) -> String {
    let micros = (epoch_seconds * 1_000_000.0).round() as i64;
    let Ok(ts) = jiff::Timestamp::from_microsecond(micros) else {
        return epoch_seconds.to_string();
    };
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let fraction = micros.rem_euclid(1_000_000);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if fraction != 0 {
        out.push_str(&format!(".{fraction:06}"));
    }
    out.push_str("+00:00");
    out
}

/// `--query`: a JMESPath expression, checked before anything is sent.
pub struct Query(jmespath::Expression<'static>);

impl Query {
    pub fn compile(expression: &str) -> Result<Query, String> {
        jmespath::compile(expression)
            .map(Query)
            .map_err(|e| format!("Bad value for --query {expression}: {e}"))
    }

    pub fn apply(&self, value: &Value) -> Result<Value, String> {
        let result = self.0.search(value).map_err(|e| e.to_string())?;
        serde_json::to_value(&*result).map_err(|e| e.to_string())
    }
}

pub fn render(format: Format, value: &Value, title: &str) -> String {
    match format {
        Format::Json => json(value),
        Format::Yaml => yaml(value),
        Format::YamlStream => yaml(&Value::Array(vec![value.clone()])),
        Format::Text => text(value),
        Format::Table => table(value, title),
    }
}

pub fn json(value: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer).expect("JSON serializes");
    let mut text = String::from_utf8(out).expect("JSON is UTF-8");
    text.push('\n');
    text
}

pub fn yaml(value: &Value) -> String {
    if value.is_null() {
        return "null\n".into();
    }
    serde_norway::to_string(value).unwrap_or_else(|e| format!("# {e}\n"))
}

/// Python's `str()` of a value, as the text and table formats print scalars.
fn python_str(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// The keys with scalar values in any of a list's objects, sorted (awscli's
/// `_all_scalar_keys`).
fn scalar_keys_of(items: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| {
            m.iter()
                .filter(|(_, v)| is_scalar(v))
                .map(|(k, _)| k.clone())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The aws CLI's `text` format (`awscli/text.py`): scalars of an object on one line, tab
/// separated, in key order; nested lists and objects after it, their lines starting with the
/// key in capitals.
pub fn text(value: &Value) -> String {
    let mut out = String::new();
    format_text(value, &mut out, None, None);
    out
}

fn format_text(
    item: &Value,
    out: &mut String,
    identifier: Option<&str>,
    scalar_keys: Option<&[String]>,
) {
    match item {
        Value::Object(map) => {
            let (scalars, non_scalars): (Vec<String>, Vec<(String, &Value)>) = match scalar_keys {
                None => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    let mut scalars = Vec::new();
                    let mut non_scalars = Vec::new();
                    for k in keys {
                        if is_scalar(&map[k]) {
                            scalars.push(python_str(&map[k]));
                        } else {
                            non_scalars.push((k.clone(), &map[k]));
                        }
                    }
                    (scalars, non_scalars)
                }
                Some(keys) => {
                    let scalars = keys
                        .iter()
                        .map(|k| map.get(k).map(python_str).unwrap_or_default())
                        .collect();
                    let mut rest: Vec<&String> = map.keys().filter(|k| !keys.contains(k)).collect();
                    rest.sort();
                    (
                        scalars,
                        rest.into_iter().map(|k| (k.clone(), &map[k])).collect(),
                    )
                }
            };
            if !scalars.is_empty() {
                let mut line = Vec::new();
                if let Some(id) = identifier {
                    line.push(id.to_uppercase());
                }
                line.extend(scalars);
                out.push_str(&line.join("\t"));
                out.push('\n');
            }
            for (k, v) in non_scalars {
                format_text(v, out, Some(&k), None);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                return;
            }
            if items.iter().any(Value::is_object) {
                let keys = scalar_keys_of(items);
                for element in items {
                    format_text(element, out, identifier, Some(&keys));
                }
            } else if items.iter().any(Value::is_array) {
                let scalars: Vec<&Value> = items.iter().filter(|v| is_scalar(v)).collect();
                if !scalars.is_empty() {
                    scalar_list(&scalars, identifier, out);
                }
                for v in items.iter().filter(|v| !is_scalar(v)) {
                    format_text(v, out, identifier, None);
                }
            } else {
                let all: Vec<&Value> = items.iter().collect();
                scalar_list(&all, identifier, out);
            }
        }
        scalar => {
            out.push_str(&python_str(scalar));
            out.push('\n');
        }
    }
}

fn scalar_list(items: &[&Value], identifier: Option<&str>, out: &mut String) {
    match identifier {
        Some(id) => {
            for v in items {
                out.push_str(&format!("{}\t{}\n", id.to_uppercase(), python_str(v)));
            }
        }
        None => {
            out.push_str(
                &items
                    .iter()
                    .map(|v| python_str(v))
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
            out.push('\n');
        }
    }
}

/// The aws CLI's `table` format: a titled box; an object's scalars as a row under their
/// keys, lists of objects as rows under the union of their keys, nested values as titled
/// sections.
pub fn table(value: &Value, title: &str) -> String {
    let mut sections = Vec::new();
    collect_sections(value, title, &mut sections);
    let width = sections
        .iter()
        .map(Section::natural_width)
        .max()
        .unwrap_or(0)
        .max(title.chars().count() + 4);
    let mut out = String::new();
    out.push_str(&format!("{}\n", "-".repeat(width)));
    for (i, s) in sections.iter().enumerate() {
        s.render(width, i == 0, &mut out);
    }
    out
}

struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Section {
    fn column_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                } else {
                    widths.push(cell.chars().count());
                }
            }
        }
        widths
    }

    fn natural_width(&self) -> usize {
        let columns = self.column_widths();
        let cells: usize = columns.iter().map(|w| w + 4).sum::<usize>() + 1;
        cells.max(self.title.chars().count() + 4)
    }

    fn render(&self, width: usize, first: bool, out: &mut String) {
        let centered = |text: &str, w: usize| {
            let len = text.chars().count();
            let left = (w.saturating_sub(len)) / 2;
            format!(
                "{}{text}{}",
                " ".repeat(left),
                " ".repeat(w.saturating_sub(len + left))
            )
        };
        if !first {
            out.push_str(&format!("+{}+\n", "-".repeat(width - 2)));
        }
        out.push_str(&format!("|{}|\n", centered(&self.title, width - 2)));
        if self.rows.is_empty() {
            return;
        }
        // Columns share the width; the last one takes what is left.
        let mut widths: Vec<usize> = self.column_widths().iter().map(|w| w + 4).collect();
        let used: usize = widths.iter().sum::<usize>() + 1;
        if let Some(last) = widths.last_mut() {
            *last += width.saturating_sub(used);
        }
        let line = |out: &mut String| {
            out.push('+');
            for w in &widths {
                out.push_str(&"-".repeat(w - 1));
                out.push('+');
            }
            out.push('\n');
        };
        line(out);
        if !self.headers.is_empty() {
            out.push('|');
            for (h, w) in self.headers.iter().zip(&widths) {
                out.push_str(&centered(h, w - 1));
                out.push('|');
            }
            out.push('\n');
            line(out);
        }
        for row in &self.rows {
            out.push('|');
            for (i, w) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                let pad = (w - 1).saturating_sub(cell.chars().count() + 2);
                out.push_str(&format!("  {cell}{}", " ".repeat(pad)));
                out.push('|');
            }
            out.push('\n');
        }
        line(out);
    }
}

fn collect_sections(value: &Value, title: &str, sections: &mut Vec<Section>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let scalars: Vec<&&String> = keys.iter().filter(|k| is_scalar(&map[**k])).collect();
            sections.push(Section {
                title: title.to_owned(),
                headers: scalars.iter().map(|k| k.to_string()).collect(),
                rows: if scalars.is_empty() {
                    Vec::new()
                } else {
                    vec![scalars.iter().map(|k| python_str(&map[**k])).collect()]
                },
            });
            for k in keys.iter().filter(|k| !is_scalar(&map[**k])) {
                collect_sections(&map[*k], k, sections);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let headers = scalar_keys_of(items);
            let rows = items
                .iter()
                .filter_map(Value::as_object)
                .map(|m| {
                    headers
                        .iter()
                        .map(|h| m.get(h).map(python_str).unwrap_or_default())
                        .collect()
                })
                .collect();
            sections.push(Section {
                title: title.to_owned(),
                headers,
                rows,
            });
            for item in items.iter().filter_map(Value::as_object) {
                let mut keys: Vec<&String> = item.keys().collect();
                keys.sort();
                for k in keys.into_iter().filter(|k| !is_scalar(&item[*k])) {
                    collect_sections(&item[k], k, sections);
                }
            }
        }
        Value::Array(items) => sections.push(Section {
            title: title.to_owned(),
            headers: Vec::new(),
            rows: items.iter().map(|v| vec![python_str(v)]).collect(),
        }),
        scalar => sections.push(Section {
            title: title.to_owned(),
            headers: Vec::new(),
            rows: vec![vec![python_str(scalar)]],
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_print_as_python_isoformat_does() {
        assert_eq!(
            iso8601(1_795_736_074.081),
            "2026-11-26T23:34:34.081000+00:00"
        );
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn json_is_indented_by_four_spaces() {
        assert_eq!(
            json(&json!({"A": [1]})),
            "{\n    \"A\": [\n        1\n    ]\n}\n"
        );
    }

    #[test]
    fn text_prints_scalars_on_a_line_and_nested_values_after_it() {
        let v = json!({
            "Name": "n", "ARN": "a",
            "Tags": [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}],
            "VersionIdsToStages": {"v1": ["AWSCURRENT"]}
        });
        assert_eq!(
            text(&v),
            "a\tn\nTAGS\tk1\tv1\nTAGS\tk2\tv2\nV1\tAWSCURRENT\n"
        );
        assert_eq!(text(&json!(["a", "b"])), "a\tb\n");
        assert_eq!(text(&json!(true)), "True\n");
    }

    #[test]
    fn a_table_has_the_operation_as_its_title() {
        let t = table(&json!({"Name": "n", "ARN": "a"}), "DescribeSecret");
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].contains("DescribeSecret"), "{t}");
        assert!(t.contains("|  a "), "{t}");
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{t}");
    }
}
