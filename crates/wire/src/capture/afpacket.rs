//! Live capture from a Linux interface through an AF_PACKET `TPACKET_V3` ring.
//!
//! # How the ring works
//!
//! A packet socket with a receive ring (`PACKET_RX_RING`) shares memory with the
//! kernel: we `mmap` the socket and get `block_count` blocks of `block_size` bytes
//! each. Every block starts with a `tpacket_block_desc` whose `block_status` says who
//! owns it. The kernel fills the block it owns with packets, one after the other,
//! each behind a `tpacket3_hdr` (timestamp, lengths, VLAN tag the NIC stripped,
//! offset of the next packet). When the block is full, or when `block_timeout_ms`
//! passes with at least one packet in it, the kernel "retires" the block: it sets
//! `TP_STATUS_USER` and moves on to the next block. We walk the retired block
//! in place — no copy, no system call per packet — and hand it back by writing
//! `TP_STATUS_KERNEL`. Blocks are used strictly in ring order, so the reader only
//! needs to remember the index of the next block to look at. When every block is
//! ours, the kernel has nowhere to write and counts the packet as a drop.
//!
//! # Why TPACKET_V3 and not V2 or `recvfrom`
//!
//! `recvfrom` costs a system call and a copy per packet. `TPACKET_V2` removes both
//! but uses fixed-size frames, so a ring sized for jumbo frames wastes most of its
//! memory on small OT packets (Modbus, S7, EtherNet/IP I/O are mostly under
//! 200 bytes). `TPACKET_V3` packs variable-sized packets into blocks and wakes the
//! reader once per block instead of once per packet. Its one weakness, latency on a
//! quiet link, is bounded by the block timeout.
//!
//! # Using it
//!
//! [`AfPacketSource::open`] sets a socket up from an [`AfPacketConfig`];
//! [`AfPacketSource::open_fanout`] opens one socket per worker thread in one
//! `PACKET_FANOUT` group, so that the kernel spreads packets over the workers by a
//! symmetric flow hash (both directions of a flow reach the same worker).
//! [`AfPacketSource::poll`] waits at most `timeout` for a retired block and calls
//! a closure with each [`Packet`], borrowed straight from the ring. To stop, give
//! `poll` a short timeout (100 ms is fine) and check a stop flag between calls:
//!
//! ```no_run
//! # use std::sync::atomic::{AtomicBool, Ordering};
//! # use std::time::Duration;
//! # use mamori_wire::capture::afpacket::{AfPacketConfig, AfPacketSource};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stop = AtomicBool::new(false);
//! let mut source = AfPacketSource::open(&AfPacketConfig::new("eth1"))?;
//! while !stop.load(Ordering::Relaxed) {
//!     source.poll(Duration::from_millis(100), |packet| {
//!         // decode, hand to the flow table, ...
//!         let _ = packet.data.len();
//!     })?;
//! }
//! let stats = source.stats()?;
//! eprintln!("{} packets, {} dropped by the kernel", stats.packets, stats.drops);
//! # Ok(())
//! # }
//! ```
//!
//! # What the kernel does to frames, and what we undo
//!
//! - The kernel (or the NIC) strips the outer 802.1Q tag of received frames into
//!   packet metadata; we put it back, so decoded frames carry their VLAN exactly as
//!   they would in a capture file. Only such frames are copied (into one scratch
//!   buffer per source); all others are handed out zero-copy.
//! - With GRO/LRO enabled on the capture interface, the kernel hands us merged
//!   "super-packets" of up to 64 KiB instead of wire frames. On a mirror port,
//!   turn them off (`ethtool -K eth1 gro off lro off`).
//! - Both directions are captured: we do not set `PACKET_IGNORE_OUTGOING`, since
//!   frames on a mirror port can look "outgoing" and a sensor must not miss them.
//!
//! # Safety
//!
//! This is the only module of mamori that uses `unsafe`: socket options, `mmap`
//! and the shared ring. Every block carries a `SAFETY:` note. Everything that reads
//! packet metadata works on a bounds-checked `&[u8]` of one block (`walk_block`),
//! so a kernel bug or a corrupted ring cannot make us read outside the block.

use std::cell::Cell;
use std::ffi::CString;
use std::io;
use std::mem::{self, offset_of};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::Packet;
use crate::{LinkType, Timestamp};

/// How the kernel spreads packets over the sockets of one fanout group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FanoutMode {
    /// By a hash of the flow (`PACKET_FANOUT_HASH`). The kernel computes it with
    /// `__skb_get_hash_symmetric` (net/packet/af_packet.c, `fanout_demux_hash`,
    /// since Linux 4.3): addresses and ports are ordered before hashing, so both
    /// directions of a flow land on the same socket. IP fragments are hashed on
    /// addresses only (the kernel's flow dissector does not read ports of
    /// fragments), so all fragments of a datagram meet in one worker, though not
    /// necessarily the worker of that flow's unfragmented packets.
    #[default]
    Hash,
    /// Round robin (`PACKET_FANOUT_LB`). Breaks flow affinity.
    LoadBalance,
    /// By the CPU that received the packet (`PACKET_FANOUT_CPU`).
    Cpu,
    /// By the NIC's receive queue (`PACKET_FANOUT_QM`).
    QueueMapping,
}

impl FanoutMode {
    fn raw(self) -> u16 {
        let mode = match self {
            FanoutMode::Hash => libc::PACKET_FANOUT_HASH,
            FanoutMode::LoadBalance => libc::PACKET_FANOUT_LB,
            FanoutMode::Cpu => libc::PACKET_FANOUT_CPU,
            FanoutMode::QueueMapping => libc::PACKET_FANOUT_QM,
        };
        mode as u16
    }
}

/// How to open a live capture on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfPacketConfig {
    /// The interface name, e.g. `eth1`.
    pub interface: String,
    /// The `PACKET_FANOUT` group to join, if any. Every socket of a group must use
    /// the same mode. Groups are per network namespace; see
    /// [`AfPacketSource::open_fanout`] to get a fresh one from the kernel.
    pub fanout_group: Option<u16>,
    /// How the kernel spreads packets within the fanout group.
    pub fanout_mode: FanoutMode,
    /// Bytes per ring block: a power of two, at least one page (default 1 MiB).
    /// Packets longer than a block are cut to fit.
    pub block_size: u32,
    /// Blocks in the ring (default 64). The ring costs `block_size * block_count`
    /// bytes of locked kernel memory per socket, so 64 MiB by default and that much
    /// again for each fanout worker.
    pub block_count: u32,
    /// `tp_frame_size`: in V3 only a nominal slot size the kernel checks the ring
    /// geometry against (a multiple of 16, at least 128, at most `block_size`).
    pub frame_size: u32,
    /// After this many milliseconds the kernel hands over a block that holds at
    /// least one packet even if it is not full (default 100; 0 lets the kernel
    /// choose from the link speed). This bounds capture latency on a quiet link.
    pub block_timeout_ms: u32,
    /// Put the interface in promiscuous mode while the socket is open (default
    /// true). The kernel undoes it when the socket closes, even on a crash.
    pub promiscuous: bool,
    /// Keep at most this many bytes of each packet (default 262144, at least 64).
    /// Enforced in the kernel by a one-instruction socket filter.
    pub snaplen: u32,
}

