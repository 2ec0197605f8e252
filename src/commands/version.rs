//! `calicoctl version` and `calicoctl --version`: what this build is. No
//! datastore access.

use super::Error;
use crate::cli::{self, Parsed};

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit it was built from, or `unknown` (see `build.rs`).
pub const GIT_COMMIT: &str = env!("CALICOCTL_GIT_COMMIT");

/// `calicoctl version`: upstream's layout for the client's part.
pub fn main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    if let Parsed::Help(text) = cli::parse::<cli::VersionArgs>(all_args, words, cli::VERSION_HELP)?
    {
        out!("{text}");
        return Ok(0);
    }
    outln!("Client Version:    {VERSION}");
    outln!("Git commit:        {GIT_COMMIT}");
    Ok(0)
}

/// `calicoctl --version`: the one version line.
pub fn version_line() -> u8 {
    outln!("calicoctl {VERSION}");
    0
}
