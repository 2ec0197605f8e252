//! The standard streams, kept as a well-kept Unix tool keeps them. The
//! process starts at a C `main` (see `main.rs`), so what std's own start-up
//! would have done is done here: standard descriptors closed at start are
//! reopened on `/dev/null` before anything else is opened, so that a file
//! the run opens never takes number 1 or 2 and receives what is printed.
//! `print!` would panic on a full or closed stdout (and a panic cannot
//! leave a C `main`, so it aborted): everything printed goes through
//! [`out`] instead, where a write error is one line on stderr and exit 1,
//! and a closed pipe (`EPIPE`, when SIGPIPE is ignored) ends the run quietly
//! with the status SIGPIPE's default would give (141). Lines on stderr
//! ignore write errors: there is nowhere left to report them.

use std::io::Write;

/// Reopen each of descriptors 0, 1 and 2 that is closed on `/dev/null`
/// (read-write, as std does). Call first, before anything is opened.
/// (Unit tests have std's own entry, which does this itself.)
#[cfg_attr(test, allow(dead_code))]
pub fn reopen_closed() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD on a descriptor number only asks whether it is
        // open; nothing is read or changed.
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
        if open {
            continue;
        }
        // The lowest free number is `fd`: the ones below it are open now.
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            Ok(null) => {
                let _ = std::os::fd::IntoRawFd::into_raw_fd(null);
            }
            // Nothing can be reported without a stderr; std aborts too.
            Err(_) => std::process::abort(),
        }
    }
}

/// Leave at once: stdout cannot take what the run prints.
fn failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // SAFETY: _exit ends the process; nothing runs after it.
        unsafe { libc::_exit(141) }
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}cannot write to standard output: {e}",
        crate::error::PREFIX
    );
    // SAFETY: as above.
    unsafe { libc::_exit(1) }
}

/// Print to stdout (see the module comment for a failed write).
pub fn out(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        failed(&e);
    }
}

/// Print bytes to stdout as they are.
pub fn out_bytes(bytes: &[u8]) {
    if let Err(e) = std::io::stdout().lock().write_all(bytes) {
        failed(&e);
    }
}

/// Flush stdout: what is still buffered reaches it or the run fails.
pub fn flush_out() {
    if let Err(e) = std::io::stdout().lock().flush() {
        failed(&e);
    }
}

/// Print to stderr; a failed write is dropped.
pub fn err(args: std::fmt::Arguments) {
    let text = args.to_string();
    let (line, end) = match text.strip_suffix('\n') {
        Some(line) => (line, "\n"),
        None => (text.as_str(), ""),
    };
    let shown = crate::escape::visible(line);
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{shown}{end}").as_bytes());
}

/// `print!` that fails as the module says.
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdio::out(format_args!($($arg)*)) };
}

/// `println!` that fails as the module says.
macro_rules! outln {
    () => { $crate::stdio::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdio::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics, and prints one line: every control
/// character in it (but the final newline) made visible
/// ([`crate::escape::visible`]).
macro_rules! errln {
    ($($arg:tt)*) => { $crate::stdio::err(format_args!("{}\n", format_args!($($arg)*))) };
}
