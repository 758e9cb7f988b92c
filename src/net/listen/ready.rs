//! The ready file (`--ready-file`): the server's address, written once it
//! accepts, so that a reader never sees half a line and nothing planted at
//! a name next to it is written through.

use std::io;
use std::path::{Path, PathBuf};

/// Write via a temporary file and rename, so a reader never sees half a
/// line. The temporary file, next to PATH, is always a new one (`O_EXCL`,
/// `O_NOFOLLOW`: a symlink or file planted at its name is never written
/// through), its name unpredictable (`PATH.<pid>.<random>.tmp`, another
/// one tried if taken), mode 0644 less the umask; the rename replaces
/// whatever PATH is (a symlink there is replaced, not followed).
pub(super) fn write_ready_file(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    let mut taken = io::Error::from(io::ErrorKind::AlreadyExists);
    for attempt in 0..16u32 {
        let tmp = temporary_name(path, attempt);
        let created = new_file().open(&tmp);
        let mut file = match created {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                taken = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(format!("{contents}\n").as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(taken)
}

/// Options for a file that must be new: mode 0644 less the umask, and no
/// symlink followed (`O_NOFOLLOW`).
#[cfg(unix)]
fn new_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o
}

/// Options for a file that must be new (`create_new` on Windows also
/// refuses a symlink planted at the name: CREATE_NEW does not follow it).
#[cfg(windows)]
fn new_file() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    o
}

/// `PATH.<pid>.<random>.tmp`: random from the standard library's
/// OS-seeded hasher keys, so nobody can plant a file at it beforehand.
fn temporary_name(path: &Path, attempt: u32) -> PathBuf {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new()
        .hash_one((attempt, std::time::SystemTime::now()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.{random:016x}.tmp", std::process::id()));
    PathBuf::from(tmp)
}
