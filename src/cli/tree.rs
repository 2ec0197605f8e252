//! The whole `calicoctl` command as one clap [`Command`]: the option structs
//! the parser uses, joined under their subcommands, with descriptions read
//! from the help texts. Completion scripts and man pages are generated from
//! it, so they cannot drift from what the parser accepts.

use super::help::{self, OptionHelp};
use super::{
    COMPLETION_HELP, CompletionArgs, DETECT_HELP, DetectIpArgs, FLEET_HELP, FLEET_IMPORT_HELP,
    FleetArgs, FleetImportArgs, HELP, IMPORT_HELP, ImportArgs, MAN_HELP, ManArgs, NodeRunArgs,
    USAGE, VERSION_HELP, VersionArgs,
};
use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, Command, CommandFactory, ValueHint};

/// The values a completion may offer for an option, where the parser itself
/// checks them later (with its own messages).
pub struct Choices {
    /// `-o` of `node run`.
    pub output_formats: Vec<&'static str>,
    /// `-o` of `node fleet`.
    pub fleet_formats: Vec<&'static str>,
}

/// What `node` groups, said where the usage text does not.
const NODE_ABOUT: &str = "Calico node management: run, detect-ip, fleet and import.";

/// The `Commands:` line of the usage for `words` (`"node run"`).
fn command_about(words: &str) -> String {
    help::commands(USAGE)
        .into_iter()
        .find(|(w, _)| w == words)
        .map(|(_, about)| about)
        .unwrap_or_default()
}

/// The help-text entry that describes `arg`.
fn entry_for<'a>(arg: &Arg, entries: &'a [OptionHelp]) -> Option<&'a OptionHelp> {
    entries.iter().find(|e| {
        if arg.is_positional() {
            let names = arg.get_value_names().unwrap_or_default();
            return names
                .iter()
                .any(|n| Some(n.as_str()) == e.positional.as_deref());
        }
        match (arg.get_long(), e.long.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => arg.get_short().is_some() && arg.get_short() == e.short,
        }
    })
}

/// `cmd` with its name, its about text and every argument's description
/// taken from `text`, and its help flag described like the others.
fn described(cmd: Command, name: &'static str, about: String, text: &str) -> Command {
    let entries = help::options(text);
    let long_about = help::description(text);
    let mut cmd = cmd.name(name).no_binary_name(false).about(about);
    if !long_about.is_empty() {
        cmd = cmd.long_about(long_about);
    }
    // The man page's synopsis: the help text's own forms, placeholders
    // and all (clap's would name the options alone).
    let forms = help::usage(text);
    if !forms.is_empty() {
        cmd = cmd.override_usage(forms.join("\n"));
    }
    let mut cmd = cmd.disable_help_flag(true).arg(
        Arg::new("help")
            .short('h')
            .long("help")
            .action(ArgAction::Help),
    );
    let ids: Vec<_> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
    for id in ids {
        let arg = cmd.get_arguments().find(|a| *a.get_id() == id).unwrap();
        let Some(entry) = entry_for(arg, &entries) else {
            continue;
        };
        let has_default = !arg.get_default_values().is_empty();
        let (summary, long) = (entry.summary(), entry.long_text(has_default));
        let value_name = entry.value_name.clone();
        cmd = cmd.mut_arg(id, |a| {
            let a = a.help(summary).long_help(long);
            match value_name {
                Some(v) => a.value_name(v),
                None => a,
            }
        });
    }
    cmd
}

fn with_values(cmd: Command, id: &'static str, values: Vec<&'static str>) -> Command {
    cmd.mut_arg(id, |a| a.value_parser(PossibleValuesParser::new(values)))
}

fn with_hint(cmd: Command, id: &'static str, hint: ValueHint) -> Command {
    cmd.mut_arg(id, |a| a.value_hint(hint))
}

fn node_run(choices: &Choices) -> Command {
    let mut cmd = described(
        NodeRunArgs::command(),
        "run",
        command_about("node run"),
        HELP,
    );
    cmd = with_values(cmd, "output", choices.output_formats.clone());
    cmd = with_values(cmd, "runtime", vec!["docker", "podman"]);
    cmd = with_values(cmd, "backend", vec!["bird", "gobgp", "none"]);
    for (id, hint) in [
        ("config", ValueHint::FilePath),
        ("felix_config", ValueHint::FilePath),
        ("template", ValueHint::FilePath),
        ("out_dir", ValueHint::DirPath),
        ("log_dir", ValueHint::DirPath),
        ("runtime_path", ValueHint::ExecutablePath),
        ("name", ValueHint::Hostname),
    ] {
        cmd = with_hint(cmd, id, hint);
    }
    cmd
}

