//! The `calicoctl node run` command line, parsed the way upstream's docopt
//! parser accepts it: `--opt=value` and `--opt value`, unambiguous prefixes of
//! long options, and the upstream `Invalid option` line for anything else.
//!
//! Each subcommand's options are one clap struct here; its `--help` is the
//! text in `templates/` ([`help`] reads the descriptions out of it), and
//! [`tree`] joins the structs into the whole command for completions and
//! man pages, so all three come from one definition.

pub mod help;
pub mod longs;
pub mod tree;

use crate::release::{self, Profile, ReleaseError, Served};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use std::borrow::Cow;

/// The default datastore configuration path, as upstream.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/calico/calicoctl.cfg";

/// The `--help` texts, one per command.
pub const USAGE: &str = include_str!("../../templates/calicoctl-help.txt");
pub const HELP: &str = include_str!("../../templates/node-run-help.txt");
pub const DETECT_HELP: &str = include_str!("../../templates/detect-ip-help.txt");
pub const VERSION_HELP: &str = include_str!("../../templates/version-help.txt");
pub const COMPLETION_HELP: &str = include_str!("../../templates/completion-help.txt");
pub const MAN_HELP: &str = include_str!("../../templates/man-help.txt");
pub const FLEET_HELP: &str = include_str!("../../templates/fleet-help.txt");
pub const IMPORT_HELP: &str = include_str!("../../templates/import-help.txt");
pub const FLEET_IMPORT_HELP: &str = include_str!("../../templates/fleet-import-help.txt");
/// This tool's own usage lines and options of `node run`, which follow a
/// release's own in that release's `--help` (and are in [`HELP`] as well).
const OUR_USAGE: &str = include_str!("../../templates/node-run-help-ours-usage.txt");
const OUR_OPTIONS: &str = include_str!("../../templates/node-run-help-ours-options.txt");

/// Options of `calicoctl node run`. Defaults are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "calicoctl node run",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = HELP
)]
pub struct NodeRunArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long = "as")]
    pub as_number: Option<String>,
    #[arg(long)]
    pub ip: Option<String>,
    #[arg(long)]
    pub ip6: Option<String>,
    #[arg(long, default_value = "first-found")]
    pub ip_autodetection_method: String,
    #[arg(long, default_value = "first-found")]
    pub ip6_autodetection_method: String,
    #[arg(long, default_value = "/var/log/calico")]
    pub log_dir: String,
    #[arg(long, default_value = "quay.io/calico/node:latest")]
    pub node_image: String,
    #[arg(long, default_value = "bird")]
    pub backend: String,
    #[arg(short = 'c', long)]
    pub config: Option<String>,
    #[arg(long)]
    pub felix_config: Option<String>,
    #[arg(long)]
    pub no_default_ippools: bool,
    #[arg(long)]
    pub dryrun: bool,
    #[arg(long)]
    pub init_system: bool,
    #[arg(long)]
    pub disable_docker_networking: bool,
    #[arg(long, default_value = "cali")]
    pub docker_networking_ifprefix: String,
    #[arg(long)]
    pub use_docker_networking_container_labels: bool,
    /// Output format; implies a dry run.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(long, default_value = "docker")]
    pub runtime: String,
    #[arg(long)]
    pub runtime_path: Option<String>,
    /// A user's minijinja template; implies a dry run.
    #[arg(long)]
    pub template: Option<String>,
    /// Print a format's built-in template, to start one's own from.
    #[arg(long, value_name = "FORMAT")]
    pub template_source: Option<String>,
    #[arg(long)]
    pub out_dir: Option<String>,
    /// Compare with `--out-dir` instead of writing.
    #[arg(long)]
    pub check: bool,
    /// Leave a container that runs as planned alone; replace it otherwise.
    #[arg(long)]
    pub if_changed: bool,
    /// The engine `--check` asks: local, or ssh://[user@]host[:port][/socket].
    #[arg(long, value_name = "ADDRESS")]
    pub engine_host: Option<String>,
    /// Colour in `--check`'s report: auto, always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: String,
    /// How `--check` compares modes: auto, exact or git.
    #[arg(long, value_name = "HOW", default_value = "auto")]
    pub modes: String,
    /// `--check`'s report: text or json.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub report: String,
    /// calico/node's health checks in every output, upstream's too.
    #[arg(long)]
    pub health: bool,
    /// No health checks in any output.
    #[arg(long)]
    pub no_health: bool,
    /// Seconds a unit waits for calico/node to be ready.
    #[arg(long, value_name = "SECONDS")]
    pub ready_timeout: Option<String>,
    /// Detect the address now and pass it as IP/IP6.
    #[arg(long)]
    pub pin_ip: bool,
    /// calico/node's own variables: NAME=VALUE, or NAME to pass by name.
    #[arg(long, value_name = "NAME[=VALUE]", action = clap::ArgAction::Append)]
    pub env: Vec<String>,
    /// The calicoctl release to do as (None: v3.2, as without it).
    #[arg(long, value_name = "RELEASE")]
    pub calico_version: Option<String>,
    /// Taken and ignored, as calicoctl does from v3.20.2 (only then an
    /// option: see `longs.rs`).
    #[arg(long, hide = true)]
    pub allow_version_mismatch: bool,

    /// Long option names the user gave explicitly (not defaults), for
    /// warnings about options a datastore ignores.
    #[arg(skip)]
    pub given: Vec<&'static str>,

    /// `--calico-version` parsed, once, where the words are read (or where
    /// an inventory host's options are settled): what every later step
    /// reads instead of the text.
    #[arg(skip)]
    pub served: Served,
}

