//! Local IP autodetection: the address calico/node will pick at start-up,
//! computed here beforehand by the same algorithm.
//!
//! Detection is a pure function over an interface table ([`Interface`]s in
//! kernel index order, addresses in kernel order) and a [`Method`]; where
//! tables come from (the live system, a YAML fixture) and how `can-reach`
//! asks the kernel for a source address ([`Reach`]) are `table.rs`'s.

pub use super::table::{
    Fixture, Interface, KernelReach, Reach, TableError, Unreachable, live_interfaces,
};
use crate::ip::methods::{Family, Method, Resolver};
use ipnet::IpNet;
use regex::Regex;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// Why calico/node would find no address; each `Display` is its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    NoInterfaces,
    NoAddresses(Family),
    Unresolvable(String),
    WrongFamily {
        dest: String,
        family: Family,
    },
    Unreachable {
        dest: String,
        target: IpAddr,
        why: Unreachable,
    },
    NoInterfaceWith(IpAddr),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Failure::NoInterfaces => f.write_str("no valid host interfaces found"),
            Failure::NoAddresses(family) => write!(
                f,
                "no valid IPv{} addresses found on the host interfaces",
                family.number()
            ),
            Failure::Unresolvable(dest) => write!(
                f,
                "cannot resolve address specified for IP autodetection: {dest}"
            ),
            Failure::WrongFamily { dest, family } => write!(
                f,
                "address for IP autodetection does not resolve to an IPv{} address: {dest}",
                family.number()
            ),
            Failure::Unreachable { dest, target, why } => {
                write!(f, "Unable to reach {dest} ({target}): {}", why.0)
            }
            Failure::NoInterfaceWith(ip) => {
                write!(f, "Unable to find interface with IP address {ip}")
            }
        }
    }
}

/// Interfaces `first-found` and `skip-interface=` never use: calico/node's
/// newer default list (with `cni.*`), as in the default `:latest` image.
pub const DEFAULT_SKIPS: [&str; 12] = [
    "docker.*",
    "cbr.*",
    "dummy.*",
    "virbr.*",
    "lxcbr.*",
    "veth.*",
    "lo",
    "cali.*",
    "tunl.*",
    "flannel.*",
    "kube-ipvs.*",
    "cni.*",
];

/// The address chosen for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The address with its interface's prefix length, e.g. `10.0.0.5/24`.
    pub cidr: String,
    pub interface: String,
}

/// What happened to one interface, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub interface: String,
    pub index: u32,
    pub verdict: String,
}

/// A detection's result with the walk that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: Result<Detection, Failure>,
    /// A line before the walk (the source address, for `can-reach`).
    pub preamble: Option<String>,
    pub steps: Vec<Step>,
}

