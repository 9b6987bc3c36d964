//! The profile the deployed binary is built with (`make build`, and so
//! `make deploy`): Cargo.toml's `[profile.release]`, as the README documents
//! it. cargo-lambda adds `panic = "abort"` to release builds unless the
//! profile sets `panic`, and with `abort` a panic in one request would end
//! every invocation in flight instead of being caught and answered. The
//! built binary itself is checked by `scripts/check-bootstrap --unwind`,
//! which `make build` runs.

const CARGO_TOML: &str = include_str!("../../Cargo.toml");
const README: &str = include_str!("../../README.md");
const MAKEFILE: &str = include_str!("../../Makefile");

/// The `key = value` lines of one `[section]` of a TOML file, comments and
/// blank lines left out, values as written (`"z"`, `true`, `1`).
fn section(toml: &str, name: &str) -> Vec<(String, String)> {
    let header = format!("[{name}]");
    let mut lines = toml.lines().map(str::trim);
    assert!(
        lines.any(|line| line == header),
        "Cargo.toml has no {header} section"
    );
    lines
        .take_while(|line| !line.starts_with('['))
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not a `key = value` line in {header}: {line}"));
            (key.trim().to_string(), value.trim().to_string())
        })
        .collect()
}

fn get<'a>(entries: &'a [(String, String)], key: &str) -> Option<&'a str> {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_release_profile_unwinds_on_panic_as_documented() {
    let release = section(CARGO_TOML, "profile.release");
    assert_eq!(
        get(&release, "panic"),
        Some("\"unwind\""),
        "[profile.release] must set panic = \"unwind\" explicitly: left unset, \
         cargo-lambda builds the deployed binary with panic = \"abort\""
    );
    assert!(
        README.contains("`panic = \"unwind\"` on purpose"),
        "the README no longer says why the function unwinds"
    );
}

#[test]
fn the_release_profile_is_the_documented_one() {
    // README, Performance: "the release profile is `opt-level = "z"`, fat
    // LTO, one codegen unit, stripped".
    let release = section(CARGO_TOML, "profile.release");
    for (key, value) in [
        ("opt-level", "\"z\""),
        ("lto", "true"),
        ("codegen-units", "1"),
        ("strip", "true"),
        ("panic", "\"unwind\""),
    ] {
        assert_eq!(get(&release, key), Some(value), "[profile.release] {key}");
    }
}

#[test]
fn make_build_checks_the_built_binary() {
    let build = MAKEFILE
        .split("\nbuild: ")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the Makefile has a `build:` target");
    assert!(build.contains("--release"), "make build: {build}");
    assert!(
        build.contains("scripts/check-bootstrap --glibc $(GLIBC) --unwind $(BOOTSTRAP)"),
        "make build must check the glibc version and the panic strategy of what it built: {build}"
    );
}
