//! `calicoctl`: a drop-in for `calicoctl node run` that generates the exact
//! command (and, from there, launcher artifacts) for Calico's node container.
//!
//! Data flows one way: command line -> plan -> rendered text -> stdout or exec.
//! This library holds the whole tool; `main.rs` is its process entry alone.
//! [`run`] only dispatches: each subcommand is a module of `commands`.

#[macro_use]
pub mod stdio;

pub mod artifact;
pub mod cli;
pub mod commands;
pub mod config;
pub mod emit;
pub mod engine;
pub mod error;
pub mod escape;
pub mod import;
pub mod input;
pub mod inventory;
pub mod ip;
pub mod live;
pub mod nesting;
pub mod outdir;
pub mod plan;
pub mod release;
pub mod remote;
pub mod render;
pub mod start;
pub mod terminal;

use cli::USAGE;
use commands::{Error, completion, detect_ip, fleet, man, node_import, node_run, version};
use std::ffi::OsString;

fn dispatch(all_args: &[String]) -> Result<u8, Error> {
    let help = |w: &String| w == "-h" || w == "--help";
    match all_args {
        [node, run, words @ ..] if node == "node" && run == "run" => {
            node_run::main(all_args, words)
        }
        [node, fleet_word, import_word, words @ ..]
            if node == "node" && fleet_word == "fleet" && import_word == "import" =>
        {
            fleet::import_main(all_args, words)
        }
        [node, fleet_word, words @ ..] if node == "node" && fleet_word == "fleet" => {
            fleet::main(all_args, words)
        }
        [node, import_word, words @ ..] if node == "node" && import_word == "import" => {
            node_import::main(all_args, words)
        }
        [node, detect, words @ ..] if node == "node" && detect == "detect-ip" => {
            detect_ip::main(all_args, words)
        }
        [cmd, words @ ..] if cmd == "version" => version::main(all_args, words),
        [cmd, words @ ..] if cmd == "completion" => completion::main(all_args, words),
        [cmd, words @ ..] if cmd == "man" => man::main(all_args, words),
        [v] if v == "--version" => Ok(version::version_line()),
        [] => Err(Error::Usage),
        [h] if help(h) => {
            out!("{USAGE}");
            Ok(0)
        }
        [node, h] if node == "node" && help(h) => {
            out!("{USAGE}");
            Ok(0)
        }
        _ => Err(cli::invalid_option(all_args).into()),
    }
}

/// Run the command line; the exit status.
pub fn run() -> u8 {
    // The test hook for the panic path (tests/it/streams.rs): a panic is exit
    // 101 with its message, never an abort.
    if std::env::var_os("CALICOCTL_TEST_PANIC").is_some() {
        panic!("CALICOCTL_TEST_PANIC asked for a panic");
    }
    let raw = std::env::args_os().skip(1).map(OsString::into_string);
    let result = match raw.collect::<Result<Vec<_>, _>>() {
        Ok(args) => dispatch(&args),
        Err(_) => Err(Error::ArgumentsNotUtf8),
    };
    match result {
        Ok(status) => status,
        // Every failure is a message on stderr and exit status 1.
        Err(error) => {
            for line in error.lines() {
                errln!("{line}");
            }
            1
        }
    }
}
