//! Validation steps 1 to 6 of upstream's `node run`, in its order and
//! with its messages: the addresses, the AS number, the autodetection
//! methods, and the node's name.

use super::{Origin, PlanError};
use crate::cli::NodeRunArgs;
use crate::ip::methods::{self, Family, Method, Resolver};
use crate::release::Profile;
use std::net::IpAddr;

/// Options after validation steps 1 to 6.
#[derive(Debug, Clone)]
pub struct CheckedOptions {
    pub ip: Option<String>,
    pub ip6: Option<String>,
    /// Where `ip` and `ip6` came from: the options, or `--pin-ip`.
    pub ip_origin: Origin,
    pub ip6_origin: Origin,
    pub as_number: Option<u32>,
    pub backend: Backend,
    pub ipv4_method: Method,
    pub ipv6_method: Method,
}

/// `--backend`, parsed once here (upstream's message for any other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Bird,
    /// Only in the releases that have it.
    Gobgp,
    None,
}

impl Backend {
    /// calico/node's name for it (`CALICO_NETWORKING_BACKEND`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Bird => "bird",
            Backend::Gobgp => "gobgp",
            Backend::None => "none",
        }
    }
}

/// A value that upstream treats as given: present and not empty.
pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

pub(super) fn check_ip(
    value: &Option<String>,
    family: Family,
    flag: &str,
) -> Result<Option<String>, PlanError> {
    let Some(v) = given(value) else {
        return Ok(None);
    };
    if v == "autodetect" {
        return Ok(Some(v.to_string()));
    }
    let ip: IpAddr = v.parse().map_err(|_| PlanError::InvalidIp {
        value: v.to_string(),
    })?;
    // An IPv4-mapped IPv6 address counts as IPv4, as in upstream.
    let is_v4 = match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    };
    if is_v4 != (family == Family::V4) {
        return Err(PlanError::WrongIpVersion {
            flag: flag.to_string(),
        });
    }
    Ok(Some(v.to_string()))
}

/// Parse an AS number: 32-bit decimal, or dotted `A.B` with 16-bit halves.
pub fn parse_as_number(s: &str) -> Option<u32> {
    fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
    if let Some(n) = digits::<u32>(s) {
        return Some(n);
    }
    let (hi, lo) = s.split_once('.')?;
    Some(u32::from(digits::<u16>(hi)?) * 65536 + u32::from(digits::<u16>(lo)?))
}

/// Validation steps 1 to 6: addresses, AS number, backend, methods.
pub fn check_options(
    args: &NodeRunArgs,
    profile: &Profile,
    resolver: &dyn Resolver,
) -> Result<CheckedOptions, PlanError> {
    let ip = check_ip(&args.ip, Family::V4, "--ip")?;
    let ip6 = check_ip(&args.ip6, Family::V6, "--ip6")?;
    let as_number = match given(&args.as_number) {
        None => None,
        Some(v) => Some(parse_as_number(v).ok_or_else(|| PlanError::InvalidAs {
            value: v.to_string(),
        })?),
    };
    let backend = match args.backend.as_str() {
        "bird" => Backend::Bird,
        "none" => Backend::None,
        "gobgp" if profile.gobgp => Backend::Gobgp,
        other => {
            return Err(PlanError::UnknownBackend {
                value: other.to_string(),
            });
        }
    };
    let ipv4_method = methods::parse_method(&args.ip_autodetection_method, Family::V4, resolver)?;
    let ipv6_method = methods::parse_method(&args.ip6_autodetection_method, Family::V6, resolver)?;
    Ok(CheckedOptions {
        ip,
        ip6,
        ip_origin: Origin::Flag("--ip"),
        ip6_origin: Origin::Flag("--ip6"),
        as_number,
        backend,
        ipv4_method,
        ipv6_method,
    })
}

/// Validation step 7: the node name, from `--name` or the host name.
pub fn node_name(args: &NodeRunArgs, hostname: Option<&str>) -> Result<String, PlanError> {
    if let Some(name) = given(&args.name) {
        return Ok(name.to_string());
    }
    let host = hostname
        .map(|h| h.trim().to_lowercase())
        .unwrap_or_default();
    if host.is_empty() {
        return Err(PlanError::NoNodeName);
    }
    Ok(host)
}
