//! What `/proc` says about a process: CPU time (user + system) and resident memory.

use std::process::Command;

use crate::BoxError;

/// Which process to read: a child by pid, or the load generator itself.
#[derive(Clone, Copy, Debug)]
pub enum Pid {
    /// Another process.
    Of(u32),
    /// The calling process (`/proc/self`).
    Current,
}

impl Pid {
    fn dir(self) -> String {
        match self {
            Self::Of(pid) => format!("/proc/{pid}"),
            Self::Current => "/proc/self".to_owned(),
        }
    }
}

/// Clock ticks per second for `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux when that fails).
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&ticks: &u64| ticks > 0)
        .unwrap_or(100)
}

/// utime + stime of the whole process (all threads), in clock ticks.
pub fn cpu_ticks(pid: Pid) -> Result<u64, BoxError> {
    let stat = std::fs::read_to_string(format!("{}/stat", pid.dir()))?;
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("malformed /proc stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
    let utime: u64 = fields.get(11).ok_or("no utime in /proc stat")?.parse()?;
    let stime: u64 = fields.get(12).ok_or("no stime in /proc stat")?.parse()?;
    Ok(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status`, such as `VmRSS` (resident now) or `VmHWM` (peak resident).
pub fn status_kib(pid: Pid, field: &str) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string(format!("{}/status", pid.dir()))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc status").into())
}

/// Resets the peak resident size (`VmHWM`) to the current one (`echo 5 > /proc/<pid>/clear_refs`),
/// so the next read of `VmHWM` is the peak since now. `false` when the kernel refused.
pub fn reset_peak_rss(pid: Pid) -> bool {
    std::fs::write(format!("{}/clear_refs", pid.dir()), "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_and_memory_are_readable() {
        assert!(cpu_ticks(Pid::Current).is_ok());
        assert!(status_kib(Pid::Current, "VmRSS").unwrap() > 0);
        assert!(status_kib(Pid::Current, "VmHWM").unwrap() > 0);
        assert!(clock_ticks_per_second() > 0);
    }
}
