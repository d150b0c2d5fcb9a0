//! `pxe-server`: a netboot server that reads dnsmasq's configuration lines.
//!
//! ```text
//! pxe-server --conf /etc/pxe-server.conf          # run
//! pxe-server check --conf /etc/pxe-server.conf    # validate, simulate the client classes
//! pxe-server man > pxe-server.8                   # the manual page
//! pxe-server completions bash > pxe-server.bash   # shell completions
//! pxe-server explain --conf F --mac M --arch 7     # what would this machine get?
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use pxe_server::config::{self, Overrides};
use pxe_server::driver::options::RunOptions;
use pxe_server::logging::{self, LogFormat, Sink};
use pxe_server::notify::Notifier;
use pxe_server::privileges::{self, Dropped};
use pxe_server::service::{self, ConfigSource, Lifecycle};

/// `--help` and the manual page's DESCRIPTION.
const LONG_ABOUT: &str = "\
A PXE/iPXE netboot server: full or proxy DHCP, the PXE boot server on UDP port 4011, TFTP \
and HTTP boot files, configured with dnsmasq's own lines (dhcp-range, dhcp-match, \
dhcp-boot, pxe-service, dhcp-option, enable-tftp, tftp-root, ...). DNS-only lines are \
accepted and reported as ignored; `pxe-server check` explains a file rule by rule.

Started as root with user= (and group=) in the file, it switches to that user at once \
and keeps only CAP_NET_BIND_SERVICE, CAP_NET_RAW and CAP_NET_ADMIN. Under systemd it is a Type=notify \
service: READY=1 once every socket is bound, STATUS= with a summary, WATCHDOG=1 when \
WatchdogSec= is set.";

/// The manual page's sections beyond what clap describes (and the end of
/// `--help`): title, then `(term, text)` entries.
const MORE_SECTIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "SIGNALS",
        &[
            (
                "SIGHUP",
                "Re-read the configuration. A file with an error is refused (logged at file:line:column, counted) and the running configuration stays; otherwise the new rules answer the next packet, leases are kept, and transfers in flight finish with what they started.",
            ),
            ("SIGTERM, SIGINT", "Stop: flush the leases, then exit."),
        ],
    ),
    (
        "FILES",
        &[
            ("/etc/pxe-server.conf", "The packaged configuration."),
            (
                "/var/lib/misc/pxe-server.leases",
                "Leases in dnsmasq format (dhcp-leasefile=), with the durable log beside it (FILE.log). The systemd unit keeps them in /var/lib/pxe-server/.",
            ),
            (
                "/usr/lib/systemd/system/pxe-server.service",
                "The unit: Type=notify, its own user (DynamicUser=), reload with systemctl reload pxe-server.",
            ),
        ],
    ),
    (
        "LOGGING",
        &[
            (
                "--log-format text|json",
                "The form: a line for people, or one JSON object per line.",
            ),
            (
                "log-facility=",
                "The destination: a syslog facility (daemon, local0 ... local7, ...) through /dev/log, a file (any value containing /), or - for standard error, the default. RUST_LOG overrides the level filter.",
            ),
        ],
    ),
    (
        "EXAMPLES",
        &[
            (
                "pxe-server --conf /etc/pxe-server.conf",
                "Serve what the file says.",
            ),
            (
                "pxe-server --conf seed-real.conf --interface eth1 --tftp-root /srv/tftp --log-dhcp",
                "Serve on eth1 only, from /srv/tftp, explaining every DHCP exchange.",
            ),
            (
                "pxe-server check --conf seed-proxy.conf",
                "Explain a file rule by rule; errors name file:line:column.",
            ),
            (
                "systemctl reload pxe-server",
                "Re-read /etc/pxe-server.conf.",
            ),
        ],
    ),
];

/// [`MORE_SECTIONS`] as plain text, for `--help`.
fn more_help() -> String {
    let mut out = String::new();
    for (title, entries) in MORE_SECTIONS {
        out.push_str(title);
        out.push_str(":\n");
        for (term, text) in *entries {
            out.push_str(&format!("  {term}\n      {text}\n"));
        }
    }
    out
}

