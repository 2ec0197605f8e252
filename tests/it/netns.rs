//! Detection on real kernel interfaces: as root, a network namespace is
//! built to look like a host (`eth0`, `ens3`, `docker0`, `cali1234`,
//! `veth9`, `br-x`, `tunl0`) with chosen addresses and routes, and
//! `calicoctl node detect-ip` runs inside it (`ip netns exec`). The
//! namespace is deleted when the test ends, even when it fails. Outside CI
//! without root (or without `ip`) the tests skip with a printed reason.

use crate::support;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Option<Netns> {
        if !support::require_root() {
            return None;
        }
        support::require_program("ip")?;
        let name = format!(
            "cctl-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let ns = Netns { name };
        ns.host_ip(&["netns", "add", &ns.name]);
        Some(ns)
    }

    fn host_ip(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `ip -n NS ARGS`, which must succeed.
    fn ip(&self, args: &str) {
        let words: Vec<&str> = ["-n", self.name.as_str()]
            .into_iter()
            .chain(args.split_whitespace())
            .collect();
        self.host_ip(&words);
    }

    fn calicoctl(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_calicoctl")])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("CALICOCTL_HOSTNAME", "node1")
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg")
            .output()
            .unwrap()
    }

    fn detect(&self, args: &[&str]) -> String {
        let out = self.calicoctl(&[&["node", "detect-ip"], args].concat());
        support::assert_success_in(&out, format_args!("detect-ip {args:?}"));
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A namespace shaped like a host. Interfaces are created in this order, so
/// kernel indexes rise down the list (each veth pair's two ends side by
/// side): lo, eth0/veth-e0, ens3/veth-e3, docker0, cali1234/veth9,
/// tunl0/veth-t0, br-x.
fn host() -> Option<Netns> {
    let ns = Netns::new()?;
    for cmd in [
        "link set lo up",
        "link add eth0 type veth peer name veth-e0",
        "link add ens3 type veth peer name veth-e3",
        "link add docker0 type bridge",
        "link add cali1234 type veth peer name veth9",
        "link add tunl0 type veth peer name veth-t0",
        "link add br-x type bridge",
        "addr add 10.0.0.5/24 dev eth0",
        "addr add fd00::5/64 dev eth0 nodad",
        "addr add 10.1.0.7/16 dev ens3",
        "addr add 172.17.0.1/16 dev docker0",
        "addr add 192.168.9.1/24 dev veth9",
        "addr add 10.244.0.1/32 dev tunl0",
        "addr add 10.50.0.1/24 dev br-x",
    ] {
        ns.ip(cmd);
    }
    for link in [
        "eth0", "veth-e0", "ens3", "veth-e3", "cali1234", "veth9", "tunl0", "veth-t0",
    ] {
        ns.ip(&format!("link set {link} up"));
    }
    ns.ip("route add default via 10.0.0.1 dev eth0");
    ns.ip("route add 203.0.113.0/24 via 10.1.0.1 dev ens3");
    ns.ip("-6 route add 2001:db8::/32 via fd00::1 dev eth0");
    Some(ns)
}

#[test]
#[ignore = "netns tier: makes network namespaces; cargo test -- --include-ignored runs it (.ci/run does)"]
fn first_found_takes_the_highest_index_that_is_not_skipped() {
    let Some(ns) = host() else { return };
    // br-x was created last and is on no skip list.
    assert_eq!(ns.detect(&[]), "IPv4 10.50.0.1/24 on br-x\n");
    // Without it, ens3 (created after eth0) comes first.
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=skip-interface=br-x"]),
        "IPv4 10.1.0.7/16 on ens3\n"
    );
    // IPv6: only eth0 has a global address; link-local ones are passed over.
    assert_eq!(ns.detect(&["-6"]), "IPv6 fd00::5/64 on eth0\n");
}

#[test]
#[ignore = "netns tier: makes network namespaces; cargo test -- --include-ignored runs it (.ci/run does)"]
fn interface_and_cidr_methods_ignore_the_default_skips() {
    let Some(ns) = host() else { return };
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=interface=eth0"]),
        "IPv4 10.0.0.5/24 on eth0\n"
    );
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=interface=docker.*"]),
        "IPv4 172.17.0.1/16 on docker0\n"
    );
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=cidr=172.16.0.0/12"]),
        "IPv4 172.17.0.1/16 on docker0\n"
    );
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=cidr=192.168.0.0/16"]),
        "IPv4 192.168.9.1/24 on veth9\n"
    );
    // `lo` is unanchored but no other name here contains it; the loopback
    // address is never global unicast.
    let out = ns.calicoctl(&[
        "node",
        "detect-ip",
        "--ip-autodetection-method=interface=^lo$",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: IPv4: no valid IPv4 addresses found on the host interfaces\n"
    );
}

#[test]
#[ignore = "netns tier: makes network namespaces; cargo test -- --include-ignored runs it (.ci/run does)"]
fn can_reach_follows_the_routes() {
    let Some(ns) = host() else { return };
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=can-reach=203.0.113.9"]),
        "IPv4 10.1.0.7/16 on ens3\n"
    );
    assert_eq!(
        ns.detect(&["--ip-autodetection-method=can-reach=198.51.100.1"]),
        "IPv4 10.0.0.5/24 on eth0\n"
    );
    assert_eq!(
        ns.detect(&["-6", "--ip6-autodetection-method=can-reach=2001:db8::99"]),
        "IPv6 fd00::5/64 on eth0\n"
    );
}

#[test]
#[ignore = "netns tier: makes network namespaces; cargo test -- --include-ignored runs it (.ci/run does)"]
fn pin_ip_writes_the_live_address_into_the_plan() {
    let Some(ns) = host() else { return };
    let out = ns.calicoctl(&[
        "node",
        "run",
        "--pin-ip",
        "--ip-autodetection-method=interface=ens3",
        "-o",
        "docker",
    ]);
    support::assert_success(&out);
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.contains(" -e IP=10.1.0.7/16 "), "{line}");
    assert!(!line.contains("IP_AUTODETECTION_METHOD"), "{line}");
    // The pinned address, then (no datastore configured here) the note.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Pinned IPv4 10.1.0.7/16 (on ens3, by interface=ens3).\nNo /nonexistent/calicoctl.cfg and no datastore variable set: etcd with no endpoints (docs/config.md).\n"
    );
}

#[test]
#[ignore = "netns tier: makes network namespaces; cargo test -- --include-ignored runs it (.ci/run does)"]
fn explain_walks_the_live_interfaces_in_reverse_index_order() {
    let Some(ns) = host() else { return };
    let text = ns.detect(&["--explain"]);
    let names: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().nth(1).unwrap().trim_end_matches(':'))
        .collect();
    // The kernel's own index order, as iproute2 reports it, highest first.
    let out = Command::new("ip")
        .args(["-n", &ns.name, "-o", "link", "show"])
        .output()
        .unwrap();
    let mut by_index: Vec<(u32, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut parts = l.split(": ");
            let index = parts.next().unwrap().trim().parse().unwrap();
            let name = parts.next().unwrap().split('@').next().unwrap().to_string();
            (index, name)
        })
        .collect();
    by_index.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
    let expected: Vec<&str> = by_index.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, expected, "{text}");
    assert_eq!(names.len(), 11);
}
