//! IP autodetection methods: parsing and validating the method strings that
//! `--ip-autodetection-method` and `--ip6-autodetection-method` take, with
//! upstream's messages. calico/node interprets them at start-up.

use ipnet::IpNet;
use regex::Regex;
use std::net::{IpAddr, ToSocketAddrs};

/// An IP version, 4 or 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn number(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }

    pub fn matches(self, ip: &IpAddr) -> bool {
        matches!(
            (self, ip),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }
}

/// A validated autodetection method.
#[derive(Debug, Clone)]
pub enum Method {
    FirstFound,
    /// Destination as given (an IP literal or a host name).
    CanReach(String),
    Interface(Vec<Regex>),
    SkipInterface(Vec<Regex>),
    Cidr(Vec<IpNet>),
}

/// Resolves host names for `can-reach=`; the system resolver in the binary.
pub trait Resolver {
    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo`); IP literals need no DNS.
#[derive(Debug, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(vec![ip]);
        }
        let addrs = (host, 0u16).to_socket_addrs().ok()?;
        let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
        (!ips.is_empty()).then_some(ips)
    }
}

/// Split a list the way calico/node does: commas with optional spaces around.
pub fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim)
}

/// Why a method string is refused: upstream's lines, as values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodError {
    Unresolvable { dest: String },
    WrongFamily { dest: String, family: Family },
    BadRegex { regex: String },
    BadCidr { cidr: String },
    Unknown { method: String },
}

impl MethodError {
    /// Whether calicoctl v3.31 and later write this line in lower case
    /// (every one of upstream's; `cidr=` is ours).
    pub fn lowered_from_v3_31(&self) -> bool {
        !matches!(self, MethodError::BadCidr { .. })
    }
}

impl std::fmt::Display for MethodError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        match self {
            MethodError::Unresolvable { dest } => executing(
                f,
                format_args!("cannot resolve address specified for IP autodetection: {dest}"),
            ),
            MethodError::WrongFamily { dest, family } => executing(
                f,
                format_args!(
                    "address for IP autodetection does not resolve to an IPv{} address: {dest}",
                    family.number()
                ),
            ),
            MethodError::BadRegex { regex } => executing(
                f,
                format_args!("invalid interface regex specified for IP autodetection: {regex}"),
            ),
            MethodError::BadCidr { cidr } => executing(
                f,
                format_args!("invalid CIDR specified for IP autodetection: {cidr}"),
            ),
            MethodError::Unknown { method } => {
                executing(f, format_args!("invalid IP autodetection method: {method}"))
            }
        }
    }
}

fn compile_list(list: &str) -> Result<Vec<Regex>, MethodError> {
    split_list(list)
        .map(|re| {
            Regex::new(re).map_err(|_| MethodError::BadRegex {
                regex: re.to_string(),
            })
        })
        .collect()
}

/// Parse and validate one method string for `family`, as the CLI does.
pub fn parse_method(
    method: &str,
    family: Family,
    resolver: &dyn Resolver,
) -> Result<Method, MethodError> {
    if method == "first-found" {
        Ok(Method::FirstFound)
    } else if let Some(dest) = method.strip_prefix("can-reach=") {
        let ips = resolver
            .resolve(dest)
            .ok_or_else(|| MethodError::Unresolvable {
                dest: dest.to_string(),
            })?;
        if !ips.iter().any(|ip| family.matches(ip)) {
            return Err(MethodError::WrongFamily {
                dest: dest.to_string(),
                family,
            });
        }
        Ok(Method::CanReach(dest.to_string()))
    } else if let Some(list) = method.strip_prefix("interface=") {
        compile_list(list).map(Method::Interface)
    } else if let Some(list) = method.strip_prefix("skip-interface=") {
        compile_list(list).map(Method::SkipInterface)
    } else if let Some(list) = method.strip_prefix("cidr=") {
        split_list(list)
            .map(|c| {
                c.parse::<IpNet>().map_err(|_| MethodError::BadCidr {
                    cidr: c.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Method::Cidr)
    } else {
        Err(MethodError::Unknown {
            method: method.to_string(),
        })
    }
}

impl std::error::Error for MethodError {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Resolver for Fake {
        fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
            match host {
                "v4only.test" => Some(vec!["192.0.2.1".parse().unwrap()]),
                _ => host.parse().ok().map(|ip| vec![ip]),
            }
        }
    }

    #[test]
    fn can_reach_checks_the_family() {
        assert!(parse_method("can-reach=v4only.test", Family::V4, &Fake).is_ok());
        assert_eq!(
            parse_method("can-reach=v4only.test", Family::V6, &Fake)
                .unwrap_err()
                .to_string(),
            "Error executing command: address for IP autodetection does not resolve to an IPv6 address: v4only.test"
        );
        assert_eq!(
            parse_method("can-reach=nowhere.test", Family::V4, &Fake)
                .unwrap_err()
                .to_string(),
            "Error executing command: cannot resolve address specified for IP autodetection: nowhere.test"
        );
    }

    #[test]
    fn each_regex_of_a_list_is_checked() {
        match parse_method("interface=eth.*, ens3", Family::V4, &Fake).unwrap() {
            Method::Interface(res) => assert_eq!(res.len(), 2),
            m => panic!("{m:?}"),
        }
        assert_eq!(
            parse_method("skip-interface=eth0,(", Family::V4, &Fake)
                .unwrap_err()
                .to_string(),
            "Error executing command: invalid interface regex specified for IP autodetection: ("
        );
    }

    #[test]
    fn cidr_lists_and_unknown_methods() {
        assert!(parse_method("cidr=10.0.0.0/8, fd00::/8", Family::V4, &Fake).is_ok());
        assert!(parse_method("cidr=10.0.0.0/33", Family::V4, &Fake).is_err());
        assert_eq!(
            parse_method("first", Family::V4, &Fake)
                .unwrap_err()
                .to_string(),
            "Error executing command: invalid IP autodetection method: first"
        );
    }
}
