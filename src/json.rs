//! JSON text ([RFC 8259](https://www.rfc-editor.org/rfc/rfc8259)) for the sans-IO core: parsing
//! the text that crosses the wasm boundary or arrives as an HTTP body into
//! [`Value`](crate::fields::Value), and writing values back out.
//!
//! Small on purpose (no serde, no `core::fmt`, no float formatting or rounding tables), and safe
//! on hostile input: no panics, nesting limited to [`MAX_DEPTH`], time linear in the input.
//!
//! Choices the RFC leaves to implementations, made here:
//! - **Lone surrogates** (`"\ud800"` with no low half, or a low half alone) are refused with
//!   [`JsonError::LoneSurrogate`]: they cannot become a Rust `String`, and replacing them would
//!   let two different texts read as the same value
//!   ([RFC 8259 §8.2](https://www.rfc-editor.org/rfc/rfc8259#section-8.2),
//!   [RFC 7493 §2.1](https://www.rfc-editor.org/rfc/rfc7493#section-2.1)).
//! - **Duplicate object keys** are all kept, in document order
//!   ([RFC 8259 §4](https://www.rfc-editor.org/rfc/rfc8259#section-4)): the caller decides.
//!   [`Fields::get`](crate::fields::Fields::get) on the pairs reads the first one;
//!   [`duplicate_key`] finds a repeated name for a caller that must refuse them.
//! - **Numbers** ([RFC 8259 §6](https://www.rfc-editor.org/rfc/rfc8259#section-6)) that are
//!   whole, from -2^53 to 2^53 (every id, status, time and count the core reads), become an
//!   integer (`Value::Number`). Any other (a fraction, `-0`, a larger one) keeps its text
//!   (`Value::NumberText`), read as an `f64` where the core needs one, so that foreign JSON
//!   passes through with the value its sender wrote, and no float is ever formatted. A number
//!   that `JSON.parse` would make infinite is refused ([`JsonError::NumberOutOfRange`]).
//! - **Nesting** deeper than [`MAX_DEPTH`] arrays and objects is refused
//!   ([RFC 8259 §9](https://www.rfc-editor.org/rfc/rfc8259#section-9)).

use alloc::string::String;
use alloc::vec::Vec;

use crate::encoding::push_decimal;
use crate::error::{ConnectError, ErrorCode};
use crate::fields::Value;

/// How many arrays and objects may be open at once; one more is [`JsonError::TooDeep`].
pub const MAX_DEPTH: usize = 64;

/// Why a text is not JSON. Small and `Copy`; [`JsonError::description`] says it for people.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JsonError {
    /// The text ends inside a value (or is empty).
    UnexpectedEnd,
    /// A character that no JSON value can have here (an unquoted key, a trailing comma, ...).
    UnexpectedCharacter,
    /// A whole value, then more than whitespace.
    TrailingCharacters,
    /// A raw control character (U+0000 to U+001F) inside a string.
    ControlCharacter,
    /// A backslash not followed by one of `"\/bfnrt` or by `u` and four hex digits.
    InvalidEscape,
    /// A `\uD800`–`\uDFFF` escape that is not half of a surrogate pair.
    LoneSurrogate,
    /// A number that breaks the grammar: a leading zero, `1.`, `-`, `1e`.
    InvalidNumber,
    /// A number that rounds to infinity as an `f64` (1.8e308 and beyond).
    NumberOutOfRange,
    /// More than [`MAX_DEPTH`] nested arrays and objects.
    TooDeep,
    /// Valid JSON, but not the object [`parse_object`] was asked for.
    NotAnObject,
}

impl JsonError {
    /// A fixed sentence for people; holds nothing from the text.
    pub fn description(self) -> &'static str {
        match self {
            JsonError::UnexpectedEnd => "JSON text ends too early",
            JsonError::UnexpectedCharacter => "JSON text has an unexpected character",
            JsonError::TrailingCharacters => "JSON text has characters after its value",
            JsonError::ControlCharacter => "JSON string holds a raw control character",
            JsonError::InvalidEscape => "JSON string has an invalid escape",
            JsonError::LoneSurrogate => "JSON string has a lone surrogate escape",
            JsonError::InvalidNumber => "JSON number is malformed",
            JsonError::NumberOutOfRange => "JSON number is out of range",
            JsonError::TooDeep => "JSON text is nested too deeply",
            JsonError::NotAnObject => "JSON text is not an object",
        }
    }

    /// The error the library reports, with the `code` of whoever read the text
    /// (`token_error` for a token response, `invalid_id_token` for claims, ...).
    pub fn into_connect_error(self, code: ErrorCode) -> ConnectError {
        ConnectError::new(code, self.description())
    }
}

/// Parse a whole JSON text ([RFC 8259 §2](https://www.rfc-editor.org/rfc/rfc8259#section-2)).
/// Objects become `Value::Record` (every pair, in document order), arrays `Value::List`,
/// `null` becomes `Value::Other`; `Value::Absent` is never produced.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut parser = Parser::new(text);
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(JsonError::TrailingCharacters);
    }
    Ok(value)
}

/// Parse a JSON text that must be an object (a token response, a discovery document, claims);
/// the pairs implement [`Fields`](crate::fields::Fields), so the `fields` helpers read them.
pub fn parse_object(text: &str) -> Result<Vec<(String, Value)>, JsonError> {
    match parse(text)? {
        Value::Record(pairs) => Ok(pairs),
        _ => Err(JsonError::NotAnObject),
    }
}

