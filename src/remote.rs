//! Where a host's container engine is reached: this machine's engine, or
//! another host's through the engine's own remote access over ssh
//! (docker's `-H ssh://[user@]host[:port]`, podman's `--url
//! ssh://[user@]host[:port]/path/to/podman.sock?secure=true`). We open no
//! connection of our own: the engine's client does, with the user's
//! `known_hosts`, key and agent, and host keys are always checked. docker
//! runs ssh itself. podman (4 and 5) has an ssh client of its own, which
//! checks a host key only when its URL says `secure=true` (ours does) and
//! even then accepts a host it knows no key for: so before podman is asked,
//! [`SshAddress::known_to_podman`] requires the host's key in the
//! `known_hosts` podman reads (`$HOME/.ssh/known_hosts`).
//! An address comes from an inventory, so it is parsed strictly and only
//! ever handed over as one word after its option: it can never become an
//! option of the engine or of ssh.

use crate::engine::EngineKind;
use std::fmt;

/// Where podman's rootful service listens, as its documentation gives it.
pub const PODMAN_ROOTFUL_SOCKET: &str = "/run/podman/podman.sock";

/// A host's engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineHost {
    /// The engine of the machine calicoctl runs on.
    Local,
    /// Another host's, over ssh.
    Ssh(SshAddress),
}

/// `ssh://[user@]host[:port][/socket]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshAddress {
    pub user: Option<String>,
    /// A name, an IPv4 address, or an IPv6 address without brackets.
    pub host: String,
    pub port: Option<u16>,
    /// The engine's socket on that host (podman), when given.
    pub socket: Option<String>,
}

/// Why an engine address is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    NotSsh(String),
    BadUser(String),
    BadHost(String),
    BadPort(String),
    BadSocket(String),
    /// docker's ssh address names no socket.
    DockerSocket(String),
    /// No key for the host where podman's client would accept any.
    UnknownHostKey(String),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let shown = |v: &str| crate::escape::visible(v).into_owned();
        match self {
            AddressError::NotSsh(v) => write!(
                f,
                "engine-host must be 'local' or ssh://[user@]host[:port][/socket], not {}",
                shown(v)
            ),
            AddressError::BadUser(v) => write!(f, "engine-host: not a user name: {}", shown(v)),
            AddressError::BadHost(v) => {
                write!(f, "engine-host: not a host name or address: {}", shown(v))
            }
            AddressError::BadPort(v) => write!(f, "engine-host: not a port: {}", shown(v)),
            AddressError::BadSocket(v) => {
                write!(f, "engine-host: not an absolute socket path: {}", shown(v))
            }
            AddressError::UnknownHostKey(reason) => f.write_str(reason),
            AddressError::DockerSocket(v) => write!(
                f,
                "engine-host: docker's ssh address names no socket (docker dials the remote default): {}",
                shown(v)
            ),
        }
    }
}

impl std::error::Error for AddressError {}

