//! A function binary run as Lambda runs it: one process ("container")
//! polling its own [`RuntimeApi`], with Lambda's variables and the
//! caller's, its stdout and stderr read line by line; killed when dropped.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::runtime_api::{Outcome, RuntimeApi};

/// Which of the process's log lines are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every line (a test reads them all).
    All,
    /// Only the last `n` (a long run shows its last lines when it fails).
    Last(usize),
}

/// The lines kept so far, stdout and stderr interleaved as they were read.
struct Lines {
    kept: VecDeque<String>,
    keep: Keep,
}

impl Lines {
    fn push(&mut self, line: String) {
        if let Keep::Last(n) = self.keep {
            if n == 0 {
                return;
            }
            if self.kept.len() == n {
                self.kept.pop_front();
            }
        }
        self.kept.push_back(line);
    }
}

/// One running function process and its Runtime API.
pub struct FunctionProcess {
    child: Child,
    /// The emulator the process polls.
    pub runtime: RuntimeApi,
    /// Just before the process was spawned.
    pub spawned_at: Instant,
    lines: Arc<Mutex<Lines>>,
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FunctionProcess {
    /// A Runtime API emulator of its own, then the process (see [`Self::spawn`]).
    pub async fn start(
        binary: &Path,
        env: impl IntoIterator<Item = (impl AsRef<OsStr>, impl AsRef<OsStr>)>,
        keep: Keep,
    ) -> FunctionProcess {
        FunctionProcess::spawn(RuntimeApi::start().await, binary, env, keep)
    }

    /// `binary` polling `runtime`, in the clean environment of
    /// [`RuntimeApi::command`] plus `env` (a later pair wins), keeping the
    /// log lines `keep` says.
    pub fn spawn(
        runtime: RuntimeApi,
        binary: &Path,
        env: impl IntoIterator<Item = (impl AsRef<OsStr>, impl AsRef<OsStr>)>,
        keep: Keep,
    ) -> FunctionProcess {
        let mut command = runtime.command(binary);
        command
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned_at = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let lines = Arc::new(Mutex::new(Lines {
            kept: VecDeque::new(),
            keep,
        }));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        FunctionProcess {
            child,
            runtime,
            spawned_at,
            lines,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Queues `event` on the process's Runtime API and waits for the answer.
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.runtime.invoke(event).await
    }

    /// The log lines kept so far (the readers trail the process by a moment).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().kept.iter().cloned().collect()
    }

    /// The log lines kept so far as one text, each line ended by `\n`.
    pub fn logs(&self) -> String {
        let lines = self.lines.lock().unwrap();
        let mut text = String::new();
        for line in &lines.kept {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The Embedded Metric Format documents among the log lines: CloudWatch
    /// reads metrics from the log stream, one document per line.
    pub fn emf(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .kept
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|doc| doc.get("_aws").is_some())
            .collect()
    }
}
