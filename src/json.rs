//! JSON text ([RFC 8259](https://www.rfc-editor.org/rfc/rfc8259)) for the sans-IO core: parsing
//! the text that crosses the wasm boundary or arrives as an HTTP body into
//! [`Value`](crate::fields::Value), and writing values back out.
//!
//! Small on purpose (no serde, no `core::fmt`, no `str::parse::<f64>` and its float tables), and
//! safe on hostile input: no panics, nesting limited to [`MAX_DEPTH`], time linear in the input.
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
//! - **Numbers** ([RFC 8259 §6](https://www.rfc-editor.org/rfc/rfc8259#section-6)) become `f64`:
//!   integers up to 2^53 exactly, others correctly rounded but for a relative error of about
//!   1e-16; a magnitude beyond `f64::MAX` is refused ([`JsonError::NumberOutOfRange`]); one below
//!   the smallest subnormal reads as zero, as `JSON.parse` does.
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
    /// A number whose magnitude is beyond `f64::MAX`.
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
    let mut parser = Parser { text, pos: 0 };
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
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
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

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn unexpected(&self) -> JsonError {
        if self.pos < self.text.len() {
            JsonError::UnexpectedCharacter
        } else {
            JsonError::UnexpectedEnd
        }
    }

    /// [RFC 8259 §2](https://www.rfc-editor.org/rfc/rfc8259#section-2): space, tab, LF, CR only.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, literal: &[u8], value: Value) -> Result<Value, JsonError> {
        for &expected in literal {
            if self.peek() != Some(expected) {
                return Err(self.unexpected());
            }
            self.pos += 1;
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
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
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
        let close = if object { b'}' } else { b']' };
        let (mut items, mut pairs) = (Vec::new(), Vec::new());
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
                    if self.peek() != Some(b':') {
                        return Err(self.unexpected());
                    }
                    self.pos += 1;
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
        Ok(if object { Value::Record(pairs) } else { Value::List(items) })
    }

    /// [RFC 8259 §7](https://www.rfc-editor.org/rfc/rfc8259#section-7). Runs without escapes are
    /// copied whole; they start and end next to ASCII bytes, so on character boundaries.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(JsonError::UnexpectedEnd),
                Some(byte @ (b'"' | b'\\')) => {
                    out.push_str(self.text.get(run..self.pos).ok_or(JsonError::UnexpectedCharacter)?);
                    self.pos += 1;
                    if byte == b'"' {
                        return Ok(out);
                    }
                    out.push(self.escape()?);
                    run = self.pos;
                }
                Some(0x00..=0x1f) => return Err(JsonError::ControlCharacter),
                Some(_) => self.pos += 1,
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
                        if self.peek() != Some(b'\\') || self.text.as_bytes().get(self.pos + 1) != Some(&b'u') {
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

    /// [RFC 8259 §6](https://www.rfc-editor.org/rfc/rfc8259#section-6):
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<f64, JsonError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.peek() {
            None => return Err(JsonError::UnexpectedEnd),
            Some(b'0') if matches!(self.text.as_bytes().get(self.pos + 1), Some(b'0'..=b'9')) => {
                return Err(JsonError::InvalidNumber)
            }
            Some(b'0'..=b'9') => {}
            Some(_) => return Err(JsonError::InvalidNumber),
        }
        // The value is `mantissa × 10^exponent`; the mantissa keeps the first 19 significant
        // digits (it cannot overflow a u64), later ones only move the exponent. Dropping them
        // costs at most 1e-18 of relative error. One loop reads the whole part, then (after a
        // `.`, `fraction`) the fraction.
        let (mut mantissa, mut digits, mut exponent) = (0u64, 0u32, 0i64);
        let mut fraction = false;
        loop {
            match self.peek() {
                Some(byte @ b'0'..=b'9') => {
                    self.pos += 1;
                    if digits < 19 {
                        mantissa = mantissa * 10 + u64::from(byte - b'0');
                        // Leading zeros (`0.000123`) are not significant.
                        if mantissa != 0 {
                            digits += 1;
                        }
                        if fraction {
                            exponent -= 1;
                        }
                    } else if !fraction {
                        exponent += 1;
                    }
                }
                Some(b'.') if !fraction => {
                    self.pos += 1;
                    fraction = true;
                    if !matches!(self.peek(), Some(b'0'..=b'9')) {
                        return Err(JsonError::InvalidNumber);
                    }
                }
                _ => break,
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            let negative_exponent = match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(JsonError::InvalidNumber);
            }
            // Saturates: any exponent this large is out of range (or zero) anyway.
            let mut explicit = 0i64;
            while let Some(byte @ b'0'..=b'9') = self.peek() {
                self.pos += 1;
                if explicit < 1_000_000_000 {
                    explicit = explicit * 10 + i64::from(byte - b'0');
                }
            }
            exponent += if negative_exponent { -explicit } else { explicit };
        }
        let magnitude = decimal_to_f64(mantissa, digits, exponent)?;
        Ok(if negative { -magnitude } else { magnitude })
    }
}

