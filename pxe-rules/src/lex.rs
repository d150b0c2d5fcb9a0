//! Line-level lexing of the dnsmasq dialect (`option.c: read_file`,
//! `split_chr`, `hide_meta`).
//!
//! A line becomes a directive name and a value made of characters that
//! remember whether they were quoted ("hidden" from the value classifier and
//! from comma splitting) and the column they came from.

use alloc::string::String;
use alloc::vec::Vec;

/// One character of a value, with its quoting and source column (1-based).
///
/// Equality ignores the column: two values are the same text whatever
/// line position they were read from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ch {
    pub(crate) c: char,
    pub(crate) hidden: bool,
    pub(crate) col: u32,
}

impl PartialEq for Ch {
    fn eq(&self, other: &Self) -> bool {
        self.c == other.c && self.hidden == other.hidden
    }
}

impl Eq for Ch {}

/// A lexed line: `name[=value]`.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) name: String,
    pub(crate) name_col: u32,
    /// `None` for a bare flag.
    pub(crate) value: Option<Vec<Ch>>,
    /// Column just after the `=` (or after the name), for errors about a
    /// missing value.
    pub(crate) value_col: u32,
}

/// Lexing failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LexError {
    /// An opening quote without its closing quote; the column of the quote.
    MissingQuote(u32),
}

/// Lexes one physical line. `Ok(None)` for blank and comment-only lines.
pub(crate) fn lex_line(raw: &str) -> Result<Option<Line>, LexError> {
    // Pass 1: quotes, whitespace normalisation and comments.
    let mut chs: Vec<Ch> = Vec::with_capacity(raw.len());
    let mut it = raw.char_indices().peekable();
    let mut white = true;
    while let Some((i, c)) = it.next() {
        let col = i as u32 + 1;
        if c == '"' {
            let open_col = col;
            let mut closed = false;
            while let Some((j, d)) = it.next() {
                let dcol = j as u32 + 1;
                if d == '"' {
                    closed = true;
                    break;
                }
                let mut ch = d;
                if d == '\\'
                    && let Some(&(_, e)) = it.peek()
                {
                    let esc = match e {
                        '"' => Some('"'),
                        '\\' => Some('\\'),
                        't' => Some('\t'),
                        'n' => Some('\n'),
                        'b' => Some('\u{8}'),
                        'r' => Some('\r'),
                        'e' => Some('\u{1b}'),
                        _ => None,
                    };
                    if let Some(e2) = esc {
                        it.next();
                        ch = e2;
                    }
                }
                chs.push(Ch {
                    c: ch,
                    hidden: true,
                    col: dcol,
                });
            }
            if !closed {
                return Err(LexError::MissingQuote(open_col));
            }
            // A quote ends "whitespace" state like any other character.
            white = false;
            continue;
        }
        if c.is_whitespace() {
            chs.push(Ch {
                c: ' ',
                hidden: false,
                col,
            });
            white = true;
        } else {
            if white && c == '#' {
                break;
            }
            white = false;
            chs.push(Ch {
                c,
                hidden: false,
                col,
            });
        }
    }
    let body = trim(&chs);
    if body.is_empty() {
        return Ok(None);
    }
    // Pass 2: name and value.
    let eq = body.iter().position(|ch| ch.c == '=' && !ch.hidden);
    let (name_part, value) = match eq {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let name_part = trim(name_part);
    let name: String = name_part.iter().map(|c| c.c).collect();
    let name_col = name_part.first().map_or(1, |c| c.col);
    let value_col = match eq {
        Some(p) => body[p].col + 1,
        None => body.last().map_or(1, |c| c.col + 1),
    };
    Ok(Some(Line {
        name,
        name_col,
        value: value.map(|v| trim(v).to_vec()),
        value_col,
    }))
}

/// Strips unhidden spaces at both ends.
pub(crate) fn trim(chs: &[Ch]) -> &[Ch] {
    let start = chs
        .iter()
        .position(|c| c.c != ' ' || c.hidden)
        .unwrap_or(chs.len());
    let end = chs
        .iter()
        .rposition(|c| c.c != ' ' || c.hidden)
        .map_or(start, |e| e + 1);
    &chs[start..end.max(start)]
}

/// Splits at the first unhidden comma: the field before it (trimmed) and
/// the remaining text after it (trimmed), if there was a comma.
pub(crate) fn split(chs: &[Ch]) -> (&[Ch], Option<&[Ch]>) {
    match chs.iter().position(|c| c.c == ',' && !c.hidden) {
        Some(p) => (trim(&chs[..p]), Some(trim(&chs[p + 1..]))),
        None => (trim(chs), None),
    }
}

/// Splits into all comma-separated fields.
pub(crate) fn split_all(chs: &[Ch]) -> Vec<&[Ch]> {
    let mut out = Vec::new();
    let mut rest = Some(chs);
    while let Some(r) = rest {
        let (f, next) = split(r);
        out.push(f);
        rest = next;
    }
    out
}

/// The text of a run of characters.
pub(crate) fn text(chs: &[Ch]) -> String {
    chs.iter().map(|c| c.c).collect()
}

/// Whether the text equals `s` (no allocation).
pub(crate) fn eq(chs: &[Ch], s: &str) -> bool {
    chs.len() == s.chars().count() && chs.iter().zip(s.chars()).all(|(a, b)| a.c == b)
}

/// Whether the text starts with `prefix`, compared ASCII case-insensitively
/// on unhidden characters.
pub(crate) fn starts_with(chs: &[Ch], prefix: &str) -> bool {
    let n = prefix.chars().count();
    chs.len() >= n
        && chs
            .iter()
            .zip(prefix.chars())
            .all(|(a, b)| !a.hidden && a.c.eq_ignore_ascii_case(&b))
}

/// The column of the first character, or `fallback` when empty.
pub(crate) fn col(chs: &[Ch], fallback: u32) -> u32 {
    chs.first().map_or(fallback, |c| c.col)
}

/// Re-quotes text for printing so that it lexes back to the same
/// characters: quoted when it contains characters with meaning.
pub(crate) fn quote_if_needed(s: &str, out: &mut String) {
    let needs = s.is_empty()
        || s.chars().any(|c| {
            matches!(c, ',' | '"' | '#' | '\\' | '=') || c.is_whitespace() || c.is_control()
        });
    if !needs {
        out.push_str(s);
        return;
    }
    quote(s, out);
}

/// Quotes text unconditionally (with the escapes the lexer reads back).
pub(crate) fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        push_escaped(c, out);
    }
    out.push('"');
}

