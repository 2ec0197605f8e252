//! Why a plan cannot be written in a format, as values. Each variant's
//! `Display` is the user's line, through `crate::error::executing`.

use crate::plan::Origin;

#[derive(Debug)]
pub enum EmitError {
    UnknownFormat {
        name: String,
        choices: String,
    },
    UnknownRuntime {
        runtime: String,
    },
    EmptyRuntimePath,
    /// A template failed to render (minijinja's words, or the user
    /// template's place and reason).
    Render(crate::render::RenderError),
    TemplateUnreadable {
        path: String,
        source: std::io::Error,
    },
    /// A value the target syntax cannot carry (`origin`: its option).
    Refused {
        origin: Origin,
        reason: &'static str,
    },
    RelativeUnitRuntimePath {
        path: String,
    },
    SecretInUnit {
        name: String,
    },
    QuadletNeedsNoDockerNetworking,
    IgnitionLineTooLong {
        /// The value found in the line, if one is.
        origin: Option<Origin>,
        max: usize,
    },
    /// A file would be larger than `--check` reads back: `origin` gave
    /// its largest value.
    TooLarge {
        file: String,
        size: usize,
        origin: Origin,
    },
    /// `--template-source` of a format with no one template.
    NoTemplate {
        format: &'static str,
        why: &'static str,
    },
    /// A serializer failed (`target`: `cloud-init`, `ignition`, ...).
    Serialize {
        target: &'static str,
        message: String,
    },
    Kubernetes(KubernetesRefusal),
    TlsUnreadable {
        origin: Origin,
        path: String,
        source: std::io::Error,
    },
    BadBatch {
        text: String,
    },
    PlaybookFormat {
        format: &'static str,
    },
}

/// What a DaemonSet cannot express.
#[derive(Debug)]
pub enum KubernetesRefusal {
    Podman,
    InitSystem,
    Name,
    LiteralAddress {
        origin: Origin,
        value: String,
    },
    HostPath {
        origin: Origin,
        path: String,
    },
    /// Two secret variables whose Secret keys would be one (`A_B`, `a_b`).
    SecretKeyCollision {
        first: String,
        second: String,
    },
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing as line;
        match self {
            EmitError::UnknownFormat { name, choices } => line(
                f,
                format_args!("unknown output format '{name}' (one of: {choices})"),
            ),
            EmitError::UnknownRuntime { runtime } => line(
                f,
                format_args!("unknown runtime '{runtime}' (docker or podman)"),
            ),
            EmitError::EmptyRuntimePath => line(f, format_args!("--runtime-path cannot be empty")),
            EmitError::Render(e) => e.fmt(f),
            EmitError::TemplateUnreadable { path, source } => {
                line(f, format_args!("cannot read template {path}: {source}"))
            }
            EmitError::Refused { origin, reason } => line(f, format_args!("{origin}: {reason}")),
            EmitError::RelativeUnitRuntimePath { path } => line(
                f,
                format_args!("a systemd unit needs an absolute --runtime-path, not '{path}'"),
            ),
            EmitError::SecretInUnit { name } => line(
                f,
                format_args!(
                    "{name} is a secret and a unit file is world-readable; use -o systemd-envfile, which keeps it in a 0600 file"
                ),
            ),
            EmitError::QuadletNeedsNoDockerNetworking => line(
                f,
                format_args!(
                    "-o quadlet needs --disable-docker-networking (the libnetwork plugin and /var/run/docker.sock are docker's)"
                ),
            ),
            EmitError::IgnitionLineTooLong { origin, max } => {
                let origin = origin.map_or("a value".to_string(), |o| o.to_string());
                line(
                    f,
                    format_args!(
                        "{origin}: Ignition cannot carry a unit line longer than {max} bytes"
                    ),
                )
            }
            EmitError::Serialize { target, message } => line(f, format_args!("{target}{message}")),
            EmitError::NoTemplate { format, why } => line(
                f,
                format_args!("-o {format} has no template to print: {why}"),
            ),
            EmitError::TooLarge { file, size, origin } => line(
                f,
                format_args!(
                    "{origin} makes {file} {size} bytes, more than the {} a file of ours may hold",
                    crate::input::MAX_INPUT
                ),
            ),
            EmitError::Kubernetes(refusal) => refusal.fmt(f),
            EmitError::TlsUnreadable {
                origin,
                path,
                source,
            } => line(f, format_args!("{origin}: cannot read {path}: {source}")),
            EmitError::BadBatch { text } => line(
                f,
                format_args!(
                    "--batch must be a number of hosts (1 or more) or a percentage (1% to 100%), not {text:?}"
                ),
            ),
            EmitError::PlaybookFormat { format } => line(
                f,
                format_args!(
                    "--playbook installs systemd units: -o must be systemd, systemd-envfile or quadlet, not {format} (its files are not a unit systemd runs)"
                ),
            ),
        }
    }
}

impl std::fmt::Display for KubernetesRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing as line;
        match self {
            KubernetesRefusal::Podman => line(
                f,
                format_args!(
                    "-o kubernetes runs calico/node under the cluster's container runtime; --runtime podman does not apply"
                ),
            ),
            KubernetesRefusal::InitSystem => line(
                f,
                format_args!(
                    "-o kubernetes: --init-system does not apply; the kubelet supervises the DaemonSet's pods"
                ),
            ),
            KubernetesRefusal::Name => line(
                f,
                format_args!(
                    "-o kubernetes: --name cannot be used; a DaemonSet spans nodes and each pod takes its node's name"
                ),
            ),
            KubernetesRefusal::LiteralAddress { origin, value } => line(
                f,
                format_args!(
                    "-o kubernetes: {origin} must be 'autodetect' or absent (a DaemonSet spans nodes), not {value}"
                ),
            ),
            KubernetesRefusal::HostPath { origin, path } => line(
                f,
                format_args!("{origin}: a hostPath must be an absolute path without '..': {path}"),
            ),
            KubernetesRefusal::SecretKeyCollision { first, second } => line(
                f,
                format_args!(
                    "--env {first} and --env {second} would share one key of the DaemonSet's Secret (keys are lower case): rename one"
                ),
            ),
        }
    }
}

impl From<crate::render::RenderError> for EmitError {
    fn from(e: crate::render::RenderError) -> EmitError {
        EmitError::Render(e)
    }
}

impl From<KubernetesRefusal> for EmitError {
    fn from(e: KubernetesRefusal) -> EmitError {
        EmitError::Kubernetes(e)
    }
}

impl std::error::Error for EmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmitError::Render(e) => Some(e),
            EmitError::TemplateUnreadable { source, .. }
            | EmitError::TlsUnreadable { source, .. } => Some(source),
            EmitError::Kubernetes(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for KubernetesRefusal {}
