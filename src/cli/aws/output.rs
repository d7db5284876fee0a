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

/// The aws CLI's `table` format, ported from `awscli/formatter.py` (TableFormatter) and
/// `awscli/table.py` (MultiTable): a section per object or list, titled by its key and
/// indented by its depth; an object's scalars as one row under their keys, a list of objects
/// as rows under the union of their keys; sections share one width, and when that is wider
/// than the terminal (80 columns when stdout is not one), single-row sections turn into
/// key/value rows.
pub fn table(value: &Value, title: &str) -> String {
    let mut builder = TableBuilder::default();
    if !builder.build(Some(title), value, 0) {
        return String::new();
    }
    builder.render(terminal_width())
}

fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct; a failure (not a terminal) leaves it unused.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) == 0 && size.ws_col > 0 {
            return size.ws_col as usize;
        }
    }
    80
}

#[derive(Default)]
struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent_level: usize,
    max_widths: Vec<usize>,
}

impl Section {
    fn update_max_widths(&mut self, row: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = row.iter().map(|c| c.chars().count()).collect();
        } else {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = self.max_widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
    }

    fn add_header(&mut self, headers: Vec<String>) {
        self.update_max_widths(&headers);
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.update_max_widths(&row);
        self.rows.push(row);
    }

    /// Column widths with `padding`, scaled to `max_width` as Python rounds (half to even).
    fn column_widths(&self, padding: usize, max_width: Option<usize>) -> Vec<usize> {
        let unscaled: Vec<usize> = self.max_widths.iter().map(|w| w + padding).collect();
        let Some(max_width) = max_width else {
            return unscaled;
        };
        if unscaled.is_empty() {
            return unscaled;
        }
        let factor = max_width as f64 / unscaled.iter().sum::<usize>() as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|w| round_half_even(factor * *w as f64) as i64)
            .collect();
        let mut off_by: i64 = scaled.iter().sum::<i64>() - max_width as i64;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled.into_iter().map(|w| w.max(0) as usize).collect()
    }

    fn total_width(&self) -> usize {
        let outer = self.indent_level * 2;
        let cells: usize = self.column_widths(0, None).iter().map(|w| w + 4).sum();
        (self.title.chars().count() + 2 + outer).max(cells + 2 + outer)
    }
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

fn center_text(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_length = text.chars().count();
    let start = ((length / 2) as i64 - (text_length / 2) as i64 - 1).max(0) as usize;
    let so_far = left.chars().count() + start + text_length;
    let right_spaces = length.saturating_sub(right.chars().count() + so_far);
    format!(
        "{left}{}{text}{}{right}",
        " ".repeat(start),
        " ".repeat(right_spaces)
    )
}

fn align_left(text: &str, length: usize, left: &str, right: &str) -> String {
    let text_length = text.chars().count();
    let needed = text_length + 2 + left.chars().count() + right.chars().count();
    let padding = if length >= needed { 2 } else { 0 };
    let so_far = left.chars().count() + padding + text_length;
    let fill = length.saturating_sub(so_far + right.chars().count());
    format!(
        "{left}{}{text}{}{right}",
        " ".repeat(padding),
        " ".repeat(fill)
    )
}

#[derive(Default)]
struct TableBuilder {
    sections: Vec<Section>,
}

