//! How far a machine's boot got ([`Stage`]) and how it is doing
//! ([`State`]).

use core::fmt;

/// A step of the netboot chain, in the order a boot passes them. A
/// journey's stage is the furthest one reached in the current boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// A DHCP request was seen.
    Discover,
    /// An offer was sent (DHCPOFFER or proxy offer).
    Offer,
    /// The exchange was acknowledged: an address (DHCPACK), or the boot
    /// file from the proxy or the PXE boot server.
    Ack,
    /// The firmware is downloading the first-stage boot file.
    BootFile,
    /// iPXE (the second stage) is running: it sent DHCP.
    Ipxe,
    /// An iPXE script was rendered for it.
    Script,
    /// Loading what the chain named after that (kernel, initrd, configs).
    Loading,
    /// Booted: the OS called back (`/done`) or its DHCP client spoke.
    Done,
}

impl Stage {
    /// Number of stages.
    pub const COUNT: usize = 8;

    /// Every stage, in order.
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Discover,
        Stage::Offer,
        Stage::Ack,
        Stage::BootFile,
        Stage::Ipxe,
        Stage::Script,
        Stage::Loading,
        Stage::Done,
    ];

    /// Its position in [`Stage::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short name for APIs and metric labels (`discover`, `boot_file`,
    /// ...).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Discover => "discover",
            Stage::Offer => "offer",
            Stage::Ack => "ack",
            Stage::BootFile => "boot_file",
            Stage::Ipxe => "ipxe",
            Stage::Script => "script",
            Stage::Loading => "loading",
            Stage::Done => "done",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a journey is doing at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Progressing: something happened within the last [`IDLE_MS`].
    Active,
    /// Nothing for [`IDLE_MS`] and not done: stuck, or switched off.
    Idle,
    /// An error was diagnosed since the boot last made progress.
    Failed,
    /// Reached [`Stage::Done`].
    Done,
}

impl State {
    /// Every state.
    pub const ALL: [State; 4] = [State::Active, State::Idle, State::Failed, State::Done];

    /// A short name for APIs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Idle => "idle",
            State::Failed => "failed",
            State::Done => "done",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// After this long without an event an unfinished journey is
/// [`State::Idle`] (firmware retries within seconds; a minute of silence
/// means it gave up or is waiting for a person).
pub const IDLE_MS: u64 = 60_000;
