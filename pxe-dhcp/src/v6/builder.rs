//! Writing DHCPv6 messages, and relay messages around them, into a
//! caller's buffer.

use core::net::Ipv6Addr;

use super::code;
use super::dns::{FqdnFlags, MAX_NAME_LEN, encode_name};
use super::error::Error;
use super::ia::Status;
use super::message::{Message, MessageType, TransactionId};
use super::options::OPTION_HEADER_LEN;
use super::packet::Packet;
use super::relay::{MAX_RELAY_DEPTH, RELAY_HEADER_LEN, RelayHeader, RelayMessage};
use crate::{ClientArch, ClientNdi};

/// The byte-level writer both builders share: a position in the caller's
/// buffer and the option-9 headers of the relay messages still open
/// around the current message (their lengths are written at the end).
#[derive(Debug)]
struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    open: [usize; MAX_RELAY_DEPTH],
    depth: usize,
}

impl<'b> Writer<'b> {
    #[inline]
    fn new(buf: &'b mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            open: [0; MAX_RELAY_DEPTH],
            depth: 0,
        }
    }

    /// The next `n` bytes, reserved.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&mut [u8], Error> {
        let available = self.buf.len();
        let end = self.pos.checked_add(n).filter(|&e| e <= available);
        let Some(dst) = end.and_then(|e| self.buf.get_mut(self.pos..e)) else {
            return Err(Error::BufferTooSmall {
                needed: self.pos.saturating_add(n),
                available,
            });
        };
        self.pos += n;
        Ok(dst)
    }

    #[inline]
    fn raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.take(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// An option whose value is known.
    #[inline]
    fn option(&mut self, code: u16, value: &[u8]) -> Result<(), Error> {
        let len = u16::try_from(value.len()).map_err(|_| Error::ValueTooLong {
            field: "option value",
            len: value.len(),
            max: usize::from(u16::MAX),
        })?;
        let dst = self.take(OPTION_HEADER_LEN + value.len())?;
        dst[..2].copy_from_slice(&code.to_be_bytes());
        dst[2..4].copy_from_slice(&len.to_be_bytes());
        dst[4..].copy_from_slice(value);
        Ok(())
    }

    /// Starts an option whose length is written by [`Writer::close`].
    #[inline]
    fn open(&mut self, code: u16) -> Result<usize, Error> {
        let start = self.pos;
        let dst = self.take(OPTION_HEADER_LEN)?;
        dst[..2].copy_from_slice(&code.to_be_bytes());
        dst[2..].fill(0);
        Ok(start)
    }

    /// Writes the length of the option opened at `start`; on overflow the
    /// option is removed.
    #[inline]
    fn close(&mut self, start: usize, field: &'static str) -> Result<(), Error> {
        let len = self.pos.saturating_sub(start + OPTION_HEADER_LEN);
        match (u16::try_from(len), self.buf.get_mut(start + 2..start + 4)) {
            (Ok(l), Some(dst)) => {
                dst.copy_from_slice(&l.to_be_bytes());
                Ok(())
            }
            _ => {
                self.pos = start;
                Err(Error::ValueTooLong {
                    field,
                    len,
                    max: usize::from(u16::MAX),
                })
            }
        }
    }

    /// Opens option 9 around everything written next.
    #[inline]
    fn enclose(&mut self) -> Result<(), Error> {
        let Some(slot) = self.open.get_mut(self.depth) else {
            return Err(Error::RelayTooDeep {
                limit: MAX_RELAY_DEPTH,
            });
        };
        let start = self.pos;
        *slot = start;
        self.open(code::RELAY_MESSAGE)?;
        self.depth += 1;
        Ok(())
    }

    /// Writes the lengths of every open option 9; returns the message length.
    #[inline]
    fn finish(&mut self) -> Result<usize, Error> {
        while let Some(d) = self.depth.checked_sub(1) {
            let start = self.open.get(d).copied().unwrap_or(0);
            let end = self.pos;
            self.close(start, "relayed message (option 9)")?;
            self.pos = end;
            self.depth = d;
        }
        Ok(self.pos)
    }

    #[inline]
    fn message_header(&mut self, msg_type: MessageType, xid: TransactionId) -> Result<(), Error> {
        if msg_type.is_relay() {
            return Err(Error::UnexpectedType {
                msg_type,
                expected: "client/server",
            });
        }
        let [a, b, c] = xid.to_bytes();
        self.raw(&[msg_type.into(), a, b, c])
    }

    #[inline]
    fn relay_header(&mut self, msg_type: MessageType, h: &RelayHeader) -> Result<(), Error> {
        if !msg_type.is_relay() {
            return Err(Error::UnexpectedType {
                msg_type,
                expected: "relay",
            });
        }
        let dst = self.take(RELAY_HEADER_LEN)?;
        dst[0] = msg_type.into();
        dst[1] = h.hop_count;
        dst[2..18].copy_from_slice(&h.link_address.octets());
        dst[18..34].copy_from_slice(&h.peer_address.octets());
        Ok(())
    }

    /// Length-prefixed items (user class, vendor class, boot parameters).
    #[inline]
    fn items(&mut self, items: &[&[u8]]) -> Result<(), Error> {
        for item in items {
            let len = u16::try_from(item.len()).map_err(|_| Error::ValueTooLong {
                field: "class or parameter item",
                len: item.len(),
                max: usize::from(u16::MAX),
            })?;
            self.raw(&len.to_be_bytes())?;
            self.raw(item)?;
        }
        Ok(())
    }
}

