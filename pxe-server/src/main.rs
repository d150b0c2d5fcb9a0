//! `pxe-server`: a netboot server that reads dnsmasq's configuration lines.
//!
//! ```text
//! pxe-server --conf /etc/pxe-server.conf          # run
//! pxe-server check --conf /etc/pxe-server.conf    # validate, simulate the client classes
//! pxe-server explain --conf F --mac M --arch 7     # what would this machine get?
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pxe_server::config::{self, Overrides};
use pxe_server::driver::options::RunOptions;
use pxe_server::service;

/// A PXE/iPXE netboot server: DHCP (full or proxy), the PXE boot server on
/// port 4011 and TFTP, configured with dnsmasq's own directives.
#[derive(Parser, Debug)]
#[command(
    name = "pxe-server",
    version,
    about = "A PXE/iPXE netboot server: full or proxy DHCP, the PXE boot server on port 4011, and TFTP, configured with dnsmasq's own lines.",
    long_about = None
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
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a configuration, print what was understood, and run the
    /// standard client classes (BIOS, UEFI x64, ARM64, HTTP Boot, each
    /// followed by iPXE) through it; exits 1 on a chain-load loop.
    Check,
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

fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if verbose {
        "pxe_server=debug,info"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        print!("{}", config::describe(&config));
        // The client classes through the chain (issue 13).
        let classes = pxe_server::explain::check_classes(&config);
        print!("{}", classes.text);
        // HTTP root, iPXE template and override files (issue 6).
        let problems = pxe_server::driver::http::check(&config.settings.extensions);
        for p in &problems {
            eprintln!("pxe-server: {p}");
        }
        if classes.loops {
            eprintln!("pxe-server: a client class loads its own boot file again (see above)");
        }
        return if problems.is_empty() && !classes.loops {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    init_logging(config.settings.log_dhcp);
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
    match rt.block_on(service::run(
        config,
        RunOptions::default(),
        service::shutdown_signal(),
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("pxe-server: {e}");
            ExitCode::from(1)
        }
    }
}
