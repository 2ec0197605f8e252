//! The process entry of `calicoctl`; the tool itself is the library
//! (`lib.rs`).
//!
//! The process starts at a C `main` (`no_main`), not at std's runtime entry:
//! std's entry reads `/proc/self/maps` to place a stack guard and installs
//! signal handlers, which measured as a sixth of a whole dry run (see
//! bench/README.md). What it did that matters is done here: stdout is
//! flushed before exit, standard descriptors closed at start are reopened
//! on `/dev/null` (`stdio`), and a panic is caught: exit 101 with its
//! message, as std's `main` gives, never an abort. SIGPIPE keeps its
//! default, so `calicoctl ... | head` ends quietly as other Unix tools do.
#![no_main]

/// The process entry (see the module comment). std's argument list is
/// filled on glibc before `main` runs, so `std::env::args_os` works here.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    calicoctl::stdio::reopen_closed();
    // A panic has printed its message (std's hook) when it arrives here.
    let status = std::panic::catch_unwind(calicoctl::run).unwrap_or(101);
    calicoctl::stdio::flush_out();
    // Everything is written (stdout flushed, files synced where they are
    // written): leave without the allocator's and libc's exit-time cleanup.
    // SAFETY: _exit ends the process; nothing runs after it.
    unsafe { libc::_exit(libc::c_int::from(status)) }
}