/// Writes a client/server DHCPv6 message (typically an ADVERTISE or
/// REPLY) into a borrowed `&mut [u8]`, without allocating and without
/// panicking on any buffer size or value.
///
/// Options are appended in call order. Options that encapsulate others
/// (IA_NA, IAADDR, vendor options, [`Builder::nested`]) take a closure
/// that writes the inner options; the length is back-patched, and on error
/// nothing of the option remains. A builder started by
/// [`Builder::relay_reply_to`] or [`RelayBuilder::message`] sits inside
/// relay messages, whose lengths [`Builder::finish`] writes.
///
/// ```
/// use pxe_dhcp::v6::{Builder, Duid, Message, MessageType, Status, TransactionId};
///
/// let mut buf = [0u8; 512];
/// let xid = TransactionId::new(0x779fd4).unwrap();
/// let mut b = Builder::new(&mut buf, MessageType::Advertise, xid)?;
/// b.server_id(&Duid::ll_ethernet([2, 0, 0, 0x77, 0, 1]))?
///     .ia_na(0xef81f57f, 1800, 3150, |ia| {
///         ia.ia_addr("fd00:77::19e".parse().unwrap(), 3600, 3600)?;
///         Ok(())
///     })?
///     .status_code(Status::Success, "success")?
///     .preference(255)?
///     .boot_file_url(b"tftp://[fd00:77::1]/ipxe.efi")?;
/// let n = b.finish()?;
/// let m = Message::new_checked(&buf[..n])?;
/// assert_eq!(m.ia_na()?.unwrap().address()?.unwrap().valid(), 3600);
/// # Ok::<(), pxe_dhcp::v6::Error>(())
/// ```
#[derive(Debug)]
pub struct Builder<'b> {
    w: Writer<'b>,
}

impl<'b> Builder<'b> {
    /// Starts a message of `msg_type` (not a relay type) with `xid`.
    #[inline]
    pub fn new(
        buf: &'b mut [u8],
        msg_type: MessageType,
        xid: TransactionId,
    ) -> Result<Self, Error> {
        let mut w = Writer::new(buf);
        w.message_header(msg_type, xid)?;
        Ok(Builder { w })
    }

    /// Starts the answer of `msg_type` (ADVERTISE, REPLY) to `request`:
    /// its transaction id, and its client identifier copied as the first
    /// option (RFC 8415 sections 18.3.9 and 18.3.10).
    #[inline]
    pub fn reply_to<T: AsRef<[u8]>>(
        request: &Message<T>,
        msg_type: MessageType,
        buf: &'b mut [u8],
    ) -> Result<Self, Error> {
        let mut b = Builder::new(buf, msg_type, request.transaction_id())?;
        b.copy_client_id(request)?;
        Ok(b)
    }