impl AfPacketConfig {
    /// The defaults for capturing on `interface`.
    pub fn new(interface: impl Into<String>) -> Self {
        AfPacketConfig {
            interface: interface.into(),
            fanout_group: None,
            fanout_mode: FanoutMode::Hash,
            block_size: 1 << 20,
            block_count: 64,
            frame_size: 2048,
            block_timeout_ms: 100,
            promiscuous: true,
            snaplen: 262_144,
        }
    }

    /// Checks the ring geometry and lengths; [`AfPacketSource::open`] calls it.
    pub fn validate(&self) -> Result<(), CaptureError> {
        let invalid = |reason: String| {
            Err(CaptureError::InvalidConfig {
                interface: self.interface.clone(),
                reason,
            })
        };
        let page = page_size();
        if !self.block_size.is_power_of_two() || (self.block_size as usize) < page {
            return invalid(format!(
                "block_size {} must be a power of two of at least the page size ({page})",
                self.block_size
            ));
        }
        if self.block_size > MAX_BLOCK_SIZE {
            return invalid(format!(
                "block_size {} is above the limit of {MAX_BLOCK_SIZE}",
                self.block_size
            ));
        }
        if self.block_count == 0 {
            return invalid("block_count must be at least 1".into());
        }
        // u64: u32 * u32 cannot overflow it.
        let ring = u64::from(self.block_size) * u64::from(self.block_count);
        if ring > MAX_RING_BYTES {
            return invalid(format!(
                "ring of {} blocks of {} bytes ({ring} bytes) is above the limit of {MAX_RING_BYTES}",
                self.block_count, self.block_size
            ));
        }
        if self.frame_size < 128
            || !self.frame_size.is_multiple_of(16)
            || self.frame_size > self.block_size
        {
            return invalid(format!(
                "frame_size {} must be a multiple of 16 between 128 and block_size",
                self.frame_size
            ));
        }
        if self.snaplen < MIN_SNAPLEN {
            return invalid(format!(
                "snaplen {} is below the minimum of {MIN_SNAPLEN}",
                self.snaplen
            ));
        }
        Ok(())
    }
}

/// The largest block accepted (the kernel allocates each block contiguously).
const MAX_BLOCK_SIZE: u32 = 1 << 30;
/// The largest ring accepted per socket.
const MAX_RING_BYTES: u64 = 16 << 30;
/// The smallest snapshot length accepted.
const MIN_SNAPLEN: u32 = 64;

/// What went wrong opening or reading a live capture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The configuration is inconsistent.
    #[error("{interface}: invalid capture settings: {reason}")]
    InvalidConfig {
        /// The interface.
        interface: String,
        /// What is wrong.
        reason: String,
    },
    /// There is no interface of that name (in this network namespace).
    #[error("{interface}: no such network interface")]
    NoSuchInterface {
        /// The interface.
        interface: String,
    },
    /// The process may not open packet sockets.
    #[error(
        "{interface}: permission denied opening a packet socket: live capture needs \
         CAP_NET_RAW (run as root, or `setcap cap_net_raw+ep` on the binary): {source}"
    )]
    PermissionDenied {
        /// The interface.
        interface: String,
        /// The error from `socket(2)`.
        source: io::Error,
    },
    /// The kernel has no `TPACKET_V3` (Linux before 3.2, or packet sockets disabled).
    #[error("{interface}: the kernel does not support AF_PACKET TPACKET_V3 rings: {source}")]
    Tpacket3Unsupported {
        /// The interface.
        interface: String,
        /// The error from `setsockopt(PACKET_VERSION)` or `socket(2)`.
        source: io::Error,
    },
    /// The kernel refused the ring geometry or could not allocate it.
    #[error(
        "{interface}: could not set up a receive ring of {block_count} blocks of \
         {block_size} bytes: {source}"
    )]
    RingSetup {
        /// The interface.
        interface: String,
        /// Bytes per block.
        block_size: u32,
        /// Blocks.
        block_count: u32,
        /// The error from `setsockopt(PACKET_RX_RING)`.
        source: io::Error,
    },
    /// The ring could not be mapped into our memory.
    #[error("{interface}: could not mmap the {bytes}-byte receive ring: {source}")]
    Mmap {
        /// The interface.
        interface: String,
        /// Size of the ring.
        bytes: usize,
        /// The error from `mmap(2)`.
        source: io::Error,
    },
    /// The interface's hardware type has no link type mamori decodes.
    #[error(
        "{interface}: interface hardware type {hatype} (ARPHRD_*) is not supported for \
         live capture; only Ethernet, loopback and raw-IP (tun) interfaces are"
    )]
    UnsupportedInterfaceType {
        /// The interface.
        interface: String,
        /// Its `ARPHRD_*` type.
        hatype: u16,
    },
    /// The interface went down (or was removed). The socket resumes by itself when
    /// the interface comes back up, so a caller may log this and keep polling.
    #[error("{interface}: interface went down: {source}")]
    InterfaceDown {
        /// The interface.
        interface: String,
        /// The pending socket error (`ENETDOWN`).
        source: io::Error,
    },
    /// Any other system call failed.
    #[error("{interface}: {op} failed: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The operation.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// Counters of one live source, accumulated since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets that reached the socket, as the kernel counts them: those put in
    /// the ring plus those dropped.
    pub packets: u64,
    /// Packets the kernel dropped because no ring block was free: the reader was
    /// too slow. These never reach the pipeline.
    pub drops: u64,
    /// Times the kernel found the ring full and froze it (each time the reader
    /// fell behind by a whole ring).
    pub freeze_queue_count: u64,
    /// Packets handed to the caller.
    pub delivered: u64,
    /// Blocks whose metadata was inconsistent; their remaining packets were
    /// skipped (never seen with a correct kernel).
    pub malformed_blocks: u64,
}

