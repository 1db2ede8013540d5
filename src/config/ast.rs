//! The syntax tree of the Logstash pipeline language, as written (before `${VAR}`
//! substitution and before compilation into a plan).

use super::source::Span;

/// A whole pipeline configuration: the sections of every file, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub sections: Vec<Section>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Input,
    Filter,
    Output,
}

impl SectionKind {
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Input => "input",
            SectionKind::Filter => "filter",
            SectionKind::Output => "output",
        }
    }
}

/// `input { … }`, `filter { … }` or `output { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    pub body: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Plugin(Plugin),
    /// `if … {} else if … {} else {}`; only in filter and output sections.
    If(IfChain),
}

/// `name { setting => value … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Plugin {
    pub name: String,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `name => value`; the span is the setting name's.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: String,
    pub value: Spanned<ConfigValue>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

/// A setting's value as written.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// A quoted string, with escapes processed only under `config.support_escapes`.
    String(String),
    Number(Number),
    Boolean(bool),
    /// An unquoted word such as `json` in `codec => json`.
    Bareword(String),
    Array(Vec<Spanned<ConfigValue>>),
    /// `{ "key" => value … }`; keys are strings, barewords or numbers.
    Hash(Vec<(Spanned<ConfigValue>, Spanned<ConfigValue>)>),
    /// A plugin as a value, e.g. `codec => multiline { pattern => "^\s" }`.
    Plugin(Plugin),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

/// An `if` with its `else if`s and optional `else`.
#[derive(Clone, Debug, PartialEq)]
pub struct IfChain {
    /// The `if` branch first, then each `else if`.
    pub branches: Vec<Branch>,
    pub otherwise: Option<Vec<Statement>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub condition: Condition,
    /// The condition as written, for `sluice check` and per-branch metrics labels.
    pub condition_text: String,
    pub body: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
    Xor,
    Nand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A boolean expression, with operator precedence already resolved by the parser.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Bool(BoolOp, Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Spanned<Rvalue>, CompareOp, Spanned<Rvalue>),
    /// `value =~ /re/` (or `!~` when `negate`); the pattern is a regex literal or a string.
    Match {
        value: Spanned<Rvalue>,
        pattern: Spanned<Rvalue>,
        negate: bool,
    },
    /// `needle in haystack` (or `not in` when `negate`).
    In {
        needle: Spanned<Rvalue>,
        haystack: Spanned<Rvalue>,
        negate: bool,
    },
    /// A bare value used as a condition, e.g. `if [field]`.
    Truthy(Spanned<Rvalue>),
}

/// An operand inside a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Rvalue {
    String(String),
    Number(Number),
    /// A field reference as written: `[a][b]`, `[@metadata][x]`.
    Field(String),
    Array(Vec<Spanned<Rvalue>>),
    /// The body of a `/regex/` literal, with `\/` unescaped to `/`.
    Regex(String),
}