/// The first name that appears twice among `pairs` (for callers that refuse duplicates, as
/// [RFC 7519 §4](https://www.rfc-editor.org/rfc/rfc7519#section-4) lets a JWT reader do).
/// `O(n log n)`, so safe on objects with many keys.
pub fn duplicate_key(pairs: &[(String, Value)]) -> Option<&str> {
    // The names by a push loop (here and in `authorize.rs`): each `collect` was a specialized
    // copier of its own.
    let mut names = Vec::with_capacity(pairs.len());
    for (name, _) in pairs {
        names.push(name.as_str());
    }
    duplicate_name(names)
}

/// A name that appears twice among `names` (the smallest such), in `O(n log n)`: what every
/// duplicate check of hostile input uses (object keys here, callback parameters).
pub(crate) fn duplicate_name(mut names: Vec<&str>) -> Option<&str> {
    heapsort(&mut names);
    names.windows(2).find(|pair| pair.first() == pair.last()).and_then(|pair| pair.first().copied())
}

/// Sort in place. A heapsort: `O(n log n)` in every case, in a few hundred bytes of wasm where
/// `sort_unstable` brings about 3.7 KB of sorting networks and partitions for this one use.
fn heapsort(names: &mut [&str]) {
    /// Move `names[root]` down until it is no smaller than its children in `names[..end]`.
    fn sift_down(names: &mut [&str], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && names[child] < names[child + 1] {
                child += 1;
            }
            if names[root] >= names[child] {
                return;
            }
            names.swap(root, child);
            root = child;
        }
    }
    let len = names.len();
    for root in (0..len / 2).rev() {
        sift_down(names, root, len);
    }
    for end in (1..len).rev() {
        names.swap(0, end);
        sift_down(names, 0, end);
    }
}

/// The parser: a position in the text, read through its bytes. Every scan keeps the position
/// in a local and walks a local byte slice, so the hot loops (strings, whitespace) are a
/// compare and an increment per byte.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, bytes: text.as_bytes(), pos: 0 }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn unexpected(&self) -> JsonError {
        if self.pos < self.bytes.len() {
            JsonError::UnexpectedCharacter
        } else {
            JsonError::UnexpectedEnd
        }
    }

    /// Step over `expected`, or fail on what is there instead.
    fn expect(&mut self, expected: u8) -> Result<(), JsonError> {
        if self.peek() != Some(expected) {
            return Err(self.unexpected());
        }
        self.pos += 1;
        Ok(())
    }

    /// [RFC 8259 §2](https://www.rfc-editor.org/rfc/rfc8259#section-2): space, tab, LF, CR only.
    fn skip_whitespace(&mut self) {
        let (bytes, mut pos) = (self.bytes, self.pos);
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    fn literal(&mut self, literal: &[u8], value: Value) -> Result<Value, JsonError> {
        for &expected in literal {
            self.expect(expected)?;
        }
        Ok(value)
    }

    /// A value at the current position (whitespace already skipped); `depth` containers are open.
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.container(depth + 1, true),
            Some(b'[') => self.container(depth + 1, false),
            Some(b'"') => self.string().map(Value::Text),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Other),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected()),
        }
    }

    /// An array ([RFC 8259 §5](https://www.rfc-editor.org/rfc/rfc8259#section-5)) or, when
    /// `object`, an object ([§4](https://www.rfc-editor.org/rfc/rfc8259#section-4): every pair
    /// is kept); one loop for both, as they differ only in the name before each value.
    fn container(&mut self, depth: usize, object: bool) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.pos += 1;
        let (mut items, mut pairs) = (Vec::new(), Vec::new());
        // Read by `members`: whatever error ends the reading, the lists are dropped here, once,
        // not on each of its ways out.
        self.members(depth, object, &mut items, &mut pairs)?;
        Ok(if object { Value::Record(pairs) } else { Value::List(items) })
    }

    /// The members of a container, after its opening bracket and up to its closing one.
    fn members(&mut self, depth: usize, object: bool, items: &mut Vec<Value>, pairs: &mut Vec<(String, Value)>) -> Result<(), JsonError> {
        let close = if object { b'}' } else { b']' };
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if object {
                    if self.peek() != Some(b'"') {
                        return Err(self.unexpected());
                    }
                    let name = self.string()?;
                    self.skip_whitespace();
                    self.expect(b':')?;
                    self.skip_whitespace();
                    let value = self.value(depth)?;
                    pairs.push((name, value));
                } else {
                    items.push(self.value(depth)?);
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(byte) if byte == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        Ok(())
    }

    /// [RFC 8259 §7](https://www.rfc-editor.org/rfc/rfc8259#section-7). Each run of plain bytes
    /// is found by a tight loop and copied at once; runs start and end next to ASCII bytes, so
    /// on character boundaries.
    fn string(&mut self) -> Result<String, JsonError> {
        let (text, bytes) = (self.text, self.bytes);
        let mut pos = self.pos + 1;
        let mut out = String::new();
        loop {
            let run = pos;
            while let Some(&byte) = bytes.get(pos) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                pos += 1;
            }
            out.push_str(text.get(run..pos).ok_or(JsonError::UnexpectedCharacter)?);
            match bytes.get(pos) {
                None => return Err(JsonError::UnexpectedEnd),
                Some(b'"') => {
                    self.pos = pos + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos = pos + 1;
                    out.push(self.escape()?);
                    pos = self.pos;
                }
                Some(_) => return Err(JsonError::ControlCharacter),
            }
        }
    }

    /// The character an escape stands for; the backslash is already consumed.
    fn escape(&mut self) -> Result<char, JsonError> {
        let byte = self.peek().ok_or(JsonError::UnexpectedEnd)?;
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        if self.peek() != Some(b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                            return Err(JsonError::LoneSurrogate);
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(JsonError::LoneSurrogate);
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    _ => unit,
                };
                // `None` only for a lone low surrogate (0xDC00..=0xDFFF).
                char::from_u32(code).ok_or(JsonError::LoneSurrogate)?
            }
            _ => return Err(JsonError::InvalidEscape),
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut unit = 0u32;
        for _ in 0..4 {
            let byte = self.peek().ok_or(JsonError::UnexpectedEnd)?;
            let digit = char::from(byte).to_digit(16).ok_or(JsonError::InvalidEscape)?;
            unit = unit << 4 | digit;
            self.pos += 1;
        }
        Ok(unit)
    }

    /// A number ([RFC 8259 §6](https://www.rfc-editor.org/rfc/rfc8259#section-6)): a
    /// `Value::Number` when it is a whole number within ±2^53 ([`Decimal::whole`]), else its
    /// text as `Value::NumberText`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        let (decimal, end) = Decimal::scan(self.bytes, start)?;
        self.pos = end;
        if decimal.beyond_f64() {
            return Err(JsonError::NumberOutOfRange);
        }
        Ok(match decimal.whole() {
            Some(number) => Value::Number(number),
            None => Value::NumberText(String::from(self.text.get(start..end).unwrap_or_default())),
        })
    }
}