/// A user or host name: letters, digits and `._-`, not starting with `-`
/// (never an option of ssh).
fn plain_name(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl EngineHost {
    /// `local`, or an ssh address.
    pub fn parse(text: &str) -> Result<EngineHost, AddressError> {
        if text == "local" {
            return Ok(EngineHost::Local);
        }
        let not_ssh = || AddressError::NotSsh(text.to_string());
        let rest = text.strip_prefix("ssh://").ok_or_else(not_ssh)?;
        let (authority, socket) = match rest.find('/') {
            Some(at) => (&rest[..at], Some(&rest[at..])),
            None => (rest, None),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) if plain_name(user) => (Some(user), hostport),
            Some((user, _)) => return Err(AddressError::BadUser(user.to_string())),
            None => (None, authority),
        };
        let (host, port) = split_port(hostport)?;
        if let Some(socket) = socket
            && (socket.len() < 2
                || !socket
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#')))
        {
            return Err(AddressError::BadSocket(socket.to_string()));
        }
        Ok(EngineHost::Ssh(SshAddress {
            user: user.map(str::to_string),
            host,
            port,
            socket: socket.map(str::to_string),
        }))
    }

    /// The words before an engine's subcommand that reach this host's
    /// engine (none for the local one), once podman's client can be
    /// trusted to check the host's key.
    pub fn engine_words(&self, kind: EngineKind) -> Result<Vec<String>, AddressError> {
        if let (EngineHost::Ssh(address), EngineKind::Podman) = (self, kind) {
            address
                .known_to_podman()
                .map_err(AddressError::UnknownHostKey)?;
        }
        self.url_words(kind)
    }

    /// The same words, without looking at `known_hosts`.
    pub fn url_words(&self, kind: EngineKind) -> Result<Vec<String>, AddressError> {
        let EngineHost::Ssh(address) = self else {
            return Ok(Vec::new());
        };
        let base = address.url_base();
        Ok(match kind {
            EngineKind::Docker => {
                if let Some(socket) = &address.socket {
                    return Err(AddressError::DockerSocket(format!("{base}{socket}")));
                }
                vec!["-H".to_string(), base]
            }
            // podman checks the host key only when the URL asks it to
            // (`secure=true`); without it, any key is accepted.
            EngineKind::Podman => {
                let socket = address.socket.as_deref().unwrap_or(PODMAN_ROOTFUL_SOCKET);
                vec!["--url".to_string(), format!("{base}{socket}?secure=true")]
            }
        })
    }
}

impl SshAddress {
    /// Whether `$HOME/.ssh/known_hosts` (the file podman's client reads)
    /// holds a key for this host, as `ssh-keygen -F` finds it (hashed
    /// entries too); the reason when not.
    pub fn known_to_podman(&self) -> Result<(), String> {
        let home = std::env::var_os("HOME").unwrap_or_default();
        let file = std::path::Path::new(&home).join(".ssh/known_hosts");
        let name = match self.port {
            Some(port) if port != 22 => format!("[{}]:{port}", self.host),
            _ => self.host.clone(),
        };
        let found = std::process::Command::new("ssh-keygen")
            .arg("-F")
            .arg(&name)
            .arg("-f")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| {
                format!(
                    "cannot run ssh-keygen to look {name} up in {}: {e}",
                    file.display()
                )
            })?;
        match found.success() {
            true => Ok(()),
            false => Err(format!(
                "no host key for {name} in {} (podman's ssh client would accept any)",
                file.display()
            )),
        }
    }

    /// `ssh://[user@]host[:port]`, brackets around an IPv6 address.
    fn url_base(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map_or(String::new(), |u| format!("{u}@"));
        let host = match self.host.contains(':') {
            true => format!("[{}]", self.host),
            false => self.host.clone(),
        };
        let port = self.port.map_or(String::new(), |p| format!(":{p}"));
        format!("ssh://{user}{host}{port}")
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_port(text: &str) -> Result<(String, Option<u16>), AddressError> {
    let bad_host = || AddressError::BadHost(text.to_string());
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad_host)?;
        v6.parse::<std::net::Ipv6Addr>().map_err(|_| bad_host())?;
        match after {
            "" => (v6, None),
            _ => (v6, Some(after.strip_prefix(':').ok_or_else(bad_host)?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if !host.contains(':') && !plain_name(host) {
        return Err(bad_host());
    }
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(AddressError::BadPort(p.to_string())),
        })
        .transpose()?;
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, kind: EngineKind) -> Vec<String> {
        EngineHost::parse(text).unwrap().url_words(kind).unwrap()
    }

    #[test]
    fn each_engine_gets_its_own_option() {
        assert!(words("local", EngineKind::Docker).is_empty());
        assert_eq!(
            words("ssh://core@node-1.example:2222", EngineKind::Docker),
            ["-H", "ssh://core@node-1.example:2222"]
        );
        assert_eq!(
            words("ssh://node-1", EngineKind::Podman),
            ["--url", "ssh://node-1/run/podman/podman.sock?secure=true"]
        );
        assert_eq!(
            words("ssh://root@[fd00::1]:22/tmp/p.sock", EngineKind::Podman),
            ["--url", "ssh://root@[fd00::1]:22/tmp/p.sock?secure=true"]
        );
    }

    #[test]
    fn nothing_can_become_an_option() {
        for bad in [
            "",
            "node-1",
            "http://node-1",
            "ssh://-oProxyCommand=x",
            "ssh://-x@node",
            "ssh://a b@node",
            "ssh://node:0",
            "ssh://node:65536",
            "ssh://node:+22",
            "ssh://node:",
            "ssh://[fd00::1",
            "ssh://[zz]:22",
            "ssh://no de",
            "ssh://node/",
            "ssh://node/a b",
            "ssh://node/p.sock?secure=false",
            "ssh://node/p.sock#x",
            "ssh://user@",
            "ssh://node\n",
        ] {
            assert!(EngineHost::parse(bad).is_err(), "{bad:?}");
        }
        let docker = EngineHost::parse("ssh://node/x.sock").unwrap();
        assert!(docker.url_words(EngineKind::Docker).is_err());
    }
}
