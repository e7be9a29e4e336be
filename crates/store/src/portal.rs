//! Rows the web portal keeps: users, sessions, API tokens, login attempts and
//! settings, plus the flow summaries its pages draw.
//!
//! The store holds no secret in the clear: a user's password is an argon2id PHC
//! string, and a session id or API token is kept as the hex SHA-256 of the random
//! value its holder presents. The portal crate does the hashing and decides the
//! policy (roles, expiry, rate limits); the store only keeps and finds rows.
//!
//! The flow summaries ([`FlowEdge`], [`FlowBucket`]) are sums over `flow_hourly`
//! computed by the back end, so that a traffic page or a network map over months of
//! hourly rows does not move every row into the portal.

use std::fmt;
use std::str::FromStr;

/// What a portal user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// A viewer who may also acknowledge alerts and accept them into the baseline.
    Operator,
    /// An operator who may also manage settings, users and tokens.
    Admin,
}

impl Role {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!("{other:?} is not a role")),
        }
    }
}

/// A portal user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Login name, unique.
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret; `None` when no second factor is enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted, so a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    /// The password was set by someone else (a one-time password): change it first.
    pub must_change_password: bool,
    /// May not log in.
    pub disabled: bool,
    /// When the user was created (ns).
    pub created_at: i64,
    /// Last successful login (ns).
    pub last_login: Option<i64>,
}

/// A login session; the cookie holds the random id, the store its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Hex SHA-256 of the session id.
    pub id_hash: String,
    /// Whose session it is.
    pub user_id: i64,
    /// Created (ns).
    pub created_at: i64,
    /// Last request (ns).
    pub last_used: i64,
    /// Not valid at or after this time (ns).
    pub expires_at: i64,
    /// Client address at login.
    pub ip: Option<String>,
}

/// An API token for scripts; it acts with its user's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Whose token it is.
    pub user_id: i64,
    /// What the user called it.
    pub name: String,
    /// Created (ns).
    pub created_at: i64,
    /// Last use (ns).
    pub last_used: Option<i64>,
    /// Not valid at or after this time (ns); `None` = no expiry.
    pub expires_at: Option<i64>,
}

/// One communication summed over the hours a filter selects: originator,
/// responder, protocol, port and service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEdge {
    /// Originator address, as stored.
    pub orig_h: String,
    /// Responder address, as stored.
    pub resp_h: String,
    /// IP protocol number.
    pub proto: u8,
    /// Responder port.
    pub resp_p: u16,
    /// Identified service, if any.
    pub service: Option<String>,
    /// Connections.
    pub conns: u64,
    /// Packets both ways.
    pub pkts: u64,
    /// IP bytes both ways.
    pub bytes: u64,
    /// Earliest connection start (ns).
    pub first_seen: i64,
    /// Latest connection end (ns).
    pub last_seen: i64,
}

/// Traffic of one hour and one service (or protocol, where no service was
/// identified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowBucket {
    /// Start of the hour (ns).
    pub hour: i64,
    /// IP protocol number.
    pub proto: u8,
    /// Identified service, if any.
    pub service: Option<String>,
    /// Connections.
    pub conns: u64,
    /// Packets both ways.
    pub pkts: u64,
    /// IP bytes both ways.
    pub bytes: u64,
}

/// The columns of an asset that labels and legends need, without its detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetLabel {
    /// The asset key.
    pub key: String,
    /// Its MAC.
    pub mac: Option<String>,
    /// Its addresses, newest first.
    pub ips: Vec<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Hostname.
    pub hostname: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Role.
    pub role: String,
    /// First seen (ns).
    pub first_seen: i64,
    /// Last seen (ns).
    pub last_seen: i64,
}
