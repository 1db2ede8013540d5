//! Compiled conditions: what `if` evaluates, with Logstash's semantics.
//!
//! The rules, as Logstash's Java execution applies them (`EventCondition`):
//! - `==` is typed: a string equals only a string, a number only a number (`1 == 1.0`); a
//!   missing field equals nothing, so `[missing] != "x"` is true.
//! - `< > <= >=` compare numbers with numbers, strings with strings (bytewise) and timestamps
//!   with timestamps; any other pairing, or a missing field, is false.
//! - `=~` is true only for a string that the regex matches anywhere; `!~` is its negation, so
//!   `[missing] !~ /x/` is true.
//! - `in`: a needle is in a list when an element equals it (against a literal list, compared
//!   as text, so `[status] in [200, 404]` matches 200 and "200"); in a string when it is a
//!   substring; never in an object. `not in` is the negation.
//! - A bare value is true unless it is missing, `null`, `false`, `""` or `"false"`.

use std::borrow::Cow;

use regex::Regex;

use crate::config::ast::{BoolOp, CompareOp};
use crate::event::{Event, FieldRef, Value};

#[derive(Debug)]
pub enum Operand {
    Field(FieldRef),
    Literal(Value),
}

impl Operand {
    fn resolve<'a>(&'a self, event: &'a Event) -> Option<Cow<'a, Value>> {
        match self {
            Operand::Field(f) => event.read(f),
            Operand::Literal(v) => Some(Cow::Borrowed(v)),
        }
    }
}

#[derive(Debug)]
pub enum Condition {
    Constant(bool),
    Bool(BoolOp, Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Operand, CompareOp, Operand),
    Match(Operand, Regex),
    In {
        needle: Operand,
        haystack: Operand,
    },
    /// `needle in [literal, …]`: compared as text, the list rendered once at compile time.
    InList {
        needle: Operand,
        items: Vec<String>,
    },
    Truthy(Operand),
}

impl Condition {
    pub fn eval(&self, event: &Event) -> bool {
        match self {
            Condition::Constant(b) => *b,
            Condition::Bool(op, a, b) => match op {
                BoolOp::And => a.eval(event) && b.eval(event),
                BoolOp::Or => a.eval(event) || b.eval(event),
                BoolOp::Xor => a.eval(event) != b.eval(event),
                BoolOp::Nand => !(a.eval(event) && b.eval(event)),
            },
            Condition::Not(c) => !c.eval(event),
            Condition::Compare(left, op, right) => compare(
                left.resolve(event).as_deref(),
                *op,
                right.resolve(event).as_deref(),
            ),
            Condition::Match(value, regex) => match value.resolve(event).as_deref() {
                Some(Value::String(s)) => regex.is_match(s),
                _ => false,
            },
            Condition::In { needle, haystack } => contains(
                haystack.resolve(event).as_deref(),
                needle.resolve(event).as_deref(),
            ),
            Condition::InList { needle, items } => needle.resolve(event).is_some_and(|needle| {
                let needle: Cow<'_, str> = match &*needle {
                    Value::String(s) => Cow::Borrowed(s.as_str()),
                    other => Cow::Owned(other.to_display()),
                };
                items.iter().any(|item| *item == needle)
            }),
            Condition::Truthy(value) => truthy(value.resolve(event).as_deref()),
        }
    }
}

pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Boolean(false)) => false,
        Some(Value::String(s)) => !(s.is_empty() || s.as_str() == "false"),
        Some(_) => true,
    }
}

fn compare(left: Option<&Value>, op: CompareOp, right: Option<&Value>) -> bool {
    match op {
        CompareOp::Eq => matches!((left, right), (Some(a), Some(b)) if equal(a, b)),
        CompareOp::Ne => !matches!((left, right), (Some(a), Some(b)) if equal(a, b)),
        _ => {
            let Some(ordering) = left.zip(right).and_then(|(a, b)| order(a, b)) else {
                return false;
            };
            match op {
                CompareOp::Lt => ordering.is_lt(),
                CompareOp::Gt => ordering.is_gt(),
                CompareOp::Le => ordering.is_le(),
                CompareOp::Ge => ordering.is_ge(),
                CompareOp::Eq | CompareOp::Ne => unreachable!(),
            }
        }
    }
}

/// Typed equality, with integers and floats comparing by value as Ruby's `==` does.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => {
            *x as f64 == *y
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::Integer(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Integer(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn contains(haystack: Option<&Value>, needle: Option<&Value>) -> bool {
    let (Some(haystack), Some(needle)) = (haystack, needle) else {
        return false;
    };
    match haystack {
        Value::Array(items) => items.iter().any(|item| equal(item, needle)),
        Value::String(s) => match needle {
            Value::String(n) => memchr::memmem::find(s.as_bytes(), n.as_bytes()).is_some(),
            _ => false,
        },
        _ => false,
    }
}
