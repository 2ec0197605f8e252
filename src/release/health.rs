//! calico/node's own health checks at each release, as Calico's manifests
//! run them: the DaemonSet's liveness and readiness probes, read from
//! projectcalico/calico at the release tags (docs/releases.md names the
//! files). They changed in steps apart from `node run`'s (a patch release
//! sometimes brought one, and a later minor's first release did not
//! always have it), so they are a table of their own. A leaf, as
//! the rest of `release`: it knows probes, nothing of plans or formats.

use super::{Release, Served, v3};

/// The port of Felix's health endpoint (`FELIX_HEALTHPORT`'s default).
pub const HEALTH_PORT: u16 = 9099;
/// `periodSeconds` of both probes, at every release.
pub const PERIOD_SECONDS: u32 = 10;
/// The liveness probe's `initialDelaySeconds`, at every release.
pub const LIVENESS_INITIAL_DELAY_SECONDS: u32 = 10;
/// The liveness probe's `failureThreshold`, at every release.
pub const LIVENESS_FAILURE_THRESHOLD: u32 = 6;
/// The readiness probe's failures in a row before not ready: the
/// manifests set none, so Kubernetes' default.
pub const READINESS_FAILURE_THRESHOLD: u32 = 3;
/// The program the exec probes run, in the calico/node image.
pub const PROGRAM: &str = "/bin/calico-node";

/// What a probe asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The kubelet GETs `path` on [`HEALTH_PORT`]; with `localhost`, of
    /// the node itself (`host: localhost`).
    Http { path: &'static str, localhost: bool },
    /// [`PROGRAM`] with Felix's flag, and BIRD's where BIRD runs
    /// (`bird_first`: BIRD's flag comes first, as until v3.8).
    Exec {
        felix: &'static str,
        bird: Option<&'static str>,
        bird_first: bool,
    },
}

/// Whether calico/node runs BIRD (`--backend bird`): the manifests drop
/// BIRD's flags where it does not (policy only, VXLAN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bird {
    Runs,
    Absent,
}

impl Probe {
    /// The command an exec probe runs (None: an HTTP probe).
    pub fn command(&self, bird: Bird) -> Option<Vec<&'static str>> {
        let Probe::Exec {
            felix,
            bird: bird_flag,
            bird_first,
        } = *self
        else {
            return None;
        };
        let mut flags = vec![felix];
        if let (Some(flag), Bird::Runs) = (bird_flag, bird) {
            match bird_first {
                true => flags.insert(0, flag),
                false => flags.push(flag),
            }
        }
        Some([PROGRAM].into_iter().chain(flags).collect())
    }
}

/// The probes of one step: every release from `first` to the next step's.
#[derive(Debug, PartialEq, Eq)]
pub struct Probes {
    pub first: Release,
    pub liveness: Probe,
    pub readiness: Probe,
    /// Both probes' `timeoutSeconds` (None: the manifests set none).
    pub timeout_seconds: Option<u32>,
}

const HTTP_LIVENESS: Probe = Probe::Http {
    path: "/liveness",
    localhost: true,
};
const READY_BIRD_FIRST: Probe = Probe::Exec {
    felix: "-felix-ready",
    bird: Some("-bird-ready"),
    bird_first: true,
};
const READY: Probe = Probe::Exec {
    felix: "-felix-ready",
    bird: Some("-bird-ready"),
    bird_first: false,
};
const LIVE_FELIX: Probe = Probe::Exec {
    felix: "-felix-live",
    bird: None,
    bird_first: false,
};
const LIVE: Probe = Probe::Exec {
    felix: "-felix-live",
    bird: Some("-bird-live"),
    bird_first: false,
};

const fn step(
    first: Release,
    liveness: Probe,
    readiness: Probe,
    timeout_seconds: Option<u32>,
) -> Probes {
    Probes {
        first,
        liveness,
        readiness,
        timeout_seconds,
    }
}

/// v3.2 to v3.8.4, and this tool without `--calico-version`.
const V3_2: Probes = step(v3(2, 0), HTTP_LIVENESS, READY_BIRD_FIRST, None);

