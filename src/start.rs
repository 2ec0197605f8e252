//! The run path: what `calicoctl node run` does without `--dryrun`. It
//! prepares the host as upstream does and hands the container to `docker`.
//!
//! The `/proc` root and the log timeout can be redirected through the
//! environment ([`RunSettings::from_env`]) and `docker`/`modprobe` are found
//! on `PATH`, so tests run all of this against stand-ins, never the host.

use crate::plan::{Mode, Plan};
use crate::release::Profile;
use crate::render::{self, Engine, RenderError, TemplateContext};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SUCCESS_LINE: &str = "Calico node started successfully";
const DEFAULT_LOG_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the run path stopped; each `Display` is upstream's line (the root
/// and forwarding refusals carry no prefix there either).
#[derive(Debug)]
pub enum Error {
    /// `CALICOCTL_LOG_TIMEOUT_MS` (a test setting) is not a number.
    LogTimeout(String),
    NotRoot,
    /// Forwarding could not be enabled: `"ipv4"` or `"ipv6"`.
    Forwarding(&'static str),
    Banner(RenderError),
    CannotRun {
        program: String,
        error: std::io::Error,
    },
    /// The engine failed: Go's wording of its status and its combined
    /// output, each line under the first.
    Failed {
        status: String,
        output: String,
    },
    CannotFollowLogs(std::io::Error),
    Terminated,
}

impl Error {
    /// Whether calicoctl v3.31 and later write this line in lower case.
    pub fn lowered_from_v3_31(&self) -> bool {
        matches!(self, Error::CannotFollowLogs(_) | Error::Terminated)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use crate::error::executing;
        match self {
            Error::LogTimeout(ms) => executing(
                f,
                format_args!("CALICOCTL_LOG_TIMEOUT_MS is not a number of milliseconds: {ms}"),
            ),
            Error::NotRoot => f.write_str("Need super user privileges: Operation not permitted"),
            Error::Forwarding(family) => write!(f, "ERROR: Could not enable {family} forwarding"),
            Error::Banner(e) => write!(f, "{e}"),
            Error::CannotRun { program, error } => {
                executing(f, format_args!("cannot run {program}: {error}"))
            }
            Error::Failed { status, output } => {
                executing(f, format_args!("{status}"))?;
                output.lines().try_for_each(|line| write!(f, "\n | {line}"))
            }
            // Upstream's two spaces.
            Error::CannotFollowLogs(e) => {
                executing(f, format_args!(" unable to check calico/node logs: {e}"))
            }
            Error::Terminated => executing(
                f,
                format_args!("calico/node has terminated, check logs for details"),
            ),
        }
    }
}

/// Where the run path reaches the host.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Stands in for `/proc` (`CALICOCTL_PROC_ROOT`).
    pub proc_root: PathBuf,
    /// How long to wait for the success line (`CALICOCTL_LOG_TIMEOUT_MS`).
    pub log_timeout: Duration,
    /// `CALICO_CTL_CONTAINER` is set: calicoctl runs in a container and
    /// leaves the host's modules and sysctls alone.
    pub in_container: bool,
}

impl RunSettings {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let log_timeout = match get("CALICOCTL_LOG_TIMEOUT_MS") {
            None => DEFAULT_LOG_TIMEOUT,
            Some(ms) => Duration::from_millis(ms.parse().map_err(|_| Error::LogTimeout(ms))?),
        };
        Ok(RunSettings {
            proc_root: get("CALICOCTL_PROC_ROOT")
                .map_or_else(|| PathBuf::from("/proc"), PathBuf::from),
            log_timeout,
            in_container: get("CALICO_CTL_CONTAINER").is_some_and(|v| !v.is_empty()),
        })
    }
}

/// The effective user id, from the kernel's own status file.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Write a sysctl value as upstream does (create/truncate, no newline).
fn write_sysctl(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// Go's wording for a failed command, which upstream prints.
fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown status".to_string(),
    }
}