/// A PXE/iPXE netboot server: DHCP (full or proxy), the PXE boot server on
/// port 4011 and TFTP, configured with dnsmasq's own directives.
#[derive(Parser, Debug)]
#[command(
    name = "pxe-server",
    version,
    about = "A PXE/iPXE netboot server: full or proxy DHCP, the PXE boot server on port 4011, and TFTP, configured with dnsmasq's own lines.",
    long_about = LONG_ABOUT,
    after_long_help = more_help()
)]
#[command(after_help = "Examples:\n  \
    pxe-server --conf /etc/pxe-server.conf\n  \
    pxe-server --conf seed-real.conf --interface eth1 --tftp-root /srv/tftp --log-dhcp\n  \
    pxe-server check --conf seed-proxy.conf\n  \
    pxe-server explain --conf seed-proxy.conf --mac 52:54:00:12:34:56 --arch bios")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Configuration file in dnsmasq syntax (dhcp-range, dhcp-boot,
    /// pxe-service, enable-tftp, ...).
    #[arg(short = 'C', long = "conf", value_name = "FILE", global = true)]
    conf: Option<PathBuf>,
    /// Serve only on this interface (repeat for several); replaces the
    /// file's `interface=` lines.
    #[arg(long = "interface", short = 'i', value_name = "IFACE", global = true)]
    interface: Vec<String>,
    /// Lease file (dnsmasq format; the durable log is kept next to it as
    /// FILE.log); replaces `dhcp-leasefile=`.
    #[arg(
        long = "dhcp-leasefile",
        short = 'l',
        value_name = "FILE",
        global = true
    )]
    dhcp_leasefile: Option<PathBuf>,
    /// TFTP root directory; replaces `tftp-root=` and turns TFTP on.
    #[arg(long = "tftp-root", value_name = "DIR", global = true)]
    tftp_root: Option<PathBuf>,
    /// Log every DHCP exchange in detail (as dnsmasq's `log-dhcp`).
    #[arg(long = "log-dhcp", global = true)]
    log_dhcp: bool,
    /// How log lines are written: `text` for people, `json` (one object
    /// per line) for log collectors. Where they go is `log-facility=`.
    #[arg(
        long = "log-format",
        value_name = "FORMAT",
        value_enum,
        default_value_t = Format::Text,
        global = true
    )]
    log_format: Format,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a configuration, print what was understood, and run the
    /// standard client classes (BIOS, UEFI x64, ARM64, HTTP Boot, each
    /// followed by iPXE) through it; exits 1 on a chain-load loop.
    Check,
    /// Print the manual page (roff, section 8) to standard output.
    Man,
    /// Print shell completions to standard output.
    Completions {
        /// The shell (bash, zsh, fish, elvish, powershell).
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print what one client would get (replies, options, PXE menu, the
    /// rule trace, diagnoses), without the network.
    Explain(ExplainArgs),
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// The client's MAC address (52:54:00:12:34:56).
    #[arg(long, value_name = "MAC")]
    mac: String,
    /// Architecture (option 93): a number or bios, efi-x86_64, efi-arm64,
    /// http-x86_64, ...
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
    /// The request comes from iPXE (option 175, user class iPXE).
    #[arg(long)]
    ipxe: bool,
    /// Vendor class (option 60).
    #[arg(long = "vendor-class", value_name = "TEXT")]
    vendor_class: Option<String>,
    /// User class (option 77).
    #[arg(long = "user-class", value_name = "TEXT")]
    user_class: Option<String>,
    /// Machine UUID (option 97), 8-4-4-4-12 hex.
    #[arg(long, value_name = "UUID")]
    uuid: Option<String>,
    /// The client has its address from another DHCP server (ask as a
    /// proxyDHCP client).
    #[arg(long)]
    proxy: bool,
}

/// `pxe-server explain`.
fn explain(config: &pxe_rules::Config, a: &ExplainArgs) -> ExitCode {
    use pxe_server::explain::{ClientSpec, explain, parse_arch};
    let Some(mac) = pxe_server::driver::http::parse_mac(&a.mac) else {
        eprintln!(
            "pxe-server: --mac {}: not a MAC address (52:54:00:12:34:56)",
            a.mac
        );
        return ExitCode::from(2);
    };
    let arch = match a.arch.as_deref().map(|s| (s, parse_arch(s))) {
        Some((s, None)) => {
            eprintln!("pxe-server: --arch {s}: not an architecture number or name");
            return ExitCode::from(2);
        }
        Some((_, a)) => a,
        None => None,
    };
    let uuid = match a
        .uuid
        .as_deref()
        .map(|u| (u, u.parse::<pxe_engine::script::Uuid>()))
    {
        Some((u, Err(_))) => {
            eprintln!("pxe-server: --uuid {u}: not a UUID");
            return ExitCode::from(2);
        }
        Some((_, Ok(u))) => Some(u.0),
        None => None,
    };
    let spec = ClientSpec {
        mac,
        arch,
        ipxe: a.ipxe,
        vendor_class: a.vendor_class.clone(),
        user_class: a.user_class.clone(),
        uuid,
        proxy: a.proxy,
    };
    match explain(config, &spec) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pxe-server: {e}");
            ExitCode::from(1)
        }
    }
}