/// Every step, oldest first. v3.1's calico/node has no probe command: its
/// manifest probes Felix over HTTP. The timeouts of v3.17.5 and v3.18.5
/// are only in those tags' manifests (v3.17.6's and v3.18.6's have none).
pub const STEPS: [Probes; 12] = [
    step(
        v3(1, 0),
        Probe::Http {
            path: "/liveness",
            localhost: false,
        },
        Probe::Http {
            path: "/readiness",
            localhost: false,
        },
        None,
    ),
    V3_2,
    step(v3(8, 5), LIVE, READY_BIRD_FIRST, None),
    step(v3(9, 0), LIVE_FELIX, READY, None),
    step(v3(9, 4), LIVE, READY, None),
    step(v3(10, 0), LIVE_FELIX, READY, None),
    step(v3(10, 2), LIVE, READY, None),
    step(v3(17, 5), LIVE, READY, Some(10)),
    step(v3(17, 6), LIVE, READY, None),
    step(v3(18, 5), LIVE, READY, Some(10)),
    step(v3(18, 6), LIVE, READY, None),
    step(v3(20, 0), LIVE, READY, Some(10)),
];

impl Served {
    /// The probes of the release served: without `--calico-version`,
    /// v3.2's (the release this tool does without one).
    pub fn probes(&self) -> &'static Probes {
        let Some(asked) = self.asked else {
            return &V3_2;
        };
        STEPS
            .iter()
            .rev()
            .find(|p| p.first <= asked)
            .unwrap_or(&STEPS[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes(text: &str) -> &'static Probes {
        Served::new(Some(text)).unwrap().probes()
    }

    fn readiness(text: &str, bird: Bird) -> Option<Vec<&'static str>> {
        probes(text).readiness.command(bird)
    }

    fn liveness(text: &str, bird: Bird) -> Option<Vec<&'static str>> {
        probes(text).liveness.command(bird)
    }

    #[test]
    fn readiness_is_http_at_v3_1_then_bird_and_felix_and_the_order_turns_at_v3_9() {
        assert_eq!(readiness("v3.1.7", Bird::Runs), None);
        let v3_2 = ["/bin/calico-node", "-bird-ready", "-felix-ready"];
        assert_eq!(readiness("v3.2.0", Bird::Runs).unwrap(), v3_2);
        assert_eq!(readiness("v3.8.9", Bird::Runs).unwrap(), v3_2);
        let v3_9 = ["/bin/calico-node", "-felix-ready", "-bird-ready"];
        assert_eq!(readiness("v3.9.0", Bird::Runs).unwrap(), v3_9);
        assert_eq!(readiness("v3.32.1", Bird::Runs).unwrap(), v3_9);
        for release in ["v3.2.0", "v3.9.0", "v3.32.1"] {
            let felix = ["/bin/calico-node", "-felix-ready"];
            assert_eq!(readiness(release, Bird::Absent).unwrap(), felix);
        }
        assert_eq!(Served::default().probes(), probes("v3.2.0"));
    }

    #[test]
    fn liveness_becomes_a_command_at_v3_8_5_and_bird_live_comes_and_goes() {
        for release in ["v3.1.0", "v3.2.0", "v3.8.4"] {
            assert_eq!(liveness(release, Bird::Runs), None, "{release}");
        }
        let both = ["/bin/calico-node", "-felix-live", "-bird-live"];
        let felix = ["/bin/calico-node", "-felix-live"];
        let cases = [
            ("v3.8.5", both.as_slice()),
            ("v3.9.0", &felix),
            ("v3.9.3", &felix),
            ("v3.9.4", &both),
            ("v3.10.0", &felix),
            ("v3.10.1", &felix),
            ("v3.10.2", &both),
            ("v3.11.0", &both),
            ("v3.32.1", &both),
        ];
        for (release, command) in cases {
            assert_eq!(liveness(release, Bird::Runs).unwrap(), command, "{release}");
            assert_eq!(liveness(release, Bird::Absent).unwrap(), felix);
        }
        assert_eq!(
            probes("v3.2.0").liveness,
            Probe::Http {
                path: "/liveness",
                localhost: true
            }
        );
        assert_eq!(
            probes("v3.1.0").liveness,
            Probe::Http {
                path: "/liveness",
                localhost: false
            }
        );
    }

    #[test]
    fn timeouts_are_the_tags_own() {
        let cases = [
            ("v3.17.4", None),
            ("v3.17.5", Some(10)),
            ("v3.17.6", None),
            ("v3.18.4", None),
            ("v3.18.5", Some(10)),
            ("v3.18.6", None),
            ("v3.19.4", None),
            ("v3.20.0", Some(10)),
            ("v3.32.1", Some(10)),
        ];
        for (release, timeout) in cases {
            assert_eq!(probes(release).timeout_seconds, timeout, "{release}");
        }
    }
}