/// Why an address is not global unicast (Go's `IsGlobalUnicast`), if so.
pub fn not_global_unicast(ip: &IpAddr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_multicast() {
        return Some("multicast");
    }
    match ip {
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("broadcast"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("link-local"),
        _ => None,
    }
}

fn family_addrs(iface: &Interface, family: Family) -> impl Iterator<Item = &IpNet> {
    iface
        .addrs
        .iter()
        .filter(move |a| family.matches(&a.addr()))
}

/// Interfaces from the highest index down, as calico/node walks them.
fn walk_order(table: &[Interface]) -> Vec<&Interface> {
    let mut order: Vec<&Interface> = table.iter().collect();
    order.sort_by_key(|i| std::cmp::Reverse(i.index));
    order
}

fn compile_defaults() -> Vec<Regex> {
    DEFAULT_SKIPS
        .iter()
        .map(|re| Regex::new(re).expect("default skip regexes compile"))
        .collect()
}

/// Detect the address `method` picks for `family` on `table`.
pub fn detect(
    table: &[Interface],
    method: &Method,
    family: Family,
    resolver: &dyn Resolver,
    reach: &dyn Reach,
) -> Outcome {
    let defaults = compile_defaults();
    match method {
        Method::FirstFound => enumerate(table, family, None, &[(&defaults, "default skip")], &[]),
        Method::Interface(include) => enumerate(table, family, Some(include.as_slice()), &[], &[]),
        Method::SkipInterface(skips) => enumerate(
            table,
            family,
            None,
            &[
                (&defaults, "default skip"),
                (skips.as_slice(), "skip-interface"),
            ],
            &[],
        ),
        Method::Cidr(cidrs) => enumerate(table, family, None, &[], cidrs),
        Method::CanReach(dest) => can_reach(table, family, dest, resolver, reach),
    }
}

/// calico/node's filtered enumeration: filter interfaces by name, then take
/// the first global-unicast address (inside `cidrs`, when given).
fn enumerate(
    table: &[Interface],
    family: Family,
    include: Option<&[Regex]>,
    excludes: &[(&[Regex], &str)],
    cidrs: &[IpNet],
) -> Outcome {
    let mut steps = Vec::new();
    let mut candidates = 0;
    let mut chosen: Option<Detection> = None;
    for iface in walk_order(table) {
        let step = |verdict: String| Step {
            interface: iface.name.clone(),
            index: iface.index,
            verdict,
        };
        if include.is_some_and(|inc| !inc.iter().any(|re| re.is_match(&iface.name))) {
            steps.push(step("skipped: matches no interface= regex".into()));
            continue;
        }
        let excluded = excludes.iter().find_map(|(res, kind)| {
            res.iter()
                .find(|re| re.is_match(&iface.name))
                .map(|re| (re, kind))
        });
        if let Some((re, kind)) = excluded {
            steps.push(step(format!("skipped: matches {kind} regex \"{re}\"")));
            continue;
        }
        candidates += 1;
        if chosen.is_some() {
            steps.push(step("not examined: an address was already chosen".into()));
            continue;
        }
        let mut refusals = Vec::new();
        for net in family_addrs(iface, family) {
            let ip = net.addr();
            if let Some(why) = not_global_unicast(&ip) {
                refusals.push(format!("{net} is {why}"));
            } else if !cidrs.is_empty() && !cidrs.iter().any(|c| c.contains(&ip)) {
                refusals.push(format!("{net} is outside the cidr= list"));
            } else {
                chosen = Some(Detection {
                    cidr: net.to_string(),
                    interface: iface.name.clone(),
                });
                break;
            }
        }
        match &chosen {
            Some(d) => steps.push(step(format!("chosen: {}", d.cidr))),
            None if refusals.is_empty() => steps.push(step(format!(
                "no suitable address: no IPv{} address",
                family.number()
            ))),
            None => steps.push(step(format!(
                "no suitable address: {}",
                refusals.join(", ")
            ))),
        }
    }
    let result = match chosen {
        Some(d) => Ok(d),
        None if candidates == 0 => Err(Failure::NoInterfaces),
        None => Err(Failure::NoAddresses(family)),
    };
    Outcome {
        result,
        preamble: None,
        steps,
    }
}

/// `can-reach=`: the kernel's source address towards DEST, then the
/// interface holding it, over all interfaces without skips.
fn can_reach(
    table: &[Interface],
    family: Family,
    dest: &str,
    resolver: &dyn Resolver,
    reach: &dyn Reach,
) -> Outcome {
    let fail = |failure: Failure| Outcome {
        result: Err(failure),
        preamble: None,
        steps: Vec::new(),
    };
    let Some(ips) = resolver.resolve(dest) else {
        return fail(Failure::Unresolvable(dest.to_string()));
    };
    let Some(target) = ips.into_iter().find(|ip| family.matches(ip)) else {
        return fail(Failure::WrongFamily {
            dest: dest.to_string(),
            family,
        });
    };
    let source = match reach.source_for(target) {
        Ok(s) => s,
        Err(why) => {
            return fail(Failure::Unreachable {
                dest: dest.to_string(),
                target,
                why,
            });
        }
    };
    let mut steps = Vec::new();
    let mut chosen = None;
    for iface in walk_order(table) {
        let verdict = if chosen.is_some() {
            "not examined: an address was already chosen".to_string()
        } else if let Some(net) = family_addrs(iface, family).find(|n| n.addr() == source) {
            chosen = Some(Detection {
                cidr: net.to_string(),
                interface: iface.name.clone(),
            });
            format!("chosen: {net}")
        } else {
            format!("does not hold {source}")
        };
        steps.push(Step {
            interface: iface.name.clone(),
            index: iface.index,
            verdict,
        });
    }
    Outcome {
        result: chosen.ok_or(Failure::NoInterfaceWith(source)),
        preamble: Some(format!("the kernel would send to {target} from {source}")),
        steps,
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::methods::{SystemResolver, parse_method};

    fn table(spec: &[(&str, u32, &[&str])]) -> Vec<Interface> {
        spec.iter()
            .map(|(name, index, addrs)| Interface {
                name: name.to_string(),
                index: *index,
                addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            })
            .collect()
    }

    struct Routes(Vec<(&'static str, &'static str)>);
    impl Reach for Routes {
        fn source_for(&self, dest: IpAddr) -> Result<IpAddr, Unreachable> {
            self.0
                .iter()
                .find(|(d, _)| d.parse::<IpAddr>().unwrap() == dest)
                .map(|(_, s)| s.parse().unwrap())
                .ok_or_else(|| Unreachable("network is unreachable".into()))
        }
    }

    fn run(t: &[Interface], method: &str, family: Family) -> Result<Detection, String> {
        let m = parse_method(method, family, &SystemResolver).unwrap();
        detect(
            t,
            &m,
            family,
            &SystemResolver,
            &Routes(vec![
                ("192.0.2.1", "10.1.0.7"),
                ("2001:db8::1", "fd00:1::7"),
            ]),
        )
        .result
        .map_err(|e| e.to_string())
    }

    fn host() -> Vec<Interface> {
        table(&[
            ("lo", 1, &["127.0.0.1/8", "::1/128"]),
            (
                "eth0",
                2,
                &[
                    "169.254.3.3/16",
                    "10.0.0.5/24",
                    "10.0.0.6/24",
                    "fe80::1/64",
                    "fd00::5/64",
                ],
            ),
            ("ens3", 3, &["10.1.0.7/16", "fd00:1::7/64"]),
            ("docker0", 4, &["172.17.0.1/16"]),
            ("cali1234", 5, &["fe80::ecee:eeff:feee:eeee/64"]),
            ("veth9", 6, &["192.168.9.1/24"]),
        ])
    }

    fn found(cidr: &str, interface: &str) -> Result<Detection, String> {
        Ok(Detection {
            cidr: cidr.into(),
            interface: interface.into(),
        })
    }

    #[test]
    fn first_found_walks_from_the_highest_index_and_skips_defaults() {
        assert_eq!(
            run(&host(), "first-found", Family::V4),
            found("10.1.0.7/16", "ens3")
        );
        assert_eq!(
            run(&host(), "first-found", Family::V6),
            found("fd00:1::7/64", "ens3")
        );
    }

    #[test]
    fn first_global_unicast_address_in_kernel_order_wins() {
        let t = table(&[("eth0", 2, &["169.254.3.3/16", "10.0.0.5/24", "10.0.0.6/24"])]);
        assert_eq!(
            run(&t, "first-found", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
        let t = table(&[("eth0", 2, &["fe80::1/64", "ff02::1/128", "fd00::5/64"])]);
        assert_eq!(
            run(&t, "first-found", Family::V6),
            found("fd00::5/64", "eth0")
        );
    }

    #[test]
    fn private_addresses_count_and_link_local_loopback_do_not() {
        let t = table(&[("eth0", 2, &["192.168.1.10/24"])]);
        assert_eq!(
            run(&t, "first-found", Family::V4),
            found("192.168.1.10/24", "eth0")
        );
        let t = table(&[(
            "eth0",
            2,
            &["169.254.1.1/16", "127.0.0.2/8", "255.255.255.255/32"],
        )]);
        assert_eq!(
            run(&t, "first-found", Family::V4),
            Err("no valid IPv4 addresses found on the host interfaces".into())
        );
    }

    #[test]
    fn interface_regexes_are_unanchored() {
        // `eth0` matches veth0 (and `lo` would match flow0): calico/node does not anchor.
        let t = table(&[
            ("eth0", 2, &["10.0.0.5/24"]),
            ("veth0", 3, &["10.9.9.9/24"]),
            ("flow0", 4, &["10.4.4.4/24"]),
        ]);
        assert_eq!(
            run(&t, "interface=eth0", Family::V4),
            found("10.9.9.9/24", "veth0")
        );
        assert_eq!(
            run(&t, "interface=^eth0$", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
        assert_eq!(
            run(&t, "interface=lo", Family::V4),
            found("10.4.4.4/24", "flow0")
        );
        // first-found's default `lo` skips flow0 too, and `veth.*` skips veth0.
        assert_eq!(
            run(&t, "first-found", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
    }

    #[test]
    fn interface_list_has_no_default_skips() {
        assert_eq!(
            run(&host(), "interface=docker0", Family::V4),
            found("172.17.0.1/16", "docker0")
        );
        // Unanchored, `eth.*` also matches veth9, which has the higher index.
        assert_eq!(
            run(&host(), "interface=eth.*, lo", Family::V4),
            found("192.168.9.1/24", "veth9")
        );
        assert_eq!(
            run(&host(), "interface=^eth.*, lo", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
    }

    #[test]
    fn skip_interface_adds_to_the_defaults() {
        assert_eq!(
            run(&host(), "skip-interface=ens3", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
        assert_eq!(
            run(&host(), "skip-interface=ens.*,eth.*", Family::V4),
            Err("no valid host interfaces found".into())
        );
    }

    #[test]
    fn cidr_searches_every_interface() {
        assert_eq!(
            run(&host(), "cidr=172.16.0.0/12", Family::V4),
            found("172.17.0.1/16", "docker0")
        );
        assert_eq!(
            run(&host(), "cidr=10.0.0.0/24", Family::V4),
            found("10.0.0.5/24", "eth0")
        );
        assert_eq!(
            run(&host(), "cidr=fd00::/64", Family::V6),
            found("fd00::5/64", "eth0")
        );
        assert_eq!(
            run(&host(), "cidr=203.0.113.0/24", Family::V4),
            Err("no valid IPv4 addresses found on the host interfaces".into())
        );
    }

    #[test]
    fn can_reach_finds_the_source_address() {
        assert_eq!(
            run(&host(), "can-reach=192.0.2.1", Family::V4),
            found("10.1.0.7/16", "ens3")
        );
        assert_eq!(
            run(&host(), "can-reach=2001:db8::1", Family::V6),
            found("fd00:1::7/64", "ens3")
        );
        assert_eq!(
            run(&host(), "can-reach=198.51.100.1", Family::V4),
            Err("Unable to reach 198.51.100.1 (198.51.100.1): network is unreachable".into())
        );
        let t = table(&[("eth0", 2, &["10.0.0.5/24"])]);
        assert_eq!(
            run(&t, "can-reach=192.0.2.1", Family::V4),
            Err("Unable to find interface with IP address 10.1.0.7".into())
        );
    }

    #[test]
    fn nothing_left() {
        assert_eq!(
            run(&[], "first-found", Family::V4),
            Err("no valid host interfaces found".into())
        );
        let t = table(&[
            ("lo", 1, &["127.0.0.1/8"]),
            ("docker0", 2, &["172.17.0.1/16"]),
        ]);
        assert_eq!(
            run(&t, "first-found", Family::V4),
            Err("no valid host interfaces found".into())
        );
        let t = table(&[("eth0", 2, &["fd00::1/64"])]);
        assert_eq!(
            run(&t, "first-found", Family::V4),
            Err("no valid IPv4 addresses found on the host interfaces".into())
        );
    }

    #[test]
    fn bad_regex_and_bad_cidr_are_refused_before_detection() {
        assert!(parse_method("interface=eth(", Family::V4, &SystemResolver).is_err());
        assert!(parse_method("cidr=10.0.0.0/99", Family::V4, &SystemResolver).is_err());
        assert!(parse_method("cidr=not-a-cidr", Family::V4, &SystemResolver).is_err());
    }

    #[test]
    fn explanation_lists_every_interface_in_walk_order() {
        let m = parse_method("first-found", Family::V4, &SystemResolver).unwrap();
        let out = detect(&host(), &m, Family::V4, &SystemResolver, &Routes(vec![]));
        let walked: Vec<(&str, &str)> = out
            .steps
            .iter()
            .map(|s| (s.interface.as_str(), s.verdict.as_str()))
            .collect();
        assert_eq!(
            walked,
            [
                ("veth9", "skipped: matches default skip regex \"veth.*\""),
                ("cali1234", "skipped: matches default skip regex \"cali.*\""),
                (
                    "docker0",
                    "skipped: matches default skip regex \"docker.*\""
                ),
                ("ens3", "chosen: 10.1.0.7/16"),
                ("eth0", "not examined: an address was already chosen"),
                ("lo", "skipped: matches default skip regex \"lo\""),
            ]
        );
    }
}