impl CaptureStats {
    fn add_kernel(&mut self, k: &libc::tpacket_stats_v3) {
        self.packets += u64::from(k.tp_packets);
        self.drops += u64::from(k.tp_drops);
        self.freeze_queue_count += u64::from(k.tp_freeze_q_cnt);
    }
}

/// A live capture on one interface through a `TPACKET_V3` ring.
///
/// The socket, the ring mapping and promiscuous mode are released on drop.
#[derive(Debug)]
pub struct AfPacketSource {
    // Field order is drop order: unmap the ring, then close the socket.
    ring: Ring,
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    link: LinkType,
    fanout_group: Option<u16>,
    /// The next block to read, in ring order.
    next: usize,
    /// Frames whose VLAN tag we put back are assembled here.
    scratch: Vec<u8>,
    stats: Cell<CaptureStats>,
}

impl AfPacketSource {
    /// Opens a capture socket on `config.interface` and sets its ring up.
    ///
    /// Order matters: the socket is created listening to no protocol, so nothing
    /// reaches it until the ring, the snaplen filter and everything else are in
    /// place and we bind it to the interface; the fanout group is joined last
    /// because the kernel only lets a bound socket join.
    pub fn open(config: &AfPacketConfig) -> Result<Self, CaptureError> {
        config.validate()?;
        let name = &config.interface;
        let ifindex = interface_index(name)?;
        let fd = open_socket(name)?;
        let sock = Socket {
            fd: fd.as_raw_fd(),
            interface: name,
        };

        sock.set_option(
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V3 as libc::c_int),
        )
        .map_err(|source| CaptureError::Tpacket3Unsupported {
            interface: name.clone(),
            source,
        })?;

        // A classic BPF program of one instruction, `ret #snaplen`: the kernel keeps
        // at most that many bytes of every packet (0 would mean "drop").
        let mut program = [libc::sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: config.snaplen,
        }];
        let fprog = libc::sock_fprog {
            len: 1,
            filter: program.as_mut_ptr(),
        };
        sock.set_socket_option(libc::SO_ATTACH_FILTER, &fprog, "SO_ATTACH_FILTER")?;

        let frames_per_block = config.block_size / config.frame_size;
        let req = libc::tpacket_req3 {
            tp_block_size: config.block_size,
            tp_block_nr: config.block_count,
            tp_frame_size: config.frame_size,
            // Cannot overflow: this is at most MAX_RING_BYTES / 128 = 2^27.
            tp_frame_nr: frames_per_block.saturating_mul(config.block_count),
            tp_retire_blk_tov: config.block_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        sock.set_option(libc::PACKET_RX_RING, &req)
            .map_err(|source| CaptureError::RingSetup {
                interface: name.clone(),
                block_size: config.block_size,
                block_count: config.block_count,
                source,
            })?;

        let ring = Ring::map(
            &fd,
            config.block_size as usize,
            config.block_count as usize,
            name,
        )?;

        sock.bind(ifindex, ETH_P_ALL_BE)?;
        let hatype = sock.hardware_type()?;
        let link = match hatype {
            // The loopback device carries a fake Ethernet header (zero MACs).
            libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LinkType::ETHERNET,
            // tun and WireGuard devices have no link header: frames start at IP.
            libc::ARPHRD_NONE => LinkType::RAW,
            _ => {
                return Err(CaptureError::UnsupportedInterfaceType {
                    interface: name.clone(),
                    hatype,
                });
            }
        };

        if config.promiscuous {
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex as libc::c_int,
                mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            sock.set_option(libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(|source| sock.io_error("PACKET_ADD_MEMBERSHIP (promiscuous)", source))?;
        }

        if let Some(group) = config.fanout_group {
            let arg = fanout_arg(group, config.fanout_mode.raw(), 0);
            sock.set_option(libc::PACKET_FANOUT, &arg)
                .map_err(|source| sock.io_error("PACKET_FANOUT", source))?;
        }

        Ok(AfPacketSource {
            ring,
            fd,
            interface: name.clone(),
            ifindex,
            link,
            fanout_group: config.fanout_group,
            next: 0,
            scratch: Vec::new(),
            stats: Cell::new(CaptureStats::default()),
        })
    }

    /// Opens `workers` sockets on one interface in one fanout group, one for each
    /// worker thread (move each source to its thread). With `config.fanout_group`
    /// unset and more than one worker, the kernel picks a group id unused in this
    /// network namespace (`PACKET_FANOUT_FLAG_UNIQUEID`, Linux 4.4+), so two
    /// sensors never join each other's group by accident.
    ///
    /// Between a socket's bind and its joining the group (microseconds) it sees
    /// every packet, so the first packets of a run may reach two workers.
    pub fn open_fanout(
        config: &AfPacketConfig,
        workers: usize,
    ) -> Result<Vec<AfPacketSource>, CaptureError> {
        if workers == 0 {
            return Err(CaptureError::InvalidConfig {
                interface: config.interface.clone(),
                reason: "at least one worker is needed".into(),
            });
        }
        if workers == 1 || config.fanout_group.is_some() {
            return (0..workers).map(|_| AfPacketSource::open(config)).collect();
        }
        let mut first = AfPacketSource::open(config)?;
        let group = first.join_unique_fanout(config.fanout_mode)?;
        let joined = AfPacketConfig {
            fanout_group: Some(group),
            ..config.clone()
        };
        let mut sources = Vec::with_capacity(workers);
        sources.push(first);
        for _ in 1..workers {
            sources.push(AfPacketSource::open(&joined)?);
        }
        Ok(sources)
    }

    fn join_unique_fanout(&mut self, mode: FanoutMode) -> Result<u16, CaptureError> {
        let sock = self.socket();
        let flag = libc::PACKET_FANOUT_FLAG_UNIQUEID as u16;
        sock.set_option(libc::PACKET_FANOUT, &fanout_arg(0, mode.raw(), flag))
            .map_err(|source| sock.io_error("PACKET_FANOUT (unique id)", source))?;
        // The kernel answers with `id | type << 16 | flags << 24`.
        let value: libc::c_int = sock
            .get_option(libc::PACKET_FANOUT, 0)
            .map_err(|source| sock.io_error("getsockopt(PACKET_FANOUT)", source))?;
        let group = (value & 0xffff) as u16;
        self.fanout_group = Some(group);
        Ok(group)
    }

    /// The interface this source captures on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's index (in the network namespace it was opened in).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The link type of every packet this source hands out.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The fanout group this socket belongs to, if any.
    pub fn fanout_group(&self) -> Option<u16> {
        self.fanout_group
    }

    /// Waits at most `timeout` for captured packets and calls `f` with each, in
    /// ring order; returns how many were handed out (0 when the wait timed out).
    ///
    /// It reads every block that is ready, up to one whole ring, and gives each
    /// back to the kernel right after its last packet, so `f` must not be slow.
    /// Packets borrow the ring and are valid only during the call. A timeout of
    /// zero polls without waiting. A signal interrupting the wait counts as a
    /// timeout, so the caller gets to check its stop flag.
    ///
    /// If `f` panics, the block being read is never given back and the kernel
    /// will drop everything once it reaches it again: drop the source.
    pub fn poll(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(Packet<'_>),
    ) -> Result<usize, CaptureError> {
        if !self.ring.is_user_block(self.next) {
            if !self.wait_readable(timeout)? {
                return Ok(0);
            }
            if !self.ring.is_user_block(self.next) {
                return Ok(0);
            }
        }
        let link = self.link;
        let mut delivered = 0usize;
        let mut malformed = 0u64;
        for _ in 0..self.ring.block_count {
            if !self.ring.is_user_block(self.next) {
                break;
            }
            let block = self.ring.user_block(self.next);
            let scratch = &mut self.scratch;
            let walk = walk_block(block, |frame| {
                f(frame.into_packet(link, scratch));
            });
            delivered += walk.packets;
            malformed += u64::from(walk.malformed);
            self.ring.release_block(self.next);
            self.next = (self.next + 1) % self.ring.block_count;
        }
        let mut stats = self.stats.get();
        stats.delivered += delivered as u64;
        stats.malformed_blocks += malformed;
        self.stats.set(stats);
        Ok(delivered)
    }

    /// Waits for the socket to become readable; `Ok(false)` on timeout or signal.
    fn wait_readable(&self, timeout: Duration) -> Result<bool, CaptureError> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `pfd` is a valid, initialised pollfd that lives across the call,
        // and we pass a count of exactly one.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(self.socket().io_error("poll", err));
        }
        if n == 0 {
            return Ok(false);
        }
        if pfd.revents & libc::POLLERR != 0 {
            let sock = self.socket();
            let code: libc::c_int = sock
                .get_socket_option(libc::SO_ERROR, 0)
                .map_err(|source| sock.io_error("getsockopt(SO_ERROR)", source))?;
            if code != 0 {
                let source = io::Error::from_raw_os_error(code);
                if code == libc::ENETDOWN || code == libc::ENODEV || code == libc::ENXIO {
                    return Err(CaptureError::InterfaceDown {
                        interface: self.interface.clone(),
                        source,
                    });
                }
                return Err(sock.io_error("capture socket", source));
            }
        }
        Ok(pfd.revents & libc::POLLIN != 0)
    }

    /// Counters since the source was opened. Reading the kernel's counters resets
    /// them there, so this adds them to the running totals; call it as often as
    /// convenient (e.g. once a second for a progress line, and once at the end).
    pub fn stats(&self) -> Result<CaptureStats, CaptureError> {
        let sock = self.socket();
        let kernel: libc::tpacket_stats_v3 = sock
            .get_option(
                libc::PACKET_STATISTICS,
                libc::tpacket_stats_v3 {
                    tp_packets: 0,
                    tp_drops: 0,
                    tp_freeze_q_cnt: 0,
                },
            )
            .map_err(|source| sock.io_error("getsockopt(PACKET_STATISTICS)", source))?;
        let mut stats = self.stats.get();
        stats.add_kernel(&kernel);
        self.stats.set(stats);
        Ok(stats)
    }

    fn socket(&self) -> Socket<'_> {
        Socket {
            fd: self.fd.as_raw_fd(),
            interface: &self.interface,
        }
    }
}

