//! The account, cached for the life of a container: re-read after a TTL,
//! and sooner when a caller presents a key we do not know (a key rotated a
//! moment ago), but never more often than a short interval allows.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::account::{Account, AccountError, AccountSource};

/// A cached [`AccountSource`].
pub struct AccountCache {
    source: Box<dyn AccountSource>,
    ttl: Duration,
    miss_interval: Duration,
    current: RwLock<Option<(Arc<Account>, Instant)>>,
    reloading: Mutex<()>,
}

impl AccountCache {
    /// Re-reads `source` after `ttl`, or after `miss_interval` when asked
    /// to by [`AccountCache::reload_after_miss`].
    pub fn new(source: Box<dyn AccountSource>, ttl: Duration, miss_interval: Duration) -> Self {
        Self {
            source,
            ttl,
            miss_interval,
            current: RwLock::new(None),
            reloading: Mutex::new(()),
        }
    }

    fn cached(&self) -> Option<(Arc<Account>, Instant)> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The account; read from the source only when missing or older than the TTL.
    pub async fn get(&self) -> Result<Arc<Account>, AccountError> {
        if let Some((account, at)) = self.cached()
            && at.elapsed() < self.ttl
        {
            return Ok(account);
        }
        self.reload(self.ttl).await
    }

    /// After an unknown key: a fresh read, unless the last is too recent.
    /// `None` when nothing new was read.
    pub async fn reload_after_miss(&self) -> Option<Arc<Account>> {
        let (_, at) = self.cached()?;
        if at.elapsed() < self.miss_interval {
            return None;
        }
        self.reload(self.miss_interval).await.ok()
    }

    async fn reload(&self, max_age: Duration) -> Result<Arc<Account>, AccountError> {
        let _one_at_a_time = self.reloading.lock().await;
        if let Some((account, at)) = self.cached()
            && at.elapsed() < max_age
        {
            return Ok(account);
        }
        match self.source.load().await {
            Ok(account) => {
                let account = Arc::new(account);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) =
                    Some((account.clone(), Instant::now()));
                Ok(account)
            }
            // Keep serving the last good account while the source is down.
            Err(err) => match self.cached() {
                Some((account, _)) => {
                    tracing::warn!(error = %err, "could not re-read the account; keeping the cached one");
                    Ok(account)
                }
                None => Err(err),
            },
        }
    }
}