/// A number's decimal digits: `mantissa × 10^exponent`, negated when `negative`. The mantissa
/// keeps the first 19 significant digits (a `u64` holds them); `digits` counts them all.
struct Decimal {
    negative: bool,
    mantissa: u64,
    digits: usize,
    exponent: i64,
}

/// 2^53: every whole number up to it is exact in an `f64`.
const EXACT_INTEGERS: u64 = 1 << 53;

impl Decimal {
    /// Read `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `start`; returns the
    /// number and the position after it.
    fn scan(bytes: &[u8], start: usize) -> Result<(Decimal, usize), JsonError> {
        let negative = matches!(bytes.get(start), Some(b'-'));
        let mut number = Decimal { negative, mantissa: 0, digits: 0, exponent: 0 };
        let whole = start + usize::from(negative);
        let mut pos = number.add_digits(bytes, whole, false);
        if pos == whole {
            return Err(if whole < bytes.len() { JsonError::InvalidNumber } else { JsonError::UnexpectedEnd });
        }
        if matches!(bytes.get(whole), Some(b'0')) && pos > whole + 1 {
            return Err(JsonError::InvalidNumber); // a leading zero
        }
        if let Some(b'.') = bytes.get(pos) {
            let fraction = pos + 1;
            pos = number.add_digits(bytes, fraction, true);
            if pos == fraction {
                return Err(JsonError::InvalidNumber);
            }
        }
        if let Some(b'e' | b'E') = bytes.get(pos) {
            pos += 1;
            let negative_exponent = matches!(bytes.get(pos), Some(b'-'));
            if let Some(b'-' | b'+') = bytes.get(pos) {
                pos += 1;
            }
            let digits = pos;
            // Saturates: any exponent this large is out of range (or zero) anyway.
            let mut explicit = 0i64;
            while let Some(&byte @ b'0'..=b'9') = bytes.get(pos) {
                pos += 1;
                explicit = (explicit * 10 + i64::from(byte - b'0')).min(1_000_000_000);
            }
            if pos == digits {
                return Err(JsonError::InvalidNumber);
            }
            number.exponent += if negative_exponent { -explicit } else { explicit };
        }
        Ok((number, pos))
    }

    /// Take in the run of digits at `pos` (of the fraction when `fraction`); returns the
    /// position after it. Digits past the 19th only move the exponent.
    fn add_digits(&mut self, bytes: &[u8], mut pos: usize, fraction: bool) -> usize {
        while let Some(&byte @ b'0'..=b'9') = bytes.get(pos) {
            pos += 1;
            if self.digits < 19 {
                self.mantissa = self.mantissa * 10 + u64::from(byte - b'0');
                self.exponent -= i64::from(fraction);
            } else {
                self.exponent += i64::from(!fraction);
            }
            // Leading zeros (`0.000123`) are not significant.
            if self.mantissa != 0 {
                self.digits += 1;
            }
        }
        pos
    }

    /// Whether the number rounds to infinity as an `f64` (`JSON.parse` would make it
    /// `Infinity`): at or above 1.797693134862315808e308, judged on its first 19 digits.
    fn beyond_f64(&self) -> bool {
        if self.mantissa == 0 {
            return false;
        }
        // The mantissa holds `kept` digits; the value is in [10^(magnitude-1), 10^magnitude).
        let kept = self.digits.min(19) as u32;
        let magnitude = self.exponent.saturating_add(i64::from(kept));
        match magnitude {
            ..=308 => false,
            309 => {
                // Scaled to 19 digits: below 10^19, so no overflow.
                let mut scaled = self.mantissa;
                for _ in kept..19 {
                    scaled *= 10;
                }
                scaled >= 1_797_693_134_862_315_808
            }
            _ => true,
        }
    }