fn fleet(choices: &Choices) -> Command {
    let cmd = described(
        FleetArgs::command(),
        "fleet",
        command_about("node fleet"),
        FLEET_HELP,
    );
    let cmd = with_values(cmd, "output", choices.fleet_formats.clone());
    let cmd = with_hint(cmd, "inventory", ValueHint::FilePath);
    with_hint(cmd, "out_dir", ValueHint::DirPath).subcommand(fleet_import())
}

fn fleet_import() -> Command {
    let cmd = described(
        FleetImportArgs::command(),
        "import",
        command_about("node fleet import"),
        FLEET_IMPORT_HELP,
    );
    with_hint(cmd, "inventory", ValueHint::FilePath)
}

fn import() -> Command {
    let cmd = described(
        ImportArgs::command(),
        "import",
        command_about("node import"),
        IMPORT_HELP,
    );
    let cmd = with_values(cmd, "runtime", vec!["docker", "podman"]);
    let mut cmd = with_hint(cmd, "runtime_path", ValueHint::ExecutablePath);
    for id in ["unit", "env_file", "config"] {
        cmd = with_hint(cmd, id, ValueHint::FilePath);
    }
    cmd
}

fn detect_ip() -> Command {
    let cmd = described(
        DetectIpArgs::command(),
        "detect-ip",
        command_about("node detect-ip"),
        DETECT_HELP,
    );
    with_values(cmd, "output", vec!["text", "json"])
}

/// The whole command, as completions and man pages show it.
pub fn command_tree(choices: &Choices) -> Command {
    let node = Command::new("node")
        .about(NODE_ABOUT)
        .subcommand_required(true)
        .disable_help_subcommand(true)
        .subcommand(node_run(choices))
        .subcommand(detect_ip())
        .subcommand(fleet(choices))
        .subcommand(import());
    let version = described(
        VersionArgs::command(),
        "version",
        command_about("version"),
        VERSION_HELP,
    );
    let completion = with_values(
        described(
            CompletionArgs::command(),
            "completion",
            command_about("completion"),
            COMPLETION_HELP,
        ),
        "shell",
        vec!["bash", "zsh", "fish"],
    );
    let man = with_hint(
        described(ManArgs::command(), "man", command_about("man"), MAN_HELP),
        "out_dir",
        ValueHint::DirPath,
    );
    let top = Command::new("calicoctl")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Calico's command line tool: the node's container, generated and run.")
        .subcommand_required(true)
        .disable_help_subcommand(true)
        .subcommand(node)
        .subcommand(version)
        .subcommand(completion)
        .subcommand(man);
    described_top(top)
}

/// The top level's own options (`-h`, `--version`) from the usage text.
fn described_top(cmd: Command) -> Command {
    let entries = help::options(USAGE);
    let find = |long: &str| {
        entries
            .iter()
            .find(|e| e.long.as_deref() == Some(long))
            .map(OptionHelp::summary)
            .unwrap_or_default()
    };
    cmd.disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(find("help")),
        )
        .arg(
            Arg::new("version")
                .long("version")
                .action(ArgAction::Version)
                .help(find("version")),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Command {
        let mut cmd = command_tree(&Choices {
            output_formats: vec!["text"],
            fleet_formats: vec!["systemd"],
        });
        cmd.build();
        cmd
    }

    fn all(cmd: &Command, path: String, out: &mut Vec<(String, Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands() {
            all(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_is_described() {
        let mut commands = Vec::new();
        all(&tree(), "calicoctl".into(), &mut commands);
        assert_eq!(
            commands.len(),
            10,
            "calicoctl, node, run, detect-ip, fleet, fleet import, import, version, completion, man"
        );
        for (path, cmd) in commands {
            assert!(cmd.get_about().is_some(), "{path}: no about");
            for arg in cmd.get_arguments() {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(!help.is_empty(), "{path} {}: no description", arg.get_id());
            }
        }
    }

    #[test]
    fn every_option_of_a_help_text_is_an_argument() {
        let mut commands = Vec::new();
        all(&tree(), "calicoctl".into(), &mut commands);
        for (path, text) in [
            ("calicoctl node run", HELP),
            ("calicoctl node detect-ip", DETECT_HELP),
            ("calicoctl node fleet", FLEET_HELP),
            ("calicoctl node import", IMPORT_HELP),
            ("calicoctl node fleet import", FLEET_IMPORT_HELP),
            ("calicoctl completion", COMPLETION_HELP),
            ("calicoctl man", MAN_HELP),
        ] {
            let cmd = &commands.iter().find(|(p, _)| p == path).unwrap().1;
            for entry in help::options(text) {
                assert!(
                    cmd.get_arguments()
                        .any(|a| entry_for(a, std::slice::from_ref(&entry)).is_some()),
                    "{path}: {entry:?} is in the help text but not an argument"
                );
            }
        }
    }
}
