//! Files the tool reads as input (templates, datastore configs,
//! inventories and every file of an inventory directory, TLS files named by
//! a config, interface tables), read one way. Any of them may come from a
//! pull request and be read by root in CI, so a name is only ever a
//! regular file of a bounded size: a fifo, socket or device is refused
//! without blocking (opened `O_NONBLOCK`, checked with `fstat` once open),
//! a file of `/proc` or `/sys` (a process's environment, a kernel table)
//! is refused whatever it claims to be, and a symbolic link is followed
//! only while what it resolves to stays in the directory of the path given
//! (so `/etc/calico/calicoctl.cfg -> real.cfg` and Kubernetes' `..data/`
//! links work, and `t.j2 -> /proc/self/environ` or `-> ../../etc/shadow`
//! does not). Nothing of the file's content is ever part of an error.

use rustix::fs::{FileType, Mode, OFlags};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The most any input file may hold: far more than any template, config,
/// inventory or certificate a user writes, far less than memory.
pub const MAX_INPUT: u64 = 16 << 20;

/// What a name that should be a regular file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAFile {
    Directory,
    Fifo,
    Socket,
    Device,
    Other,
    /// A file of `/proc` or `/sys`: the kernel's, not the user's.
    Kernel,
}

impl std::fmt::Display for NotAFile {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            NotAFile::Directory => "a directory",
            NotAFile::Fifo => "a fifo",
            NotAFile::Socket => "a socket",
            NotAFile::Device => "a device",
            NotAFile::Other => "not a regular file",
            NotAFile::Kernel => "a file of /proc or /sys",
        })
    }
}

/// Why an input file was refused, unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a regular file.
    NotAFile(NotAFile),
    /// Larger than [`MAX_INPUT`]: refused before reading.
    TooLarge { size: u64 },
    /// A symbolic link that leads out of the file's own directory.
    LinkOutside { dir: PathBuf },
}

/// Why an input file was not read. `Display` is the reason, after the
/// caller's own words for the file (`cannot read template t.j2: ...`).
#[derive(Debug)]
pub enum InputError {
    /// The file could not be opened or read (missing, denied...).
    Io(std::io::Error),
    Refused(Refusal),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            InputError::Io(e) => write!(f, "{e}"),
            InputError::Refused(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Refusal::NotAFile(found) => write!(f, "it is {found}, not a regular file (not read)"),
            Refusal::TooLarge { size } => write!(
                f,
                "it is {size} bytes, more than the {MAX_INPUT} an input file may hold (not read)"
            ),
            Refusal::LinkOutside { dir } => write!(
                f,
                "it is a symbolic link leading out of {} (not followed)",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InputError::Io(e) => Some(e),
            InputError::Refused(why) => Some(why),
        }
    }
}

impl InputError {
    /// Whether nothing is at the path (a missing default config falls back
    /// to the environment).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The same, as an `io::Error` for callers whose errors carry one: the
/// reason is kept as the inner error, its `Display` unchanged.
impl From<InputError> for std::io::Error {
    fn from(e: InputError) -> std::io::Error {
        match e {
            InputError::Io(e) => e,
            InputError::Refused(why) => std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        }
    }
}

/// `path`'s directory, as the path gives it (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The real path `path` names, refused when a link in its last
/// component leads out of its own directory.
pub fn resolve_within_own_dir(path: &Path) -> Result<PathBuf, InputError> {
    let dir = directory_of(path);
    let real_dir = std::fs::canonicalize(dir).map_err(InputError::Io)?;
    let real = std::fs::canonicalize(path).map_err(InputError::Io)?;
    if !real.starts_with(&real_dir) {
        return Err(InputError::Refused(Refusal::LinkOutside {
            dir: dir.to_path_buf(),
        }));
    }
    Ok(real)
}

/// Whether `fd` lies on `/proc` or `/sys` (their file systems' magic
/// numbers, as `statfs(2)` lists them).
fn on_kernel_fs(fd: &std::os::fd::OwnedFd) -> bool {
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const SYSFS_MAGIC: u64 = 0x6265_6572;
    rustix::fs::fstatfs(fd).is_ok_and(|s| {
        let kind = s.f_type as u64;
        kind == PROC_SUPER_MAGIC || kind == SYSFS_MAGIC
    })
}

/// What a mode says the file is, unless a regular file.
fn not_a_file(mode: u32) -> Option<NotAFile> {
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => None,
        FileType::Directory => Some(NotAFile::Directory),
        FileType::Fifo => Some(NotAFile::Fifo),
        FileType::Socket => Some(NotAFile::Socket),
        FileType::CharacterDevice | FileType::BlockDevice => Some(NotAFile::Device),
        _ => Some(NotAFile::Other),
    }
}

