//! calico/node's health checks in the plan: the probes of the release
//! served (`release::health`), whether BIRD runs (its flags go where it
//! does not), and how long a unit waits for ready. Emitters read these
//! facts: the container engines' health check (docker's and podman's
//! `--health-*`, compose's `healthcheck:`, Quadlet's `Health*=`) is the
//! readiness probe's command; a DaemonSet carries both probes as they are.

use crate::release::health::{Bird, PERIOD_SECONDS, Probe, Probes, READINESS_FAILURE_THRESHOLD};
use serde::Serialize;

/// The unit's start timeout when `--ready-timeout` is not given: the
/// `TimeoutStartSec=` every unit of this tool has had.
pub const DEFAULT_READY_TIMEOUT: u32 = 600;

/// What the command line asks of the plan's health checks, once settled
/// with the output (the command layer decides whether there are any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthRequest {
    /// Seconds a unit waits for calico/node to be ready.
    pub ready_timeout: u32,
}

/// calico/node's health checks, as the release's manifests run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub probes: &'static Probes,
    pub bird: Bird,
    /// Seconds a unit waits for ready: its start timeout, and the
    /// container check's start period (failures then do not count, so the
    /// container is "starting", not "unhealthy", while the unit waits).
    pub ready_timeout: u32,
}

/// The health check a container engine runs: the readiness probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerCheck {
    pub command: Vec<&'static str>,
    pub interval_seconds: u32,
    /// None: the manifests set none, and neither do we (the engine's
    /// default applies).
    pub timeout_seconds: Option<u32>,
    pub retries: u32,
    pub start_period_seconds: u32,
}

impl ContainerCheck {
    /// The command as one line: what `--health-cmd` takes (the engine
    /// runs it with `/bin/sh -c`; the words are plain).
    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }

    /// The engines' `--health-*` options, one group each, as
    /// `docker run` and `podman run` both take them.
    pub fn run_groups(&self) -> Vec<[String; 2]> {
        let mut groups = vec![
            ["--health-cmd".to_string(), self.command_line()],
            [
                "--health-interval".to_string(),
                format!("{}s", self.interval_seconds),
            ],
        ];
        if let Some(timeout) = self.timeout_seconds {
            groups.push(["--health-timeout".to_string(), format!("{timeout}s")]);
        }
        groups.push(["--health-retries".to_string(), self.retries.to_string()]);
        groups.push([
            "--health-start-period".to_string(),
            format!("{}s", self.start_period_seconds),
        ]);
        groups
    }
}

impl Health {
    /// The container engines' check (None: the release has no command
    /// to ask, as v3.1, whose manifest probes Felix over HTTP).
    pub fn container_check(&self) -> Option<ContainerCheck> {
        Some(ContainerCheck {
            command: self.probes.readiness.command(self.bird)?,
            interval_seconds: PERIOD_SECONDS,
            timeout_seconds: self.probes.timeout_seconds,
            retries: READINESS_FAILURE_THRESHOLD,
            start_period_seconds: self.ready_timeout,
        })
    }

    pub fn readiness(&self) -> ProbeView {
        ProbeView(self.probes.readiness, self.bird)
    }

    pub fn liveness(&self) -> ProbeView {
        ProbeView(self.probes.liveness, self.bird)
    }
}

/// A probe with BIRD's presence settled, serialized as the DaemonSet's
/// `exec` or `httpGet` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeView(Probe, Bird);

/// An HTTP probe as the DaemonSet (and the serialized plan) write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HttpGet {
    pub path: &'static str,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<&'static str>,
}

impl ProbeView {
    /// The HTTP request of an HTTP probe (None: a command).
    pub fn http_get(&self) -> Option<HttpGet> {
        match self.0 {
            Probe::Http { path, localhost } => Some(HttpGet {
                path,
                port: crate::release::health::HEALTH_PORT,
                host: localhost.then_some("localhost"),
            }),
            Probe::Exec { .. } => None,
        }
    }

    pub fn command(&self) -> Option<Vec<&'static str>> {
        self.0.command(self.1)
    }
}

impl Serialize for ProbeView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        match self.http_get() {
            Some(get) => map.serialize_entry("http_get", &get)?,
            None => map.serialize_entry("command", &self.command())?,
        }
        map.end()
    }
}

impl Serialize for Health {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Health", 5)?;
        st.serialize_field("readiness", &self.readiness())?;
        st.serialize_field("liveness", &self.liveness())?;
        st.serialize_field("timeout_seconds", &self.probes.timeout_seconds)?;
        st.serialize_field("ready_timeout_seconds", &self.ready_timeout)?;
        st.serialize_field("container_check", &self.container_check())?;
        st.end()
    }
}
