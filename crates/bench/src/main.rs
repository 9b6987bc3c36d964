//! `make bench`: the performance figures of the README on the release
//! binaries, printed as a table and written to `target/bench.json`.
//!
//! ```sh
//! target/release/bench --function target/release/skype-sender \
//!     --hello target/release/hello-lambda [--quick] [--json PATH] [--strict]
//! ```
//!
//! Exits 1 when a figure could not be measured (or, with `--strict`, when
//! a target is missed).

use std::path::PathBuf;

const USAGE: &str =
    "usage: bench --function PATH --hello PATH [--quick] [--profile NAME] [--json PATH] [--strict]";

struct Args {
    params: bench::Params,
    json: PathBuf,
    strict: bool,
}

fn args() -> Result<Args, String> {
    let root = lambda_harness::repo_root();
    let mut function = root.join("target/release/skype-sender");
    let mut hello = root.join("target/release/hello-lambda");
    let mut json = root.join("target/bench.json");
    let mut sizes = bench::Sizes::full();
    let mut profile = "release".to_string();
    let mut strict = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--function" => function = value()?.into(),
            "--hello" => hello = value()?.into(),
            "--json" => json = value()?.into(),
            "--profile" => profile = value()?,
            "--quick" => sizes = bench::Sizes::quick(),
            "--strict" => strict = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        params: bench::Params {
            sizes,
            function,
            hello,
            profile,
        },
        json,
        strict,
    })
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("bench: {why}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "bench: {} run of {} against {} (a few minutes)...",
        args.params.sizes.name,
        args.params.function.display(),
        args.params.hello.display()
    );
    let report = bench::run(&args.params).await;
    println!("{}", report.table());
    let json = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
    if let Some(dir) = args.json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&args.json, json + "\n") {
        Ok(()) => println!("figures written to {}", args.json.display()),
        Err(e) => eprintln!("bench: cannot write {}: {e}", args.json.display()),
    }
    let errors = report.figures.iter().any(|f| f.error.is_some());
    if errors || (args.strict && !report.all_ok()) {
        std::process::exit(1);
    }
}
