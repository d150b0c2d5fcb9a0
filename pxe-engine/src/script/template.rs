//! iPXE script templates: `{{variable}}` placeholders in otherwise literal
//! text, checked when loaded.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::net::IpAddr;

use super::value::{Arch, Hostname, MacAddr, Tag, Uuid};
use core::net::Ipv4Addr;

/// Largest template accepted, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;

/// A variable a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    /// `{{mac}}`: `52:54:00:12:34:56`.
    Mac,
    /// `{{mac_hyphen}}`: `52-54-00-12-34-56`.
    MacHyphen,
    /// `{{mac_hex}}`: `525400123456`.
    MacHex,
    /// `{{uuid}}`: lowercase 8-4-4-4-12.
    Uuid,
    /// `{{arch}}`: option 93 number or a name such as `x86_64`.
    Arch,
    /// `{{ip}}`: the client's IPv4 address.
    Ip,
    /// `{{hostname}}`: the client's host name.
    Hostname,
    /// `{{tags}}`: the tags the rules set for this client, space separated
    /// (may be empty).
    Tags,
    /// `{{server}}`: the address the client reached this server at.
    Server,
    /// `{{port}}`: the HTTP port the client reached this server at.
    Port,
}

impl Var {
    /// Every variable, in documentation order.
    pub const ALL: [Var; 10] = [
        Var::Mac,
        Var::MacHyphen,
        Var::MacHex,
        Var::Uuid,
        Var::Arch,
        Var::Ip,
        Var::Hostname,
        Var::Tags,
        Var::Server,
        Var::Port,
    ];

    /// The name used between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Var::Mac => "mac",
            Var::MacHyphen => "mac_hyphen",
            Var::MacHex => "mac_hex",
            Var::Uuid => "uuid",
            Var::Arch => "arch",
            Var::Ip => "ip",
            Var::Hostname => "hostname",
            Var::Tags => "tags",
            Var::Server => "server",
            Var::Port => "port",
        }
    }

    /// Looks a variable up by name.
    pub fn from_name(name: &str) -> Option<Var> {
        Var::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// What was wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateErrorKind {
    /// The first line is not exactly `#!ipxe`.
    #[error("the first line must be exactly `#!ipxe` (iPXE ignores a script without it)")]
    MissingShebang,
    /// `{{` without a closing `}}` on the same line.
    #[error("`{{{{` without a closing `}}}}` on the same line")]
    Unterminated,
    /// `{{name}}` with a name that is not a known variable.
    #[error(
        "unknown variable `{0}` (known: mac, mac_hyphen, mac_hex, uuid, arch, ip, hostname, tags, server, port)"
    )]
    UnknownVariable(String),
    /// A control character other than tab, CR or LF.
    #[error("control character 0x{0:02x} in template")]
    ControlCharacter(u8),
    /// The template is larger than [`MAX_TEMPLATE_LEN`].
    #[error("template is {0} bytes, more than the limit of 65536")]
    TooLong(usize),
}

/// A template error with its 1-based line and column (columns count
/// characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct TemplateError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// What was wrong.
    pub kind: TemplateErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Var(Var),
}

/// A parsed iPXE script template.
///
/// Syntax: the text is copied verbatim except for `{{name}}` placeholders
/// (spaces inside the braces are allowed: `{{ mac }}`), where `name` is one
/// of [`Var`]'s names. There is no escape: `{{` always opens a placeholder,
/// and iPXE's own `${...}` syntax passes through untouched. The first line
/// must be exactly `#!ipxe` (a trailing CR is allowed). Unknown variables,
/// unterminated placeholders and control characters are errors at load
/// time, with line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// The built-in template: PXELINUX, told to read the per-machine
/// configuration `pxelinux.cfg/<uuid>.cfg` over HTTP from this server (port
/// 81), falling back to iPXE's demo boot and then a shell.
pub const DEFAULT_TEMPLATE: &str = "#!ipxe
set 209:string pxelinux.cfg/{{uuid}}.cfg
set 210:string http://{{server}}:81/
chain ${210:string}pxelinux.0 ||
chain http://boot.ipxe.org/demo/boot.php ||
shell
";

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