    /// The number as an integer, when it is a whole number from -2^53 to 2^53 (`3600`, `1e3`,
    /// `1.50e2`; not `-0`, whose sign an integer cannot keep): every id, status, time and count.
    fn whole(&self) -> Option<i64> {
        let (mut mantissa, mut exponent) = (self.mantissa, self.exponent);
        if mantissa == 0 {
            return (!self.negative).then_some(0);
        }
        if self.digits > 19 {
            return None;
        }
        // `1.50e2` is `150`; `1e3` is `1000`. At most 19 and 16 rounds: the mantissa's digits.
        while mantissa % 10 == 0 && exponent < 0 {
            mantissa /= 10;
            exponent += 1;
        }
        while exponent > 0 && mantissa <= EXACT_INTEGERS / 10 {
            mantissa *= 10;
            exponent -= 1;
        }
        if mantissa > EXACT_INTEGERS || exponent != 0 {
            return None;
        }
        let magnitude = mantissa as i64;
        Some(if self.negative { -magnitude } else { magnitude })
    }

    /// The number as an `f64`, close (within some units in the last place) rather than exact:
    /// for readers of a `Value::NumberText` (an expiry far in the future, say).
    fn approximate(&self) -> f64 {
        let mut magnitude = self.mantissa as f64;
        // Beyond ±400 the result is infinite or zero anyway (and the parser refused infinite).
        for _ in 0..self.exponent.clamp(-400, 400).unsigned_abs() {
            if self.exponent > 0 {
                magnitude *= 10.0;
            } else {
                magnitude /= 10.0;
            }
        }
        if self.negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// The value of a `Value::NumberText` (text the parser accepted), close rather than exact.
pub fn approximate_number(text: &str) -> f64 {
    Decimal::scan(text.as_bytes(), 0).map_or(0.0, |(decimal, _)| decimal.approximate())
}

/// Appends JSON text to a `String`, putting the commas in. The caller keeps the nesting right
/// (a `key` before each value inside an object, every `begin_*` closed by its `end_*`).
pub struct JsonWriter<'a> {
    out: &'a mut String,
    comma: bool,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut String) -> Self {
        JsonWriter { out, comma: false }
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(',');
        }
    }

    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push('{');
        self.comma = false;
    }

    pub fn end_object(&mut self) {
        self.out.push('}');
        self.comma = true;
    }

    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push('[');
        self.comma = false;
    }

    pub fn end_array(&mut self) {
        self.out.push(']');
        self.comma = true;
    }

    /// A member's name; its value comes next.
    pub fn key(&mut self, name: &str) {
        self.separate();
        push_string(self.out, name);
        self.out.push(':');
        self.comma = false;
    }

    pub fn string(&mut self, text: &str) {
        self.separate();
        push_string(self.out, text);
        self.comma = true;
    }

    /// A `Value::Number`: its digits, with its sign.
    fn number(&mut self, number: i64) {
        self.separate();
        if number < 0 {
            self.out.push('-');
        }
        push_decimal(self.out, number.unsigned_abs());
        self.comma = true;
    }

    /// A whole number (ids, milliseconds, status codes): plain decimal digits.
    pub fn integer(&mut self, number: u64) {
        self.separate();
        push_decimal(self.out, number);
        self.comma = true;
    }

    /// A value that is JSON text already (written by [`to_string`]), as it is.
    pub fn raw(&mut self, json: &str) {
        self.separate();
        self.out.push_str(json);
        self.comma = true;
    }

    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.out.push_str(if value { "true" } else { "false" });
        self.comma = true;
    }

    pub fn null(&mut self) {
        self.separate();
        self.out.push_str("null");
        self.comma = true;
    }

    /// A whole value, as `JSON.stringify` would write it: `Value::Other` is `null`;
    /// `Value::Absent` is `null` in a list or alone and leaves its pair out of a record.
    /// Recursive: a value is at most [`MAX_DEPTH`] deep when parsed, and the core wraps it in
    /// a few levels at most.
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::List(items) => {
                self.begin_array();
                for item in items {
                    self.value(item);
                }
                self.end_array();
            }
            Value::Record(pairs) => self.record(pairs),
            Value::Text(text) => self.string(text),
            Value::Number(number) => self.number(*number),
            Value::NumberText(text) => self.raw(text),
            Value::Bool(value) => self.bool(*value),
            Value::Absent | Value::Other => self.null(),
        }
    }

    /// An object of `pairs` (a `Value::Record`), without wrapping them in a `Value` first.
    pub fn record(&mut self, pairs: &[(String, Value)]) {
        self.begin_object();
        for (name, item) in pairs {
            if !matches!(item, Value::Absent) {
                self.key(name);
                self.value(item);
            }
        }
        self.end_object();
    }
}

