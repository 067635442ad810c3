//! A forgiving JSON reader for documentation examples: it accepts what the docs print by
//! mistake (a trailing comma before `}` or `]`, a key given twice) and reports each repair,
//! so the caller can tell the reader what it fixed. Anything else that is not JSON is an
//! error with a line number.

use serde_json::{Map, Number, Value};

/// A repair made while reading an example. Lines count from 1 within the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Repair {
    /// A `,` directly before `}` or `]` was dropped.
    TrailingComma { line: usize },
    /// `key` appeared twice in one object; the last value was kept, as JSON parsers do.
    DuplicateKey { key: String, line: usize },
}

/// Why a text is not JSON, even leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// Parses `text` as one JSON value, repairing trailing commas and duplicate keys.
pub(crate) fn parse(text: &str) -> Result<(Value, Vec<Repair>), SyntaxError> {
    let mut p = Parser {
        chars: text.char_indices().collect(),
        pos: 0,
        line: 1,
        repairs: Vec::new(),
    };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.error("text after the JSON value"));
    }
    Ok((value, p.repairs))
}

/// Deep enough for any documented example; stops a hostile page from overflowing the stack.
const MAX_DEPTH: usize = 128;

struct Parser {
    chars: Vec<(usize, char)>,
    pos: usize,
    line: usize,
    repairs: Vec<Repair>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error(&self, message: &str) -> SyntaxError {
        let found = match self.peek() {
            Some(c) => format!("{message} (found {c:?})"),
            None => format!("{message} (found the end of the text)"),
        };
        SyntaxError {
            line: self.line,
            message: found,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            // U+3000 and NBSP show up in rendered (translated) pages.
            if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn expect(&mut self, want: char) -> Result<(), SyntaxError> {
        if self.peek() == Some(want) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(&format!("expected {want:?}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.peek() {
            Some('{') => self.object(depth),
            Some('[') => self.array(depth),
            Some('"') => self.string().map(Value::String),
            Some('t') => self.literal("true", Value::Bool(true)),
            Some('f') => self.literal("false", Value::Bool(false)),
            Some('n') => self.literal("null", Value::Null),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            _ => Err(self.error("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        for want in word.chars() {
            if self.peek() != Some(want) {
                return Err(self.error(&format!("expected `{word}`")));
            }
            self.bump();
        }
        Ok(value)
    }

    /// After a `,`: is the next significant character the closing bracket? Then the comma
    /// was a trailing one.
    fn trailing_comma(&mut self, close: char, comma_line: usize) -> bool {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.repairs
                .push(Repair::TrailingComma { line: comma_line });
            true
        } else {
            false
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.expect('{')?;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                return Err(self.error("expected a key in quotes"));
            }
            let key_line = self.line;
            let key = self.string()?;
            self.skip_ws();
            self.expect(':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            if map.contains_key(&key) {
                self.repairs.push(Repair::DuplicateKey {
                    key: key.clone(),
                    line: key_line,
                });
                // Last one wins, and it takes the last position too.
                map.remove(&key);
            }
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    let comma_line = self.line;
                    self.bump();
                    if self.trailing_comma('}', comma_line) {
                        self.bump();
                        return Ok(Value::Object(map));
                    }
                }
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    let comma_line = self.line;
                    self.bump();
                    if self.trailing_comma(']', comma_line) {
                        self.bump();
                        return Ok(Value::Array(items));
                    }
                }
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some('"') => return Ok(out),
                Some('\n') => return Err(self.error("line break inside a string")),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => out.push(self.unicode_escape()?),
                    _ => return Err(self.error("unknown escape")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
            self.bump();
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            // A surrogate pair: the low half must follow as another \u escape.
            if self.peek() == Some('\\') {
                self.bump();
                self.expect('u')?;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(c).ok_or_else(|| self.error("invalid surrogate pair"));
                }
            }
            return Err(self.error("unpaired surrogate"));
        }
        char::from_u32(hi).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        let mut float = false;
        if self.peek() == Some('-') {
            self.bump();
        }
        while let Some(c) = self.peek() {
            match c {
                '0'..='9' | '+' | '-' => {}
                '.' | 'e' | 'E' => float = true,
                _ => break,
            }
            self.bump();
        }
        let text: String = self.chars[start..self.pos]
            .iter()
            .map(|(_, c)| *c)
            .collect();
        let number = if float {
            text.parse::<f64>().ok().and_then(Number::from_f64)
        } else if let Ok(v) = text.parse::<i64>() {
            Some(Number::from(v))
        } else if let Ok(v) = text.parse::<u64>() {
            Some(Number::from(v))
        } else {
            text.parse::<f64>().ok().and_then(Number::from_f64)
        };
        number
            .map(Value::Number)
            .ok_or_else(|| self.error(&format!("`{text}` is not a number")))
    }
}
