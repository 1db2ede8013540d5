//! mutate's `convert`: Logstash's type conversions (the strict ones of Logstash 8.14 and
//! later), value by value.

use crate::event::{Text, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    Integer,
    /// `1.234,5` style: dots group digits, the comma is the decimal mark.
    IntegerEu,
    Float,
    FloatEu,
    String,
    Boolean,
}

pub const NAMES: [&str; 6] = [
    "integer",
    "integer_eu",
    "float",
    "float_eu",
    "string",
    "boolean",
];

impl Conversion {
    pub fn from_name(name: &str) -> Option<Conversion> {
        Some(match name {
            "integer" => Conversion::Integer,
            "integer_eu" => Conversion::IntegerEu,
            "float" => Conversion::Float,
            "float_eu" => Conversion::FloatEu,
            "string" => Conversion::String,
            "boolean" => Conversion::Boolean,
            _ => return None,
        })
    }

    /// Converts one value; an error (text Logstash's `Integer()`/`Float()` refuse) fails the
    /// whole mutate, as Logstash's exception does.
    pub fn apply(self, value: &Value) -> Result<Value, String> {
        let eu = |value: &Value| match value {
            Value::String(t) => Value::from(swap_separators(t)),
            other => other.clone(),
        };
        match self {
            Conversion::Integer => integer(value).map(Value::Integer),
            Conversion::IntegerEu => integer(&eu(value)).map(Value::Integer),
            Conversion::Float => float(value).map(Value::Float),
            Conversion::FloatEu => float(&eu(value)).map(Value::Float),
            Conversion::String => Ok(match value {
                Value::String(_) => value.clone(),
                other => Value::from(other.to_display()),
            }),
            Conversion::Boolean => Ok(boolean(value)),
        }
    }
}

fn swap_separators(text: &Text) -> String {
    text.chars()
        .map(|c| match c {
            ',' => '.',
            '.' => ',',
            c => c,
        })
        .collect()
}

/// Ruby's `String#strip` then `delete(',')`: the thousands separators go.
fn clean(text: &str) -> String {
    super::ruby_strip(text)
        .chars()
        .filter(|&c| c != ',')
        .collect()
}

/// `0x1A`, `-0x1a`: Ruby reads hexadecimal integers in `Integer()`.
fn hex(text: &str) -> Option<Result<i64, String>> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))?;
    Some(
        i64::from_str_radix(digits, 16)
            .map(|v| if negative { -v } else { v })
            .map_err(|_| format!("`{text}` is not a hexadecimal integer")),
    )
}

fn integer(value: &Value) -> Result<i64, String> {
    match value {
        Value::Integer(i) => Ok(*i),
        Value::Boolean(b) => Ok(i64::from(*b)),
        Value::Float(f) => truncate(*f),
        Value::Timestamp(ts) => Ok(ts.timestamp()),
        Value::String(t) => {
            let text = clean(t);
            if let Some(hex) = hex(&text) {
                return hex;
            }
            if text.contains('e') {
                // Scientific notation is read whole (Ruby's `BigDecimal`), then truncated.
                return strict_float(&text).and_then(truncate);
            }
            leading_integer(&text)
        }
        other => Err(format!("cannot convert {} to an integer", other.kind())),
    }
}

fn truncate(f: f64) -> Result<i64, String> {
    // The range check keeps out NaN, infinities and integers past 64 bits.
    if f.is_finite() && f.abs() < 9.2e18 {
        Ok(f.trunc() as i64)
    } else {
        Err(format!("{f} does not fit an integer"))
    }
}

/// Ruby's lenient `String#to_i`: the integer at the start of the text, 0 when there is none
/// (`"12abc"` is 12, `"3.7"` is 3, `"abc"` is 0).
fn leading_integer(text: &str) -> Result<i64, String> {
    let body = text.trim_start();
    let (negative, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let mut value: i64 = 0;
    let mut previous_digit = false;
    for (i, b) in digits.bytes().enumerate() {
        match b {
            b'0'..=b'9' => {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(i64::from(b - b'0')))
                    .ok_or_else(|| format!("`{text}` does not fit an integer"))?;
                previous_digit = true;
            }
            // Ruby allows single underscores between digits.
            b'_' if previous_digit
                && digits.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                previous_digit = false;
            }
            _ => break,
        }
    }
    Ok(if negative { -value } else { value })
}