    /// Starts the answer to a relayed request: one RELAY-REPL per
    /// RELAY-FORW of `forw`'s chain (anything but RELAY-FORWs around the
    /// request is [`Error::UnexpectedType`]), each with the hop count, link and
    /// peer addresses and interface-id of its RELAY-FORW (RFC 8415 section
    /// 19.3), around the start of an answer of `msg_type` to the innermost
    /// message, as [`Builder::reply_to`] writes it.
    #[inline]
    pub fn relay_reply_to<T: AsRef<[u8]>>(
        forw: &RelayMessage<T>,
        msg_type: MessageType,
        buf: &'b mut [u8],
    ) -> Result<Self, Error> {
        let mut layer = forw.borrowed();
        let mut relay = RelayBuilder::new(buf, MessageType::RelayRepl, layer.header())?;
        loop {
            if layer.msg_type() != MessageType::RelayForw {
                return Err(Error::UnexpectedType {
                    msg_type: layer.msg_type(),
                    expected: "RELAY-FORW",
                });
            }
            if let Some(id) = layer.interface_id() {
                relay.interface_id(id)?;
            }
            match layer.relay_message_ref()? {
                Packet::Relay(inner) => {
                    relay = relay.relay(MessageType::RelayRepl, inner.header())?;
                    layer = inner;
                }
                Packet::Message(request) => {
                    let mut b = relay.message(msg_type, request.transaction_id())?;
                    b.copy_client_id(&request)?;
                    return Ok(b);
                }
            }
        }
    }

    #[inline]
    fn copy_client_id<T: AsRef<[u8]>>(&mut self, request: &Message<T>) -> Result<(), Error> {
        match request.option(code::CLIENT_ID) {
            Some(id) => self.w.option(code::CLIENT_ID, id.data),
            None => Ok(()),
        }
    }

    /// Bytes written so far (relay headers included).
    #[inline]
    pub fn len(&self) -> usize {
        self.w.pos
    }

