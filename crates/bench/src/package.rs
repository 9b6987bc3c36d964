//! The deployable's size: the binary as built (the release profile strips
//! it), and the zip cargo-lambda would upload (one `bootstrap` entry,
//! deflated, mode 0755), made with Python's zipfile.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

use serde_json::json;

use super::report::{Facts, Figure};
use super::{PhaseOutput, Sizes};

const MB: f64 = 1024.0 * 1024.0;
const BOOTSTRAP_LIMIT_MB: f64 = 8.0;
const ZIP_LIMIT_MB: f64 = 4.0;

/// The size figures of `binary`.
pub async fn measure(binary: &Path, scratch: &Path, sizes: &Sizes) -> PhaseOutput {
    let binary = binary.to_path_buf();
    let zip = scratch.join("bootstrap.zip");
    let level = sizes.zip_level;
    let result = tokio::task::spawn_blocking(move || figures(&binary, &zip, level))
        .await
        .unwrap_or_else(|e| Err(format!("the size task failed: {e}")));
    PhaseOutput {
        ids: &["bootstrap_size", "zip_size"],
        result: result.map(|figures| (figures, Facts::default())),
    }
}

fn figures(binary: &Path, zip: &Path, level: u32) -> Result<Vec<Figure>, String> {
    let bytes = std::fs::metadata(binary)
        .map_err(|e| format!("{}: {e}", binary.display()))?
        .len();
    let symbols = elf_sections(binary)
        .map(|names| {
            names
                .iter()
                .filter(|n| *n == ".symtab" || n.starts_with(".debug_"))
                .cloned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let stripped = symbols.is_empty();
    let size_mb = bytes as f64 / MB;
    let bootstrap = Figure::new("bootstrap_size")
        .measured(
            format!(
                "{size_mb:.2} MB ({bytes} bytes = {:.2} decimal MB, {})",
                bytes as f64 / 1e6,
                if stripped {
                    "stripped".to_string()
                } else {
                    format!("NOT stripped: {}", symbols.join(" "))
                }
            ),
            size_mb,
            "MB",
        )
        .verdict(size_mb <= BOOTSTRAP_LIMIT_MB)
        .details(
            json!({"bytes": bytes, "stripped": stripped, "path": binary.display().to_string()}),
        );

    let zipped = zip_like_cargo_lambda(binary, zip, level)?;
    let zip_mb = zipped as f64 / MB;
    let zip_figure = Figure::new("zip_size")
        .measured(
            format!(
                "{zip_mb:.2} MB ({zipped} bytes = {:.2} decimal MB, deflate level {level}, {:.0}% of the binary)",
                zipped as f64 / 1e6,
                100.0 * zipped as f64 / bytes.max(1) as f64
            ),
            zip_mb,
            "MB",
        )
        .verdict(zip_mb <= ZIP_LIMIT_MB)
        .details(json!({"bytes": zipped, "deflate_level": level}));
    Ok(vec![bootstrap, zip_figure])
}

/// Zips `binary` as a single `bootstrap` entry; the zip's size in bytes.
fn zip_like_cargo_lambda(binary: &Path, zip: &Path, level: u32) -> Result<u64, String> {
    const SCRIPT: &str = r#"
import sys, zipfile
source, target, level = sys.argv[1], sys.argv[2], int(sys.argv[3])
entry = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
entry.external_attr = 0o100755 << 16
entry.create_system = 3
with open(source, "rb") as f:
    data = f.read()
with zipfile.ZipFile(target, "w") as z:
    z.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
"#;
    let venv = lambda_harness::repo_root().join(".venv/bin/python3");
    let python = if venv.is_file() {
        venv.display().to_string()
    } else {
        "python3".to_string()
    };
    let output = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(binary)
        .arg(zip)
        .arg(level.to_string())
        .output()
        .map_err(|e| format!("cannot run {python} to zip the binary: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "zipping failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    std::fs::metadata(zip)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", zip.display()))
}

/// The section names of a 64-bit little-endian ELF file.
fn elf_sections(path: &Path) -> Option<Vec<String>> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as u64;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as u64;
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let shoff = u64_at(&header, 0x28);
    let shentsize = u16_at(&header, 0x3A);
    let shnum = u16_at(&header, 0x3C);
    let shstrndx = u16_at(&header, 0x3E);
    if shentsize < 64 || shnum == 0 || shstrndx >= shnum {
        return None;
    }
    let mut table = vec![0u8; (shentsize * shnum) as usize];
    file.seek(SeekFrom::Start(shoff)).ok()?;
    file.read_exact(&mut table).ok()?;
    let entry = |i: u64| &table[(i * shentsize) as usize..((i + 1) * shentsize) as usize];
    let strings = entry(shstrndx);
    let (str_offset, str_size) = (u64_at(strings, 0x18), u64_at(strings, 0x20));
    let mut names = vec![0u8; str_size as usize];
    file.seek(SeekFrom::Start(str_offset)).ok()?;
    file.read_exact(&mut names).ok()?;
    Some(
        (0..shnum)
            .map(|i| {
                let start = u32_at(entry(i), 0) as usize;
                let end = names[start.min(names.len())..]
                    .iter()
                    .position(|b| *b == 0)
                    .map_or(names.len(), |p| start + p);
                String::from_utf8_lossy(&names[start.min(end)..end]).into_owned()
            })
            .collect(),
    )
}