fn preflight(settings: &RunSettings, profile: &Profile) -> Result<(), Error> {
    let modprobe = ["modprobe", "-a", "xt_set", "ip6_tables"];
    outln!("Running command to load modules: {}", modprobe.join(" "));
    match Command::new(modprobe[0])
        .args(&modprobe[1..])
        .stdin(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => errln!(
            "WARNING: Could not load kernel modules: {}",
            describe_status(s)
        ),
        Err(e) => errln!("WARNING: Could not load kernel modules: {e}"),
    }

    let sys = settings.proc_root.join("sys");
    outln!("Enabling IPv4 forwarding");
    write_sysctl(&sys.join("net/ipv4/ip_forward"), "1").map_err(|_| Error::Forwarding("ipv4"))?;
    if sys.join("net/ipv6").exists() {
        outln!("Enabling IPv6 forwarding");
        write_sysctl(&sys.join("net/ipv6/conf/all/forwarding"), "1")
            .map_err(|_| Error::Forwarding("ipv6"))?;
    }

    outln!("Increasing conntrack limit");
    if write_sysctl(&sys.join("net/netfilter/nf_conntrack_max"), "1000000").is_err() {
        // Upstream's spelling, corrected in v3.28.
        let name = match profile.conntrack_spelled {
            true => "nf_conntrack_max",
            false => "nf_contrack_max",
        };
        errln!("WARNING: Could not set {name}. This may have an impact at scale.");
    }
    Ok(())
}

/// The engine command for `argv`, with the plan's secrets in its environment.
fn engine_command(plan: &Plan, argv: &[String]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(Stdio::null());
    for var in plan.secrets() {
        cmd.env(&var.name, &var.value);
    }
    cmd
}

/// Run `cmd`, collecting stdout and stderr interleaved, as Go's CombinedOutput.
fn combined_output(cmd: &mut Command) -> std::io::Result<(ExitStatus, String)> {
    let (mut reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?).stderr(writer);
    let mut child = cmd.spawn()?;
    // Drop our copies of the write end so that reading ends with the child.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut out = Vec::new();
    reader.read_to_end(&mut out)?;
    Ok((child.wait()?, String::from_utf8_lossy(&out).into_owned()))
}

/// Follow the container's log until the success line, its end, or the timeout.
fn wait_for_start(engine: &Engine, container: &str, timeout: Duration) -> Result<(), Error> {
    let mut child = Command::new(&engine.command)
        .args(["logs", "--follow", container])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(Error::CannotFollowLogs)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let started = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                outln!("{}", crate::escape::visible(&line));
                if line == SUCCESS_LINE {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    if started {
        Ok(())
    } else {
        Err(Error::Terminated)
    }
}

/// Upstream's refusal when not root.
pub fn require_root() -> Result<(), Error> {
    if effective_uid() != Some(0) {
        return Err(Error::NotRoot);
    }
    Ok(())
}

/// Run the plan. Returns the exit status for the process.
pub fn run(
    plan: &Plan,
    engine: &Engine,
    settings: &RunSettings,
    profile: &Profile,
) -> Result<i32, Error> {
    require_root()?;
    if !settings.in_container {
        preflight(settings, profile)?;
    }

    outln!("Removing old calico-node container (if running).");
    let _ = Command::new(&engine.command)
        .args(["rm", "-f", &plan.container_name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();

    let ctx = TemplateContext::new(plan, engine);
    let banner = render::Context::new(plan, engine)
        .render("run-start.txt.j2")
        .map_err(Error::Banner)?;
    out!("{banner}");
    crate::stdio::flush_out();

    let mut cmd = engine_command(plan, &ctx.argv);
    if plan.mode == Mode::InitSystem {
        // Attached: the init system supervises docker, whose status is ours.
        cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        let status = cmd.status().map_err(|error| Error::CannotRun {
            program: ctx.argv[0].clone(),
            error,
        })?;
        return Ok(status.code().unwrap_or(1));
    }

    match combined_output(&mut cmd) {
        Ok((status, _)) if status.success() => {}
        Ok((status, output)) => {
            return Err(Error::Failed {
                status: describe_status(status),
                output,
            });
        }
        Err(error) => {
            return Err(Error::CannotRun {
                program: ctx.argv[0].clone(),
                error,
            });
        }
    }

    out!("Container started, checking progress logs.\n\n");
    wait_for_start(engine, &plan.container_name, settings.log_timeout)?;
    Ok(0)
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Banner(e) => Some(e),
            Error::CannotRun { error, .. } | Error::CannotFollowLogs(error) => Some(error),
            _ => None,
        }
    }
}
