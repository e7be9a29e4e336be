//! Test tooling for mamori's live-capture tests: a network namespace of the test's
//! own, a veth pair inside it, a thread that enters it, and a raw packet socket that
//! writes frames into one end of the pair.
//!
//! Dev-only: never linked into the product (`publish = false`, used only as a
//! dev-dependency).
//!
//! Everything here needs root (CAP_NET_ADMIN for the namespace and the veth pair,
//! CAP_NET_RAW for the socket) and the `ip` tool. Where that is missing, setup
//! returns a [`Skip`] with the reason; the test prints it and passes without
//! checking anything:
//!
//! ```no_run
//! use mamori_testkit::{Netns, RawSender};
//!
//! let (ns, veth) = match Netns::with_veth("tk-send", "tk-cap") {
//!     Ok(pair) => pair,
//!     Err(skip) => return skip.report(),
//! };
//! let result = ns.run(move || {
//!     // This thread is inside the namespace; sockets opened here belong to it.
//!     let sender = RawSender::open(&veth.send).expect("send socket");
//!     sender.send(&[0u8; 60]).expect("send");
//! });
//! drop(ns); // deletes the namespace with the veth pair, also before a panic resumes
//! if let Err(skip) = result.unwrap_or_else(|p| std::panic::resume_unwind(p)) {
//!     skip.report();
//! }
//! ```
//!
//! Traffic stays inside the namespace: the veth pair is created there, and sockets
//! are opened only on a thread whose namespace was checked by inode ([`enter`]).
#![cfg(target_os = "linux")]
// setns(2) and raw AF_PACKET sockets need libc calls. This is test tooling that is
// never linked into the product; each unsafe block has its SAFETY note.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Why a live test cannot run on this machine (not root, no namespaces, no `ip`,
/// no veth). The test prints it with [`Skip::report`] and passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Skip {
    /// Prints `skipped: <reason>` to stderr.
    pub fn report(&self) {
        eprintln!("{self}");
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.0)
    }
}

/// Runs `ip` with `args`; the error carries its stderr.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether the process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A network namespace of the test's own, deleted (with every interface in it) on
/// drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace with a unique name and IPv6 off, so that the kernel sends
    /// no neighbour discovery or router solicitations of its own on interfaces made
    /// in it later. `Err` means "skip": not root, no `ip`, or namespaces not
    /// permitted.
    pub fn create() -> Result<Netns, Skip> {
        if !is_root() {
            return Err(Skip("not running as root".into()));
        }
        ip(&["-V"]).map_err(|e| Skip(format!("`ip` not available: {e}")))?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("mamori-test-{}-{nanos}", std::process::id());
        ip(&["netns", "add", &name])
            .map_err(|e| Skip(format!("network namespaces not permitted: {e}")))?;
        let ns = Netns { name };
        for (key, value) in [
            ("net.ipv6.conf.all.disable_ipv6", "1"),
            ("net.ipv6.conf.default.disable_ipv6", "1"),
        ] {
            // Best effort: without it, extra IPv6 frames show up and tests ignore them.
            let _ = ns
                .command("sysctl")
                .arg("-qw")
                .arg(format!("{key}={value}"))
                .output();
        }
        Ok(ns)
    }

    /// [`Netns::create`] followed by [`Netns::add_veth`].
    pub fn with_veth(send: &str, capture: &str) -> Result<(Netns, VethPair), Skip> {
        let ns = Netns::create()?;
        let veth = ns.add_veth(send, capture)?;
        Ok((ns, veth))
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's file, for `setns`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`). `ip`
    /// execs the program in place, so the child's id is the program's.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Creates a veth pair inside the namespace and sets both ends up. `Err` means
    /// "skip" (veth not available).
    pub fn add_veth(&self, send: &str, capture: &str) -> Result<VethPair, Skip> {
        let n = self.name.as_str();
        ip(&[
            "-n", n, "link", "add", send, "type", "veth", "peer", "name", capture,
        ])
        .map_err(|e| Skip(format!("veth not available: {e}")))?;
        for end in [capture, send] {
            ip(&["-n", n, "link", "set", end, "up"]).map_err(Skip)?;
        }
        Ok(VethPair {
            send: send.to_string(),
            capture: capture.to_string(),
        })
    }

    /// The MAC address of `interface` in the namespace.
    pub fn mac_of(&self, interface: &str) -> Result<[u8; 6], String> {
        let out = ip(&["-n", &self.name, "-o", "link", "show", "dev", interface])?;
        let text = out
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .ok_or_else(|| format!("no link/ether address in `{}`", out.trim()))?;
        let mut mac = [0u8; 6];
        let mut parts = text.split(':');
        for byte in &mut mac {
            let part = parts.next().ok_or_else(|| format!("bad MAC {text}"))?;
            *byte = u8::from_str_radix(part, 16).map_err(|e| format!("bad MAC {text}: {e}"))?;
        }
        Ok(mac)
    }

    /// Runs `f` on a new thread that has entered the namespace (only that thread
    /// moves; the rest of the process stays where it is). The outer `Err` is a
    /// panic of `f` (resume it with [`std::panic::resume_unwind`] after dropping the
    /// namespace); the inner `Err` means "skip": the thread could not enter.
    pub fn run<T, F>(&self, f: F) -> thread::Result<Result<T, Skip>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let path = self.path();
        thread::spawn(move || {
            enter(&path).map_err(|e| Skip(format!("network namespaces not permitted: {e}")))?;
            Ok(f())
        })
        .join()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("warning: could not delete network namespace: {e}");
        }
    }
}