/// Powers of ten that are exact in an `f64`.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
];

/// `10^(2^i)` and `10^-(2^i)` for i in 0..9, as `(m, e)` meaning `m × 2^e` with the top bit of
/// `m` set, each correctly rounded to 64 bits (computed with exact rationals).
const POW10_UP: [(u64, i32); 9] = [
    (0xA000000000000000, -60),
    (0xC800000000000000, -57),
    (0x9C40000000000000, -50),
    (0xBEBC200000000000, -37),
    (0x8E1BC9BF04000000, -10),
    (0x9DC5ADA82B70B59E, 43),
    (0xC2781F49FFCFA6D5, 149),
    (0x93BA47C980E98CE0, 362),
    (0xAA7EEBFB9DF9DE8E, 787),
];
const POW10_DOWN: [(u64, i32); 9] = [
    (0xCCCCCCCCCCCCCCCD, -67),
    (0xA3D70A3D70A3D70A, -70),
    (0xD1B71758E219652C, -77),
    (0xABCC77118461CEFD, -90),
    (0xE69594BEC44DE15B, -117),
    (0xCFB11EAD453994BA, -170),
    (0xA87FEA27A539E9A5, -276),
    (0xDDD0467C64BCE4A1, -489),
    (0xC0314325637A193A, -914),
];

/// The product of two 64-bit extended floats, rounded to 64 bits (relative error ≤ 2^-64).
fn mul_ext(a: (u64, i32), b: (u64, i32)) -> (u64, i32) {
    let product = u128::from(a.0) * u128::from(b.0);
    let shift = if product >> 127 == 1 { 64 } else { 63 };
    let exponent = a.1 + b.1 + shift;
    let high = (product >> shift) as u64;
    if (product >> (shift - 1)) & 1 == 0 {
        return (high, exponent);
    }
    match high.checked_add(1) {
        Some(rounded) => (rounded, exponent),
        None => (1 << 63, exponent + 1),
    }
}

/// `10^n` as an extended float, for `|n| < 512` (the callers keep it within ±400). At most
/// nine products, so the relative error stays below 2^-60.
fn pow10_ext(n: i32) -> (u64, i32) {
    let table = if n < 0 { &POW10_DOWN } else { &POW10_UP };
    let mut bits = n.unsigned_abs();
    let mut power = (1u64 << 63, -63);
    for &entry in table {
        if bits & 1 == 1 {
            power = mul_ext(power, entry);
        }
        bits >>= 1;
    }
    power
}

/// `x × 2^k` (exact unless the result is subnormal or overflows).
fn ldexp(mut x: f64, mut k: i32) -> f64 {
    while k > 1023 {
        x *= f64::from_bits(0x7FE0_0000_0000_0000); // 2^1023
        k -= 1023;
    }
    while k < -1022 {
        x *= f64::from_bits(0x0010_0000_0000_0000); // 2^-1022
        k += 1022;
    }
    x * f64::from_bits(((k + 1023) as u64) << 52)
}