/// One character inside quotes, escaped the way the lexer reads it back.
fn push_escaped(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{8}' => out.push_str("\\b"),
        '\u{1b}' => out.push_str("\\e"),
        c => out.push(c),
    }
}

/// Prints lexed characters back as dialect text that lexes to the same
/// characters with the same hidden flags.
pub(crate) fn unlex(chs: &[Ch], out: &mut String) {
    let mut i = 0;
    while i < chs.len() {
        if chs[i].hidden {
            let j = chs[i..]
                .iter()
                .position(|c| !c.hidden)
                .map_or(chs.len(), |p| p + i);
            out.push('"');
            for c in &chs[i..j] {
                push_escaped(c.c, out);
            }
            out.push('"');
            i = j;
        } else {
            out.push(chs[i].c);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lx(s: &str) -> Line {
        match lex_line(s) {
            Ok(Some(l)) => l,
            other => panic!("{s:?} lexed to {other:?}"),
        }
    }

    #[test]
    fn comments_and_blanks() {
        assert!(matches!(lex_line(""), Ok(None)));
        assert!(matches!(lex_line("   # c"), Ok(None)));
        let l = lx("dhcp-boot=net:#ipxe,undionly.kkpxe.0 # trailing");
        assert_eq!(l.name, "dhcp-boot");
        assert_eq!(
            text(l.value.as_deref().unwrap_or_default()),
            "net:#ipxe,undionly.kkpxe.0"
        );
        let l = lx("dhcp-boot=tag: #ipxe");
        assert_eq!(text(l.value.as_deref().unwrap_or_default()), "tag:");
    }

    #[test]
    fn quotes_hide_commas_and_spaces() {
        let l = lx("pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe");
        let v = l.value.unwrap_or_default();
        let f = split_all(&v);
        assert_eq!(f.len(), 4);
        assert_eq!(text(f[2]), "splashtop by richud.com");
        assert!(f[2].iter().all(|c| c.hidden));
        assert_eq!(text(f[3]), "undionly.kkpxe");
        assert_eq!(f[3][0].col, 57);
        assert_eq!(lex_line("a=\"x").err(), Some(LexError::MissingQuote(3)));
        let l = lx("x = \"a\\\"b\\\\\"");
        assert_eq!(l.name, "x");
        assert_eq!(text(&l.value.unwrap_or_default()), "a\"b\\");
    }

    #[test]
    fn flags_and_spaces_around_equals() {
        let l = lx("  enable-tftp\t");
        assert_eq!(l.name, "enable-tftp");
        assert!(l.value.is_none());
        let l = lx("port = 0");
        assert_eq!(l.name, "port");
        assert_eq!(text(&l.value.unwrap_or_default()), "0");
    }

    #[test]
    fn unlex_round_trips() {
        let l = lx("dhcp-option=224,\"1.2.3.4\",x\"a b\"");
        let v = l.value.unwrap_or_default();
        let mut s = String::from("k=");
        unlex(&v, &mut s);
        let back = lx(&s).value.unwrap_or_default();
        assert_eq!(
            v.iter().map(|c| (c.c, c.hidden)).collect::<Vec<_>>(),
            back.iter().map(|c| (c.c, c.hidden)).collect::<Vec<_>>()
        );
    }
}
