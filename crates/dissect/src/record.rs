//! What dissectors emit: OT operations (rows of `ot.jsonl`) and identity facts.

use std::fmt;

use crate::contract::Flags;

/// What an operation does to the plant, as `ot.jsonl`'s `category` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Reads process data or configuration.
    Read,
    /// Writes process data (setpoints, coils, registers, tags).
    Write,
    /// Changes the controller's state: run, stop, reset, restart.
    Control,
    /// Moves or deletes logic or firmware: upload, download, delete.
    Program,
    /// Diagnostics and counters.
    Diagnostic,
    /// Asks a device who it is (identity, model, firmware).
    Identify,
    /// Periodic I/O exchanged without requests.
    Cyclic,
    /// Session management and everything else.
    Other,
}

impl Category {
    /// The name `ot.jsonl` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Read => "read",
            Category::Write => "write",
            Category::Control => "control",
            Category::Program => "program",
            Category::Diagnostic => "diagnostic",
            Category::Identify => "identify",
            Category::Cyclic => "cyclic",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A function code: the raw value, its name and category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Function {
    /// The protocol's own numeric code (for S7 userdata: group × 256 + subfunction).
    pub code: u32,
    /// Its name, or `"unknown"`.
    pub name: &'static str,
    /// What it does.
    pub category: Category,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Answered normally.
    Ok,
    /// Answered with an error or exception code.
    Exception(u32),
    /// Never answered.
    NoResponse,
}

impl fmt::Display for Status {
    /// `ok`, `exception:<code>` or `no_response`, as `ot.jsonl` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Ok => f.write_str("ok"),
            Status::Exception(code) => write!(f, "exception:{code}"),
            Status::NoResponse => f.write_str("no_response"),
        }
    }
}

/// One OT request (with its response's status merged in): a row of `ot.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtOperation {
    /// `modbus`, `s7comm`, `enip`, ... (the names of `ot.jsonl`'s `protocol`).
    pub protocol: &'static str,
    /// The request class where codes overlap (`job`, `userdata`, `confirmed`, `enip`, `cip`).
    pub pdu: Option<&'static str>,
    /// The function.
    pub function: Function,
    /// What it addressed, in the protocol's terms (`unit 1 holding 0+10`, `DB1.DBW4`, ...).
    pub target: String,
    /// How it ended.
    pub status: Status,
    /// Protocol violations seen in the request or its response.
    pub flags: Flags,
    /// Nanoseconds since the epoch of the request (filled by the caller from the packet).
    pub ts: i64,
}

impl OtOperation {
    /// The operation as never answered: status `no_response` and `why` (a
    /// [`Flags`] bit such as `NO_RESPONSE` or `TOO_MANY_OUTSTANDING`) set.
    pub fn unanswered(mut self, why: u32) -> Self {
        self.status = Status::NoResponse;
        self.flags.set(why);
        self
    }
}

/// Who an [`IdentityFact`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The sender or receiver of the flow's PDU, by the direction it travelled in:
    /// `Side(dir)` is whoever sent in `dir` (the pipeline resolves it to the flow
    /// endpoint's IP and MAC).
    Side(mamori_flow::Direction),
    /// A device named by its link-layer address in the payload (DHCP `chaddr`, the
    /// source of an LLDP or PROFINET DCP frame).
    Mac(mamori_wire::decode::MacAddr),
    /// A host named by its address in the payload (a DNS PTR answer, a WINS answer).
    Ip(std::net::IpAddr),
}

impl Subject {
    /// The flow side, when the subject is one.
    pub fn side(self) -> Option<mamori_flow::Direction> {
        match self {
            Subject::Side(d) => Some(d),
            _ => None,
        }
    }
}

/// What a device said about itself (or what the network said about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFact {
    /// Who the fact is about.
    pub about: Subject,
    /// What kind of fact.
    pub kind: IdentityKind,
    /// Its value, as the device said it.
    pub value: String,
    /// The protocol that told it.
    pub protocol: &'static str,
}

/// Kinds of identity facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKind {
    /// Manufacturer.
    Vendor,
    /// Product name or code.
    Product,
    /// Model or order number.
    Model,
    /// Firmware or revision.
    Firmware,
    /// Serial number.
    Serial,
    /// A host or station name.
    Hostname,
    /// An operating system named outright (`Windows 5.1`, `Linux 4.19`, a CIFS
    /// browser's OS version, an LLDP system description naming its OS).
    Os,
    /// An HTTP or SSDP client's `User-Agent`.
    UserAgent,
    /// A server's software banner (HTTP or SSDP `Server`).
    Software,
    /// What kind of device it says it is (CIP device type, LLDP capabilities,
    /// CIFS browser server type, PROFINET device role).
    DeviceType,
    /// DHCP vendor class (option 60) or DHCPv6 vendor class.
    VendorClass,
    /// DHCP parameter request list (option 55) as comma-separated codes: an OS
    /// fingerprint.
    DhcpFingerprint,
    /// A protocol-level device number (BACnet device instance, DNP3 address,
    /// PROFINET device id).
    DeviceId,
    /// A free-text description (LLDP system description, SSDP/UPnP description).
    Description,
    /// A management or configured IP address the device announced (LLDP, CDP, DCP).
    ManagementAddress,
    /// A workgroup or domain (CIFS browser, NetBIOS group names).
    Domain,
}

impl IdentityKind {
    /// The name logs and the ledger use (`vendor`, `hostname`, `user_agent`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Vendor => "vendor",
            IdentityKind::Product => "product",
            IdentityKind::Model => "model",
            IdentityKind::Firmware => "firmware",
            IdentityKind::Serial => "serial",
            IdentityKind::Hostname => "hostname",
            IdentityKind::Os => "os",
            IdentityKind::UserAgent => "user_agent",
            IdentityKind::Software => "software",
            IdentityKind::DeviceType => "device_type",
            IdentityKind::VendorClass => "vendor_class",
            IdentityKind::DhcpFingerprint => "dhcp_fingerprint",
            IdentityKind::DeviceId => "device_id",
            IdentityKind::Description => "description",
            IdentityKind::ManagementAddress => "management_address",
            IdentityKind::Domain => "domain",
        }
    }
}
