//! The inventory's errors as values. [`ReadError`]: an inventory that
//! cannot be read at all (the run stops, one line). [`ValueError`],
//! [`HostNameError`] and [`RangeError`]: what is wrong with one value, host
//! name or host pattern; a reader files them as a [`super::Problem`] (of
//! a host, or of the inventory) and reads on, so that every problem is
//! reported at once. [`LimitError`]: `--limit`'s. Each `Display` is the
//! user's line (or, for the per-value ones, its part after the place).

use crate::error::executing;
use crate::nesting::TooDeep;
use std::fmt;
use std::path::PathBuf;

/// What to install to read what our own readers do not.
const INSTALL: &str = "reading it needs ansible-inventory on PATH (Debian: apt-get install ansible-core; or pip install ansible-core)";

/// Why an inventory (named `label`: its path, or `(stdin)`) was not read.
#[derive(Debug)]
pub enum ReadError {
    CannotRead {
        label: String,
        error: std::io::Error,
    },
    TooDeep {
        label: String,
        deep: TooDeep,
    },
    /// A file named as YAML or JSON that does not parse.
    BadYaml {
        label: String,
        reason: String,
    },
    /// Only `ansible-inventory` reads it, and it is not installed.
    NeedsAnsible {
        label: String,
        what: OnlyAnsible,
    },
    NoHosts {
        label: String,
    },
    /// Our own readers' top level is not a mapping (tests' reader).
    #[cfg(test)]
    NotMapping {
        label: String,
        kind: &'static str,
    },
    CannotRunAnsible {
        label: String,
        program: PathBuf,
        error: std::io::Error,
    },
    /// `ansible-inventory` failed or printed what we cannot read.
    Ansible {
        label: String,
        what: AnsibleFault,
    },
    /// A file of the inventory that is not a file an input may be.
    NotAFile {
        label: String,
        why: crate::input::InputError,
    },
    /// A file Ansible would run as code, while the inventory may not.
    Code {
        file: PathBuf,
        what: Code,
    },
    /// An inventory directory of more entries, or deeper, than we look at.
    TooManyFiles {
        label: String,
        max: usize,
        depth: usize,
    },
    /// Staging stdin as a file for `ansible-inventory` failed.
    CannotStage {
        dir: PathBuf,
        error: std::io::Error,
    },
}

/// What only Ansible reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnlyAnsible {
    Directory,
    Plugin,
    Executable,
    NotUtf8,
    NotYaml,
    /// YAML whose top level is not a mapping (its kind).
    NotMapping(&'static str),
    /// `group_vars` or `host_vars` beside the file.
    VarsBeside(&'static str),
}

/// What in an inventory Ansible would run as code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// An executable file: a dynamic inventory script.
    Executable,
    /// YAML with `plugin:`: an inventory plugin's configuration.
    Plugin,
    /// An `ansible.cfg`: Ansible's configuration, which can enable plugins.
    Config,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Code::Executable => "is executable: Ansible would run it as a dynamic inventory script",
            Code::Plugin => {
                "is an inventory plugin's configuration (plugin:): Ansible would run the plugin"
            }
            Code::Config => "is Ansible's configuration, which can make Ansible run plugins",
        })
    }
}

/// How `ansible-inventory` let us down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnsibleFault {
    /// It failed; its own message on one line.
    Failed(String),
    NotUtf8,
    TooDeep(TooDeep),
    NotJson(String),
    NotList,
    /// Killed after running this long.
    TimedOut(std::time::Duration),
    /// Killed for printing more than this many bytes.
    TooMuch(u64),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ReadError::CannotRead { label, error } => {
                executing(f, format_args!("cannot read inventory {label}: {error}"))
            }
            ReadError::TooDeep { label, deep } => {
                executing(f, format_args!("inventory {label} is {deep}"))
            }
            ReadError::BadYaml { label, reason } => executing(
                f,
                format_args!("inventory {label} is not valid YAML: {reason}"),
            ),
            ReadError::NeedsAnsible { label, what } => {
                executing(f, format_args!("inventory {label} {what}"))
            }
            ReadError::NoHosts { label } => {
                executing(f, format_args!("inventory {label} has no hosts"))
            }
            #[cfg(test)]
            ReadError::NotMapping { label, kind } => executing(
                f,
                format_args!(
                    "inventory {label}: the top level must be a mapping (defaults and hosts, or Ansible groups), not {kind}"
                ),
            ),
            ReadError::CannotRunAnsible {
                label,
                program,
                error,
            } => executing(
                f,
                format_args!(
                    "inventory {label}: cannot run {}: {error}",
                    program.display()
                ),
            ),
            ReadError::Ansible { label, what } => executing(
                f,
                format_args!("inventory {label}: ansible-inventory {what}"),
            ),
            ReadError::NotAFile { label, why } => {
                executing(f, format_args!("cannot read inventory {label}: {why}"))
            }
            ReadError::Code { file, what } => executing(
                f,
                format_args!(
                    "inventory {} {what}; an inventory is read as data unless --allow-inventory-code is given",
                    file.display()
                ),
            ),
            ReadError::TooManyFiles { label, max, depth } => executing(
                f,
                format_args!(
                    "inventory {label} has more than {max} files or is deeper than {depth} levels"
                ),
            ),
            ReadError::CannotStage { dir, error } => executing(
                f,
                format_args!(
                    "cannot stage inventory (stdin) for ansible-inventory in {}: {error}",
                    dir.display()
                ),
            ),
        }
    }
}

