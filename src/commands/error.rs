//! The command layer's error: whatever stopped a subcommand, as the value
//! its layer gave (`?` converts each through `From`), plus the refusals of
//! our own option combinations ([`OptionError`]). `main` prints its
//! `Display`, the user's line (a fleet's failures, one line each), and
//! exits 1; nothing here decides on a line's words.

use crate::cli::{InvalidOption, RunLineError};
use crate::config::ConfigError;
use crate::emit::EmitError;
use crate::error::executing;
use crate::inventory::Problem;
use crate::inventory::error::{LimitError, ReadError, ValueError};
use crate::inventory::trust::TrustError;
use crate::ip::detection::{Failure, TableError};
use crate::ip::methods::{Family, MethodError};
use crate::outdir;
use crate::outdir::modes::BadModes;
use crate::plan::PlanError;
use crate::release::{Profile, ReleaseError};
use crate::render::RenderError;
use crate::terminal::BadColor;
use crate::{live, start};
use std::fmt;

#[derive(Debug)]
pub enum Error {
    Invalid(InvalidOption),
    /// `--calico-version` names no release served.
    Release(ReleaseError),
    /// An upstream line the release (v3.31 on) starts in lower case, where
    /// that release lowered it (decided by the inner error's variant).
    LowerCase(Box<Error>),
    /// No command at all: upstream prints its usage, and fails.
    Usage,
    ArgumentsNotUtf8,
    Option(OptionError),
    Method(MethodError),
    Plan(PlanError),
    Config(ConfigError),
    Table(TableError),
    /// `--pin-ip` found no address.
    Pin {
        family: Family,
        failure: Failure,
    },
    /// `detect-ip` found no address, for each family asked.
    Detect(Vec<(Family, Failure)>),
    Emit(EmitError),
    Render(RenderError),
    Outdir(outdir::Error),
    Live(live::Error),
    /// `node import`'s source could not be read.
    Import(super::node_import::ImportError),
    Start(start::Error),
    Color(BadColor),
    Modes(BadModes),
    Inventory(ReadError),
    Limit(LimitError),
    /// A fleet's host option that `node run` cannot take.
    HostOption(ValueError),
    /// A fleet's host asking for more than the command line lets it have.
    Trust(TrustError),
    /// A fleet's failures: the inventory's problems and each failed
    /// host's error, all of them.
    Fleet(Vec<FleetFailure>),
    /// The fleet's spooled stdout (`what` it was doing).
    Spool {
        what: Spooling,
        error: std::io::Error,
    },
    /// Generating a man page or a completion script (which).
    Generate {
        what: &'static str,
        reason: String,
    },
}

impl Error {
    /// The lines `main` prints: one per failure of a fleet, one per
    /// family of `detect-ip`, the engine's output under its status; one
    /// for everything else. Each is printed as one line whatever its values
    /// hold (`errln!` makes their control characters visible).
    pub fn lines(&self) -> Vec<String> {
        match self {
            Error::Fleet(failures) => failures.iter().map(ToString::to_string).collect(),
            Error::Usage | Error::Detect(_) | Error::Start(start::Error::Failed { .. }) => {
                self.to_string().split('\n').map(str::to_string).collect()
            }
            other => {
                let hint = other.config_hint().map(str::to_string);
                std::iter::once(other.to_string()).chain(hint).collect()
            }
        }
    }

