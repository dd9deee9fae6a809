//! Engine errors: a stable code, a message, and where (node, YAML line and column).

use std::fmt;

/// Stable error codes; JavaScript sees them as `error.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    YamlParse,
    Validation,
    UnknownNode,
    UnknownAction,
    Template,
    MaxSteps,
    LlmHandlerMissing,
    ActionFailed,
    Aborted,
    MergeConflict,
    StateSchema,
    NoRoute,
    InvalidArgument,
    TooDeep,
    TooLarge,
    TemplateBudget,
    LlmInvalidReply,
    LlmOutputInvalid,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::YamlParse => "YAML_PARSE",
            Code::Validation => "VALIDATION",
            Code::UnknownNode => "UNKNOWN_NODE",
            Code::UnknownAction => "UNKNOWN_ACTION",
            Code::Template => "TEMPLATE",
            Code::MaxSteps => "MAX_STEPS",
            Code::LlmHandlerMissing => "LLM_HANDLER_MISSING",
            Code::ActionFailed => "ACTION_FAILED",
            Code::Aborted => "ABORTED",
            Code::MergeConflict => "MERGE_CONFLICT",
            Code::StateSchema => "STATE_SCHEMA",
            Code::NoRoute => "NO_ROUTE",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::TooDeep => "TOO_DEEP",
            Code::TooLarge => "TOO_LARGE",
            Code::TemplateBudget => "TEMPLATE_BUDGET",
            Code::LlmInvalidReply => "LLM_INVALID_REPLY",
            Code::LlmOutputInvalid => "LLM_OUTPUT_INVALID",
        }
    }

    /// Every code, for the JavaScript side's check that both lists agree.
    pub const ALL: &'static [Code] = &[
        Code::YamlParse,
        Code::Validation,
        Code::UnknownNode,
        Code::UnknownAction,
        Code::Template,
        Code::MaxSteps,
        Code::LlmHandlerMissing,
        Code::ActionFailed,
        Code::Aborted,
        Code::MergeConflict,
        Code::StateSchema,
        Code::NoRoute,
        Code::InvalidArgument,
        Code::TooDeep,
        Code::TooLarge,
        Code::TemplateBudget,
        Code::LlmInvalidReply,
        Code::LlmOutputInvalid,
    ];

    /// The code named `s` (as JavaScript writes it), if any.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// A position in the workflow's YAML source (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// An engine error.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineError {
    pub code: Code,
    pub message: String,
    pub node: Option<String>,
    pub pos: Option<Pos>,
}

impl EngineError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        EngineError { code, message: message.into(), node: None, pos: None }
    }

    pub fn at(mut self, pos: Option<Pos>) -> Self {
        if self.pos.is_none() {
            self.pos = pos;
        }
        self
    }

    pub fn in_node(mut self, node: &str) -> Self {
        if self.node.is_none() {
            self.node = Some(node.to_string());
        }
        self
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pos) = self.pos {
            write!(f, "line {}, column {}: ", pos.line, pos.column)?;
        }
        if let Some(node) = &self.node {
            write!(f, "node '{}': ", node)?;
        }
        write!(f, "{}", self.message)
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// How serious a validation finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One validation finding; `validate` returns them all at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub node: Option<String>,
    pub pos: Option<Pos>,
}

impl Problem {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Problem { severity: Severity::Error, code, message: message.into(), node: None, pos: None }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Problem { severity: Severity::Warning, code, message: message.into(), node: None, pos: None }
    }

    pub fn at(mut self, pos: Option<Pos>) -> Self {
        self.pos = pos;
        self
    }

    pub fn in_node(mut self, node: &str) -> Self {
        self.node = Some(node.to_string());
        self
    }

    pub fn to_error(&self) -> EngineError {
        EngineError { code: self.code, message: self.message.clone(), node: self.node.clone(), pos: self.pos }
    }
}