/// An option an inventory's host cannot set (not `node run`'s, or one
/// invocation's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSettable;

impl NodeRunArgs {
    /// Set the option `key` (its long name) to `v`, as its parser would:
    /// what an inventory's host sets, beside the options it sets.
    pub fn set_value(&mut self, key: &str, v: &str) -> Result<(), NotSettable> {
        let v = v.to_string();
        match key {
            "name" => self.name = Some(v),
            "as" => self.as_number = Some(v),
            "ip" => self.ip = Some(v),
            "ip6" => self.ip6 = Some(v),
            "ip-autodetection-method" => self.ip_autodetection_method = v,
            "ip6-autodetection-method" => self.ip6_autodetection_method = v,
            "log-dir" => self.log_dir = v,
            "node-image" => self.node_image = v,
            "backend" => self.backend = v,
            "config" => self.config = Some(v),
            "felix-config" => self.felix_config = Some(v),
            "docker-networking-ifprefix" => self.docker_networking_ifprefix = v,
            "runtime" => self.runtime = v,
            "runtime-path" => self.runtime_path = Some(v),
            "calico-version" => self.calico_version = Some(v),
            "engine-host" => self.engine_host = Some(v),
            "ready-timeout" => self.ready_timeout = Some(v),
            _ => return Err(NotSettable),
        }
        Ok(())
    }

    /// Set the flag `key` (its long name), as its parser would.
    pub fn set_flag(&mut self, key: &str) -> Result<(), NotSettable> {
        match key {
            "no-default-ippools" => self.no_default_ippools = true,
            "init-system" => self.init_system = true,
            "health" => self.health = true,
            "no-health" => self.no_health = true,
            "disable-docker-networking" => self.disable_docker_networking = true,
            "use-docker-networking-container-labels" => {
                self.use_docker_networking_container_labels = true
            }
            _ => return Err(NotSettable),
        }
        Ok(())
    }
}

/// Options of `calicoctl node detect-ip`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl node detect-ip",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = DETECT_HELP
)]
pub struct DetectIpArgs {
    #[arg(short = '4')]
    pub ipv4: bool,
    #[arg(short = '6')]
    pub ipv6: bool,
    #[arg(long, default_value = "first-found")]
    pub ip_autodetection_method: String,
    #[arg(long, default_value = "first-found")]
    pub ip6_autodetection_method: String,
    #[arg(long)]
    pub explain: bool,
    #[arg(short = 'o', long, default_value = "text")]
    pub output: String,
}

/// Options of `calicoctl node fleet`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl node fleet",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = FLEET_HELP
)]
pub struct FleetArgs {
    #[command(flatten)]
    pub hosts: InventoryArgs,
    #[arg(short = 'o', long, default_value = "systemd-envfile")]
    pub output: String,
    #[arg(long)]
    pub out_dir: Option<String>,
    #[arg(long)]
    pub check: bool,
    #[arg(long, value_name = "N", default_value = "5")]
    pub forks: String,
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub timeout: String,
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub report: String,
    #[arg(long)]
    pub report_schema: bool,
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: String,
    /// How `--check` compares modes: auto, exact or git.
    #[arg(long, value_name = "HOW", default_value = "auto")]
    pub modes: String,
    /// Print the native inventory's JSON Schema.
    #[arg(long)]
    pub schema: bool,
    /// Also write DIR/calico-node.yml, an Ansible playbook for the rollout.
    #[arg(long)]
    pub playbook: bool,
    #[arg(long, value_name = "N|P%")]
    pub batch: Option<String>,
}

