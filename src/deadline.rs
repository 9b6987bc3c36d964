//! The time an invocation may still use. Lambda gives each invocation an
//! absolute deadline; everything we wait for (Skype's pacing, a peer's
//! login) must end early enough to answer before Lambda stops us.

use std::time::Duration;

use tokio::time::Instant;

/// Kept free at the end of an invocation to write the answer.
const RESERVE: Duration = Duration::from_millis(1500);

/// When the current invocation must have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `duration` from now.
    pub fn after(duration: Duration) -> Self {
        Self(Instant::now() + duration)
    }

    /// From Lambda's `Lambda-Runtime-Deadline-Ms` (Unix milliseconds).
    /// Some emulators (`cargo lambda watch`) send a duration instead
    /// (`600000`): a value before 2001 can only mean that.
    pub fn from_epoch_millis(deadline_ms: u64) -> Self {
        const SEPTEMBER_2001_MS: u64 = 1_000_000_000_000;
        if deadline_ms < SEPTEMBER_2001_MS {
            return Self::after(Duration::from_millis(deadline_ms));
        }
        let now_ms = crate::clock::unix_millis();
        Self::after(Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
    }

    /// Time left for work, keeping a reserve to answer.
    pub fn budget(&self) -> Duration {
        self.0
            .saturating_duration_since(Instant::now())
            .saturating_sub(RESERVE)
    }
}

impl Default for Deadline {
    /// API Gateway's own limit: 30 s.
    fn default() -> Self {
        Self::after(Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_a_reserve_and_never_goes_negative() {
        let deadline = Deadline::after(Duration::from_secs(10));
        assert!(deadline.budget() <= Duration::from_millis(8500));
        assert!(deadline.budget() > Duration::from_secs(8));
        assert_eq!(
            Deadline::after(Duration::from_millis(500)).budget(),
            Duration::ZERO
        );
        assert_eq!(Deadline::from_epoch_millis(0).budget(), Duration::ZERO);
        let past = crate::clock::unix_millis() - 1000;
        assert_eq!(Deadline::from_epoch_millis(past).budget(), Duration::ZERO);
        let soon = past + 11_000;
        assert!(Deadline::from_epoch_millis(soon).budget() > Duration::from_secs(8));
    }

    #[test]
    fn a_duration_from_an_emulator_is_read_as_one() {
        // cargo lambda watch sends 600000 for ten minutes.
        let deadline = Deadline::from_epoch_millis(600_000);
        assert!(deadline.budget() > Duration::from_secs(590));
    }
}
