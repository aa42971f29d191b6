//! Memory figures: whole-process peak RSS (getrusage ru_maxrss) and per-phase peak RSS
//! (VmHWM from /proc/self/status after resetting it through /proc/self/clear_refs).

use std::fs;

/// Peak resident set size of this process so far, in KiB (getrusage RUSAGE_SELF ru_maxrss).
pub fn maxrss_kib() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc == 0 {
        ru.ru_maxrss as u64
    } else {
        0
    }
}

/// Resets the kernel's peak-RSS mark (Linux >= 4.0). Returns false if that is not possible,
/// in which case `hwm_kib` keeps reporting the peak since process start.
pub fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// VmHWM (peak RSS since start or since the last `reset_peak`) in KiB.
pub fn hwm_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds consumed by this process (all threads) so far.
pub fn cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The 1-minute load average (machine contention at that moment), if readable.
pub fn loadavg1() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