/// Which inventory, which of its hosts, and what they may take of this
/// machine: `node fleet`'s and `node fleet import`'s alike.
#[derive(Debug, Clone, clap::Args)]
pub struct InventoryArgs {
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<String>,
    #[arg(long, value_name = "NAMES")]
    pub limit: Option<String>,
    /// Let Ansible run the inventory's code (scripts, plugins, ansible.cfg).
    #[arg(long)]
    pub allow_inventory_code: bool,
    /// A variable of this run's environment that hosts may pass by name.
    #[arg(long, value_name = "NAME")]
    pub pass_env: Vec<String>,
    /// A directory outside the inventory's whose files hosts may name.
    #[arg(long, value_name = "DIR")]
    pub allow_path: Vec<String>,
}

/// Options of `calicoctl node import`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl node import",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = IMPORT_HELP
)]
pub struct ImportArgs {
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub unit: Option<String>,
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    pub env_file: Vec<String>,
    #[arg(long, value_name = "-")]
    pub command: Option<String>,
    #[arg(long, default_value = "docker")]
    pub runtime: String,
    #[arg(long)]
    pub runtime_path: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub engine_host: Option<String>,
    #[arg(short = 'c', long)]
    pub config: Option<String>,
    /// Print a native inventory's host entry instead of a command line.
    #[arg(long)]
    pub as_inventory: bool,
}

/// Options of `calicoctl node fleet import`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl node fleet import",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = FLEET_IMPORT_HELP
)]
pub struct FleetImportArgs {
    #[command(flatten)]
    pub hosts: InventoryArgs,
    #[arg(long, value_name = "N", default_value = "5")]
    pub forks: String,
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub timeout: String,
}

/// Options of `calicoctl version` (none).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl version",
    no_binary_name = true,
    infer_long_args = true,
    disable_version_flag = true,
    override_help = VERSION_HELP
)]
pub struct VersionArgs {}

/// Options of `calicoctl completion`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl completion",
    no_binary_name = true,
    infer_long_args = true,
    disable_version_flag = true,
    override_help = COMPLETION_HELP
)]
pub struct CompletionArgs {
    #[arg(value_name = "SHELL")]
    pub shell: String,
}

/// Options of `calicoctl man`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "calicoctl man",
    no_binary_name = true,
    infer_long_args = true,
    args_override_self = true,
    disable_version_flag = true,
    override_help = MAN_HELP
)]
pub struct ManArgs {
    #[arg(long, value_name = "DIR")]
    pub out_dir: String,
}

/// What parsing the command line asks the program to do.
#[derive(Debug)]
pub enum Parsed<T> {
    Run(Box<T>),
    /// Print this text to stdout and exit 0 (`--help`).
    Help(String),
}

/// A command line the parser does not accept: every argument after the
/// program's name, which upstream's line quotes, and whether the release
/// words it in lower case (v3.31 on: no full stop either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOption {
    pub words: Vec<String>,
    pub lower_case: bool,
}

impl std::fmt::Display for InvalidOption {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (invalid, stop) = match self.lower_case {
            false => ("Invalid", "."),
            true => ("invalid", ""),
        };
        write!(
            f,
            "{invalid} option: 'calicoctl {}'. Use flag '--help' to read about a specific subcommand{stop}",
            self.words.join(" ")
        )
    }
}

/// Upstream's refusal of `all_args`.
pub fn invalid_option(all_args: &[String]) -> InvalidOption {
    InvalidOption {
        words: all_args.to_vec(),
        lower_case: false,
    }
}

/// Why `node run`'s words were not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLineError {
    Invalid(InvalidOption),
    Release(ReleaseError),
}

impl std::fmt::Display for RunLineError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            RunLineError::Invalid(e) => write!(f, "{e}"),
            RunLineError::Release(e) => write!(f, "{e}"),
        }
    }
}

