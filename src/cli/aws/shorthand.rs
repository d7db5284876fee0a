//! The aws CLI's shorthand syntax (`awscli/shorthand.py`): `Key=a,Values=b,c`,
//! `[a,b]`, `{k=v}`, quoted values and `\,`; with its error messages, which point at the
//! character where parsing stopped.
//!
//! ```text
//! parameter     = keyval *("," keyval)
//! keyval        = key "=" [values]
//! key           = 1*(ALPHA / DIGIT / "-" / "_" / "." / "#" / "/" / ":")
//! values        = csv-list / explicit-list / hash-literal
//! csv-list      = first-value *("," second-value)
//! explicit-list = "[" [value *("," value)] "]"
//! hash-literal  = "{" keyval *("," keyval) "}"
//! ```

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShorthandError(pub String);

impl std::fmt::Display for ShorthandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `input` into an object whose leaves are strings (and lists and objects of them);
/// the caller gives them their model types.
pub fn parse(input: &str) -> Result<Map<String, Value>, ShorthandError> {
    Parser {
        input: input.chars().collect(),
        text: input,
        index: 0,
        resolve_files: false,
    }
    .parameter()
}

struct Parser<'a> {
    input: Vec<char>,
    text: &'a str,
    index: usize,
    /// After `key@=`: `file://` and `fileb://` values are replaced by the file's contents.
    resolve_files: bool,
}

/// A value after `key@=`: the contents of the file it names, or itself.
fn resolve_file(value: String) -> Result<String, ShorthandError> {
    let path = value
        .strip_prefix("file://")
        .or_else(|| value.strip_prefix("fileb://"));
    match path {
        None => Ok(value),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| ShorthandError(format!("Unable to load paramfile {value}: {e}"))),
    }
}

/// A value may start with any of these (shorthand.py's `_START_WORD`): not whitespace, `"`,
/// `'`, `,`, `=`, `[` or `{`.
fn starts_word(c: char) -> bool {
    c >= '!' && !matches!(c, '"' | '\'' | ',' | '=' | '[' | '{')
}

/// A first value continues with any of these (`_FIRST_FOLLOW_CHARS`): `=` is allowed, and
/// `]` and `}` end it (they close explicit lists and hashes).
fn follows_first(c: char) -> bool {
    c.is_whitespace() || (c >= '!' && !matches!(c, '"' | '\'' | ',' | ']' | '}'))
}

/// A second value of a comma-separated list continues with any of these
/// (`_SECOND_FOLLOW_CHARS`): not `=`, so that `a=b,c=d` ends the list at `c`.
fn follows_second(c: char) -> bool {
    c.is_whitespace() || (c >= '!' && !matches!(c, '"' | '\'' | ',' | '='))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '#' | '/' | ':')
}