/// `pxe-server man`: the manual page, generated from this definition and
/// [`MORE_SECTIONS`].
fn print_man() -> ExitCode {
    match render_man(&mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pxe-server: cannot write the manual page: {e}");
            ExitCode::from(1)
        }
    }
}

fn render_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let page = clap_mangen::Man::new(Cli::command()).section("8");
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    page.render_subcommands_section(out)?;
    for (title, entries) in MORE_SECTIONS {
        writeln!(out, ".SH {title}")?;
        for (term, text) in *entries {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff_text(term), roff_text(text))?;
        }
    }
    page.render_version_section(out)
}

/// Text safe on a roff line: backslashes doubled, `-` as a hyphen-minus,
/// and no line starting with a control character.
fn roff_text(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// `pxe-server check`: the configuration explained, then every problem the
/// server would refuse to start with that can be seen without starting.
fn check(config: &pxe_rules::Config) -> ExitCode {
    print!("{}", config::describe(config));
    // The standard client classes through the chain.
    let classes = pxe_server::explain::check_classes(config);
    print!("{}", classes.text);
    let s = &config.settings;
    let mut problems: Vec<String> = pxe_server::driver::http::check(&s.extensions)
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Err(e) = privileges::resolve(s.user.as_deref(), s.group.as_deref()) {
        problems.push(e.to_string());
    }
    if let Err(e) = Sink::open(s.log_facility.as_ref()) {
        problems.push(e.to_string());
    }
    for p in &problems {
        eprintln!("pxe-server: {p}");
    }
    if classes.loops {
        eprintln!("pxe-server: a client class loads its own boot file again (see above)");
    }
    if problems.is_empty() && !classes.loops {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Switches to `user=`/`group=` (before any thread exists: capabilities
/// are per thread).
fn drop_privileges(config: &pxe_rules::Config) -> Result<(), privileges::PrivilegeError> {
    let s = &config.settings;
    let Some(to) = privileges::resolve(s.user.as_deref(), s.group.as_deref())? else {
        return Ok(());
    };
    match privileges::drop_to(&to)? {
        Dropped::Switched => tracing::info!(
            "running as user {} (uid {}), group {} (gid {}); capabilities kept: CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_NET_ADMIN",
            to.user.as_deref().unwrap_or("(unchanged)"),
            to.uid,
            to.group,
            to.gid
        ),
        Dropped::NotRoot => tracing::info!(
            "user=/group=: not started as root, so running as uid {} as started",
            nix::unistd::Uid::effective()
        ),
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Man) => return print_man(),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "pxe-server",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let Some(conf) = cli.run.conf.clone() else {
        eprintln!(
            "pxe-server: no configuration given.\n\
             Start it with `pxe-server --conf FILE` (dnsmasq syntax), e.g.\n  \
             pxe-server --conf conf/seed-real.conf\n\
             or check a file with `pxe-server check --conf FILE`."
        );
        return ExitCode::from(2);
    };
    let overrides = Overrides {
        interfaces: cli.run.interface.clone(),
        lease_file: cli.run.dhcp_leasefile.clone(),
        tftp_root: cli.run.tftp_root.clone(),
        log_dhcp: cli.run.log_dhcp,
    };
    let config = match config::load_config(&conf, &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pxe-server: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(Command::Explain(a)) = &cli.command {
        return explain(&config, a);
    }
    if let Some(Command::Check) = cli.command {
        return check(&config);
    }
    // The log is opened before the switch to `user=`, as dnsmasq does, so
    // a root-owned log directory still works.
    let sink = match Sink::open(config.settings.log_facility.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pxe-server: {e}");
            return ExitCode::from(1);
        }
    };
    let format = match cli.run.log_format {
        Format::Text => LogFormat::Text,
        Format::Json => LogFormat::Json,
    };
    logging::init(format, sink, config.settings.log_dhcp);
    if let Err(e) = drop_privileges(&config) {
        tracing::error!("{e}");
        eprintln!("pxe-server: {e}");
        return ExitCode::from(1);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pxe-server: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let source = ConfigSource {
        path: conf,
        overrides,
    };
    let served = rt.block_on(async {
        // Before anything is bound: from here on SIGHUP reloads instead of
        // ending the process.
        let reload = match service::sighup_requests() {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("cannot catch SIGHUP, so no reload: {e}");
                None
            }
        };
        let lifecycle = Lifecycle {
            shutdown: service::shutdown_signal(),
            source: Some(source),
            reload,
            notifier: Notifier::new(),
        };
        service::run_with(config, RunOptions::default(), lifecycle).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("pxe-server: {e}");
            ExitCode::from(1)
        }
    }
}