    /// Whether nothing is written yet (never: the header is written first).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.w.pos == 0
    }

    /// Appends option `code` with `value` (at most 65535 bytes).
    #[inline]
    pub fn option(&mut self, code: u16, value: &[u8]) -> Result<&mut Self, Error> {
        self.w.option(code, value)?;
        Ok(self)
    }

    /// Appends bytes without an option header: the fixed fields of an
    /// option written with [`Builder::nested`].
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) -> Result<&mut Self, Error> {
        self.w.raw(bytes)?;
        Ok(self)
    }

    /// Appends option `code` whose value `f` writes (fixed fields with
    /// [`Builder::raw`], then options), back-patching its length. On error
    /// nothing of the option remains.
    #[inline]
    pub fn nested<F>(&mut self, code: u16, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut Self) -> Result<(), Error>,
    {
        let start = self.w.open(code)?;
        match f(self) {
            Ok(()) => self.w.close(start, "encapsulating option")?,
            Err(e) => {
                self.w.pos = start;
                return Err(e);
            }
        }
        Ok(self)
    }

    /// Copies every occurrence of option `code` from `from`.
    #[inline]
    pub fn copy_option<T: AsRef<[u8]>>(
        &mut self,
        from: &Message<T>,
        code: u16,
    ) -> Result<&mut Self, Error> {
        for o in from.options_with(code) {
            self.w.option(code, o.data)?;
        }
        Ok(self)
    }

    /// Option 1, the client's DUID.
    #[inline]
    pub fn client_id(&mut self, duid: &[u8]) -> Result<&mut Self, Error> {
        self.option(code::CLIENT_ID, duid)
    }
    /// Option 2, the server's DUID (e.g. [`super::Duid::llt_ethernet`]).
    #[inline]
    pub fn server_id(&mut self, duid: &[u8]) -> Result<&mut Self, Error> {
        self.option(code::SERVER_ID, duid)
    }
    /// Option 3, an IA_NA; `f` writes its IAADDRs and status code.
    #[inline]
    pub fn ia_na<F>(&mut self, iaid: u32, t1: u32, t2: u32, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut Self) -> Result<(), Error>,
    {
        self.nested(code::IA_NA, |b| {
            b.w.raw(&iaid.to_be_bytes())?;
            b.w.raw(&t1.to_be_bytes())?;
            b.w.raw(&t2.to_be_bytes())?;
            f(b)
        })
    }
    /// Option 5, an IAADDR without options (inside [`Builder::ia_na`]).
    #[inline]
    pub fn ia_addr(
        &mut self,
        addr: Ipv6Addr,
        preferred: u32,
        valid: u32,
    ) -> Result<&mut Self, Error> {
        self.ia_addr_with(addr, preferred, valid, |_| Ok(()))
    }
    /// Option 5, an IAADDR whose options (a status code) `f` writes.
    #[inline]
    pub fn ia_addr_with<F>(
        &mut self,
        addr: Ipv6Addr,
        preferred: u32,
        valid: u32,
        f: F,
    ) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut Self) -> Result<(), Error>,
    {
        self.nested(code::IA_ADDR, |b| {
            b.w.raw(&addr.octets())?;
            b.w.raw(&preferred.to_be_bytes())?;
            b.w.raw(&valid.to_be_bytes())?;
            f(b)
        })
    }
    /// Option 13, a status code and message, at the top level or inside an
    /// IA_NA or IAADDR.
    #[inline]
    pub fn status_code(&mut self, status: Status, message: &str) -> Result<&mut Self, Error> {
        self.nested(code::STATUS_CODE, |b| {
            b.w.raw(&u16::from(status).to_be_bytes())?;
            b.w.raw(message.as_bytes())
        })
    }
    /// Option 6, the options a client asks for.
    #[inline]
    pub fn oro(&mut self, codes: &[u16]) -> Result<&mut Self, Error> {
        self.nested(code::ORO, |b| {
            codes.iter().try_for_each(|c| b.w.raw(&c.to_be_bytes()))
        })
    }
    /// Option 7, the server preference.
    #[inline]
    pub fn preference(&mut self, preference: u8) -> Result<&mut Self, Error> {
        self.option(code::PREFERENCE, &[preference])
    }
    /// Option 8, the elapsed time in hundredths of a second.
    #[inline]
    pub fn elapsed_time(&mut self, hundredths: u16) -> Result<&mut Self, Error> {
        self.option(code::ELAPSED_TIME, &hundredths.to_be_bytes())
    }
    /// Option 14, rapid commit.
    #[inline]
    pub fn rapid_commit(&mut self) -> Result<&mut Self, Error> {
        self.option(code::RAPID_COMMIT, &[])
    }
    /// Option 15, the user class items.
    #[inline]
    pub fn user_class(&mut self, classes: &[&[u8]]) -> Result<&mut Self, Error> {
        self.nested(code::USER_CLASS, |b| b.w.items(classes))
    }
    /// Option 16, a vendor class: `enterprise` and its items (for UEFI HTTP
    /// Boot, [`ENTERPRISE_INTEL`](super::ENTERPRISE_INTEL) and `HTTPClient`).
    #[inline]
    pub fn vendor_class(&mut self, enterprise: u32, items: &[&[u8]]) -> Result<&mut Self, Error> {
        self.nested(code::VENDOR_CLASS, |b| {
            b.w.raw(&enterprise.to_be_bytes())?;
            b.w.items(items)
        })
    }
    /// Option 17, vendor-specific information: `f` writes the sub-options
    /// (with [`Builder::option`]) after the enterprise number.
    #[inline]
    pub fn vendor_opts<F>(&mut self, enterprise: u32, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut Self) -> Result<(), Error>,
    {
        self.nested(code::VENDOR_OPTS, |b| {
            b.w.raw(&enterprise.to_be_bytes())?;
            f(b)
        })
    }
    /// Option 23, the DNS servers.
    #[inline]
    pub fn dns_servers(&mut self, servers: &[Ipv6Addr]) -> Result<&mut Self, Error> {
        self.nested(code::DNS_SERVERS, |b| {
            servers.iter().try_for_each(|a| b.w.raw(&a.octets()))
        })
    }
    /// Option 24, the domain search list, from dotted names.
    #[inline]
    pub fn domain_list(&mut self, names: &[&str]) -> Result<&mut Self, Error> {
        self.nested(code::DOMAIN_LIST, |b| {
            names.iter().try_for_each(|n| b.name(n, false))
        })
    }
    /// Option 39, the client FQDN with a fully qualified `name`.
    #[inline]
    pub fn fqdn(&mut self, flags: FqdnFlags, name: &str) -> Result<&mut Self, Error> {
        self.fqdn_form(flags, name, false)
    }
    /// Option 39 with a partial name (no root label), as a client sends
    /// its bare host name (RFC 4704 section 4.2).
    #[inline]
    pub fn fqdn_partial(&mut self, flags: FqdnFlags, name: &str) -> Result<&mut Self, Error> {
        self.fqdn_form(flags, name, true)
    }
    #[inline]
    fn fqdn_form(
        &mut self,
        flags: FqdnFlags,
        name: &str,
        partial: bool,
    ) -> Result<&mut Self, Error> {
        self.nested(code::CLIENT_FQDN, |b| {
            b.w.raw(&[flags.bits()])?;
            b.name(name, partial)
        })
    }
    #[inline]
    fn name(&mut self, name: &str, partial: bool) -> Result<(), Error> {
        let mut wire = [0u8; MAX_NAME_LEN];
        let n = encode_name(name, partial, &mut wire)?;
        self.w.raw(wire.get(..n).unwrap_or_default())
    }
    /// Option 59, the boot file URL.
    #[inline]
    pub fn boot_file_url(&mut self, url: &[u8]) -> Result<&mut Self, Error> {
        self.option(code::BOOTFILE_URL, url)
    }
    /// Option 60, the boot file parameters.
    #[inline]
    pub fn boot_file_params(&mut self, params: &[&[u8]]) -> Result<&mut Self, Error> {
        self.nested(code::BOOTFILE_PARAM, |b| b.w.items(params))
    }
    /// Option 61, the client architecture types (as clients send it).
    #[inline]
    pub fn client_arch(&mut self, archs: &[ClientArch]) -> Result<&mut Self, Error> {
        self.nested(code::CLIENT_ARCH_TYPE, |b| {
            archs.iter().try_for_each(|a| b.w.raw(&a.0.to_be_bytes()))
        })
    }
    /// Option 62, the network interface identifier (as clients send it).
    #[inline]
    pub fn nii(&mut self, nii: ClientNdi) -> Result<&mut Self, Error> {
        self.option(code::NII, &nii.to_bytes())
    }

    /// Writes the lengths of the relay messages around the message, if
    /// any, and returns the datagram's length.
    #[inline]
    pub fn finish(self) -> Result<usize, Error> {
        self.finish_bytes().map(<[u8]>::len)
    }

    /// Like [`Builder::finish`] but returns the finished datagram.
    #[inline]
    pub fn finish_bytes(self) -> Result<&'b [u8], Error> {
        let mut w = self.w;
        let n = w.finish()?;
        Ok(w.buf.get(..n).unwrap_or_default())
    }
}