/// Ruby's strict `Float()`: a whole decimal number, optionally with an exponent, and
/// nothing else (no `inf`, no `nan`, no trailing text).
fn strict_float(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a number");
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !digits(whole) || !fraction.is_none_or(digits) || !exponent_ok {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

fn float(value: &Value) -> Result<f64, String> {
    match value {
        Value::Float(f) => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        Value::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Timestamp(ts) => {
            Ok(ts.timestamp() as f64 + f64::from(ts.timestamp_subsec_nanos()) / 1e9)
        }
        Value::String(t) => {
            let text = clean(t);
            match hex(&text) {
                Some(hex) => hex.map(|i| i as f64),
                None => strict_float(&text),
            }
        }
        other => Err(format!("cannot convert {} to a float", other.kind())),
    }
}

/// `true`, `t`, `yes`, `y`, `1`, `1.0` (any case) are true; `false`, `f`, `no`, `n`, `0`,
/// `0.0` and the empty string false; anything else is left as it is.
fn boolean(value: &Value) -> Value {
    let text = value.to_display();
    const TRUE: [&str; 6] = ["true", "t", "yes", "y", "1", "1.0"];
    const FALSE: [&str; 6] = ["false", "f", "no", "n", "0", "0.0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(&text)) {
        Value::Boolean(true)
    } else if text.is_empty() || FALSE.iter().any(|f| f.eq_ignore_ascii_case(&text)) {
        Value::Boolean(false)
    } else {
        value.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(conversion: Conversion, value: Value) -> Result<Value, String> {
        conversion.apply(&value)
    }

    #[test]
    fn integers() {
        let ok = |value: Value, expected: i64| {
            assert_eq!(
                convert(Conversion::Integer, value.clone()),
                Ok(Value::Integer(expected)),
                "{value:?}"
            )
        };
        ok(Value::from("42"), 42);
        ok(Value::from(" -42 "), -42);
        ok(Value::from("1,234,567"), 1234567);
        ok(Value::from("3.99"), 3);
        ok(Value::from("12abc"), 12);
        ok(Value::from("abc"), 0);
        ok(Value::from("1_000"), 1000);
        ok(Value::from("0x1A"), 26);
        ok(Value::from("-0x1a"), -26);
        ok(Value::from("1.5e3"), 1500);
        ok(Value::Float(-2.7), -2);
        ok(Value::Boolean(true), 1);
        ok(Value::Boolean(false), 0);
        ok(Value::Integer(7), 7);
        assert!(convert(Conversion::Integer, Value::from("1e")).is_err());
        assert!(convert(Conversion::Integer, Value::from("0xZZ")).is_err());
        assert!(convert(Conversion::Integer, Value::Float(f64::NAN)).is_err());
        assert!(convert(Conversion::Integer, Value::from("99999999999999999999")).is_err());
        assert_eq!(
            convert(Conversion::IntegerEu, Value::from("1.234.567,89")),
            Ok(Value::Integer(1234567))
        );
    }

    #[test]
    fn floats() {
        let ok = |value: Value, expected: f64| {
            assert_eq!(
                convert(Conversion::Float, value.clone()),
                Ok(Value::Float(expected)),
                "{value:?}"
            )
        };
        ok(Value::from("3.5"), 3.5);
        ok(Value::from("1,234.5"), 1234.5);
        ok(Value::from("-1e3"), -1000.0);
        ok(Value::from("0x10"), 16.0);
        ok(Value::Integer(2), 2.0);
        ok(Value::Boolean(true), 1.0);
        for bad in ["abc", "1.5x", "", "nan", "inf", "1.", ".5"] {
            assert!(
                convert(Conversion::Float, Value::from(bad)).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            convert(Conversion::FloatEu, Value::from("1.234,5")),
            Ok(Value::Float(1234.5))
        );
    }

    #[test]
    fn strings_and_booleans() {
        assert_eq!(
            convert(Conversion::String, Value::Integer(5)),
            Ok(Value::from("5"))
        );
        assert_eq!(
            convert(Conversion::String, Value::Float(1.0)),
            Ok(Value::from("1.0"))
        );
        assert_eq!(
            convert(Conversion::String, Value::Boolean(false)),
            Ok(Value::from("false"))
        );
        for (input, expected) in [
            (Value::from("YES"), Value::Boolean(true)),
            (Value::from("t"), Value::Boolean(true)),
            (Value::Integer(1), Value::Boolean(true)),
            (Value::Float(1.0), Value::Boolean(true)),
            (Value::from("No"), Value::Boolean(false)),
            (Value::from(""), Value::Boolean(false)),
            (Value::Integer(0), Value::Boolean(false)),
            (Value::from("maybe"), Value::from("maybe")),
        ] {
            assert_eq!(
                convert(Conversion::Boolean, input.clone()),
                Ok(expected),
                "{input:?}"
            );
        }
    }
}