    /// Our line under upstream's where the datastore configuration is
    /// missing altogether (its variant says so, whatever the wrapping).
    fn config_hint(&self) -> Option<&'static str> {
        match self {
            Error::LowerCase(inner) => inner.config_hint(),
            Error::Config(e) | Error::Plan(PlanError::Config(e)) => e.hint(),
            _ => None,
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Invalid(e) => Some(e),
            Error::Release(e) => Some(e),
            Error::LowerCase(e) => Some(e.as_ref()),
            Error::Option(e) => Some(e),
            Error::Method(e) => Some(e),
            Error::Plan(e) => Some(e),
            Error::Config(e) => Some(e),
            Error::Table(e) => Some(e),
            Error::Pin { failure, .. } => Some(failure),
            Error::Emit(e) => Some(e),
            Error::Render(e) => Some(e),
            Error::Outdir(e) => Some(e),
            Error::Live(e) => Some(e),
            Error::Import(e) => Some(e),
            Error::Start(e) => Some(e),
            Error::Color(e) => Some(e),
            Error::Modes(e) => Some(e),
            Error::Inventory(e) => Some(e),
            Error::Limit(e) => Some(e),
            Error::HostOption(e) => Some(e),
            Error::Trust(e) => Some(e),
            Error::Spool { error, .. } => Some(error),
            Error::Usage
            | Error::ArgumentsNotUtf8
            | Error::Detect(_)
            | Error::Fleet(_)
            | Error::Generate { .. } => None,
        }
    }
}

impl std::error::Error for OptionError {}

/// One line of a failed fleet.
#[derive(Debug)]
pub enum FleetFailure {
    Inventory(Problem),
    Host {
        host: String,
        error: Error,
    },
    /// A rendering thread panicked (its message is on stderr already).
    Thread,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spooling {
    /// Making the temporary file (in the temporary directory).
    Open,
    Write,
    ReadBack,
}

/// Our own options' refusals (upstream has none of these options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionError {
    PodmanWithDockerNetworking,
    TemplateWithOutput,
    /// `--out-dir` without a format that writes files (their names).
    OutDirNeedsFiles(String),
    LiveCheckWhilePrinting,
    IfChangedWithCheck,
    IfChangedWhilePrinting,
    IfChangedWithInitSystem,
    /// `--engine-host` that is not an engine address.
    EngineHost(crate::remote::AddressError),
    /// `--engine-host` of another host where the container would start.
    EngineHostStarts,
    /// `--report` of another format than text or json.
    ReportFormat(String),
    HealthAndNoHealth,
    /// `--ready-timeout` that is not whole seconds from 1 to 86400.
    ReadyTimeout(String),
    ReadyTimeoutWithProbes,
    ReadyTimeoutWithoutChecks,
    /// `--health` at a release whose calico/node has no probe command.
    HealthWithoutCommand(String),
    /// `node fleet --forks` or `--timeout` out of range (the option).
    FleetLimit(&'static str),
    DetectFormat(String),
    ExplainNeedsText,
    FleetKubernetes,
    /// `node fleet -o` of a format that is not per host (those that are).
    FleetNotPerHost(String),
    BatchNeedsPlaybook,
    /// A host whose directory would be the playbook's file (its name).
    HostNamedLikePlaybook(String),
    PlaybookNeedsOutDir,
    UnknownShell(String),
    ManDirWentAway(std::path::PathBuf),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Invalid(e) => write!(f, "{e}"),
            Error::Release(e) => write!(f, "{e}"),
            Error::LowerCase(inner) if inner.lowered_from_v3_31() => {
                let line = inner.to_string();
                let mut chars = line.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}", first.to_lowercase())?;
                }
                f.write_str(chars.as_str())
            }
            Error::LowerCase(inner) => write!(f, "{inner}"),
            Error::Usage => f.write_str(crate::cli::USAGE.trim_end()),
            Error::ArgumentsNotUtf8 => executing(f, format_args!("arguments must be valid UTF-8")),
            Error::Option(e) => write!(f, "{e}"),
            Error::Method(e) => write!(f, "{e}"),
            Error::Plan(e) => write!(f, "{e}"),
            Error::Config(e) => write!(f, "{e}"),
            Error::Table(e) => write!(f, "{e}"),
            Error::Pin { family, failure } => executing(
                f,
                format_args!("--pin-ip: IPv{}: {failure}", family.number()),
            ),
            Error::Detect(failures) => {
                for (i, (family, failure)) in failures.iter().enumerate() {
                    let gap = if i == 0 { "" } else { "\n" };
                    f.write_str(gap)?;
                    executing(f, format_args!("IPv{}: {failure}", family.number()))?;
                }
                Ok(())
            }
            Error::Emit(e) => write!(f, "{e}"),
            Error::Render(e) => write!(f, "{e}"),
            Error::Outdir(e) => write!(f, "{e}"),
            Error::Live(e) => write!(f, "{e}"),
            Error::Import(e) => write!(f, "{e}"),
            Error::Start(e) => write!(f, "{e}"),
            Error::Color(e) => write!(f, "{e}"),
            Error::Modes(e) => write!(f, "{e}"),
            Error::Inventory(e) => write!(f, "{e}"),
            Error::Limit(e) => write!(f, "{e}"),
            Error::HostOption(e) => write!(f, "{e}"),
            Error::Trust(e) => write!(f, "{e}"),
            Error::Fleet(failures) => {
                for (i, failure) in failures.iter().enumerate() {
                    let gap = if i == 0 { "" } else { "\n" };
                    write!(f, "{gap}{failure}")?;
                }
                Ok(())
            }
            Error::Spool { what, error } => match what {
                Spooling::Open => executing(
                    f,
                    format_args!(
                        "cannot spool the fleet's output in {}: {error}",
                        std::env::temp_dir().display()
                    ),
                ),
                Spooling::Write => executing(f, format_args!("spooling the output: {error}")),
                Spooling::ReadBack => {
                    executing(f, format_args!("reading back the spooled output: {error}"))
                }
            },
            Error::Generate { what, reason } => executing(f, format_args!("{what}: {reason}")),
        }
    }
}

