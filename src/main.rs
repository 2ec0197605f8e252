//! `calicoctl`: a drop-in for `calicoctl node run` that generates the exact
//! command (and, from there, launcher artifacts) for Calico's node container.
//!
//! Data flows one way: command line -> plan -> rendered text -> stdout or exec.
//! This file only dispatches: each subcommand is a module of `commands`.
//!
//! The process starts at a C `main` (`no_main`), not at std's runtime entry:
//! std's entry reads `/proc/self/maps` to place a stack guard and installs
//! signal handlers, which measured as a sixth of a whole dry run (see
//! bench/README.md). What it did that matters is done here: stdout is
//! flushed before exit, standard descriptors closed at start are reopened
//! on `/dev/null` (`stdio`), and a panic is caught: exit 101 with its
//! message, as std's `main` gives, never an abort. SIGPIPE keeps its
//! default, so `calicoctl ... | head` ends quietly as other Unix tools do.
#![cfg_attr(not(test), no_main)]

#[macro_use]
mod stdio;

mod artifact;
mod cli;
mod commands;
mod config;
mod emit;
mod engine;
mod error;
mod escape;
mod input;
mod inventory;
mod ip;
mod live;
mod nesting;
mod outdir;
mod plan;
mod release;
mod render;
mod start;
mod terminal;

use cli::USAGE;
use commands::{Error, completion, detect_ip, fleet, man, node_run, version};
use std::ffi::OsString;

fn dispatch(all_args: &[String]) -> Result<u8, Error> {
    let help = |w: &String| w == "-h" || w == "--help";
    match all_args {
        [node, run, words @ ..] if node == "node" && run == "run" => {
            node_run::main(all_args, words)
        }
        [node, fleet_word, words @ ..] if node == "node" && fleet_word == "fleet" => {
            fleet::main(all_args, words)
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

/// Run the command line; the exit status. (Unit tests have their own
/// entry, so there this is a root of its own.)
#[cfg_attr(test, allow(dead_code))]
fn run() -> u8 {
    // The test hook for the panic path (tests/streams.rs): a panic is exit
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

/// The process entry (see the module comment). std's argument list is
/// filled on glibc before `main` runs, so `std::env::args_os` works here.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    stdio::reopen_closed();
    // A panic has printed its message (std's hook) when it arrives here.
    let status = std::panic::catch_unwind(run).unwrap_or(101);
    stdio::flush_out();
    // Everything is written (stdout flushed, files synced where they are
    // written): leave without the allocator's and libc's exit-time cleanup.
    // SAFETY: _exit ends the process; nothing runs after it.
    unsafe { libc::_exit(libc::c_int::from(status)) }
}