/// `mantissa × 10^exponent`, where `mantissa` has `digits` significant digits.
fn decimal_to_f64(mut mantissa: u64, digits: u32, exponent: i64) -> Result<f64, JsonError> {
    if mantissa == 0 {
        return Ok(0.0);
    }
    // The value is in [10^(magnitude-1), 10^magnitude).
    let magnitude = exponent.saturating_add(i64::from(digits));
    if magnitude > 310 {
        return Err(JsonError::NumberOutOfRange);
    }
    if magnitude < -330 {
        return Ok(0.0); // below half the smallest subnormal, 4.9e-324
    }
    // Within ±350 by the checks above.
    let mut exponent = exponent as i32;
    // A whole number that fits a u64 is converted exactly, then rounded once.
    while exponent > 0 {
        match mantissa.checked_mul(10) {
            Some(larger) => {
                mantissa = larger;
                exponent -= 1;
            }
            None => break,
        }
    }
    if exponent == 0 {
        return Ok(mantissa as f64);
    }
    // Clinger's fast path: both operands exact, so the one rounding is correct.
    if mantissa <= 1 << 53 {
        if let Some(&power) = EXACT_POW10.get(exponent.unsigned_abs() as usize) {
            let exact = mantissa as f64;
            return Ok(if exponent < 0 { exact / power } else { exact * power });
        }
    }
    let shift = mantissa.leading_zeros();
    let (high, binary_exponent) = mul_ext((mantissa << shift, -(shift as i32)), pow10_ext(exponent));
    let result = ldexp(high as f64, binary_exponent);
    if result.is_finite() {
        Ok(result)
    } else {
        Err(JsonError::NumberOutOfRange)
    }
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

    /// See [`push_number`].
    pub fn number(&mut self, number: f64) {
        self.separate();
        push_number(self.out, number);
        self.comma = true;
    }

    /// A whole number (ids, milliseconds, status codes): plain decimal digits.
    pub fn integer(&mut self, number: u64) {
        self.separate();
        crate::encoding::push_decimal(self.out, number);
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
            Value::Record(pairs) => {
                self.begin_object();
                for (name, item) in pairs {
                    if !matches!(item, Value::Absent) {
                        self.key(name);
                        self.value(item);
                    }
                }
                self.end_object();
            }
            Value::Text(text) => self.string(text),
            Value::Number(number) => self.number(*number),
            Value::Bool(value) => self.bool(*value),
            Value::Absent | Value::Other => self.null(),
        }
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
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\0'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX_LOWER[(c as usize >> shift) & 0xf] as char);
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Append a number ([RFC 8259 §6](https://www.rfc-editor.org/rfc/rfc8259#section-6)): whole
/// numbers below 2^64 as integers (`3600`, `-0` keeps its sign), others in the shortest of 15,
/// 16 or 17 significant digits that [`parse`] reads back as the same `f64`, positional for
/// exponents -7 < e < 21 and `1.5e-7` style beyond (as JavaScript does). NaN and the
/// infinities, which JSON cannot say, are written `null`.
pub fn push_number(out: &mut String, number: f64) {
    if !number.is_finite() {
        out.push_str("null");
        return;
    }
    let magnitude = if number.is_sign_negative() {
        out.push('-');
        -number
    } else {
        number
    };
    if magnitude < 18446744073709551616.0 {
        let whole = magnitude as u64;
        if whole as f64 == magnitude {
            push_decimal(out, whole);
            return;
        }
    }
    push_general(out, magnitude)
}

/// The digits of a finite, positive, non-integral (or huge) `magnitude`: the first of 15, 16
/// or 17 significant digits that reads back as it; then the 17 digits one lower or one higher
/// (they were rounded through an extended product and may be one off); else the 17 digits.
fn push_general(out: &mut String, magnitude: f64) {
    let mut candidate = String::new();
    let mut last = (0u64, 0i32);
    for step in 0..6 {
        let digits = match step {
            0..=2 => {
                last = significant_digits(magnitude, 15 + step);
                last.0
            }
            3 => last.0.wrapping_sub(1),
            4 => last.0.wrapping_add(1),
            _ => last.0,
        };
        candidate.clear();
        push_scientific(&mut candidate, digits, last.1);
        if step == 5 || reads_back(&candidate, magnitude) {
            break;
        }
    }
    out.push_str(&candidate);
}

fn reads_back(text: &str, magnitude: f64) -> bool {
    let mut parser = Parser { text, pos: 0 };
    parser.number() == Ok(magnitude) && parser.pos == text.len()
}

/// `(d, k)`: `magnitude ≈ d × 10^(k + 1 - precision)` with `d` of `precision` digits, so `k` is
/// the decimal exponent of its first digit.
fn significant_digits(magnitude: f64, precision: u32) -> (u64, i32) {
    let bits = magnitude.to_bits();
    let biased = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    let shift = mantissa.leading_zeros();
    let normalized = (mantissa << shift, exponent - shift as i32);
    // floor(log10(2^(e + 63))): the exponent of the first digit, or one less.
    let mut first = (((i64::from(normalized.1) + 63) * 78913) >> 18) as i32;
    let limit = 10u64.pow(precision);
    let mut digits = 0;
    for _ in 0..2 {
        let (high, binary_exponent) = mul_ext(normalized, pow10_ext(precision as i32 - 1 - first));
        // `high × 2^binary_exponent` is below 10^18 < 2^60, so the shift is between 1 and 63.
        let right = binary_exponent.unsigned_abs();
        let half = right.checked_sub(1).and_then(|r| high.checked_shr(r)).unwrap_or(0) & 1;
        digits = high.checked_shr(right).unwrap_or(0) + half;
        if digits < limit {
            break;
        }
        first += 1;
    }
    (digits, first)
}

/// `digits × 10^(first + 1 - len)` with trailing zeros dropped, in JavaScript's notation:
/// positional for -7 < first < 21, otherwise one digit, the rest after a point, and `e±first`.
fn push_scientific(out: &mut String, mut digits: u64, first: i32) {
    while digits != 0 && digits % 10 == 0 {
        digits /= 10;
    }
    let mut text = String::new();
    push_decimal(&mut text, digits);
    let positional = (-6..21).contains(&first);
    // How many digits go before the point (zero or less: `0.` and that many zeros first).
    let point = if positional { first + 1 } else { 1 };
    if point <= 0 {
        out.push_str("0.");
        for _ in point..0 {
            out.push('0');
        }
        out.push_str(&text);
    } else {
        let (whole, fraction) = text.split_at((point as usize).min(text.len()));
        out.push_str(whole);
        for _ in whole.len()..point as usize {
            out.push('0');
        }
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
    }
    if !positional {
        out.push('e');
        if first < 0 {
            out.push('-');
        }
        push_decimal(out, u64::from(first.unsigned_abs()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{opt_number, record, req_string, text, Fields};
    use alloc::string::ToString;
    use alloc::vec;

    fn number(text: &str) -> Result<f64, JsonError> {
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

    fn number_text(number: f64) -> String {
        let mut out = String::new();
        push_number(&mut out, number);
        out
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
            ("Height", Value::Number(125.0)),
            ("Width", Value::Number(100.0)),
        ]));
        let expected = Value::Record(record(&[(
            "Image",
            Value::Record(record(&[
                ("Width", Value::Number(800.0)),
                ("Height", Value::Number(600.0)),
                ("Title", text("View from 15th Floor")),
                ("Thumbnail", thumbnail),
                ("Animated", Value::Bool(false)),
                (
                    "IDs",
                    Value::List(vec![Value::Number(116.0), Value::Number(943.0), Value::Number(234.0), Value::Number(38793.0)]),
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
        assert_eq!(second.get("Latitude"), Value::Number(37.371991));
        assert_eq!(second.get("Longitude"), Value::Number(-122.02602));
        assert_eq!(second.get("City"), text("SUNNYVALE"));

        // §13: texts that are only a value.
        assert_eq!(parse("\"Hello world!\""), Ok(text("Hello world!")));
        assert_eq!(parse("42"), Ok(Value::Number(42.0)));
        assert_eq!(parse("true"), Ok(Value::Bool(true)));
        assert_eq!(parse("null"), Ok(Value::Other));
    }

    #[test]
    fn whitespace_is_space_tab_lf_cr_only() {
        assert_eq!(parse(" \t\r\n[ 1 , { \"a\" : null } ]\n "), Ok(Value::List(vec![Value::Number(1.0), Value::Record(record(&[("a", Value::Other)]))])));
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
        let cases: [(&str, f64); 22] = [
            ("0", 0.0),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("3600", 3600.0),
            ("1700000000", 1_700_000_000.0),
            ("200", 200.0),
            ("0.1", 0.1),
            ("123.456", 123.456),
            ("1e-7", 1e-7),
            ("2.5E-3", 0.0025),
            ("9007199254740992", 9007199254740992.0),
            ("9007199254740993", 9007199254740992.0),
            ("9007199254740995", 9007199254740996.0),
            ("18446744073709551615", 18446744073709551615.0),
            ("1.7976931348623157e308", f64::MAX),
            ("2.2250738585072014e-308", f64::MIN_POSITIVE),
            ("5e-324", 5e-324),
            ("1e-400", 0.0),
            ("0.000000000000000000000000000001", 1e-30),
            ("100000000000000000000000000000000000000001", 1e41),
        ];
        for (input, expected) in cases {
            assert_eq!(number(input), Ok(expected), "{input}");
        }
        let negative_zero = number("-0").unwrap();
        assert!(negative_zero == 0.0 && negative_zero.is_sign_negative());
        assert!(number("-0.0e5").unwrap().is_sign_negative());
        for out_of_range in ["1e400", "-1e400", "1.8e308", "1e309", "123456789e999999999999999999"] {
            assert_eq!(number(out_of_range), Err(JsonError::NumberOutOfRange), "{out_of_range}");
        }
        assert_eq!(number("0e999999999999"), Ok(0.0));
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
        assert_eq!(pairs, record(&[("a", Value::Number(1.0)), ("b", Value::Number(2.0)), ("a", Value::Number(3.0))]));
        assert_eq!(pairs.get("a"), Value::Number(1.0));
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
        assert_eq!(pairs[49_999], (String::from("k49999"), Value::Number(49_999.0)));
        assert_eq!(duplicate_key(&pairs), None);

        let long = "\"".to_string() + &"ab\\n".repeat(250_000) + "\"";
        let Ok(Value::Text(parsed)) = parse(&long) else { panic!("not a string") };
        assert_eq!(parsed.len(), 750_000);
        let digits = "1".repeat(100_000) + "e-99990";
        assert!((number(&digits).unwrap() / 1.111111111111111e9 - 1.0).abs() < 1e-15);
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
        let cases: [(f64, &str); 24] = [
            (0.0, "0"),
            (-0.0, "-0"),
            (3600.0, "3600"),
            (-42.0, "-42"),
            (1_700_000_000.0, "1700000000"),
            (9007199254740992.0, "9007199254740992"),
            (1.5, "1.5"),
            (-0.5, "-0.5"),
            (0.1, "0.1"),
            (0.3, "0.3"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123.456, "123.456"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-10, "1.25e-10"),
            (1e20, "100000000000000000000"),
            (1e21, "1e21"),
            (-1.5e300, "-1.5e300"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.94065645841247e-324"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
        ];
        for (value, expected) in cases {
            assert_eq!(number_text(value), expected, "{value:e}");
        }
        assert!(number("-0").unwrap().is_sign_negative());
    }

    #[test]
    fn writer_values_and_stream() {
        let value = Value::Record(vec![
            (String::from("a"), Value::List(vec![Value::Number(1.0), Value::Absent, Value::Other, Value::Bool(true), Value::List(vec![])])),
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
        writer.number(2.5);
        writer.key("list");
        writer.begin_array();
        writer.null();
        writer.bool(false);
        writer.value(&Value::List(vec![Value::Number(1.0)]));
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

        fn any_number() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<f64>().prop_filter("finite", |n| n.is_finite()),
                (-(1i64 << 53)..(1i64 << 53)).prop_map(|n| n as f64),
                (0u32..2_000_000_000).prop_map(f64::from),
                (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(n, places)| n as f64 / 10f64.powi(places as i32)),
            ]
        }

        fn any_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![any_text().prop_map(Value::Text), any_number().prop_map(Value::Number), any::<bool>().prop_map(Value::Bool)];
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
            fn every_finite_f64_round_trips_exactly(number in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
                let text = number_text(number);
                let parsed = super::number(&text).unwrap();
                prop_assert_eq!(parsed.to_bits(), number.to_bits(), "{}", text);
            }

            #[test]
            fn decimal_texts_parse_as_accurately_as_std(
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
                match super::number(&text) {
                    Ok(parsed) if expected.abs() >= f64::MIN_POSITIVE => {
                        prop_assert!(((parsed - expected) / expected).abs() <= 1e-15, "{} {} {}", text, parsed, expected);
                    }
                    Ok(parsed) => prop_assert!((parsed - expected).abs() <= 2.0 * 5e-324, "{} {} {}", text, parsed, expected),
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

/// `value` as JSON text.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}
