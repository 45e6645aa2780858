//! Raises the open-files soft limit to the hard limit at startup: each
//! WebSocket is a file descriptor, and a soft limit of 1,024 (a common
//! default) would cap the server far below `--max-conns`.

/// The soft limit now in force (unchanged where it cannot be read).
pub fn raise_to_hard() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every platform
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}
