//! Size rows: a built page's wasm + JS, raw, gzip -9 and brotli -q 11.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// (raw, gzip, brotli) bytes of the `.wasm` and `.js` files in `dir`
/// (not the bench harness, not precompressed copies).
pub fn measure(dir: &Path) -> Option<(u64, u64, u64)> {
    let mut total = (0, 0, 0);
    let mut any = false;
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        let name = path.file_name()?.to_string_lossy().into_owned();
        if !(name.ends_with(".wasm") || name.ends_with(".js")) || name == "harness.js" {
            continue;
        }
        let bytes = std::fs::read(&path).ok()?;
        total.0 += bytes.len() as u64;
        total.1 += compressed("gzip", &["-9c"], &bytes)?;
        total.2 += compressed("brotli", &["-c", "-q", "11"], &bytes)?;
        any = true;
    }
    any.then_some(total)
}

fn compressed(tool: &str, args: &[&str], bytes: &[u8]) -> Option<u64> {
    let mut child = Command::new(tool).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().ok()?;
    let mut stdin = child.stdin.take()?;
    let data = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    Some(out.stdout.len() as u64)
}
