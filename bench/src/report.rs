//! The markdown report: the machine, one table row per phase, and the portal's download size.

use std::io::Write as _;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::phases::PhaseResult;

/// `nproc` and the CPU model from `/proc/cpuinfo`.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}")
}

/// Today's date and time (UTC), from `date`.
pub fn now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The phase table.
pub fn table(results: &[PhaseResult]) -> String {
    let mut out = String::from(
        "| phase | load | ok ops | ops/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/op | server cores | loadgen CPU ms/op | server peak RSS MiB |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {:.2} | {:.3} | {:.1} |\n",
            r.name,
            r.load,
            r.successes(),
            r.ops_per_second(),
            r.percentile_ms(0.50),
            r.percentile_ms(0.95),
            r.percentile_ms(0.99),
            r.error_count(),
            r.server_cpu_ms_per_op(),
            r.server_cores(),
            r.loadgen_cpu_ms_per_op(),
            r.server_peak_rss_kib as f64 / 1024.0,
        ));
    }
    out
}

/// Each phase's errors by kind (empty when there were none).
pub fn errors(results: &[PhaseResult]) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| r.error_count() > 0) {
        let kinds: Vec<String> = r.errors.iter().map(|(kind, n)| format!("{n} × {kind}")).collect();
        out.push_str(&format!("- {}: {}\n", r.name, kinds.join("; ")));
    }
    out
}

fn gzip_len(bytes: &[u8]) -> std::io::Result<usize> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

/// Raw and gzip (level 9) sizes of what the sign-in page loads from `pkg_dir` (the `sign-in` bundle's
/// WASM and JS glue, and the CSS), if built; their names (`<bundle>-sign-in.<hash>.*`) are in
/// `pkg_dir/assets.json` (scripts/bundle.sh).
pub fn site_size(pkg_dir: &Path) -> String {
    let manifest = pkg_dir.join("assets.json");
    let names =
        std::fs::read(&manifest).ok().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let Some((code, css)) = names.as_ref().and_then(|n| Some((n["sign-in"].as_str()?, n["css"].as_str()?))) else {
        return format!("(no {}: run `make site-release` for the size line)\n", manifest.display());
    };
    let mut rows = String::new();
    let (mut raw_total, mut gzip_total) = (0, 0);
    for file in [format!("{code}.wasm"), format!("{code}.js"), css.to_owned()] {
        let Ok(bytes) = std::fs::read(pkg_dir.join(&file)) else { continue };
        let Ok(gzip) = gzip_len(&bytes) else { continue };
        if !file.ends_with(".css") {
            raw_total += bytes.len();
            gzip_total += gzip;
        }
        rows.push_str(&format!("| {file} | {:.1} | {:.1} |\n", kib(bytes.len()), kib(gzip)));
    }
    format!(
        "| sign-in page asset ({}) | raw KiB | gzip -9 KiB |\n|---|---:|---:|\n{rows}| **WASM + JS** | **{:.1}** | **{:.1}** |\n",
        pkg_dir.display(),
        kib(raw_total),
        kib(gzip_total)
    )
}

fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_shrinks_repetitive_bytes() {
        assert!(gzip_len(&[b'a'; 10_000]).unwrap() < 200);
    }
}