impl TableBuilder {
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section")
    }

    fn new_section(&mut self, title: &str, indent_level: usize) {
        self.sections.push(Section {
            title: title.to_owned(),
            indent_level,
            ..Default::default()
        });
    }

    fn build(&mut self, title: Option<&str>, current: &Value, indent_level: usize) -> bool {
        let empty = match current {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Number(n) => n.as_f64() == Some(0.0),
        };
        if empty {
            return false;
        }
        if let Some(t) = title {
            self.new_section(t, indent_level);
        }
        match current {
            Value::Array(items) => {
                if items[0].is_object() {
                    self.sub_table_from_list(items, indent_level, title.unwrap_or(""));
                } else {
                    for item in items {
                        match item {
                            Value::Array(inner) if inner.iter().all(is_scalar) => {
                                let row = inner.iter().map(python_str).collect();
                                self.current().add_row(row);
                            }
                            scalar if is_scalar(scalar) => {
                                self.current().add_row(vec![python_str(scalar)]);
                            }
                            other => {
                                self.build(None, other, 0);
                            }
                        }
                    }
                }
            }
            Value::Object(map) => self.sub_table_from_dict(map, indent_level),
            scalar => self.current().add_row(vec![python_str(scalar)]),
        }
        true
    }

    fn sub_table_from_dict(&mut self, map: &serde_json::Map<String, Value>, indent_level: usize) {
        let (headers, more) = group_scalar_keys(map);
        if headers.len() == 1 {
            let row = vec![headers[0].clone(), python_str(&map[&headers[0]])];
            self.current().add_row(row);
        } else if !headers.is_empty() {
            let row = headers.iter().map(|k| python_str(&map[k])).collect();
            self.current().add_header(headers);
            self.current().add_row(row);
        }
        for key in more {
            self.build(Some(&key), &map[&key], indent_level + 1);
        }
    }

    fn sub_table_from_list(&mut self, items: &[Value], indent_level: usize, title: &str) {
        let mut headers = Vec::new();
        let mut more = Vec::new();
        for item in items.iter().filter_map(Value::as_object) {
            let (h, m) = group_scalar_keys(item);
            headers.extend(h);
            more.extend(m);
        }
        headers.sort();
        headers.dedup();
        more.sort();
        more.dedup();
        self.current().add_header(headers.clone());
        let mut first = true;
        for element in items.iter().filter_map(Value::as_object) {
            if !first && !more.is_empty() {
                self.new_section(title, indent_level);
                self.current().add_header(headers.clone());
            }
            first = false;
            let row = headers
                .iter()
                .map(|h| element.get(h).map(python_str).unwrap_or_default())
                .collect();
            self.current().add_row(row);
            for key in &more {
                if let Some(v) = element.get(key) {
                    self.build(Some(key), v, indent_level + 1);
                }
            }
        }
    }

    fn max_width(&self) -> usize {
        self.sections
            .iter()
            .map(Section::total_width)
            .max()
            .unwrap_or(0)
    }

    fn render(mut self, terminal_width: usize) -> String {
        let mut max_width = self.max_width();
        if max_width > terminal_width {
            // Too wide: single-row sections become key/value rows.
            for section in &mut self.sections {
                if section.rows.len() == 1 && !section.headers.is_empty() {
                    let mut vertical = Section {
                        title: std::mem::take(&mut section.title),
                        indent_level: section.indent_level,
                        ..Default::default()
                    };
                    for (h, v) in section.headers.iter().zip(&section.rows[0]) {
                        vertical.add_row(vec![h.clone(), v.clone()]);
                    }
                    *section = vertical;
                }
            }
            max_width = self.max_width();
        }
        let mut out = format!("{}\n", "-".repeat(max_width));
        for section in &self.sections {
            let indent = "|".repeat(section.indent_level);
            let width = max_width - section.indent_level * 2;
            let mut line = |text: String| {
                out.push_str(&indent);
                out.push_str(&text);
                out.push_str(&indent);
                out.push('\n');
            };
            if !section.title.is_empty() {
                line(center_text(&section.title, width, "|", "|"));
                if section.headers.is_empty() && section.rows.is_empty() {
                    line(format!("+{}+", "-".repeat(width.saturating_sub(2))));
                }
            }
            let widths = section.column_widths(4, Some(width));
            let line_break = |widths: &[usize]| {
                let mut parts = String::new();
                for (i, w) in widths.iter().enumerate() {
                    if i == 0 {
                        parts.push_str(&format!("+{}+", "-".repeat(w.saturating_sub(2))));
                    } else {
                        parts.push_str(&format!("{}+", "-".repeat(w.saturating_sub(1))));
                    }
                }
                parts
            };
            if !section.headers.is_empty() {
                line(line_break(&widths));
                let mut text = String::new();
                for (i, (w, h)) in widths.iter().zip(&section.headers).enumerate() {
                    text.push_str(&center_text(h, *w, if i == 0 { "|" } else { "" }, "|"));
                }
                line(text);
            }
            if !section.rows.is_empty() && !widths.is_empty() {
                line(line_break(&widths));
                for row in &section.rows {
                    let mut text = String::new();
                    for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
                        text.push_str(&align_left(cell, *w, if i == 0 { "|" } else { "" }, "|"));
                    }
                    line(text);
                }
                line(line_break(&widths));
            }
        }
        out
    }
}

fn group_scalar_keys(map: &serde_json::Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let mut headers: Vec<String> = map
        .iter()
        .filter(|(_, v)| is_scalar(v))
        .map(|(k, _)| k.clone())
        .collect();
    let mut more: Vec<String> = map
        .iter()
        .filter(|(_, v)| !is_scalar(v))
        .map(|(k, _)| k.clone())
        .collect();
    headers.sort();
    more.sort();
    (headers, more)
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
    fn a_table_is_drawn_as_the_aws_clis() {
        // Each expected table was drawn by aws CLI 1.45's TableFormatter (80 columns, no
        // colour) for the JSON beside it.
        let cases = [
            (
                include_str!("testdata/table_narrow.json"),
                include_str!("testdata/table_narrow.txt"),
                "DescribeSecret",
            ),
            (
                include_str!("testdata/table_wide.json"),
                include_str!("testdata/table_wide.txt"),
                "DescribeSecret",
            ),
            (
                include_str!("testdata/table_list.json"),
                include_str!("testdata/table_list.txt"),
                "ListSecrets",
            ),
        ];
        for (input, expected, title) in cases {
            let value: Value = serde_json::from_str(input).unwrap();
            let mut b = TableBuilder::default();
            assert!(b.build(Some(title), &value, 0));
            let drawn = b.render(80);
            assert_eq!(drawn, expected, "\n{drawn}\n{expected}");
        }
    }
}