/// Writes a RELAY-FORW or RELAY-REPL message: its header and options,
/// then the relayed message in option 9, which is either written in place
/// ([`RelayBuilder::message`], [`RelayBuilder::relay`]) or copied
/// ([`RelayBuilder::relay_message`]). For answering a relayed request,
/// [`Builder::relay_reply_to`] does all of it.
///
/// ```
/// use pxe_dhcp::v6::{Builder, MessageType, Packet, RelayBuilder, RelayHeader, TransactionId};
///
/// let header = RelayHeader {
///     hop_count: 0,
///     link_address: "fd00:77::1".parse().unwrap(),
///     peer_address: "fe80::5054:ff:feef:601".parse().unwrap(),
/// };
/// let mut buf = [0u8; 512];
/// let mut relay = RelayBuilder::new(&mut buf, MessageType::RelayRepl, header)?;
/// relay.interface_id(b"eth0")?;
/// let mut reply = relay.message(MessageType::Reply, TransactionId::new(7).unwrap())?;
/// reply.preference(255)?;
/// let n = reply.finish()?;
///
/// let Packet::Relay(r) = Packet::new_checked(&buf[..n])? else { unreachable!() };
/// assert_eq!(r.interface_id(), Some(&b"eth0"[..]));
/// let Packet::Message(m) = r.relay_message()? else { unreachable!() };
/// assert_eq!(m.preference()?, Some(255));
/// # Ok::<(), pxe_dhcp::v6::Error>(())
/// ```
#[derive(Debug)]
pub struct RelayBuilder<'b> {
    w: Writer<'b>,
}

