//! Configuration errors, with file, line, column and a hint.

use alloc::string::String;

use crate::load::LoadError;

/// What was wrong with a configuration line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The directive name is not one dnsmasq (or pxe-server) knows.
    #[error("unknown directive `{0}`")]
    UnknownDirective(String),
    /// The directive needs `=value`.
    #[error("`{0}` needs a value")]
    MissingValue(&'static str),
    /// A flag directive was given a value.
    #[error("`{0}` takes no value")]
    UnexpectedValue(&'static str),
    /// The value does not have the directive's shape.
    #[error("bad `{directive}`: {what}")]
    Malformed {
        /// The directive.
        directive: &'static str,
        /// What was wrong.
        what: String,
    },
    /// A quote was opened and not closed.
    #[error("missing \"")]
    MissingQuote,
    /// More distinct tag names than the evaluator supports.
    #[error("too many distinct tags (at most {0})")]
    TooManyTags(usize),
    /// An included file or directory could not be read.
    #[error("cannot read `{path}`: {error}")]
    Include {
        /// The path as written.
        path: String,
        /// Why the loader could not read it.
        #[source]
        error: LoadError,
    },
    /// `conf-file`/`conf-dir` nested too deeply (or in a loop).
    #[error("includes nested deeper than {0} levels")]
    IncludeDepth(usize),
}

/// A configuration error at a precise place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {kind}{}", hint_suffix(.hint))]
pub struct ParseError {
    /// The file name as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (bytes).
    pub column: u32,
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// The directive's expected syntax, when known.
    pub hint: &'static str,
}

fn hint_suffix(h: &str) -> String {
    if h.is_empty() {
        String::new()
    } else {
        alloc::format!(" (hint: {h})")
    }
}