fn errno(e: rustix::io::Errno) -> InputError {
    InputError::Io(std::io::Error::from_raw_os_error(e.raw_os_error()))
}

/// Read the input file at `path` as the module says.
pub fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    let real = resolve_within_own_dir(path)?;
    // Looked at before it is opened: a device is never opened.
    let seen = rustix::fs::stat(&real).map_err(errno)?;
    if let Some(not) = not_a_file(seen.st_mode) {
        return Err(InputError::Refused(Refusal::NotAFile(not)));
    }
    let flags =
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let fd = rustix::fs::open(&real, flags, Mode::empty()).map_err(errno)?;
    let stat = rustix::fs::fstat(&fd).map_err(errno)?;
    // Looked at again once open: it may have been swapped in between.
    if let Some(not) = not_a_file(stat.st_mode) {
        return Err(InputError::Refused(Refusal::NotAFile(not)));
    }
    if on_kernel_fs(&fd) {
        return Err(InputError::Refused(Refusal::NotAFile(NotAFile::Kernel)));
    }
    let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
    if size > MAX_INPUT {
        return Err(InputError::Refused(Refusal::TooLarge { size }));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    std::fs::File::from(fd)
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    if bytes.len() as u64 > MAX_INPUT {
        // It grew between the look and the read.
        return Err(InputError::Refused(Refusal::TooLarge {
            size: bytes.len() as u64,
        }));
    }
    Ok(bytes)
}

/// [`read`], as text; `None` inside when it is not UTF-8.
pub fn read_text(path: &Path) -> Result<Option<String>, InputError> {
    read(path).map(|bytes| String::from_utf8(bytes).ok())
}

/// `path` made absolute against the working directory and with `.` and
/// `..` taken away by the text alone, touching no file: how an inventory's
/// path is judged before anything at it is looked at.
pub fn lexically_absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
    };
    let mut out = base;
    for part in path.components() {
        match part {
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_stay_in_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("real.cfg"), "x").unwrap();
        symlink("real.cfg", d.join("in.cfg")).unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        symlink("../real.cfg", d.join("sub/out.cfg")).unwrap();
        symlink("/proc/self/environ", d.join("env.j2")).unwrap();
        assert_eq!(read(&d.join("in.cfg")).unwrap(), b"x");
        assert!(matches!(
            read(&d.join("sub/out.cfg")),
            Err(InputError::Refused(Refusal::LinkOutside { .. }))
        ));
        assert!(matches!(
            read(&d.join("env.j2")),
            Err(InputError::Refused(Refusal::LinkOutside { .. }))
        ));
    }

    #[test]
    fn only_regular_files_of_a_bounded_size() {
        assert!(matches!(
            read(Path::new("/proc/self/environ")),
            Err(InputError::Refused(Refusal::NotAFile(NotAFile::Kernel)))
        ));
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(InputError::Refused(Refusal::NotAFile(NotAFile::Device)))
        ));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(
            read(&fifo),
            Err(InputError::Refused(Refusal::NotAFile(NotAFile::Fifo)))
        ));
        let big = dir.path().join("big");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_INPUT + 1).unwrap();
        assert!(matches!(
            read(&big),
            Err(InputError::Refused(Refusal::TooLarge { .. }))
        ));
        assert!(read(&dir.path().join("none")).unwrap_err().is_not_found());
    }

    #[test]
    fn paths_are_judged_by_their_text() {
        assert_eq!(
            lexically_absolute(Path::new("/a/b/../../../etc/./x")),
            PathBuf::from("/etc/x")
        );
    }
}