/// `ETH_P_ALL` in network byte order, as `socket(2)` and `bind(2)` want it.
const ETH_P_ALL_BE: u16 = (libc::ETH_P_ALL as u16).to_be();
/// `BPF_RET | BPF_K`: return the constant `k`.
const BPF_RET_K: u16 = 0x06;

fn fanout_arg(group: u16, mode: u16, flags: u16) -> libc::c_int {
    // `PACKET_FANOUT` takes `id | (type | flags) << 16` as an int.
    (u32::from(group) | (u32::from(mode | flags) << 16)) as libc::c_int
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if page > 0 { page as usize } else { 4096 }
}

fn interface_index(name: &str) -> Result<u32, CaptureError> {
    let missing = || CaptureError::NoSuchInterface {
        interface: name.to_string(),
    };
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(missing());
    }
    let c_name = CString::new(name).map_err(|_| missing())?;
    // SAFETY: `c_name` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(missing());
    }
    Ok(index)
}

fn open_socket(name: &str) -> Result<OwnedFd, CaptureError> {
    // Protocol 0: the socket receives nothing until `bind` names a protocol.
    // SAFETY: plain system call with constant arguments; no memory is passed.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        let source = io::Error::last_os_error();
        return Err(match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => CaptureError::PermissionDenied {
                interface: name.to_string(),
                source,
            },
            Some(libc::EAFNOSUPPORT) => CaptureError::Tpacket3Unsupported {
                interface: name.to_string(),
                source,
            },
            _ => CaptureError::Io {
                interface: name.to_string(),
                op: "socket(AF_PACKET)",
                source,
            },
        });
    }
    // SAFETY: `fd` was just returned by socket(2), is valid, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A borrowed packet socket, for option calls.
struct Socket<'a> {
    fd: libc::c_int,
    interface: &'a str,
}