/// Append `value` as JSON text (see [`JsonWriter::value`]).
pub fn write_value(value: &Value, out: &mut String) {
    JsonWriter::new(out).value(value);
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Append `text` as a JSON string ([RFC 8259 §7](https://www.rfc-editor.org/rfc/rfc8259#section-7)):
/// `"` and `\` escaped, control characters as `\u00XX`, and U+2028/U+2029 as `\u2028`/`\u2029`
/// so the text is also safe inside a JavaScript string literal or a `<script>`.
pub fn push_string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    // Runs of bytes written as they are get copied whole (pushing every `char` was most of
    // writing an answer); every cut is next to an ASCII byte or around a whole U+2028/U+2029
    // (E2 80 A8/A9 in UTF-8), so on a character boundary.
    let bytes = text.as_bytes();
    let (mut run, mut index) = (0, 0);
    while let Some(&byte) = bytes.get(index) {
        let code = match (byte, bytes.get(index + 1), bytes.get(index + 2)) {
            (b'"' | b'\\' | 0..=0x1f, _, _) => u32::from(byte),
            (0xe2, Some(0x80), Some(&last @ (0xa8 | 0xa9))) => 0x2000 | u32::from(last & 0x3f),
            _ => {
                index += 1;
                continue;
            }
        };
        out.push_str(text.get(run..index).unwrap_or_default());
        if byte == b'"' || byte == b'\\' {
            out.push('\\');
            out.push(char::from(byte));
        } else {
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(char::from(HEX_LOWER[(code >> shift & 0xf) as usize]));
            }
        }
        index += if code > 0xff { 3 } else { 1 };
        run = index;
    }
    out.push_str(text.get(run..).unwrap_or_default());
    out.push('"');
}

/// `value` as JSON text.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{opt_number, record, req_string, text, Fields};
    use alloc::string::ToString;
    use alloc::vec;

    fn number(text: &str) -> Result<i64, JsonError> {
        match parse(text)? {
            Value::Number(number) => Ok(number),
            _ => Err(JsonError::NotAnObject),
        }
    }

    fn written(value: &Value) -> String {
        let mut out = String::new();
        write_value(value, &mut out);
        out
    }

    fn number_text(number: i64) -> String {
        written(&Value::Number(number))
    }

    #[test]
    fn rfc8259_section13_examples() {
        let image = r#"
            {
              "Image": {
                  "Width":  800,
                  "Height": 600,
                  "Title":  "View from 15th Floor",
                  "Thumbnail": {
                      "Url":    "http://www.example.com/image/481989943",
                      "Height": 125,
                      "Width":  100
                  },
                  "Animated" : false,
                  "IDs": [116, 943, 234, 38793]
                }
            }"#;
        let thumbnail = Value::Record(record(&[
            ("Url", text("http://www.example.com/image/481989943")),
            ("Height", Value::Number(125)),
            ("Width", Value::Number(100)),
        ]));
        let expected = Value::Record(record(&[(
            "Image",
            Value::Record(record(&[
                ("Width", Value::Number(800)),
                ("Height", Value::Number(600)),
                ("Title", text("View from 15th Floor")),
                ("Thumbnail", thumbnail),
                ("Animated", Value::Bool(false)),
                (
                    "IDs",
                    Value::List(vec![Value::Number(116), Value::Number(943), Value::Number(234), Value::Number(38793)]),
                ),
            ])),
        )]));
        assert_eq!(parse(image), Ok(expected));

        let places = r#"
            [
              {
                 "precision": "zip",
                 "Latitude":  37.7668,
                 "Longitude": -122.3959,
                 "Address":   "",
                 "City":      "SAN FRANCISCO",
                 "State":     "CA",
                 "Zip":       "94107",
                 "Country":   "US"
              },
              {
                 "precision": "zip",
                 "Latitude":  37.371991,
                 "Longitude": -122.026020,
                 "Address":   "",
                 "City":      "SUNNYVALE",
                 "State":     "CA",
                 "Zip":       "94085",
                 "Country":   "US"
              }
            ]"#;
        let Ok(Value::List(items)) = parse(places) else { panic!("not a list") };
        assert_eq!(items.len(), 2);
        let Value::Record(second) = &items[1] else { panic!("not a record") };
        assert_eq!(second.get("Latitude"), Value::NumberText(String::from("37.371991")));
        assert!(second.get("Longitude").as_f64().is_some_and(|n| (n + 122.02602).abs() < 1e-12));
        assert_eq!(second.get("City"), text("SUNNYVALE"));

        // §13: texts that are only a value.
        assert_eq!(parse("\"Hello world!\""), Ok(text("Hello world!")));
        assert_eq!(parse("42"), Ok(Value::Number(42)));
        assert_eq!(parse("true"), Ok(Value::Bool(true)));
        assert_eq!(parse("null"), Ok(Value::Other));
    }

    #[test]
    fn whitespace_is_space_tab_lf_cr_only() {
        assert_eq!(parse(" \t\r\n[ 1 , { \"a\" : null } ]\n "), Ok(Value::List(vec![Value::Number(1), Value::Record(record(&[("a", Value::Other)]))])));
        for bad in ["\u{c}1", "1\u{a0}", "\u{feff}{}", "\u{2028}1", "\u{b}[]"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(parse(r#""\" \\ \/ \b \f \n \r \t""#), Ok(text("\" \\ / \u{8} \u{c} \n \r \t")));
        assert_eq!(parse(r#""\u0041\u00e9\u20AC\u0000\uFFFF""#), Ok(text("Aé€\u{0}\u{FFFF}")));
        assert_eq!(parse(r#""a\u0022b""#), Ok(text("a\"b")));
        assert_eq!(parse("\"é😀\u{7f}\""), Ok(text("é😀\u{7f}")));
        assert_eq!(parse(r#""\x41""#), Err(JsonError::InvalidEscape));
        assert_eq!(parse(r#""\u12G4""#), Err(JsonError::InvalidEscape));
        assert_eq!(parse(r#""\'""#), Err(JsonError::InvalidEscape));
        assert_eq!(parse(r#""\u12"#), Err(JsonError::UnexpectedEnd));
        assert_eq!(parse(r#""abc"#), Err(JsonError::UnexpectedEnd));
        assert_eq!(parse("\"\\"), Err(JsonError::UnexpectedEnd));
    }

    #[test]
    fn surrogate_pairs_combine_and_lone_surrogates_are_refused() {
        assert_eq!(parse(r#""\ud83d\ude00""#), Ok(text("😀")));
        assert_eq!(parse(r#""\uD834\uDD1E x""#), Ok(text("𝄞 x")));
        assert_eq!(parse(r#""\uDBFF\uDFFF""#), Ok(text("\u{10FFFF}")));
        for lone in [r#""\ud83d""#, r#""\ud83dx""#, r#""\ude00""#, r#""\ud83d\u0041""#, r#""\ud83d\ud83d""#, r#""\ud83d\n""#, r#""\ude00\ud83d""#] {
            assert_eq!(parse(lone), Err(JsonError::LoneSurrogate), "{lone}");
        }
    }

    #[test]
    fn raw_control_characters_are_refused() {
        for code in 0u8..0x20 {
            let mut input = String::from("\"a");
            input.push(char::from(code));
            input.push('"');
            assert_eq!(parse(&input), Err(JsonError::ControlCharacter), "{code}");
        }
    }

    #[test]
    fn depth_limit_is_64() {
        let nested = |open: &str, close: &str, depth: usize| open.repeat(depth) + &close.repeat(depth);
        assert!(parse(&nested("[", "]", MAX_DEPTH)).is_ok());
        // The (recursive) writer writes back the deepest value the parser makes.
        let deepest = nested("[{\"a\":", "}]", MAX_DEPTH / 2);
        assert_eq!(to_string(&parse(&deepest.replace("{\"a\":}", "{\"a\":1}")).unwrap()), deepest.replace("{\"a\":}", "{\"a\":1}"));
        assert_eq!(parse(&nested("[", "]", MAX_DEPTH + 1)), Err(JsonError::TooDeep));
        let objects = "{\"a\":".repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
        assert!(parse(&objects).is_ok());
        let objects = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&objects), Err(JsonError::TooDeep));
        let mixed = "[{\"a\":".repeat(MAX_DEPTH / 2) + "[]" + &"}]".repeat(MAX_DEPTH / 2);
        assert_eq!(parse(&mixed), Err(JsonError::TooDeep));
        // A hostile depth fails fast instead of exhausting the stack.
        assert_eq!(parse(&"[".repeat(1_000_000)), Err(JsonError::TooDeep));
    }

    #[test]
    fn numbers() {
        // Whole, within ±2^53: kept as `Value::Number`.
        let whole: [(&str, i64); 11] = [
            ("0", 0),
            ("1e3", 1000),
            ("1E+3", 1000),
            ("1.50e2", 150),
            ("150e-1", 15),
            ("3600", 3600),
            ("-42", -42),
            ("1700000000", 1_700_000_000),
            ("9007199254740992", 9_007_199_254_740_992),
            ("-9007199254740992", -9_007_199_254_740_992),
            ("0.000", 0),
        ];
        for (input, expected) in whole {
            assert_eq!(number(input), Ok(expected), "{input}");
        }
        assert_eq!(number("0e999999999999"), Ok(0));
        // Any other: kept as text, read as close as a reader needs.
        let texts: [(&str, f64); 16] = [
            ("1.5", 1.5),
            ("-0.5", -0.5),
            ("0.1", 0.1),
            ("123.456", 123.456),
            ("2.5E-3", 0.0025),
            ("-0", -0.0),
            ("-0.0e5", -0.0),
            ("9007199254740993", 9007199254740992.0),
            ("18446744073709551615", 18446744073709551615.0),
            ("0.30000000000000004", 0.1 + 0.2),
            ("1.7976931348623157e308", f64::MAX),
            ("-2.2250738585072014e-308", -f64::MIN_POSITIVE),
            ("5e-324", 5e-324),
            ("1e-400", 0.0),
            ("0.000000000000000000000000000001", 1e-30),
            ("100000000000000000000000000000000000000001", 1e41),
        ];
        for (input, expected) in texts {
            assert_eq!(parse(input), Ok(Value::NumberText(input.to_string())), "{input}");
            let close = approximate_number(input);
            assert!((close - expected).abs() <= expected.abs() * 1e-13 + 1e-320, "{input}: {close}");
            assert_eq!(written(&parse(input).unwrap()), input, "written back as it came");
        }
        assert!(approximate_number("-0").is_sign_negative());
        for out_of_range in ["1e400", "-1e400", "1.8e308", "1e309", "17976931348623158080e289", "123456789e999999999999999999"] {
            assert_eq!(parse(out_of_range), Err(JsonError::NumberOutOfRange), "{out_of_range}");
        }
    }

    #[test]
    fn malformed_texts_are_refused() {
        let cases: [(&str, JsonError); 32] = [
            ("", JsonError::UnexpectedEnd),
            ("   ", JsonError::UnexpectedEnd),
            ("[1,]", JsonError::UnexpectedCharacter),
            ("{\"a\":1,}", JsonError::UnexpectedCharacter),
            ("[1 2]", JsonError::UnexpectedCharacter),
            ("[,1]", JsonError::UnexpectedCharacter),
            ("{a:1}", JsonError::UnexpectedCharacter),
            ("{'a':1}", JsonError::UnexpectedCharacter),
            ("{\"a\" 1}", JsonError::UnexpectedCharacter),
            ("{\"a\":}", JsonError::UnexpectedCharacter),
            ("{1:1}", JsonError::UnexpectedCharacter),
            ("[1", JsonError::UnexpectedEnd),
            ("{\"a\":1", JsonError::UnexpectedEnd),
            ("{}x", JsonError::TrailingCharacters),
            ("1 2", JsonError::TrailingCharacters),
            ("\"a\"\"b\"", JsonError::TrailingCharacters),
            ("01", JsonError::InvalidNumber),
            ("-01", JsonError::InvalidNumber),
            ("00", JsonError::InvalidNumber),
            ("1.", JsonError::InvalidNumber),
            ("-", JsonError::UnexpectedEnd),
            ("-a", JsonError::InvalidNumber),
            ("1e", JsonError::InvalidNumber),
            ("1e+", JsonError::InvalidNumber),
            (".5", JsonError::UnexpectedCharacter),
            ("+1", JsonError::UnexpectedCharacter),
            ("0x10", JsonError::TrailingCharacters),
            ("NaN", JsonError::UnexpectedCharacter),
            ("Infinity", JsonError::UnexpectedCharacter),
            ("tru", JsonError::UnexpectedEnd),
            ("nul1", JsonError::UnexpectedCharacter),
            ("True", JsonError::UnexpectedCharacter),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn heapsort_sorts() {
        // Every order of a few names with repeats, and a long list in a scrambled order.
        let names = ["b", "a", "c", "a", "", "ab"];
        for rotation in 0..names.len() {
            for reversed in [false, true] {
                let mut list: Vec<&str> = names.iter().cycle().skip(rotation).take(names.len()).copied().collect();
                if reversed {
                    list.reverse();
                }
                let mut expected = list.clone();
                expected.sort();
                heapsort(&mut list);
                assert_eq!(list, expected);
            }
        }
        let texts: Vec<String> = (0..1000u32).map(|i| (i.wrapping_mul(7919) % 1009).to_string()).collect();
        let mut list: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut expected = list.clone();
        expected.sort();
        heapsort(&mut list);
        assert_eq!(list, expected);
        heapsort(&mut []);
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let pairs = parse_object(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(pairs, record(&[("a", Value::Number(1)), ("b", Value::Number(2)), ("a", Value::Number(3))]));
        assert_eq!(pairs.get("a"), Value::Number(1));
        assert_eq!(duplicate_key(&pairs), Some("a"));
        assert_eq!(duplicate_key(&parse_object(r#"{"a":1,"b":{"a":2}}"#).unwrap()), None);
    }

    #[test]
    fn parsed_objects_are_read_with_the_fields_helpers() {
        let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":3600,"scope":"a b"}"#;
        let pairs = parse_object(body).unwrap();
        assert_eq!(req_string(&pairs, "access_token", ErrorCode::TokenError), Ok(String::from("at")));
        assert_eq!(opt_number(&pairs, "expires_in", ErrorCode::TokenError), Ok(Some(3600.0)));
        assert_eq!(pairs.get("refresh_token"), Value::Absent);
        assert_eq!(parse_object("[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_object("{"), Err(JsonError::UnexpectedEnd));
        let error = JsonError::NotAnObject.into_connect_error(ErrorCode::TokenError);
        assert_eq!((error.code(), error.message()), (ErrorCode::TokenError, "JSON text is not an object"));
    }

    #[test]
    fn many_keys_and_long_strings_parse() {
        // Linear time: each byte is looked at a bounded number of times (no timing asserted).
        let mut body = String::from("{");
        for index in 0..50_000u64 {
            if index > 0 {
                body.push(',');
            }
            body.push_str("\"k");
            push_decimal(&mut body, index);
            body.push_str("\":");
            push_decimal(&mut body, index);
        }
        body.push('}');
        let pairs = parse_object(&body).unwrap();
        assert_eq!(pairs.len(), 50_000);
        assert_eq!(pairs[49_999], (String::from("k49999"), Value::Number(49_999)));
        assert_eq!(duplicate_key(&pairs), None);

        let long = "\"".to_string() + &"ab\\n".repeat(250_000) + "\"";
        let Ok(Value::Text(parsed)) = parse(&long) else { panic!("not a string") };
        assert_eq!(parsed.len(), 750_000);
        let digits = "1".repeat(100_000) + "e-99990";
        assert!((approximate_number(&digits) / 1.111111111111111e9 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn writer_escapes_strings() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c/\u{0}\u{1f}\n\t\u{7f}é😀\u{2028}\u{2029}");
        assert_eq!(out, r#""a\"b\\c/\u0000\u001f\u000a\u0009"#.to_string() + "\u{7f}é😀" + r#"\u2028\u2029""#);
        assert_eq!(parse(&out), Ok(text("a\"b\\c/\u{0}\u{1f}\n\t\u{7f}é😀\u{2028}\u{2029}")));
    }

    #[test]
    fn writer_numbers() {
        let cases: [(i64, &str); 6] = [
            (0, "0"),
            (3600, "3600"),
            (-42, "-42"),
            (1_700_000_000, "1700000000"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ];
        for (value, expected) in cases {
            assert_eq!(number_text(value), expected, "{value}");
        }
    }

    #[test]
    fn writer_values_and_stream() {
        let value = Value::Record(vec![
            (String::from("a"), Value::List(vec![Value::Number(1), Value::Absent, Value::Other, Value::Bool(true), Value::List(vec![])])),
            (String::from("gone"), Value::Absent),
            (String::from("b"), Value::Record(vec![])),
            (String::from("c\n"), text("d")),
        ]);
        assert_eq!(written(&value), r#"{"a":[1,null,null,true,[]],"b":{},"c\u000a":"d"}"#);
        assert_eq!(written(&Value::Absent), "null");
        assert_eq!(written(&Value::Record(record(&[("x", Value::Absent)]))), "{}");

        let mut out = String::new();
        let mut writer = JsonWriter::new(&mut out);
        writer.begin_object();
        writer.key("grant_type");
        writer.string("authorization_code");
        writer.key("n");
        writer.value(&Value::NumberText(String::from("2.5")));
        writer.key("list");
        writer.begin_array();
        writer.null();
        writer.bool(false);
        writer.value(&Value::List(vec![Value::Number(1)]));
        writer.end_array();
        writer.end_object();
        assert_eq!(out, r#"{"grant_type":"authorization_code","n":2.5,"list":[null,false,[1]]}"#);

        // Deep values are written without recursion.
        let mut deep = Value::List(vec![]);
        for _ in 0..10_000 {
            deep = Value::List(vec![deep]);
        }
        let text = written(&deep);
        assert_eq!(text.len(), 2 * 10_001);
        // Dropping a deep `Value` recurses (derive), so take it apart by hand.
        while let Value::List(mut items) = deep {
            deep = items.pop().unwrap_or(Value::Other);
        }
    }

    #[test]
    fn error_descriptions_are_distinct() {
        let all = [
            JsonError::UnexpectedEnd,
            JsonError::UnexpectedCharacter,
            JsonError::TrailingCharacters,
            JsonError::ControlCharacter,
            JsonError::InvalidEscape,
            JsonError::LoneSurrogate,
            JsonError::InvalidNumber,
            JsonError::NumberOutOfRange,
            JsonError::TooDeep,
            JsonError::NotAnObject,
        ];
        let mut descriptions: Vec<&str> = all.iter().map(|error| error.description()).collect();
        descriptions.sort_unstable();
        descriptions.dedup();
        assert_eq!(descriptions.len(), all.len());
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::collection::vec as list_of;
        use proptest::prelude::*;

        fn any_text() -> impl Strategy<Value = String> {
            prop_oneof![".*", "[\"\\\\/\u{0}-\u{1f}\u{7f}\u{2028}\u{2029}é😀a-z]{0,16}"]
        }

        /// Numbers as the parser makes them: whole ones within ±2^53 as integers, any other as
        /// its text.
        fn any_number() -> impl Strategy<Value = Value> {
            prop_oneof![
                (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::Number),
                "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?".prop_filter_map("in range", |text| parse(&text).ok()),
            ]
        }

        fn any_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![any_text().prop_map(Value::Text), any_number(), any::<bool>().prop_map(Value::Bool)];
            leaf.prop_recursive(6, 64, 8, |inner| {
                prop_oneof![
                    list_of(inner.clone(), 0..8).prop_map(Value::List),
                    list_of((any_text(), inner), 0..8).prop_map(Value::Record),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

            #[test]
            fn written_values_parse_back_equal(value in any_value()) {
                let text = written(&value);
                prop_assert_eq!(parse(&text), Ok(value));
            }

            #[test]
            fn whole_numbers_are_written_back_exactly(number in any::<i64>()) {
                let text = number_text(number);
                // `JSON.parse` (correctly rounded, as std is) reads the nearest `f64`.
                prop_assert_eq!(text.parse::<f64>().map(f64::to_bits), Ok((number as f64).to_bits()), "{}", text);
                if number.unsigned_abs() <= 1 << 53 {
                    prop_assert_eq!(super::number(&text), Ok(number), "{}", text);
                }
            }

            #[test]
            fn decimal_texts_pass_through_with_their_value(
                negative in any::<bool>(),
                whole in "(0|[1-9][0-9]{0,24})",
                fraction in proptest::option::of("[0-9]{1,24}"),
                exponent in proptest::option::of(-330i32..310),
            ) {
                let mut text = String::new();
                if negative { text.push('-'); }
                text.push_str(&whole);
                if let Some(fraction) = &fraction { text.push('.'); text.push_str(fraction); }
                if let Some(exponent) = exponent { text.push('e'); text.push_str(&exponent.to_string()); }
                let expected: f64 = text.parse().unwrap();
                match parse(&text) {
                    Ok(value) => {
                        // What the app reads from the text written back is what it would have read.
                        let back: f64 = written(&value).parse().unwrap();
                        prop_assert_eq!(back.to_bits(), expected.to_bits(), "{}", text);
                        match value {
                            Value::Number(number) => prop_assert_eq!((number as f64).to_bits(), expected.to_bits(), "{}", text),
                            Value::NumberText(kept) => {
                                prop_assert_eq!(&kept, &text);
                                let close = approximate_number(&kept);
                                prop_assert!((close - expected).abs() <= expected.abs() * 1e-13 + 1e-320, "{} {} {}", text, close, expected);
                            }
                            other => prop_assert!(false, "{:?}", other),
                        }
                    }
                    Err(error) => {
                        prop_assert_eq!(error, JsonError::NumberOutOfRange);
                        prop_assert!(expected.is_infinite(), "{}", text);
                    }
                }
            }

            #[test]
            fn written_text_has_no_raw_control_or_line_separators(value in any_value()) {
                let text = written(&value);
                let separators = ['\u{2028}', '\u{2029}'];
                prop_assert!(!text.chars().any(|c| c < ' ' || separators.contains(&c)), "raw character in {:?}", text);
            }

            #[test]
            fn arbitrary_text_never_panics(input in ".{0,64}") {
                let _ = parse(&input);
            }
        }
    }
}