impl fmt::Display for OnlyAnsible {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            OnlyAnsible::Directory => {
                write!(f, "is a directory (an Ansible inventory directory)")
            }
            OnlyAnsible::Plugin => write!(f, "is an inventory plugin's configuration (plugin:)"),
            OnlyAnsible::Executable => write!(f, "is an executable (a dynamic inventory script)"),
            OnlyAnsible::NotUtf8 => write!(f, "is not UTF-8 text"),
            OnlyAnsible::NotYaml => write!(f, "is not YAML (an INI inventory?)"),
            OnlyAnsible::NotMapping(kind) => write!(
                f,
                "is not a YAML mapping (defaults and hosts, or Ansible groups) but {kind} (an INI inventory?)"
            ),
            OnlyAnsible::VarsBeside(vars) => {
                return write!(
                    f,
                    "has {vars}/ beside it, which our own reader does not read; {INSTALL}"
                );
            }
        }?;
        write!(f, ": {INSTALL}")
    }
}

impl fmt::Display for AnsibleFault {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            AnsibleFault::Failed(message) => write!(f, "failed: {message}"),
            AnsibleFault::NotUtf8 => write!(f, "printed no UTF-8 text"),
            AnsibleFault::TooDeep(deep) => write!(f, "printed an inventory {deep}"),
            AnsibleFault::NotJson(reason) => write!(f, "printed no JSON inventory: {reason}"),
            AnsibleFault::NotList => write!(f, "printed no --list inventory (no _meta.hostvars)"),
            AnsibleFault::TimedOut(limit) => write!(
                f,
                "ran longer than {} s and was stopped (CALICOCTL_ANSIBLE_TIMEOUT_MS)",
                limit.as_secs_f64()
            ),
            AnsibleFault::TooMuch(max) => {
                write!(f, "printed more than {max} bytes and was stopped")
            }
        }
    }
}