/// Parse the words after a subcommand with `T`'s options; `help` is its
/// `--help` text.
pub fn parse<T: Parser>(
    all_args: &[String],
    words: &[String],
    help: &str,
) -> Result<Parsed<T>, InvalidOption> {
    match T::command().try_get_matches_from(words) {
        Ok(m) => T::from_arg_matches(&m)
            .map(|a| Parsed::Run(Box::new(a)))
            .map_err(|_| invalid_option(all_args)),
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            Ok(Parsed::Help(help.to_string()))
        }
        Err(_) => Err(invalid_option(all_args)),
    }
}

/// Parse the words after `calicoctl node run`, as the release
/// `--calico-version` names reads them (its options, its `--help`).
///
/// `all_args` are every argument after the program name, used verbatim in
/// the upstream `Invalid option` message.
pub fn parse_node_run(
    all_args: &[String],
    words: &[String],
) -> Result<Parsed<NodeRunArgs>, RunLineError> {
    let served = Served::new(release_word(words)).map_err(RunLineError::Release)?;
    let invalid = || {
        RunLineError::Invalid(InvalidOption {
            words: all_args.to_vec(),
            lower_case: served.profile.lower_case,
        })
    };
    let mut command = NodeRunArgs::command();
    let longs = node_run_longs(&command, served.profile);
    let words = longs::expand(words, &longs).map_err(|_| invalid())?;
    let matches = match command.try_get_matches_from_mut(&words) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            return Ok(Parsed::Help(node_run_help(served.profile).into_owned()));
        }
        Err(_) => return Err(invalid()),
    };
    let mut args = NodeRunArgs::from_arg_matches(&matches).map_err(|_| invalid())?;
    args.given = explicitly_given(&matches);
    args.served = served;
    if matches.value_source("node_image") != Some(ValueSource::CommandLine) {
        args.node_image = served.image();
    }
    Ok(Parsed::Run(Box::new(args)))
}

/// The value of `--calico-version` (or of an unambiguous prefix of it,
/// `--ca` at least, in every release) among `words`, the last one given.
fn release_word(words: &[String]) -> Option<&str> {
    let mut found = None;
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let Some(body) = word.strip_prefix("--") else {
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        if body.is_empty() {
            break;
        }
        if name.starts_with("ca") && "calico-version".starts_with(name) {
            found = value.or_else(|| iter.next().map(String::as_str));
        }
    }
    found
}

/// `node run`'s long options (of `command`, its clap definition) under
/// `profile`: upstream's of that release, and this tool's own in every
/// release.
fn node_run_longs(command: &clap::Command, profile: &Profile) -> Vec<longs::Long> {
    let mut found: Vec<longs::Long> = command
        .get_arguments()
        .filter_map(|a| {
            Some(longs::Long {
                name: a.get_long()?.to_string(),
                takes_value: a.get_action().takes_values(),
            })
        })
        .filter(|l| release::takes_option(profile, &l.name))
        .collect();
    found.push(longs::Long {
        name: "help".to_string(),
        takes_value: false,
    });
    found
}

/// `node run --help` under `profile`: this tool's text, or the release's
/// own with this tool's usage lines and options after its own.
pub fn node_run_help(profile: &Profile) -> Cow<'static, str> {
    let Some(usage) = profile.usage else {
        return Cow::Borrowed(HELP);
    };
    let text = usage.replace("<BINARY_NAME>", "calicoctl");
    let usage_end = text.find("\n\n").map_or(text.len(), |i| i + 1);
    let options_end = text.find("\n\nDescription:").map_or(text.len(), |i| i + 1);
    Cow::Owned(format!(
        "{}{OUR_USAGE}{}{OUR_OPTIONS}{}",
        &text[..usage_end],
        &text[usage_end..options_end],
        &text[options_end..]
    ))
}

/// Options whose presence on the command line is recorded in `given`: by
/// argument id and long option.
pub const WATCHED: [(&str, &str); 6] = [
    ("as_number", "--as"),
    ("ip", "--ip"),
    ("ip6", "--ip6"),
    ("ip_autodetection_method", "--ip-autodetection-method"),
    ("ip6_autodetection_method", "--ip6-autodetection-method"),
    ("backend", "--backend"),
];