impl Error {
    /// This error under `profile`: its upstream lines in that release's
    /// case.
    pub fn in_release(self, profile: &Profile) -> Error {
        match profile.lower_case {
            true => Error::LowerCase(Box::new(self)),
            false => self,
        }
    }

    /// Whether upstream's v3.31 writes this line in lower case (the
    /// errors `node run` returns; not the ones it prints itself).
    fn lowered_from_v3_31(&self) -> bool {
        match self {
            Error::Plan(e) => e.lowered_from_v3_31(),
            Error::Method(e) => e.lowered_from_v3_31(),
            Error::Config(e) => e.lowered_from_v3_31(),
            Error::Start(e) => e.lowered_from_v3_31(),
            Error::LowerCase(inner) => inner.lowered_from_v3_31(),
            _ => false,
        }
    }
}

impl From<RunLineError> for Error {
    fn from(e: RunLineError) -> Error {
        match e {
            RunLineError::Invalid(e) => Error::Invalid(e),
            RunLineError::Release(e) => Error::Release(e),
        }
    }
}

impl fmt::Display for FleetFailure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            FleetFailure::Inventory(problem) => write!(f, "{problem}"),
            FleetFailure::Host { host, error } => write!(f, "{host}: {error}"),
            FleetFailure::Thread => executing(f, format_args!("a rendering thread failed")),
        }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let line = match self {
            OptionError::PodmanWithDockerNetworking => {
                "--runtime podman needs --disable-docker-networking (the libnetwork plugin and /var/run/docker.sock are docker's)"
            }
            OptionError::TemplateWithOutput => "--template and --output cannot be used together",
            OptionError::HostNamedLikePlaybook(name) => {
                return executing(
                    f,
                    format_args!(
                        "a host named {name} cannot have a directory beside --playbook's {name}: rename the host"
                    ),
                );
            }
            OptionError::OutDirNeedsFiles(names) => {
                return executing(
                    f,
                    format_args!(
                        "--out-dir needs --template or an --output that writes files ({names})"
                    ),
                );
            }
            OptionError::LiveCheckWhilePrinting => {
                "--check without --out-dir compares the running container with the plan; it does not go with --dryrun, --output or --template (add --out-dir to compare files)"
            }
            OptionError::IfChangedWithCheck => {
                "--if-changed and --check cannot be used together: --check only compares, --if-changed starts calico-node when it differs"
            }
            OptionError::IfChangedWhilePrinting => {
                "--if-changed starts calico-node when it differs from the plan; it does not go with --dryrun, --output or --template"
            }
            OptionError::IfChangedWithInitSystem => {
                "--if-changed does not go with --init-system: the init system owns that container's lifecycle"
            }
            OptionError::EngineHost(e) => return executing(f, format_args!("{e}")),
            OptionError::ReportFormat(other) => {
                return executing(
                    f,
                    format_args!("unknown --report format '{other}' (text or json)"),
                );
            }
            OptionError::HealthAndNoHealth => "--health and --no-health cannot be used together",
            OptionError::ReadyTimeout(text) => {
                return executing(
                    f,
                    format_args!(
                        "--ready-timeout '{text}' is not a whole number of seconds from 1 to 86400"
                    ),
                );
            }
            OptionError::ReadyTimeoutWithProbes => {
                "--ready-timeout does not go with -o kubernetes: a DaemonSet's probes are as Calico's manifests have them"
            }
            OptionError::ReadyTimeoutWithoutChecks => {
                "--ready-timeout is how long a unit waits for calico/node's health checks, and this output has none (add --health, or drop --no-health)"
            }
            OptionError::HealthWithoutCommand(release) => {
                return executing(
                    f,
                    format_args!(
                        "--health: calico/node {release} has no command that reports its health (its manifest probes Felix over HTTP); only -o kubernetes carries its checks"
                    ),
                );
            }
            OptionError::EngineHostStarts => {
                "--engine-host of another host goes with --check: calico-node starts on this machine's engine"
            }
            OptionError::FleetLimit(option) => {
                return executing(
                    f,
                    format_args!("{option} must be a whole number from 1 to 1000"),
                );
            }
            OptionError::DetectFormat(other) => {
                return executing(
                    f,
                    format_args!("unknown output format '{other}' (text or json)"),
                );
            }
            OptionError::ExplainNeedsText => "--explain goes with text output",
            OptionError::FleetKubernetes => {
                "node fleet does not make -o kubernetes: one DaemonSet already runs calico/node on every node; make it once with 'calicoctl node run -o kubernetes'"
            }
            OptionError::FleetNotPerHost(names) => {
                return executing(
                    f,
                    format_args!("node fleet writes files per host: -o must be one of {names}"),
                );
            }
            OptionError::BatchNeedsPlaybook => {
                "--batch sets the playbook's batches: it needs --playbook"
            }
            OptionError::PlaybookNeedsOutDir => {
                "--playbook needs --out-dir (the playbook installs the host directories beside it)"
            }
            OptionError::UnknownShell(other) => {
                return executing(
                    f,
                    format_args!("unknown shell '{other}' (bash, zsh or fish)"),
                );
            }
            OptionError::ManDirWentAway(dir) => {
                return executing(
                    f,
                    format_args!("cannot open {}: it went away", dir.display()),
                );
            }
        };
        executing(f, format_args!("{line}"))
    }
}