/// Why a value is not one a host's option takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    InvocationOnly(String),
    Unknown(String),
    /// A flag given something else; `shown` (as written) when Ansible's.
    FlagNeedsBool {
        key: String,
        shown: Option<String>,
    },
    Decimal {
        key: String,
        number: String,
    },
    TakesValue(String),
    NotScalar(String),
    Vault,
    Template(String),
    /// Known to `node run` but not settable from an inventory.
    NotSettable(String),
    /// `calico-version` names no release served.
    Release(crate::release::ReleaseError),
    /// An option the host's release of calicoctl does not have.
    NotInRelease {
        key: String,
        release: String,
    },
    EnvNotMapping(&'static str),
    EnvNameNotString,
    EnvTemplate {
        name: String,
        text: String,
    },
    EnvDecimal {
        name: String,
        number: String,
    },
    EnvBadValue {
        name: String,
        kind: &'static str,
    },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const TEMPLATE: &str = "is a Jinja2 template, which ansible-inventory does not evaluate; give the value itself";
        match self {
            ValueError::InvocationOnly(key) => write!(
                f,
                "option '{key}' belongs to one invocation, not to a host: give it on the command line"
            ),
            ValueError::Unknown(key) => write!(f, "unknown option '{key}'"),
            ValueError::FlagNeedsBool { key, shown: None } => {
                write!(f, "option '{key}' is a flag: true or false")
            }
            ValueError::FlagNeedsBool {
                key,
                shown: Some(shown),
            } => write!(f, "option '{key}' is a flag: true or false, not {shown}"),
            ValueError::Decimal { key, number } => write!(
                f,
                "option '{key}': {number} reads as a decimal number; quote it (for a dotted AS number, as: '1.10')"
            ),
            ValueError::TakesValue(key) => {
                write!(f, "option '{key}' takes a value, not true or false")
            }
            ValueError::NotScalar(key) => write!(
                f,
                "option '{key}': a value must be a string, a number or true/false"
            ),
            ValueError::Vault => {
                write!(f, "an encrypted (vault) value: calicoctl cannot decrypt it")
            }
            ValueError::Template(text) => write!(f, "{text:?} {TEMPLATE}"),
            ValueError::NotSettable(key) => {
                write!(f, "option '{key}' cannot be set from an inventory")
            }
            ValueError::Release(e) => write!(f, "{e}"),
            ValueError::NotInRelease { key, release } => write!(
                f,
                "option '{key}' is not one of calicoctl {release}'s node run options"
            ),
            ValueError::EnvNotMapping(kind) => write!(
                f,
                "option 'env' must be a mapping of variable names to values, not {kind}"
            ),
            ValueError::EnvNameNotString => {
                write!(f, "option 'env': a variable name must be a string")
            }
            ValueError::EnvTemplate { name, text } => {
                write!(f, "option 'env': {name}: {text:?} {TEMPLATE}")
            }
            ValueError::EnvDecimal { name, number } => write!(
                f,
                "option 'env': {name}: {number} reads as a decimal number; quote it"
            ),
            ValueError::EnvBadValue { name, kind } => write!(
                f,
                "option 'env': {name}: a value must be a string, a number, true/false or null (by name), not {kind}"
            ),
        }
    }
}

/// Why a name cannot be a host (it names a directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostNameError {
    Characters,
    TooLong,
}

impl fmt::Display for HostNameError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            HostNameError::Characters => write!(
                f,
                "a host name must be [A-Za-z0-9][A-Za-z0-9._-]* (it names a directory)"
            ),
            HostNameError::TooLong => write!(f, "a host name must be at most 253 bytes"),
        }
    }
}

/// Why a host pattern does not expand: `<pattern>: <fault>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError {
    pub pattern: String,
    pub fault: RangeFault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFault {
    NoClose,
    Shape,
    NoEnd,
    Step,
    /// More names than one pattern may make (the limit).
    TooMany(u64),
    Widths,
    Backwards,
    NotNumbers,
    OverAMillion,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let what = match self.fault {
            RangeFault::NoClose => "a host range needs a closing ']'",
            RangeFault::Shape => "a host range must be [begin:end] or [begin:end:step]",
            RangeFault::NoEnd => "a host range must give its end",
            RangeFault::Step => "a host range's step must be a positive number",
            RangeFault::TooMany(max) => {
                return write!(
                    f,
                    "{}: a host pattern of more than {max} hosts",
                    self.pattern
                );
            }
            RangeFault::Widths => "a zero-padded host range needs begin and end of one width",
            RangeFault::Backwards => "a host range must have begin <= end",
            RangeFault::NotNumbers => "a host range runs over numbers or single letters",
            RangeFault::OverAMillion => "a host range of more than a million hosts",
        };
        write!(f, "{}: {what}", self.pattern)
    }
}

/// `--limit`'s refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// Not names separated by `:` (Ansible's other syntax).
    Syntax(String),
    NoSuchName(String),
    SelectsNothing(String),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            LimitError::Syntax(limit) => executing(
                f,
                format_args!(
                    "--limit {limit:?}: give group and host names separated by ':' (Ansible's wildcards, regexes, ranges, '!', '&' and ',' are not supported)"
                ),
            ),
            LimitError::NoSuchName(name) => executing(
                f,
                format_args!("--limit: no group or host named {name:?} in the inventory"),
            ),
            LimitError::SelectsNothing(limit) => {
                executing(f, format_args!("--limit {limit:?} selects no host"))
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::CannotRead { error, .. }
            | ReadError::CannotRunAnsible { error, .. }
            | ReadError::CannotStage { error, .. } => Some(error),
            ReadError::TooDeep { deep, .. } => Some(deep),
            ReadError::NotAFile { why, .. } => Some(why),
            _ => None,
        }
    }
}

impl std::error::Error for ValueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ValueError::Release(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for HostNameError {}

impl std::error::Error for RangeError {}

impl std::error::Error for LimitError {}