impl<'b> RelayBuilder<'b> {
    /// Starts a relay message of `msg_type` (RELAY-FORW or RELAY-REPL).
    #[inline]
    pub fn new(
        buf: &'b mut [u8],
        msg_type: MessageType,
        header: RelayHeader,
    ) -> Result<Self, Error> {
        let mut w = Writer::new(buf);
        w.relay_header(msg_type, &header)?;
        Ok(RelayBuilder { w })
    }

    /// Appends option `code` with `value` (at most 65535 bytes).
    #[inline]
    pub fn option(&mut self, code: u16, value: &[u8]) -> Result<&mut Self, Error> {
        self.w.option(code, value)?;
        Ok(self)
    }
    /// Copies every occurrence of option `code` from `from`.
    #[inline]
    pub fn copy_option<T: AsRef<[u8]>>(
        &mut self,
        from: &RelayMessage<T>,
        code: u16,
    ) -> Result<&mut Self, Error> {
        for o in from.options_with(code) {
            self.w.option(code, o.data)?;
        }
        Ok(self)
    }
    /// Option 18, the interface-id.
    #[inline]
    pub fn interface_id(&mut self, id: &[u8]) -> Result<&mut Self, Error> {
        self.option(code::INTERFACE_ID, id)
    }
    /// Option 37, the remote-id.
    #[inline]
    pub fn remote_id(&mut self, enterprise: u32, id: &[u8]) -> Result<&mut Self, Error> {
        let start = self.w.open(code::REMOTE_ID)?;
        let body = self
            .w
            .raw(&enterprise.to_be_bytes())
            .and_then(|()| self.w.raw(id));
        match body {
            Ok(()) => self.w.close(start, "remote-id")?,
            Err(e) => {
                self.w.pos = start;
                return Err(e);
            }
        }
        Ok(self)
    }
    /// Option 38, the subscriber-id.
    #[inline]
    pub fn subscriber_id(&mut self, id: &[u8]) -> Result<&mut Self, Error> {
        self.option(code::SUBSCRIBER_ID, id)
    }
    /// Option 79, the client's link-layer address.
    #[inline]
    pub fn client_link_layer_address(
        &mut self,
        hardware_type: u16,
        address: &[u8],
    ) -> Result<&mut Self, Error> {
        let start = self.w.open(code::CLIENT_LINKLAYER_ADDR)?;
        let body = self
            .w
            .raw(&hardware_type.to_be_bytes())
            .and_then(|()| self.w.raw(address));
        match body {
            Ok(()) => self.w.close(start, "client link-layer address")?,
            Err(e) => {
                self.w.pos = start;
                return Err(e);
            }
        }
        Ok(self)
    }