impl Socket<'_> {
    fn io_error(&self, op: &'static str, source: io::Error) -> CaptureError {
        CaptureError::Io {
            interface: self.interface.to_string(),
            op,
            source,
        }
    }

    fn set_option<T>(&self, name: libc::c_int, value: &T) -> io::Result<()> {
        self.setsockopt(libc::SOL_PACKET, name, value)
    }

    fn set_socket_option<T>(
        &self,
        name: libc::c_int,
        value: &T,
        op: &'static str,
    ) -> Result<(), CaptureError> {
        self.setsockopt(libc::SOL_SOCKET, name, value)
            .map_err(|source| self.io_error(op, source))
    }

    fn setsockopt<T>(&self, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points to a live, initialised `T` of the size we pass;
        // the kernel only reads it. Each caller pairs the option with the
        // `#[repr(C)]` struct (from `libc`, mirroring the kernel's uapi headers)
        // or `c_int` that the option expects.
        let rc = unsafe {
            libc::setsockopt(
                self.fd,
                level,
                name,
                (value as *const T).cast(),
                mem::size_of::<T>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn get_option<T: Copy>(&self, name: libc::c_int, zero: T) -> io::Result<T> {
        self.getsockopt(libc::SOL_PACKET, name, zero)
    }

    fn get_socket_option<T: Copy>(&self, name: libc::c_int, zero: T) -> io::Result<T> {
        self.getsockopt(libc::SOL_SOCKET, name, zero)
    }

    /// Reads an option into a copy of `value` (its initial contents).
    fn getsockopt<T: Copy>(
        &self,
        level: libc::c_int,
        name: libc::c_int,
        mut value: T,
    ) -> io::Result<T> {
        let mut len = mem::size_of::<T>() as libc::socklen_t;
        // SAFETY: `value` is a live, writable `T` and `len` tells the kernel its
        // exact size, so it writes at most that many bytes. `T` is a plain C
        // struct or integer (every bit pattern valid) chosen by the caller to match
        // the option.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                level,
                name,
                (&mut value as *mut T).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            Ok(value)
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn bind(&self, ifindex: u32, protocol_be: u16) -> Result<(), CaptureError> {
        // SAFETY: sockaddr_ll is a plain C struct for which all-zero is valid.
        let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as libc::c_ushort;
        addr.sll_protocol = protocol_be;
        addr.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: `addr` is a live, initialised sockaddr_ll and we pass its size.
        let rc = unsafe {
            libc::bind(
                self.fd,
                (&addr as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            let source = io::Error::last_os_error();
            if source.raw_os_error() == Some(libc::ENODEV) {
                return Err(CaptureError::NoSuchInterface {
                    interface: self.interface.to_string(),
                });
            }
            Err(self.io_error("bind", source))
        }
    }

    /// The bound interface's `ARPHRD_*` type, from `getsockname`.
    fn hardware_type(&self) -> Result<u16, CaptureError> {
        // SAFETY: sockaddr_ll is a plain C struct for which all-zero is valid.
        let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `addr` is writable and `len` holds its size; the kernel writes at
        // most `len` bytes and updates `len`.
        let rc = unsafe {
            libc::getsockname(
                self.fd,
                (&mut addr as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(self.io_error("getsockname", io::Error::last_os_error()));
        }
        Ok(addr.sll_hatype)
    }
}

/// The mapped receive ring.
#[derive(Debug)]
struct Ring {
    base: NonNull<u8>,
    block_size: usize,
    block_count: usize,
}

// SAFETY: the mapping is owned by this value alone (it is never shared or
// cloned), and nothing about it is tied to the thread that created it, so it may
// move to another thread. It is not Sync: reading and releasing blocks takes
// `&mut AfPacketSource`.
unsafe impl Send for Ring {}

impl Ring {
    fn map(
        fd: &OwnedFd,
        block_size: usize,
        block_count: usize,
        interface: &str,
    ) -> Result<Self, CaptureError> {
        // Cannot overflow: validate() capped the ring at MAX_RING_BYTES.
        let bytes = block_size * block_count;
        // SAFETY: we ask for a fresh shared mapping of the socket's ring (the
        // kernel checks that `bytes` matches the ring it set up); no existing
        // memory is touched. The result is checked against MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(CaptureError::Mmap {
                interface: interface.to_string(),
                bytes,
                source: io::Error::last_os_error(),
            });
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| CaptureError::Mmap {
            interface: interface.to_string(),
            bytes,
            source: io::Error::other("mmap returned a null address"),
        })?;
        Ok(Ring {
            base,
            block_size,
            block_count,
        })
    }

    /// The `block_status` word of block `index` (< block_count).
    fn status(&self, index: usize) -> &AtomicU32 {
        debug_assert!(index < self.block_count);
        // SAFETY: `index < block_count`, so the offset lies inside the mapping,
        // which lives as long as `self`. Blocks start at multiples of the page
        // size, so the word at BLOCK_STATUS (8) is 4-byte aligned. The kernel
        // writes this word concurrently, which is why we only ever access it
        // through an atomic (never through a plain `&[u8]` while the kernel owns
        // the block).
        unsafe {
            let word = self
                .base
                .as_ptr()
                .add(index * self.block_size + BLOCK_STATUS)
                .cast::<u32>();
            AtomicU32::from_ptr(word)
        }
    }

    /// Whether the kernel has handed block `index` to us.
    fn is_user_block(&self, index: usize) -> bool {
        // Acquire pairs with the kernel's write barrier before it sets
        // TP_STATUS_USER (prb_close_block: smp_wmb), so every packet it wrote
        // into the block is visible to our later plain reads of the block.
        self.status(index).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// Block `index` as bytes. Call only after `is_user_block(index)` returned
    /// true and before `release_block(index)`.
    fn user_block(&self, index: usize) -> &[u8] {
        debug_assert!(index < self.block_count);
        // SAFETY: the range is inside the mapping, which outlives the returned
        // borrow (tied to `&self`). The kernel does not write to a block while its
        // status says TP_STATUS_USER, which the caller checked (with Acquire
        // ordering, so the kernel's writes are visible). The block goes back to the
        // kernel only through `release_block`, which takes `&mut self`, so the
        // borrow checker ends every borrow of the block before the kernel may
        // write to it again.
        unsafe {
            std::slice::from_raw_parts(
                self.base.as_ptr().add(index * self.block_size),
                self.block_size,
            )
        }
    }

    /// Gives block `index` back to the kernel.
    fn release_block(&mut self, index: usize) {
        // Release orders all our reads of the block before the store, so the kernel
        // never overwrites bytes we have yet to read.
        self.status(index)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base` and this length are exactly what mmap returned and was
        // given; no borrow of the ring outlives `self` (every borrow is tied to
        // `&self`), so nothing can touch the memory after this.
        unsafe {
            libc::munmap(
                self.base.as_ptr().cast(),
                self.block_size * self.block_count,
            );
        }
    }
}

// Layout of `struct tpacket_block_desc` (block header) and `struct tpacket3_hdr`
// (packet header), from include/uapi/linux/if_packet.h. The asserts tie our
// offsets to the `libc` definitions of the same structs.
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
const BLOCK_LEN: usize = 20;
const BLOCK_HEADER_LEN: usize = 48;

const PKT_NEXT_OFFSET: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
const PKT_HEADER_LEN: usize = 48;

const _: () = {
    use libc::{tpacket_block_desc as Bd, tpacket_hdr_v1 as H1, tpacket3_hdr as P};
    assert!(offset_of!(Bd, hdr) + offset_of!(H1, block_status) == BLOCK_STATUS);
    assert!(offset_of!(Bd, hdr) + offset_of!(H1, num_pkts) == BLOCK_NUM_PKTS);
    assert!(offset_of!(Bd, hdr) + offset_of!(H1, offset_to_first_pkt) == BLOCK_FIRST_PKT);
    assert!(offset_of!(Bd, hdr) + offset_of!(H1, blk_len) == BLOCK_LEN);
    assert!(mem::size_of::<Bd>() == BLOCK_HEADER_LEN);
    assert!(offset_of!(P, tp_next_offset) == PKT_NEXT_OFFSET);
    assert!(offset_of!(P, tp_sec) == PKT_SEC);
    assert!(offset_of!(P, tp_nsec) == PKT_NSEC);
    assert!(offset_of!(P, tp_snaplen) == PKT_SNAPLEN);
    assert!(offset_of!(P, tp_len) == PKT_LEN);
    assert!(offset_of!(P, tp_status) == PKT_STATUS);
    assert!(offset_of!(P, tp_mac) == PKT_MAC);
    assert!(
        offset_of!(P, hv1) + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tci) == PKT_VLAN_TCI
    );
    assert!(
        offset_of!(P, hv1) + offset_of!(libc::tpacket_hdr_variant1, tp_vlan_tpid) == PKT_VLAN_TPID
    );
    assert!(mem::size_of::<P>() == PKT_HEADER_LEN);
};

/// One packet of a block, its offsets checked against the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawFrame<'a> {
    ts: Timestamp,
    /// The captured bytes, as the kernel put them in the block.
    data: &'a [u8],
    /// Length on the wire, as the kernel saw it (without a stripped VLAN tag).
    orig_len: u32,
    /// A VLAN tag the kernel stripped: (TPID, TCI).
    vlan: Option<(u16, u16)>,
}

impl<'a> RawFrame<'a> {
    /// The packet as a [`Packet`], with a stripped VLAN tag put back (through
    /// `scratch`); zero-copy otherwise.
    fn into_packet<'s>(self, link: LinkType, scratch: &'s mut Vec<u8>) -> Packet<'s>
    where
        'a: 's,
    {
        match self.vlan {
            Some((tpid, tci)) if link == LinkType::ETHERNET && self.data.len() >= 12 => {
                reinsert_vlan(scratch, self.data, tpid, tci);
                Packet {
                    ts: self.ts,
                    link,
                    data: scratch,
                    orig_len: self.orig_len.saturating_add(4),
                }
            }
            _ => Packet {
                ts: self.ts,
                link,
                data: self.data,
                orig_len: self.orig_len,
            },
        }
    }
}

/// Writes `frame` into `out` with an 802.1Q tag (`tpid`, `tci`) inserted after the
/// two MAC addresses. `frame` must hold at least the 12 address bytes.
fn reinsert_vlan(out: &mut Vec<u8>, frame: &[u8], tpid: u16, tci: u16) {
    let (macs, rest) = frame.split_at(12.min(frame.len()));
    out.clear();
    out.reserve(frame.len() + 4);
    out.extend_from_slice(macs);
    out.extend_from_slice(&tpid.to_be_bytes());
    out.extend_from_slice(&tci.to_be_bytes());
    out.extend_from_slice(rest);
}

/// What walking one block found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct BlockWalk {
    /// Packets handed out.
    packets: usize,
    /// Whether the walk stopped early on inconsistent metadata.
    malformed: bool,
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Walks the packets of one retired block, checking every offset and length
/// against the block before using it, and calls `f` with each.
///
/// The kernel writes the headers in host byte order. Packets follow each other at
/// increasing offsets (`tp_next_offset` > 0, the last one's is 0); a block that
/// breaks any of these rules, or claims more than fits, ends the walk there.
fn walk_block<'b>(block: &'b [u8], mut f: impl FnMut(RawFrame<'b>)) -> BlockWalk {
    let mut walk = BlockWalk::default();
    let (Some(count), Some(first), Some(used)) = (
        read_u32(block, BLOCK_NUM_PKTS),
        read_u32(block, BLOCK_FIRST_PKT),
        read_u32(block, BLOCK_LEN),
    ) else {
        walk.malformed = true;
        return walk;
    };
    // Everything the kernel wrote lies within `blk_len`; never trust it beyond
    // the block itself.
    let end = (used as usize).min(block.len());
    let block = &block[..end];
    let mut offset = first as usize;
    for i in 0..count {
        let Some(frame) = frame_at(block, offset) else {
            walk.malformed = true;
            return walk;
        };
        f(frame.0);
        walk.packets += 1;
        let next = frame.1 as usize;
        if i + 1 == count {
            break;
        }
        // Progress guard: the offset must grow, or a lying header could loop us.
        if next == 0 {
            walk.malformed = true;
            return walk;
        }
        offset = match offset.checked_add(next) {
            Some(o) => o,
            None => {
                walk.malformed = true;
                return walk;
            }
        };
    }
    walk
}

/// The packet whose header starts at `offset` in `block`, and its `tp_next_offset`.
fn frame_at(block: &[u8], offset: usize) -> Option<(RawFrame<'_>, u32)> {
    let header = block.get(offset..offset.checked_add(PKT_HEADER_LEN)?)?;
    let next = read_u32(header, PKT_NEXT_OFFSET)?;
    let sec = read_u32(header, PKT_SEC)?;
    let nsec = read_u32(header, PKT_NSEC)?;
    let snaplen = read_u32(header, PKT_SNAPLEN)?;
    let len = read_u32(header, PKT_LEN)?;
    let status = read_u32(header, PKT_STATUS)?;
    let mac = read_u16(header, PKT_MAC)?;
    // tp_mac is relative to the packet header; the data must lie in the block.
    let start = offset.checked_add(usize::from(mac))?;
    let data = block.get(start..start.checked_add(snaplen as usize)?)?;
    if nsec >= 1_000_000_000 {
        return None;
    }
    let vlan = if status & libc::TP_STATUS_VLAN_VALID != 0 {
        let tci = read_u32(header, PKT_VLAN_TCI)? as u16;
        let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
            read_u16(header, PKT_VLAN_TPID)?
        } else {
            0x8100
        };
        Some((tpid, tci))
    } else {
        None
    };
    let frame = RawFrame {
        ts: Timestamp::from_secs_nanos(i64::from(sec), nsec),
        data,
        orig_len: len,
        vlan,
    };
    Some((frame, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic block, laid out as the kernel lays it out.
    struct BlockBuilder {
        bytes: Vec<u8>,
        count: u32,
        last_header: Option<usize>,
    }

    impl BlockBuilder {
        fn new(size: usize) -> Self {
            let mut bytes = vec![0u8; size];
            bytes[BLOCK_STATUS..BLOCK_STATUS + 4]
                .copy_from_slice(&libc::TP_STATUS_USER.to_ne_bytes());
            bytes[BLOCK_FIRST_PKT..BLOCK_FIRST_PKT + 4]
                .copy_from_slice(&(BLOCK_HEADER_LEN as u32).to_ne_bytes());
            let mut b = BlockBuilder {
                bytes,
                count: 0,
                last_header: None,
            };
            b.set_len(BLOCK_HEADER_LEN);
            b
        }

        fn put32(&mut self, at: usize, v: u32) {
            self.bytes[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        }

        fn get32(&self, at: usize) -> u32 {
            read_u32(&self.bytes, at).unwrap()
        }

        fn set_len(&mut self, len: usize) {
            self.put32(BLOCK_LEN, len as u32);
        }

        /// Appends a packet (header, 2 bytes of padding like the kernel's sockaddr
        /// area would add, data, 16-byte alignment) and links it to the previous.
        fn push(&mut self, sec: u32, nsec: u32, data: &[u8], vlan: Option<(u16, u16)>) {
            let at = self.get32(BLOCK_LEN) as usize;
            let mac = PKT_HEADER_LEN + 34; // the kernel leaves room for sockaddr_ll
            let total = (mac + data.len()).next_multiple_of(16);
            if let Some(prev) = self.last_header {
                self.put32(prev + PKT_NEXT_OFFSET, (at - prev) as u32);
            }
            self.put32(at + PKT_NEXT_OFFSET, 0);
            self.put32(at + PKT_SEC, sec);
            self.put32(at + PKT_NSEC, nsec);
            self.put32(at + PKT_SNAPLEN, data.len() as u32);
            self.put32(at + PKT_LEN, data.len() as u32 + 100);
            let mut status = libc::TP_STATUS_USER;
            if let Some((tpid, tci)) = vlan {
                status |= libc::TP_STATUS_VLAN_VALID | libc::TP_STATUS_VLAN_TPID_VALID;
                self.put32(at + PKT_VLAN_TCI, u32::from(tci));
                self.bytes[at + PKT_VLAN_TPID..at + PKT_VLAN_TPID + 2]
                    .copy_from_slice(&tpid.to_ne_bytes());
            }
            self.put32(at + PKT_STATUS, status);
            self.bytes[at + PKT_MAC..at + PKT_MAC + 2].copy_from_slice(&(mac as u16).to_ne_bytes());
            self.bytes[at + mac..at + mac + data.len()].copy_from_slice(data);
            self.last_header = Some(at);
            self.count += 1;
            self.put32(BLOCK_NUM_PKTS, self.count);
            self.set_len(at + total);
        }
    }

    /// What a walk handed out: timestamp, bytes, wire length, stripped VLAN tag.
    type Seen = (Timestamp, Vec<u8>, u32, Option<(u16, u16)>);

    fn collect(block: &[u8]) -> (Vec<Seen>, BlockWalk) {
        let mut out = Vec::new();
        let walk = walk_block(block, |f| {
            out.push((f.ts, f.data.to_vec(), f.orig_len, f.vlan))
        });
        (out, walk)
    }

    #[test]
    fn walks_every_packet_of_a_block() {
        let mut b = BlockBuilder::new(4096);
        b.push(1_700_000_000, 5, &[1; 60], None);
        b.push(1_700_000_001, 999_999_999, &[2; 61], Some((0x8100, 0x2005)));
        b.push(1_700_000_002, 0, &[3; 1], None);
        let (packets, walk) = collect(&b.bytes);
        assert_eq!(
            walk,
            BlockWalk {
                packets: 3,
                malformed: false
            }
        );
        assert_eq!(packets[0].0, Timestamp::from_secs_nanos(1_700_000_000, 5));
        assert_eq!(packets[0].1, vec![1; 60]);
        assert_eq!(packets[0].2, 160);
        assert_eq!(packets[0].3, None);
        assert_eq!(packets[1].1, vec![2; 61]);
        assert_eq!(packets[1].3, Some((0x8100, 0x2005)));
        assert_eq!(packets[2].0, Timestamp::from_secs_nanos(1_700_000_002, 0));
        assert_eq!(packets[2].1, vec![3]);
    }

    #[test]
    fn an_empty_block_yields_nothing() {
        let b = BlockBuilder::new(4096);
        assert_eq!(collect(&b.bytes).1, BlockWalk::default());
    }

    #[test]
    fn a_block_shorter_than_its_header_is_malformed() {
        assert!(walk_block(&[0u8; 20], |_| panic!("no packet")).malformed);
    }

    #[test]
    fn hostile_packet_count_stops_at_the_last_real_packet() {
        let mut b = BlockBuilder::new(4096);
        b.push(1, 0, &[1; 60], None);
        b.push(2, 0, &[2; 60], None);
        b.put32(BLOCK_NUM_PKTS, u32::MAX);
        let (packets, walk) = collect(&b.bytes);
        // The second packet's next offset is 0 while more are claimed.
        assert_eq!(packets.len(), 2);
        assert!(walk.malformed);
    }

    #[test]
    fn hostile_next_offset_past_the_block_is_caught() {
        let mut b = BlockBuilder::new(4096);
        b.push(1, 0, &[1; 60], None);
        b.push(2, 0, &[2; 60], None);
        b.put32(BLOCK_HEADER_LEN + PKT_NEXT_OFFSET, 4090);
        let (packets, walk) = collect(&b.bytes);
        assert_eq!(packets.len(), 1);
        assert!(walk.malformed);
        // And an offset that would overflow usize arithmetic on 32-bit targets.
        b.put32(BLOCK_HEADER_LEN + PKT_NEXT_OFFSET, u32::MAX);
        assert_eq!(collect(&b.bytes).0.len(), 1);
    }

    #[test]
    fn hostile_first_packet_offset_is_caught() {
        let mut b = BlockBuilder::new(4096);
        b.push(1, 0, &[1; 60], None);
        for bad in [u32::MAX, 4096, 4096 - 47, b.get32(BLOCK_LEN) - 47] {
            b.put32(BLOCK_FIRST_PKT, bad);
            let (packets, walk) = collect(&b.bytes);
            assert!(packets.is_empty(), "first offset {bad}");
            assert!(walk.malformed);
        }
    }

    #[test]
    fn hostile_mac_offset_and_snaplen_are_caught() {
        let mut b = BlockBuilder::new(4096);
        b.push(1, 0, &[1; 60], None);
        let at = BLOCK_HEADER_LEN;
        b.bytes[at + PKT_MAC..at + PKT_MAC + 2].copy_from_slice(&u16::MAX.to_ne_bytes());
        assert!(collect(&b.bytes).1.malformed);

        let mut b = BlockBuilder::new(4096);
        b.push(1, 0, &[1; 60], None);
        // The data ends at 130 + 60 and the block's used length (16-byte aligned) at 192.
        for bad in [63, 4000, u32::MAX] {
            b.put32(at + PKT_SNAPLEN, bad);
            let (packets, walk) = collect(&b.bytes);
            assert!(packets.is_empty(), "snaplen {bad}");
            assert!(walk.malformed);
        }
    }

    #[test]
    fn blk_len_beyond_the_block_is_clamped() {
        let mut b = BlockBuilder::new(512);
        b.push(1, 0, &[1; 60], None);
        b.set_len(u32::MAX as usize);
        let (packets, walk) = collect(&b.bytes);
        assert_eq!(packets.len(), 1);
        assert!(!walk.malformed);
        // Data beyond blk_len is not trusted even if it is inside the block.
        b.set_len(BLOCK_HEADER_LEN + PKT_HEADER_LEN + 34 + 59);
        assert!(collect(&b.bytes).1.malformed);
    }

    #[test]
    fn nanoseconds_out_of_range_are_malformed() {
        let mut b = BlockBuilder::new(4096);
        b.push(1, 1_000_000_000, &[1; 60], None);
        assert!(collect(&b.bytes).1.malformed);
    }

    #[test]
    fn every_truncation_of_a_block_is_safe() {
        let mut b = BlockBuilder::new(1024);
        b.push(1, 0, &[1; 60], None);
        b.push(2, 0, &[2; 200], Some((0x88a8, 7)));
        b.push(3, 0, &[3; 14], None);
        for cut in 0..b.bytes.len() {
            let _ = collect(&b.bytes[..cut]);
        }
        // Corrupting any single header byte never panics either.
        for at in 0..400 {
            let mut copy = b.bytes.clone();
            copy[at] ^= 0xff;
            let _ = collect(&copy);
        }
    }

    #[test]
    fn vlan_tag_goes_back_after_the_macs() {
        let frame: Vec<u8> = (0u8..20).collect();
        let mut out = vec![0xee; 3];
        reinsert_vlan(&mut out, &frame, 0x8100, 0x2064);
        let mut want: Vec<u8> = (0u8..12).collect();
        want.extend_from_slice(&[0x81, 0x00, 0x20, 0x64]);
        want.extend(12u8..20);
        assert_eq!(out, want);
    }

    #[test]
    fn into_packet_reinserts_only_tagged_ethernet_frames() {
        let data = [0xaau8; 60];
        let mut scratch = Vec::new();
        let tagged = RawFrame {
            ts: Timestamp(5),
            data: &data,
            orig_len: 60,
            vlan: Some((0x8100, 100)),
        };
        let p = tagged.into_packet(LinkType::ETHERNET, &mut scratch);
        assert_eq!(p.data.len(), 64);
        assert_eq!(p.orig_len, 64);
        assert_eq!(&p.data[12..16], &[0x81, 0x00, 0x00, 100]);
        assert_eq!(p.ts, Timestamp(5));

        let plain = RawFrame {
            vlan: None,
            ..tagged
        };
        let p = plain.into_packet(LinkType::ETHERNET, &mut scratch);
        assert_eq!(
            p.data.as_ptr(),
            data.as_ptr(),
            "untagged frames are not copied"
        );

        let short = RawFrame {
            data: &data[..11],
            ..tagged
        };
        assert_eq!(
            short
                .into_packet(LinkType::ETHERNET, &mut scratch)
                .data
                .len(),
            11
        );
    }

    #[test]
    fn a_source_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<AfPacketSource>();
    }

    #[test]
    fn config_validation() {
        let ok = AfPacketConfig::new("eth0");
        assert!(ok.validate().is_ok());
        let bad = [
            AfPacketConfig {
                block_size: 3 << 20,
                ..ok.clone()
            },
            AfPacketConfig {
                block_size: 1024,
                ..ok.clone()
            },
            AfPacketConfig {
                block_count: 0,
                ..ok.clone()
            },
            AfPacketConfig {
                frame_size: 100,
                ..ok.clone()
            },
            AfPacketConfig {
                frame_size: 2050,
                ..ok.clone()
            },
            AfPacketConfig {
                snaplen: 10,
                ..ok.clone()
            },
            AfPacketConfig {
                block_size: 1 << 30,
                block_count: 1 << 10,
                ..ok.clone()
            },
        ];
        for config in bad {
            assert!(
                matches!(config.validate(), Err(CaptureError::InvalidConfig { .. })),
                "{config:?}"
            );
        }
    }

    #[test]
    fn fanout_argument_layout() {
        assert_eq!(fanout_arg(0x1234, 0, 0), 0x1234);
        assert_eq!(
            fanout_arg(
                7,
                libc::PACKET_FANOUT_CPU as u16,
                libc::PACKET_FANOUT_FLAG_UNIQUEID as u16
            ),
            (7 | (0x2002 << 16)) as libc::c_int
        );
    }

    #[test]
    fn loopback_opens_as_ethernet_or_reports_missing_capability() {
        // Read-only on `lo`: no promiscuous mode, nothing sent.
        let config = AfPacketConfig {
            promiscuous: false,
            block_size: 1 << 16,
            block_count: 2,
            ..AfPacketConfig::new("lo")
        };
        match AfPacketSource::open(&config) {
            Ok(mut source) => {
                assert_eq!(source.link_type(), LinkType::ETHERNET);
                assert_eq!(source.interface(), "lo");
                source.poll(Duration::ZERO, |_| {}).unwrap();
                let stats = source.stats().unwrap();
                assert_eq!(stats.malformed_blocks, 0);
            }
            Err(err @ CaptureError::PermissionDenied { .. }) => {
                assert!(err.to_string().contains("CAP_NET_RAW"), "{err}");
            }
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn unknown_interface_is_reported_by_name() {
        let err = AfPacketSource::open(&AfPacketConfig::new("mamori-nope0")).unwrap_err();
        assert!(
            matches!(&err, CaptureError::NoSuchInterface { interface } if interface == "mamori-nope0"),
            "{err}"
        );
        let err = AfPacketSource::open(&AfPacketConfig::new("x".repeat(40))).unwrap_err();
        assert!(matches!(err, CaptureError::NoSuchInterface { .. }));
    }
}
