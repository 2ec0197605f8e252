//! SIGINT, SIGTERM and SIGHUP during a write: what systemd, a CI time-out
//! or a terminal send. Killed at once, a run would leave thousands of
//! temporaries and, once its renames had begun, half a fleet. So while a
//! write runs these signals are blocked and the writer asks for them at
//! safe points: while staging, it removes its temporaries (every target as
//! it was); once renaming, it finishes the renames (every target new).
//! Then it re-raises the signal with its default action, so the run ends
//! as the signal says (a shell sees status 128 + its number). A signal the
//! run was started with set to ignore (`nohup`) stays ignored.

use std::time::Duration;

const DEFERRED: [libc::c_int; 3] = [libc::SIGHUP, libc::SIGINT, libc::SIGTERM];

/// The signal's name, for messages.
pub fn name(signal: libc::c_int) -> String {
    match signal {
        libc::SIGHUP => "SIGHUP".to_string(),
        libc::SIGINT => "SIGINT".to_string(),
        libc::SIGTERM => "SIGTERM".to_string(),
        n => format!("signal {n}"),
    }
}

fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: sigaction with a null new action only reads the disposition
    // into a zeroed struct we own.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The deferring signals of one write: blocked from `block` until the
/// value is dropped (or `exit_if_caught` ends the process).
pub struct Deferred {
    set: libc::sigset_t,
    old: libc::sigset_t,
    caught: Option<libc::c_int>,
}

impl Deferred {
    /// Block the signals (on this thread: a write runs on the main thread
    /// once every rendering thread has ended).
    pub fn block() -> Deferred {
        let wanted = DEFERRED.into_iter().filter(|s| !ignored(*s));
        // SAFETY: sigset_t is plain data (all zeroes is a valid value, then
        // emptied and filled by sigemptyset/sigaddset on sets we own);
        // pthread_sigmask only changes this thread's mask and fills `old`.
        let (set, old) = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in wanted {
                libc::sigaddset(&mut set, signal);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            (set, old)
        };
        Deferred {
            set,
            old,
            caught: None,
        }
    }

    /// Wait up to `timeout` for one of the signals; the first one caught
    /// (now or before) is kept for `exit_if_caught`.
    fn wait(&mut self, timeout: Duration) -> Option<libc::c_int> {
        if self.caught.is_none() {
            let spec = libc::timespec {
                tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
            };
            // SAFETY: sigtimedwait reads our set and timespec; no siginfo.
            let signal = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &spec) };
            if signal > 0 {
                self.caught = Some(signal);
            }
        }
        self.caught
    }

    /// A signal that has arrived, if any (without waiting).
    pub fn arrived(&mut self) -> Option<libc::c_int> {
        self.wait(Duration::ZERO)
    }

    /// The test hook's pause: wait for a signal, at most `timeout`.
    pub fn pause(&mut self, timeout: Duration) {
        self.wait(timeout);
    }

    /// When a signal arrived: print `message(signal)` on stderr and end the
    /// process by that signal. Otherwise nothing.
    pub fn exit_if_caught(&mut self, message: impl Fn(&str) -> String) {
        if self.arrived().is_none() {
            return;
        }
        let Some(signal) = self.caught else { return };
        errln!("{}", message(&name(signal)));
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: set the default action, make the signal pending again and
        // unblock it: the process ends by it. _exit only if it did not.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
            libc::_exit(128 + signal);
        }
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // SAFETY: a signal caught but not acted on (a write that failed
        // after it arrived) is made pending again; restoring this thread's
        // mask as it was before `block` then delivers it.
        unsafe {
            if let Some(signal) = self.caught {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}
