//! Where an interface table comes from: the live system (`getifaddrs`
//! and `/sys/class/net`) or a YAML fixture, and how `can-reach` asks the
//! kernel which source address it would use ([`Reach`], a fixture's routes
//! in tests). Detection itself, over any such table, is `detection.rs`.

use ipnet::IpNet;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr, UdpSocket};

/// The kernel's reason for having no route to a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

/// Why the interface table could not be had.
#[derive(Debug)]
pub enum TableError {
    CannotRead { path: String, error: std::io::Error },
    Invalid { path: String, reason: String },
    CannotList(std::io::Error),
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use crate::error::executing;
        match self {
            TableError::CannotRead { path, error } => executing(
                f,
                format_args!("cannot read interface fixture {path}: {error}"),
            ),
            TableError::Invalid { path, reason } => executing(
                f,
                format_args!("invalid interface fixture {path}: {reason}"),
            ),
            TableError::CannotList(e) => {
                executing(f, format_args!("cannot list host interfaces: {e}"))
            }
        }
    }
}

/// One host interface.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// Addresses with their prefix lengths, in kernel order.
    #[serde(default)]
    pub addrs: Vec<IpNet>,
}

/// The kernel's choice of source address towards a destination.
pub trait Reach {
    fn source_for(&self, dest: IpAddr) -> Result<IpAddr, Unreachable>;
}

/// Asks the kernel: connect a UDP socket to DEST port 80 (nothing is sent)
/// and read back its local address.
pub struct KernelReach;

impl Reach for KernelReach {
    fn source_for(&self, dest: IpAddr) -> Result<IpAddr, Unreachable> {
        let bind: SocketAddr = match dest {
            IpAddr::V4(_) => "0.0.0.0:0".parse().expect("literal"),
            IpAddr::V6(_) => "[::]:0".parse().expect("literal"),
        };
        let why = |e: std::io::Error| Unreachable(e.to_string());
        let socket = UdpSocket::bind(bind).map_err(why)?;
        socket.connect(SocketAddr::new(dest, 80)).map_err(why)?;
        Ok(socket.local_addr().map_err(why)?.ip())
    }
}

/// A fixture's table and its kernel answers for `can-reach`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub interfaces: Vec<Interface>,
    /// The source address the kernel would pick, by destination.
    #[serde(default)]
    pub routes: BTreeMap<IpAddr, IpAddr>,
}

impl Reach for Fixture {
    fn source_for(&self, dest: IpAddr) -> Result<IpAddr, Unreachable> {
        self.routes
            .get(&dest)
            .copied()
            .ok_or_else(|| Unreachable("network is unreachable".to_string()))
    }
}

impl Fixture {
    pub fn load(path: &str) -> Result<Fixture, TableError> {
        let unreadable = |error: std::io::Error| TableError::CannotRead {
            path: path.to_string(),
            error,
        };
        let bytes =
            crate::input::read(std::path::Path::new(path)).map_err(|e| unreadable(e.into()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            unreadable(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.utf8_error(),
            ))
        })?;
        yaml_serde::from_str(&text).map_err(|e| TableError::Invalid {
            path: path.to_string(),
            reason: e.to_string(),
        })
    }
}

/// The live interface table: addresses from `getifaddrs` (if-addrs), and
/// address-less interfaces from `/sys/class/net`, which calico/node's
/// interface list includes too.
pub fn live_interfaces() -> Result<Vec<Interface>, TableError> {
    let addrs = if_addrs::get_if_addrs().map_err(TableError::CannotList)?;
    let mut by_name: HashMap<String, Interface> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let index = std::fs::read_to_string(entry.path().join("ifindex"))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            if let Some(index) = index {
                by_name.insert(
                    name.clone(),
                    Interface {
                        name,
                        index,
                        addrs: Vec::new(),
                    },
                );
            }
        }
    }
    for a in addrs {
        let net = match &a.addr {
            if_addrs::IfAddr::V4(v4) => IpNet::new(IpAddr::V4(v4.ip), v4.prefixlen),
            if_addrs::IfAddr::V6(v6) => IpNet::new(IpAddr::V6(v6.ip), v6.prefixlen),
        };
        let Ok(net) = net else { continue };
        let index = a.index.unwrap_or(0);
        by_name
            .entry(a.name.clone())
            .or_insert_with(|| Interface {
                name: a.name.clone(),
                index,
                addrs: Vec::new(),
            })
            .addrs
            .push(net);
    }
    let mut table: Vec<Interface> = by_name.into_values().collect();
    table.sort_by_key(|i| i.index);
    Ok(table)
}

impl std::error::Error for TableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TableError::CannotRead { error, .. } | TableError::CannotList(error) => Some(error),
            TableError::Invalid { .. } => None,
        }
    }
}
