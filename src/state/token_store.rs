//! The session token file (SkPy's six lines), stored with a version so
//! that writes are conditional and never overwrite a newer session.

use std::io::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// What the store holds, and which version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token file text (secret: never logged).
    pub text: String,
    /// For the next conditional write.
    pub version: Version,
    /// A short line kept beside the text, not in it (S3 user metadata),
    /// so that the text stays as other tools write it: the token file's
    /// display name. Files have no room for one.
    pub label: Option<String>,
}

/// An opaque version: an S3 ETag, or a content digest for files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

/// A failed load or save.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Someone else wrote since we read: re-read before deciding.
    #[error("the stored token changed since it was read")]
    Conflict,
    /// The store cannot be reached or read.
    #[error("token store unavailable: {0}")]
    Unavailable(String),
}

/// Where the token file lives.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token file, if any.
    async fn load(&self) -> Result<Option<StoredToken>, StoreError>;

    /// Writes `text` if the store still holds `expected` (`None`: nothing).
    async fn save(&self, text: &str, expected: Option<&Version>) -> Result<Version, StoreError> {
        self.save_labelled(text, None, expected).await
    }

    /// [`TokenStore::save`], with a [`StoredToken::label`] where the store
    /// can keep one (a file store cannot, and drops it).
    async fn save_labelled(
        &self,
        text: &str,
        label: Option<&str>,
        expected: Option<&Version>,
    ) -> Result<Version, StoreError>;
}

/// A token file on disk (local mode), readable by SkPy as is.
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// The store at `path` (the file need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn version_of(text: &str) -> Version {
        Version(hex::encode(Sha256::digest(text.as_bytes())))
    }

    fn read(&self) -> Result<Option<String>, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Unavailable(format!(
                "cannot read {}: {}",
                self.path.display(),
                e.kind()
            ))),
        }
    }
}

#[async_trait::async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, StoreError> {
        Ok(self.read()?.map(|text| StoredToken {
            version: Self::version_of(&text),
            text,
            label: None,
        }))
    }

    async fn save_labelled(
        &self,
        text: &str,
        _label: Option<&str>,
        expected: Option<&Version>,
    ) -> Result<Version, StoreError> {
        let current = self.read()?.map(|text| Self::version_of(&text));
        if current.as_ref() != expected {
            return Err(StoreError::Conflict);
        }
        let unavailable = |e: std::io::Error| {
            StoreError::Unavailable(format!(
                "cannot write {}: {}",
                self.path.display(),
                e.kind()
            ))
        };
        // Write aside, then move into place: a reader never sees half a
        // file, and a first write (hard link) fails if another won the race.
        let temporary = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let mut file = open_private(&temporary).map_err(unavailable)?;
        file.write_all(text.as_bytes()).map_err(unavailable)?;
        file.sync_all().map_err(unavailable)?;
        let placed = match expected {
            None => std::fs::hard_link(&temporary, &self.path),
            Some(_) => std::fs::rename(&temporary, &self.path),
        };
        let _ = std::fs::remove_file(&temporary);
        match placed {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::Conflict);
            }
            other => other.map_err(unavailable)?,
        }
        Ok(Self::version_of(text))
    }
}

/// Versioned objects by key: an S3 prefix, or a directory.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync {
    /// The object named `key` (it need not exist yet).
    fn object(&self, key: &str) -> Box<dyn TokenStore>;

    /// How many objects there are (up to [`MAX_COUNTED`]: a health
    /// report needs no more).
    async fn count(&self) -> Result<usize, StoreError>;
}

/// Where [`ObjectStore::count`] stops counting.
pub const MAX_COUNTED: usize = 10_000;

/// Objects as files in a directory (local mode).
pub struct FileObjects {
    dir: PathBuf,
}

impl FileObjects {
    /// Files under `dir`, created on first use.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait::async_trait]
impl ObjectStore for FileObjects {
    fn object(&self, key: &str) -> Box<dyn TokenStore> {
        let _ = std::fs::create_dir_all(&self.dir);
        Box::new(FileTokenStore::new(self.dir.join(key)))
    }

    async fn count(&self) -> Result<usize, StoreError> {
        match std::fs::read_dir(&self.dir) {
            Ok(entries) => Ok(entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().is_file())
                .take(MAX_COUNTED)
                .count()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(StoreError::Unavailable(format!("{}", e.kind()))),
        }
    }
}

/// Creates the file readable by its owner only, as SkPy does (0600).
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("skype-sender-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[tokio::test]
    async fn writes_are_conditional() {
        let store = FileTokenStore::new(temp_path("conditional"));
        assert_eq!(store.load().await.unwrap(), None);
        let first = store.save("one\n", None).await.unwrap();
        assert_eq!(store.save("again\n", None).await, Err(StoreError::Conflict));
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!((loaded.text.as_str(), &loaded.version), ("one\n", &first));
        let second = store.save("two\n", Some(&first)).await.unwrap();
        assert_eq!(
            store.save("stale\n", Some(&first)).await,
            Err(StoreError::Conflict)
        );
        assert_eq!(store.load().await.unwrap().unwrap().version, second);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_path("private");
        FileTokenStore::new(&path).save("x\n", None).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