    /// Ends this relay message's own options with option 9 and starts the
    /// client/server message it carries.
    #[inline]
    pub fn message(
        mut self,
        msg_type: MessageType,
        xid: TransactionId,
    ) -> Result<Builder<'b>, Error> {
        self.w.enclose()?;
        self.w.message_header(msg_type, xid)?;
        Ok(Builder { w: self.w })
    }

    /// Ends this relay message's own options with option 9 and starts the
    /// relay message it carries (at most [`MAX_RELAY_DEPTH`] relay
    /// messages in all, as [`RelayMessage::innermost`] reads).
    #[inline]
    pub fn relay(mut self, msg_type: MessageType, header: RelayHeader) -> Result<Self, Error> {
        // `depth` relay messages are open around this one.
        if self.w.depth + 1 >= MAX_RELAY_DEPTH {
            return Err(Error::RelayTooDeep {
                limit: MAX_RELAY_DEPTH,
            });
        }
        self.w.enclose()?;
        self.w.relay_header(msg_type, &header)?;
        Ok(self)
    }

    /// Ends the relay message(s) with option 9 holding `message` as it is
    /// (a relay agent forwarding a client's datagram), and returns the
    /// datagram's length.
    #[inline]
    pub fn relay_message(mut self, message: &[u8]) -> Result<usize, Error> {
        self.w.option(code::RELAY_MESSAGE, message)?;
        self.w.finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use crate::v6::{Duid, RelayMessage};
    use std::vec;

    fn xid() -> TransactionId {
        TransactionId::new(0x123456).unwrap()
    }

    #[test]
    fn nested_lengths_are_back_patched() {
        let mut buf = [0u8; 256];
        let mut b = Builder::new(&mut buf, MessageType::Reply, xid()).unwrap();
        b.ia_na(1, 2, 3, |ia| {
            ia.ia_addr_with(Ipv6Addr::LOCALHOST, 4, 5, |a| {
                a.status_code(Status::Success, "ok")?;
                Ok(())
            })?;
            Ok(())
        })
        .unwrap();
        let n = b.finish().unwrap();
        // header 4 + IA_NA (4 + 12 + IAADDR (4 + 24 + status (4 + 2 + 2)))
        assert_eq!(n, 4 + 4 + 12 + 4 + 24 + 4 + 4);
        assert_eq!(&buf[4..8], &[0, 3, 0, 12 + 4 + 24 + 8]);
        assert_eq!(&buf[20..24], &[0, 5, 0, 24 + 8]);
        assert_eq!(&buf[48..52], &[0, 13, 0, 4]);
    }

    #[test]
    fn errors_leave_nothing_behind() {
        let mut buf = [0u8; 64];
        let mut b = Builder::new(&mut buf, MessageType::Reply, xid()).unwrap();
        let err = b
            .ia_na(1, 2, 3, |ia| {
                ia.option(99, &[0; 100])?;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(
            err,
            Error::BufferTooSmall {
                needed: 4 + 16 + 104,
                available: 64
            }
        );
        assert_eq!(b.len(), 4);
        b.preference(1).unwrap();
        assert_eq!(b.finish().unwrap(), 9);
    }

    #[test]
    fn tiny_buffers_and_bad_values_never_panic() {
        for len in 0..40 {
            let mut buf = vec![0u8; len];
            if let Ok(mut b) = Builder::new(&mut buf, MessageType::Advertise, xid()) {
                let _ = b.ia_na(1, 2, 3, |ia| {
                    ia.ia_addr(Ipv6Addr::UNSPECIFIED, 1, 2)?;
                    Ok(())
                });
                let _ = b.vendor_class(343, &[b"HTTPClient"]);
                let _ = b.domain_list(&["a.b"]);
                assert!(b.finish().unwrap() <= len);
            } else {
                assert!(len < 4);
            }
            let h = RelayHeader {
                hop_count: 0,
                link_address: Ipv6Addr::UNSPECIFIED,
                peer_address: Ipv6Addr::UNSPECIFIED,
            };
            if let Ok(r) = RelayBuilder::new(&mut buf, MessageType::RelayRepl, h) {
                assert!(r.relay_message(&[1, 0, 0, 0]).is_err(), "34 + 8 > 39");
            } else {
                assert!(len < 34);
            }
        }
        let mut buf = vec![0u8; 70_000];
        let mut b = Builder::new(&mut buf, MessageType::Reply, xid()).unwrap();
        assert!(matches!(
            b.option(1, &[0; 65_536]),
            Err(Error::ValueTooLong { max: 65535, .. })
        ));
        assert!(matches!(
            b.nested(17, |v| {
                v.raw(&[0; 65_536])?;
                Ok(())
            }),
            Err(Error::ValueTooLong { .. })
        ));
        assert_eq!(b.len(), 4);
        assert!(Builder::new(&mut buf, MessageType::RelayForw, xid()).is_err());
    }

    #[test]
    fn relay_replies_mirror_the_chain() {
        let outer = RelayHeader {
            hop_count: 1,
            link_address: "fd00:1::1".parse().unwrap(),
            peer_address: "fe80::2".parse().unwrap(),
        };
        let inner = RelayHeader {
            hop_count: 0,
            link_address: "fd00:77::1".parse().unwrap(),
            peer_address: "fe80::5054:ff:feef:601".parse().unwrap(),
        };
        let mut client = [0u8; 64];
        let mut s = Builder::new(&mut client, MessageType::Solicit, xid()).unwrap();
        s.client_id(&Duid::ll_ethernet([1, 2, 3, 4, 5, 6])).unwrap();
        let n = s.finish().unwrap();
        let mut forw = [0u8; 256];
        let mut r = RelayBuilder::new(&mut forw, MessageType::RelayForw, outer).unwrap();
        r.interface_id(b"uplink").unwrap();
        let mut r = r.relay(MessageType::RelayForw, inner).unwrap();
        r.interface_id(b"port7")
            .unwrap()
            .remote_id(9, b"x")
            .unwrap();
        let fn_ = r.relay_message(&client[..n]).unwrap();
        let forw = RelayMessage::new_checked(&forw[..fn_]).unwrap();

        let mut out = [0u8; 512];
        let mut b = Builder::relay_reply_to(&forw, MessageType::Advertise, &mut out).unwrap();
        b.preference(255).unwrap();
        let len = b.finish().unwrap();
        let repl = RelayMessage::new_checked(&out[..len]).unwrap();
        assert_eq!(repl.msg_type(), MessageType::RelayRepl);
        assert_eq!(repl.header(), outer);
        assert_eq!(repl.interface_id(), Some(&b"uplink"[..]));
        let end = repl.innermost().unwrap();
        let (near, m) = (end.relay, end.message);
        assert_eq!(near.header(), inner);
        assert_eq!(near.interface_id(), Some(&b"port7"[..]));
        assert_eq!(near.remote_id().unwrap(), None, "remote-id is not echoed");
        assert_eq!(m.msg_type(), MessageType::Advertise);
        assert_eq!(m.transaction_id(), xid());
        assert_eq!(
            m.client_id().unwrap().unwrap().mac(),
            Some([1, 2, 3, 4, 5, 6])
        );
        assert_eq!(m.preference().unwrap(), Some(255));

        // A RELAY-REPL is no request to answer.
        let mut out2 = [0u8; 512];
        assert!(matches!(
            Builder::relay_reply_to(&repl, MessageType::Reply, &mut out2),
            Err(Error::UnexpectedType {
                msg_type: MessageType::RelayRepl,
                expected: "RELAY-FORW"
            })
        ));
    }

    #[test]
    fn relay_depth_is_limited() {
        let h = RelayHeader {
            hop_count: 0,
            link_address: Ipv6Addr::UNSPECIFIED,
            peer_address: Ipv6Addr::UNSPECIFIED,
        };
        let mut buf = vec![0u8; 4096];
        let mut r = RelayBuilder::new(&mut buf, MessageType::RelayForw, h).unwrap();
        for _ in 1..MAX_RELAY_DEPTH {
            r = r.relay(MessageType::RelayForw, h).unwrap();
        }
        let n = r
            .message(MessageType::Solicit, xid())
            .unwrap()
            .finish()
            .unwrap();
        let chain = RelayMessage::new_checked(&buf[..n]).unwrap();
        let m = chain.innermost().unwrap().message;
        assert_eq!(m.transaction_id(), xid(), "the deepest chain built is read");

        let mut r = RelayBuilder::new(&mut buf, MessageType::RelayForw, h).unwrap();
        for _ in 1..MAX_RELAY_DEPTH {
            r = r.relay(MessageType::RelayForw, h).unwrap();
        }
        assert!(matches!(
            r.relay(MessageType::RelayForw, h),
            Err(Error::RelayTooDeep {
                limit: MAX_RELAY_DEPTH
            })
        ));

        // One more level, written by hand, is refused by the reader.
        let mut m = vec![1, 0, 0, 1];
        for _ in 0..=MAX_RELAY_DEPTH {
            let mut outer = vec![12u8; 1];
            outer.extend_from_slice(&[0; 33]);
            outer.extend_from_slice(&[0, 9]);
            outer.extend_from_slice(&(m.len() as u16).to_be_bytes());
            outer.extend_from_slice(&m);
            m = outer;
        }
        let r = RelayMessage::new_checked(&m[..]).unwrap();
        assert_eq!(
            r.innermost().unwrap_err(),
            Error::RelayTooDeep {
                limit: MAX_RELAY_DEPTH
            }
        );
    }
}