/// `?` from each layer's error.
macro_rules! from_layer {
    ($($variant:ident($type:ty)),* $(,)?) => {
        $(impl From<$type> for Error {
            fn from(e: $type) -> Error {
                Error::$variant(e)
            }
        })*
    };
}

from_layer!(
    Invalid(InvalidOption),
    Release(ReleaseError),
    Option(OptionError),
    Method(MethodError),
    Plan(PlanError),
    Config(ConfigError),
    Table(TableError),
    Emit(EmitError),
    Render(RenderError),
    Outdir(outdir::Error),
    Live(live::Error),
    Start(start::Error),
    Color(BadColor),
    Modes(BadModes),
    Inventory(ReadError),
    Limit(LimitError),
    HostOption(ValueError),
    Trust(TrustError),
);

#[cfg(test)]
mod tests {
    #[test]
    fn each_layer_gives_its_cause() {
        use std::error::Error as _;
        let deep = crate::nesting::TooDeep { line: 3 };
        let error = super::Error::from(crate::plan::PlanError::Config(
            crate::config::ConfigError::TooDeep(deep),
        ));
        let mut chain = vec![error.to_string()];
        let mut cause = error.source();
        while let Some(e) = cause {
            chain.push(e.to_string());
            cause = e.source();
        }
        assert_eq!(chain.len(), 4, "{chain:?}");
        assert!(
            chain[3].contains("nested deeper than 64 levels"),
            "{chain:?}"
        );
    }
}
