//! The one place upstream's failure prefix is written. calicoctl's errors
//! are lines `Error executing command: <what>`; each layer's typed error
//! (`outdir::Error`, ...) writes its line through [`executing`], so the
//! prefix is spelled here alone, and code decides on variants, never on a
//! line's words. The command layer's `commands::Error` holds whichever
//! layer's error stopped a run; `main` prints its `Display`.

use std::fmt;

/// Upstream's prefix of a failed command's line.
pub const PREFIX: &str = "Error executing command: ";

/// Write `what` as a failed command's line.
pub fn executing(f: &mut fmt::Formatter, what: fmt::Arguments) -> fmt::Result {
    f.write_str(PREFIX)?;
    f.write_fmt(what)
}