impl Parser<'_> {
    fn at_eof(&self) -> bool {
        self.index >= self.input.len()
    }

    fn current(&self) -> Option<char> {
        self.input.get(self.index).copied()
    }

    fn syntax_error(&self, expected: &str, actual: &str) -> ShorthandError {
        ShorthandError(format!(
            "Expected: '{expected}', received: '{actual}' for input:\n{}",
            self.error_location(self.index)
        ))
    }

    /// The input with a caret under `index` (the line of it, when the input has several).
    fn error_location(&self, index: usize) -> String {
        let chars = &self.input;
        let before: String = chars[..index.min(chars.len())].iter().collect();
        let after: String = chars[index.min(chars.len())..].iter().collect();
        let num_spaces = match before.rfind('\n') {
            Some(nl) => before[nl + 1..].chars().count(),
            None => index,
        };
        let (consumed, remaining) = match after.find('\n') {
            Some(nl) => (format!("{before}{}", &after[..nl]), after[nl..].to_owned()),
            None => (self.text.to_owned(), String::new()),
        };
        format!("{consumed}\n{}^{remaining}", " ".repeat(num_spaces))
    }

    fn consume_whitespace(&mut self) {
        while self.current().is_some_and(char::is_whitespace) {
            self.index += 1;
        }
    }

    fn expect(&mut self, c: char, consume_whitespace: bool) -> Result<(), ShorthandError> {
        if consume_whitespace {
            self.consume_whitespace();
        }
        match self.current() {
            None => return Err(self.syntax_error(&c.to_string(), "EOF")),
            Some(actual) if actual != c => {
                return Err(self.syntax_error(&c.to_string(), &actual.to_string()));
            }
            Some(_) => self.index += 1,
        }
        if consume_whitespace {
            self.consume_whitespace();
        }
        Ok(())
    }

    fn parameter(&mut self) -> Result<Map<String, Value>, ShorthandError> {
        let mut params = Map::new();
        let (key, value) = self.keyval()?;
        params.insert(key, value);
        let mut last_index = self.index;
        while !self.at_eof() {
            self.expect(',', true)?;
            let (key, value) = self.keyval()?;
            if params.contains_key(&key) {
                return Err(ShorthandError(format!(
                    "Second instance of key \"{key}\" encountered for input:\n{}\nThis is often \
                     because there is a preceding \",\" instead of a space.",
                    self.error_location(last_index + 1)
                )));
            }
            params.insert(key, value);
            last_index = self.index;
        }
        Ok(params)
    }

    /// `=`, or `@=` (values are file contents).
    fn assignment(&mut self) -> Result<(), ShorthandError> {
        let before = self.index;
        self.resolve_files = false;
        if self.expect('@', true).is_ok() {
            self.resolve_files = true;
        } else {
            self.index = before;
        }
        self.expect('=', true)
    }

    fn keyval(&mut self) -> Result<(String, Value), ShorthandError> {
        let key = self.key();
        self.assignment()?;
        let values = self.values()?;
        Ok((key, values))
    }

    fn key(&mut self) -> String {
        let start = self.index;
        while self.current().is_some_and(is_key_char) {
            self.index += 1;
        }
        self.input[start..self.index].iter().collect()
    }

    fn values(&mut self) -> Result<Value, ShorthandError> {
        match self.current() {
            None => Ok(Value::String(String::new())),
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            Some(_) => self.csv_value(),
        }
    }

    fn csv_value(&mut self) -> Result<Value, ShorthandError> {
        let first = self.first_value()?;
        self.consume_whitespace();
        if self.current() != Some(',') {
            return Ok(Value::String(first));
        }
        let before_comma = self.index;
        self.expect(',', true)?;
        let mut list = vec![Value::String(first.clone())];
        loop {
            let attempt = (|| -> Result<bool, ShorthandError> {
                let value = self.second_value()?;
                self.consume_whitespace();
                if self.at_eof() {
                    list.push(Value::String(value));
                    return Ok(true);
                }
                self.expect(',', true)?;
                list.push(Value::String(value));
                Ok(false)
            })();
            match attempt {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    if self.at_eof() {
                        return Err(e);
                    }
                    // `a=b,c=d`: `c` was the next key. Back to the comma before it.
                    self.backtrack_to_comma(before_comma);
                    break;
                }
            }
        }
        if list.len() == 1 {
            return Ok(Value::String(first));
        }
        Ok(Value::Array(list))
    }

    /// Back to the comma before the key that was taken for a value.
    fn backtrack_to_comma(&mut self, floor: usize) {
        while self.index > floor && self.input[self.index] != ',' {
            self.index -= 1;
        }
    }

    fn first_value(&mut self) -> Result<String, ShorthandError> {
        let value = match self.current() {
            Some('\'') => self.quoted('\'')?,
            Some('"') => self.quoted('"')?,
            _ => self.value(),
        };
        self.resolved(value)
    }

    fn resolved(&self, value: String) -> Result<String, ShorthandError> {
        if self.resolve_files {
            resolve_file(value)
        } else {
            Ok(value)
        }
    }

    fn second_value(&mut self) -> Result<String, ShorthandError> {
        let value = match self.current() {
            Some('\'') => self.quoted('\'')?,
            Some('"') => self.quoted('"')?,
            _ => {
                let start = self.index;
                let value = self.word(follows_second);
                if self.index == start {
                    return Err(self.syntax_error("<second>", "<none>"));
                }
                value
            }
        };
        self.resolved(value)
    }

    fn value(&mut self) -> String {
        self.word(follows_first)
    }

    /// An unquoted value: `\,` stands for a comma; trailing whitespace is dropped.
    fn word(&mut self, follows: fn(char) -> bool) -> String {
        let mut out = String::new();
        let mut first = true;
        loop {
            if self.current() == Some('\\') && self.input.get(self.index + 1) == Some(&',') {
                out.push(',');
                self.index += 2;
            } else {
                match self.current() {
                    Some(c) if (first && starts_word(c)) || (!first && follows(c)) => {
                        out.push(c);
                        self.index += 1;
                    }
                    _ => break,
                }
            }
            first = false;
        }
        out.trim_end().to_owned()
    }

    /// A quoted value; inside it, `\<quote>` and `\\` are escapes.
    fn quoted(&mut self, quote: char) -> Result<String, ShorthandError> {
        let start = self.index;
        let mut i = self.index + 1;
        let mut raw = String::new();
        loop {
            match self.input.get(i) {
                None => {
                    let name = if quote == '\'' {
                        "singled quoted"
                    } else {
                        "double quoted"
                    };
                    self.index = start;
                    return Err(self.syntax_error(&format!("<{name}>"), "<none>"));
                }
                Some('\\') if matches!(self.input.get(i + 1), Some(&c) if c == quote || c == '\\') =>
                {
                    raw.push('\\');
                    raw.push(self.input[i + 1]);
                    i += 2;
                }
                Some(&c) if c == quote => break,
                Some(&c) => {
                    raw.push(c);
                    i += 1;
                }
            }
        }
        self.index = i + 1;
        Ok(raw
            .replace(&format!("\\{quote}"), &quote.to_string())
            .replace("\\\\", "\\"))
    }

    fn explicit_list(&mut self) -> Result<Value, ShorthandError> {
        self.expect('[', true)?;
        let mut values = Vec::new();
        while self.current() != Some(']') {
            values.push(self.explicit_value()?);
            self.consume_whitespace();
            if self.current() != Some(']') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
        }
        self.expect(']', false)?;
        Ok(Value::Array(values))
    }

    fn explicit_value(&mut self) -> Result<Value, ShorthandError> {
        match self.current() {
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            _ => Ok(Value::String(self.first_value()?)),
        }
    }

    fn hash_literal(&mut self) -> Result<Value, ShorthandError> {
        self.expect('{', true)?;
        let mut map = Map::new();
        while self.current() != Some('}') {
            let key = self.key();
            self.assignment()?;
            let value = self.explicit_value()?;
            self.consume_whitespace();
            if self.current() != Some('}') {
                self.expect(',', false)?;
                self.consume_whitespace();
            }
            map.insert(key, value);
        }
        self.expect('}', false)?;
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(input: &str) -> Value {
        Value::Object(parse(input).unwrap_or_else(|e| panic!("{input}: {e}")))
    }

    #[test]
    fn scalars_lists_and_structures() {
        assert_eq!(
            ok("AutomaticallyAfterDays=10,Duration=3h"),
            json!({"AutomaticallyAfterDays": "10", "Duration": "3h"})
        );
        assert_eq!(
            ok("Key=team,Values=a,b"),
            json!({"Key": "team", "Values": ["a", "b"]})
        );
        assert_eq!(
            ok("Values=a,b,Key=team"),
            json!({"Values": ["a", "b"], "Key": "team"})
        );
        assert_eq!(
            ok("Values=[a,b],Key=k"),
            json!({"Values": ["a", "b"], "Key": "k"})
        );
        assert_eq!(
            ok("Outer={Inner=x,Other=[1,2]}"),
            json!({"Outer": {"Inner": "x", "Other": ["1", "2"]}})
        );
        assert_eq!(ok("Key="), json!({"Key": ""}));
    }

    #[test]
    fn quoting_and_escaped_commas() {
        assert_eq!(ok(r"Value=a\,b"), json!({"Value": "a,b"}));
        assert_eq!(ok("Value='a,b=c'"), json!({"Value": "a,b=c"}));
        assert_eq!(ok(r#"Value="say \"hi\"""#), json!({"Value": "say \"hi\""}));
        assert_eq!(ok("Value=with space "), json!({"Value": "with space"}));
    }

    #[test]
    fn at_equals_reads_values_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.txt");
        std::fs::write(&path, "from a file").unwrap();
        assert_eq!(
            ok(&format!("Key=k,Value@=file://{}", path.display())),
            json!({"Key": "k", "Value": "from a file"})
        );
        assert_eq!(ok("Value=file://x"), json!({"Value": "file://x"}));
        assert!(parse("Value@=file:///nonexistent").is_err());
    }

    #[test]
    fn errors_point_at_the_bad_character() {
        let e = parse("AutomaticallyAfterDays").unwrap_err();
        assert_eq!(
            e.0,
            "Expected: '=', received: 'EOF' for input:\nAutomaticallyAfterDays\n                      ^"
        );
        assert_eq!(ok("Key=a=b"), json!({"Key": "a=b"}));
        let e = parse("Key=[a,b").unwrap_err();
        assert_eq!(
            e.0,
            "Expected: ',', received: 'EOF' for input:\nKey=[a,b\n        ^"
        );
        let e = parse("Key=a,Key=b").unwrap_err();
        assert!(e.0.starts_with("Second instance of key \"Key\""), "{e}");
        let e = parse("Value='open").unwrap_err();
        assert!(e.0.starts_with("Expected: '<singled quoted>'"), "{e}");
    }
}