/// The options whose values came from the command line rather than defaults.
fn explicitly_given(matches: &ArgMatches) -> Vec<&'static str> {
    WATCHED
        .iter()
        .filter(|(id, _)| matches.value_source(id) == Some(ValueSource::CommandLine))
        .map(|(_, flag)| *flag)
        .collect()
}

impl std::error::Error for InvalidOption {}

impl std::error::Error for RunLineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunLineError::Invalid(e) => Some(e),
            RunLineError::Release(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<NodeRunArgs, RunLineError> {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        match parse_node_run(&words, &words)? {
            Parsed::Run(a) => Ok(*a),
            Parsed::Help(_) => panic!("help asked for"),
        }
    }

    #[test]
    fn exact_long_option_wins_over_longer_ones_sharing_its_prefix() {
        let a = parse(&["--ip", "10.0.0.1", "--ip6=fd00::1"]).unwrap();
        assert_eq!(a.ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(a.ip6.as_deref(), Some("fd00::1"));
    }

    #[test]
    fn unambiguous_prefixes_are_accepted() {
        let a = parse(&["--dry", "--node-im=x", "--ip-auto=interface=eth0"]).unwrap();
        assert!(a.dryrun);
        assert_eq!(a.node_image, "x");
        assert_eq!(a.ip_autodetection_method, "interface=eth0");
    }

    #[test]
    fn ambiguous_prefix_is_invalid() {
        let err = parse(&["--i", "x"]).unwrap_err().to_string();
        assert!(
            err.starts_with("Invalid option: 'calicoctl --i x'"),
            "{err}"
        );
    }

    #[test]
    fn our_options_are_the_default_help_texts_own() {
        assert!(HELP.contains(OUR_USAGE) && HELP.contains(OUR_OPTIONS));
    }

    #[test]
    fn a_release_help_is_its_usage_text_with_ours_after_its_own() {
        for profile in crate::release::STEPS {
            let upstream = profile.usage.unwrap().replace("<BINARY_NAME>", "calicoctl");
            let help = node_run_help(profile);
            let without_ours = help.replacen(OUR_USAGE, "", 1).replacen(OUR_OPTIONS, "", 1);
            assert_eq!(without_ours, upstream, "{:?}", profile.first);
            let usage_end = help.find("\n\nOptions:").unwrap();
            assert!(help[..usage_end].ends_with("[--calico-version=<RELEASE>]"));
            let ours = help.find(OUR_OPTIONS).unwrap();
            assert!(help[ours..].starts_with("  -o --output") && help.ends_with("compute host.\n"));
        }
    }

    #[test]
    fn release_options_and_prefixes_are_the_releases() {
        let run = |w: &[&str]| parse(w);
        assert!(run(&["--calico-version=v3.9.0", "--disable-docker-networking"]).is_err());
        assert!(run(&["--calico-version=v3.8.9", "--disable-docker-networking"]).is_ok());
        assert!(run(&["--calico-version=v3.9.0", "--d"]).unwrap().dryrun);
        assert!(run(&["--d"]).is_err(), "ambiguous in v3.2");
        assert_eq!(run(&["--a=1"]).unwrap().as_number.as_deref(), Some("1"));
        assert!(run(&["--calico-version=v3.20.2", "--a=1"]).is_err());
        assert!(
            run(&["--ca=v3.20.2", "--allow-version-mismatch"])
                .unwrap()
                .allow_version_mismatch
        );
        let pinned = run(&["--calico-version", "3.28.0"]).unwrap();
        assert_eq!(pinned.node_image, "quay.io/calico/node:v3.28.0");
        assert_eq!(
            run(&["--calico-version=3.28.0", "--node-image=x"])
                .unwrap()
                .node_image,
            "x"
        );
        assert_eq!(
            run(&["--calico-version=v3.31.0", "--bogus"])
                .unwrap_err()
                .to_string(),
            "invalid option: 'calicoctl --calico-version=v3.31.0 --bogus'. Use flag '--help' to read about a specific subcommand"
        );
        assert!(matches!(
            run(&["--calico-version=v3.0.0"]),
            Err(RunLineError::Release(ReleaseError::TooOld(_)))
        ));
    }

    #[test]
    fn given_lists_only_command_line_values() {
        let a = parse(&["--backend=bird", "--as", "1"]).unwrap();
        assert_eq!(a.given, vec!["--as", "--backend"]);
        assert!(parse(&[]).unwrap().given.is_empty());
    }
}