impl Template {
    /// Parses and checks a template.
    ///
    /// ```
    /// use pxe_engine::script::Template;
    /// let t = Template::parse("#!ipxe\necho {{mac}}\n").unwrap();
    /// assert_eq!(t.variables().count(), 1);
    /// let e = Template::parse("#!ipxe\necho {{macc}}\n").unwrap_err();
    /// assert_eq!((e.line, e.column), (2, 6));
    /// ```
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let err = |offset: usize, kind| {
            let (line, column) = line_col(text, offset);
            TemplateError { line, column, kind }
        };
        if text.len() > MAX_TEMPLATE_LEN {
            return Err(TemplateError {
                line: 1,
                column: 1,
                kind: TemplateErrorKind::TooLong(text.len()),
            });
        }
        if let Some(p) = text
            .bytes()
            .position(|c| (c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n')) || c == 0x7f)
        {
            return Err(err(
                p,
                TemplateErrorKind::ControlCharacter(text.as_bytes()[p]),
            ));
        }
        let first = text.split('\n').next().unwrap_or("");
        if first.strip_suffix('\r').unwrap_or(first) != "#!ipxe" {
            return Err(err(0, TemplateErrorKind::MissingShebang));
        }
        let mut segments = Vec::new();
        let mut rest = text;
        let mut base = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Lit(String::from(&rest[..open])));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .filter(|c| !after[..*c].contains('\n'))
                .ok_or_else(|| err(base + open, TemplateErrorKind::Unterminated))?;
            let name = after[..close].trim_matches(' ');
            let var = Var::from_name(name).ok_or_else(|| {
                err(
                    base + open,
                    TemplateErrorKind::UnknownVariable(String::from(name)),
                )
            })?;
            segments.push(Segment::Var(var));
            let consumed = open + 2 + close + 2;
            base += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Lit(String::from(rest)));
        }
        Ok(Template { segments })
    }

    /// The built-in template ([`DEFAULT_TEMPLATE`]).
    pub fn seed_default() -> Template {
        // The constant is checked by a unit test; an empty fallback cannot
        // be reached but keeps this infallible without a panic path.
        Template::parse(DEFAULT_TEMPLATE).unwrap_or(Template {
            segments: Vec::new(),
        })
    }

    /// The variables the template uses, in order of appearance (repeats
    /// included).
    pub fn variables(&self) -> impl Iterator<Item = Var> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(*v),
            Segment::Lit(_) => None,
        })
    }

    /// Renders the template. Every value is of a validated type whose
    /// alphabet has no whitespace, `$`, `{` or `}`, so the result has
    /// exactly the lines of the template.
    pub fn render(&self, vars: &ScriptVars) -> Result<String, RenderError> {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => out.push_str(s),
                Segment::Var(v) => vars.write(*v, &mut out)?,
            }
        }
        Ok(out)
    }
}

/// A template used a variable the request did not provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the script uses {{{{{}}}}} but no value is known for this request", .0.name())]
pub struct RenderError(pub Var);

/// The values a script is rendered with. Unknown values are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptVars {
    /// Client MAC.
    pub mac: Option<MacAddr>,
    /// Client UUID.
    pub uuid: Option<Uuid>,
    /// Client architecture.
    pub arch: Option<Arch>,
    /// Client IPv4 address.
    pub ip: Option<Ipv4Addr>,
    /// Client host name.
    pub hostname: Option<Hostname>,
    /// Tags the rules set for the client.
    pub tags: Vec<Tag>,
    /// Address the client reached the server at.
    pub server: Option<IpAddr>,
    /// Port the client reached the server at.
    pub port: Option<u16>,
}

