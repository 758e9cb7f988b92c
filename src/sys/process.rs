//! Process-wide state: signal dispositions, the umask, the host name.

/// Ignore SIGPIPE for the whole process: a write to a closed stdout or
/// socket is then EPIPE, an error the caller sees, not a silent death.
pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN runs no handler code of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// End the process by `signal` with its default action, so that the
/// parent's wait(2) sees death by that signal (WIFSIGNALED); returns only
/// if that action does not end the process.
pub(crate) fn die_by(signal: libc::c_int) {
    // SAFETY: restoring SIG_DFL and raising run no handler code of ours.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Whether `signal` is ignored (`SIG_IGN`), as it was inherited or set.
pub(crate) fn signal_ignored(signal: libc::c_int) -> bool {
    // SAFETY: a zeroed sigaction is a valid out-parameter; with a null new
    // action, sigaction(2) only reads the current one into it.
    let (r, old) = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(signal, std::ptr::null(), &mut old), old)
    };
    r == 0 && old.sa_sigaction == libc::SIG_IGN
}

/// Set the process's umask; returns the one it replaces.
pub(crate) fn umask(mask: libc::mode_t) -> libc::mode_t {
    // SAFETY: umask(2) takes no pointers and cannot fail.
    unsafe { libc::umask(mask) }
}

/// gethostname(2), when it answers with something usable.
pub(crate) fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(&buf[..len]).ok()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
