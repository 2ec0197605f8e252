//! Running `ansible-inventory`, bounded. An inventory may come from a pull
//! request, and Ansible runs code it finds in one: a dynamic inventory
//! script, an inventory plugin's configuration (`plugin:` and Jinja in it),
//! plugins enabled by an `ansible.cfg` in the working directory. So by
//! default Ansible runs *confined*: with an environment of our making
//! (nothing of ours: no token, no `ANSIBLE_*` of the caller), its own empty
//! configuration, a private working and home directory, and only the
//! plugins that read data (`ini` and `yaml` for inventories, which read
//! JSON too, and `host_group_vars` for `group_vars/` and `host_vars/`).
//! `--allow-inventory-code` runs it as Ansible would run it for the user
//! instead. Either way it runs in a process group of its own, under a
//! memory limit, for a bounded time and with bounded output: past any
//! bound it is killed and the run fails in one line.

use super::error::{AnsibleFault, ReadError};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the inventory may run code (`--allow-inventory-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryCode {
    /// Data only: Ansible confined, and what would need code refused.
    Refused,
    /// The user trusts the inventory: Ansible runs it as it would.
    Allowed,
}

/// The longest `ansible-inventory` may run, unless
/// `CALICOCTL_ANSIBLE_TIMEOUT_MS` says otherwise.
pub const TIMEOUT: Duration = Duration::from_secs(120);
/// The most address space it may take (`RLIMIT_AS`).
pub const MEMORY: u64 = 2 << 30;
/// The most it may print on stdout (an inventory's JSON).
pub const MAX_OUTPUT: u64 = 64 << 20;
/// The most of its stderr kept (for its error line).
const MAX_STDERR: u64 = 1 << 20;

/// What `ansible-inventory` printed, once it ended well or badly.
pub struct Finished {
    pub success: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

fn timeout() -> Duration {
    std::env::var("CALICOCTL_ANSIBLE_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(TIMEOUT, Duration::from_millis)
}

/// The confined environment, in `private` (a new directory of ours).
fn confine(command: &mut Command, private: &Path) -> std::io::Result<()> {
    let config = private.join("ansible.cfg");
    std::fs::write(&config, "")?;
    let empty = private.join("none");
    std::fs::create_dir(&empty)?;
    command.env_clear().current_dir(private);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
        .env("HOME", private)
        .env("LANG", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("ANSIBLE_CONFIG", &config)
        .env("ANSIBLE_HOME", private)
        .env("ANSIBLE_LOCAL_TEMP", private)
        .env("ANSIBLE_INVENTORY_ENABLED", "ini,yaml")
        .env("ANSIBLE_VARS_ENABLED", "host_group_vars")
        .env("ANSIBLE_INVENTORY_PLUGINS", &empty)
        .env("ANSIBLE_VARS_PLUGINS", &empty)
        .env("ANSIBLE_COLLECTIONS_PATH", &empty)
        .env("ANSIBLE_INVENTORY_CACHE", "false");
    Ok(())
}

/// A reader of `from`, on a thread, keeping at most `cap` bytes (and one
/// more, to tell that there was more).
fn drain(
    from: impl Read + Send + 'static,
    cap: u64,
) -> std::thread::JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut from = from.take(cap + 1);
        from.read_to_end(&mut bytes)?;
        // Keep the pipe empty so the child never blocks on a full one.
        std::io::copy(&mut from.into_inner(), &mut std::io::sink())?;
        Ok(bytes)
    })
}

/// Kill the child's whole process group.
fn kill_group(child: &Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Wait for `child` until `deadline`: its success, or None when killed.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<bool>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status.success()));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run `ansible-inventory -i <source> --list` under the module's bounds,
/// confined unless `code` allows the inventory's code.
pub fn run(
    program: &Path,
    source: &Path,
    label: &str,
    code: InventoryCode,
) -> Result<Finished, ReadError> {
    let cannot_run = |error| ReadError::CannotRunAnsible {
        label: label.to_string(),
        program: program.to_path_buf(),
        error,
    };
    let fail = |what| ReadError::Ansible {
        label: label.to_string(),
        what,
    };
    let private = tempfile::Builder::new()
        .prefix("calicoctl-ansible-")
        .tempdir()
        .map_err(cannot_run)?;
    // Ansible works in a directory of its own: the source by its full path.
    let source = std::path::absolute(source).map_err(cannot_run)?;
    let mut command = Command::new(program);
    command.arg("-i").arg(&source).arg("--list");
    if code == InventoryCode::Refused {
        confine(&mut command, private.path()).map_err(cannot_run)?;
    }
    command
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")
        .env("ANSIBLE_NOCOLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: between fork and exec the closure calls setrlimit alone,
    // which is async-signal-safe and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            let limit = rustix::process::Rlimit {
                current: Some(MEMORY),
                maximum: Some(MEMORY),
            };
            rustix::process::setrlimit(rustix::process::Resource::As, limit)
                .map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))
        });
    }
    let mut child = command.spawn().map_err(cannot_run)?;
    let stdout = drain(child.stdout.take().expect("piped"), MAX_OUTPUT);
    let stderr = drain(child.stderr.take().expect("piped"), MAX_STDERR);
    let limit = timeout();
    let ended = wait_until(&mut child, Instant::now() + limit).map_err(cannot_run)?;
    // The group is gone with its leader's end only when nothing else of it
    // holds the pipes: make sure.
    kill_group(&child);
    let stdout = stdout.join().ok().and_then(Result::ok).unwrap_or_default();
    let mut stderr = stderr.join().ok().and_then(Result::ok).unwrap_or_default();
    stderr.truncate(MAX_STDERR as usize);
    let _ = private.close();
    let Some(success) = ended else {
        return Err(fail(AnsibleFault::TimedOut(limit)));
    };
    if stdout.len() as u64 > MAX_OUTPUT {
        return Err(fail(AnsibleFault::TooMuch(MAX_OUTPUT)));
    }
    Ok(Finished {
        success,
        stdout,
        stderr,
    })
}