impl ScriptVars {
    fn write(&self, var: Var, out: &mut String) -> Result<(), RenderError> {
        let missing = RenderError(var);
        // Writing to a String cannot fail.
        let _ = match var {
            Var::Mac => write!(out, "{}", self.mac.ok_or(missing)?),
            Var::MacHyphen => {
                out.push_str(&self.mac.ok_or(missing)?.hyphenated());
                Ok(())
            }
            Var::MacHex => {
                out.push_str(&self.mac.ok_or(missing)?.hex());
                Ok(())
            }
            Var::Uuid => write!(out, "{}", self.uuid.ok_or(missing)?),
            Var::Arch => write!(out, "{}", self.arch.as_ref().ok_or(missing)?),
            Var::Ip => write!(out, "{}", self.ip.ok_or(missing)?),
            Var::Hostname => write!(out, "{}", self.hostname.as_ref().ok_or(missing)?),
            Var::Tags => {
                for (i, t) in self.tags.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(t.as_str());
                }
                Ok(())
            }
            Var::Server => match self.server.ok_or(missing)? {
                IpAddr::V4(a) => write!(out, "{a}"),
                // iPXE URLs need brackets around IPv6 literals.
                IpAddr::V6(a) => match a.to_ipv4_mapped() {
                    Some(v4) => write!(out, "{v4}"),
                    None => write!(out, "[{a}]"),
                },
            },
            Var::Port => write!(out, "{}", self.port.ok_or(missing)?),
        };
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn default_template_parses_and_matches_seed() {
        let t = Template::parse(DEFAULT_TEMPLATE);
        assert!(t.is_ok(), "{t:?}");
        let vars = ScriptVars {
            uuid: "0017001E-8C00-00AD-5087-90E6BA2F3423".parse().ok(),
            server: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 2, 1))),
            ..ScriptVars::default()
        };
        assert_eq!(
            Template::seed_default().render(&vars).as_deref(),
            Ok("#!ipxe
set 209:string pxelinux.cfg/0017001e-8c00-00ad-5087-90e6ba2f3423.cfg
set 210:string http://192.168.2.1:81/
chain ${210:string}pxelinux.0 ||
chain http://boot.ipxe.org/demo/boot.php ||
shell
")
        );
        assert_eq!(
            Template::seed_default().render(&ScriptVars::default()),
            Err(RenderError(Var::Uuid))
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = |t: &str| Template::parse(t).err().map(|e| (e.line, e.column, e.kind));
        assert_eq!(
            e("echo hi\n"),
            Some((1, 1, TemplateErrorKind::MissingShebang))
        );
        assert_eq!(e(""), Some((1, 1, TemplateErrorKind::MissingShebang)));
        assert_eq!(
            e("#!ipxe x\n"),
            Some((1, 1, TemplateErrorKind::MissingShebang))
        );
        assert_eq!(
            e("\u{feff}#!ipxe\n"),
            Some((1, 1, TemplateErrorKind::MissingShebang))
        );
        assert_eq!(
            e("#!ipxe\nécho {{nope}}\n"),
            Some((2, 6, TemplateErrorKind::UnknownVariable("nope".to_string())))
        );
        assert_eq!(
            e("#!ipxe\n{{mac\n}}"),
            Some((2, 1, TemplateErrorKind::Unterminated))
        );
        assert_eq!(
            e("#!ipxe\n a\0"),
            Some((2, 3, TemplateErrorKind::ControlCharacter(0)))
        );
        assert!(Template::parse("#!ipxe\r\necho {{ mac }} ${x} }}\r\n").is_ok());
        assert!(Template::parse("#!ipxe").is_ok());
        let big = "#!ipxe\n".to_string() + &"#".repeat(MAX_TEMPLATE_LEN);
        assert!(matches!(
            Template::parse(&big).map_err(|e| e.kind),
            Err(TemplateErrorKind::TooLong(_))
        ));
    }

    #[test]
    fn renders_every_variable() {
        let mut text = "#!ipxe\n".to_string();
        for v in Var::ALL {
            text.push_str(&alloc::format!("{}={{{{{}}}}}\n", v.name(), v.name()));
        }
        let t = Template::parse(&text);
        assert!(t.is_ok(), "{t:?}");
        let vars = ScriptVars {
            mac: "52:54:00:12:34:56".parse().ok(),
            uuid: "11111111-2222-3333-4444-555555555555".parse().ok(),
            arch: Some(Arch::Number(7)),
            ip: Some(Ipv4Addr::new(10, 0, 0, 9)),
            hostname: "n1".parse().ok(),
            tags: ["ipxe", "efi64"]
                .iter()
                .filter_map(|t| t.parse().ok())
                .collect(),
            server: Some(
                "::ffff:10.0.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            ),
            port: Some(81),
        };
        assert_eq!(
            t.map(|t| t.render(&vars)).ok(),
            Some(Ok("#!ipxe
mac=52:54:00:12:34:56
mac_hyphen=52-54-00-12-34-56
mac_hex=525400123456
uuid=11111111-2222-3333-4444-555555555555
arch=7
ip=10.0.0.9
hostname=n1
tags=ipxe efi64
server=10.0.0.1
port=81
"
            .to_string()))
        );
    }
}