/// The two ends of a veth pair: frames written into `send` come out of `capture`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethPair {
    /// The end the test writes frames into.
    pub send: String,
    /// The end the capture under test listens on.
    pub capture: String,
}

/// Moves the calling thread into the namespace at `path` and checks (by inode)
/// that it arrived. Only this thread changes namespace; the rest of the process
/// does not.
pub fn enter(path: &str) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("open {path}: {e}"))?;
    // SAFETY: `file` is an open namespace file descriptor that outlives the call;
    // setns only changes the calling thread's network namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(format!("setns: {}", io::Error::last_os_error()));
    }
    let want = file.metadata().map_err(|e| e.to_string())?.ino();
    let now = std::fs::metadata("/proc/thread-self/ns/net")
        .map_err(|e| e.to_string())?
        .ino();
    if want != now {
        return Err(format!(
            "setns did not take effect (ns inode {now}, wanted {want})"
        ));
    }
    Ok(())
}

/// The index of `interface` in the calling thread's namespace.
pub fn interface_index(interface: &str) -> io::Result<u32> {
    let name = CString::new(interface)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in interface name"))?;
    // SAFETY: `name` is a valid C string that outlives the call.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ifindex)
}

/// Packet sockets in the calling thread's namespace that are bound to `interface`
/// and running (from `/proc/thread-self/net/packet`). A capture process in the
/// namespace is listening once this reaches its socket count.
pub fn packet_sockets_on(interface: &str) -> io::Result<usize> {
    let ifindex = interface_index(interface)?;
    let table = std::fs::read_to_string("/proc/thread-self/net/packet")?;
    // Columns: sk RefCnt Type Proto Iface R Rmem User Inode
    Ok(table
        .lines()
        .skip(1)
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.len() > 5 && cols[4].parse::<u32>() == Ok(ifindex) && cols[5] == "1"
        })
        .count())
}

/// Waits until [`packet_sockets_on`] `interface` reaches `count`, polling every
/// 10 ms; returns how long that took, or the last count seen on timeout.
pub fn wait_for_packet_sockets(
    interface: &str,
    count: usize,
    timeout: Duration,
) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        let seen = packet_sockets_on(interface).map_err(|e| format!("{interface}: {e}"))?;
        if seen >= count {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "{seen} of {count} packet socket(s) on {interface} after {timeout:?}"
            ));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A raw packet socket that sends whole Ethernet frames out of one interface and
/// receives nothing.
#[derive(Debug)]
pub struct RawSender {
    fd: OwnedFd,
}

impl RawSender {
    /// Opens the socket on `interface` in the calling thread's namespace.
    pub fn open(interface: &str) -> io::Result<RawSender> {
        let ifindex = interface_index(interface)
            .map_err(|e| io::Error::new(e.kind(), format!("{interface}: {e}")))?;
        // Protocol 0: this socket never receives.
        // SAFETY: plain system call, no memory passed.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: all-zero is a valid sockaddr_ll.
        let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex as i32;
        // SAFETY: `addr` is initialised and we pass its exact size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawSender { fd })
    }

    /// Sends one frame as is (Ethernet header included); an error also when the
    /// kernel took fewer bytes than the frame has.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: `frame` is a live buffer of the length we pass; the kernel only
        // reads it.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != frame.len() {
            return Err(io::Error::other(format!(
                "sent {n} of {} bytes",
                frame.len()
            )));
        }
        Ok(())
    }
}
