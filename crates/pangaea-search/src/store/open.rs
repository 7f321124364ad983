//! [`Store`]: creating a store, opening one for writing (with migration) or for reading, and
//! the schema-version checks that keep a newer store untouched.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags};

use super::schema::{MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5, SCHEMA, SCHEMA_VERSION};
use super::sql::sql_err;
use crate::clock::unix_now;
use crate::config::SearchConfig;
use crate::error::SearchError;

/// How long a statement waits for another process's lock before it fails with "database is
/// locked" (reports read while the coordinator writes; both are short).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An open search store.
pub struct Store {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    /// The schema version of the file: [`SCHEMA_VERSION`] once opened for writing (migrated);
    /// possibly older when opened read-only, which never modifies the file.
    pub(super) schema: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// The error of an SQLite call on this store while doing `doing`.
    pub(super) fn err(
        &self,
        doing: impl Into<String>,
    ) -> impl FnOnce(rusqlite::Error) -> SearchError {
        sql_err(&self.path, doing)
    }

    /// Creates a new store for `config`. Refuses a file that already exists.
    pub fn create(path: &Path, config: &SearchConfig) -> Result<Store, SearchError> {
        if path.exists() {
            return Err(SearchError::StoreExists {
                path: path.to_owned(),
            });
        }
        // Built under a temporary name and renamed, so that a process killed while creating
        // it never leaves a half-made store behind.
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = path.with_file_name(format!(
            ".{}.creating-{}",
            file_name.as_deref().unwrap_or("store"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&temp);
        {
            let mut conn = Connection::open(&temp).map_err(sql_err(path, "creating the store"))?;
            let tx = conn
                .transaction()
                .map_err(sql_err(path, "creating the schema"))?;
            tx.execute_batch(SCHEMA)
                .map_err(sql_err(path, "creating the schema"))?;
            for migration in [MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5] {
                tx.execute_batch(migration)
                    .map_err(sql_err(path, "creating the schema"))?;
            }
            for (key, value) in [
                ("config", config.to_json()),
                ("created_at", unix_now().to_string()),
                ("elapsed_seconds", "0".to_owned()),
                ("pangaea_version", env!("CARGO_PKG_VERSION").to_owned()),
            ] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )
                .map_err(sql_err(path, "writing the configuration"))?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(sql_err(path, "writing the schema version"))?;
            tx.commit().map_err(sql_err(path, "creating the schema"))?;
        }
        std::fs::rename(&temp, path).map_err(|source| SearchError::Io {
            path: path.to_owned(),
            doing: "move the new store into place at",
            source,
        })?;
        Self::open(path)
    }

    fn configure(conn: &Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(())
    }

    /// Checks the schema version without modifying anything; returns it.
    fn check_version(path: &Path) -> Result<u32, SearchError> {
        if !path.is_file() {
            return Err(SearchError::NoStore {
                path: path.to_owned(),
            });
        }
        let sql = sql_err(path, "reading the schema version");
        let conn = match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
            Ok(conn) => conn,
            Err(e) => return Err(sql(e)),
        };
        let version: u32 = match conn.pragma_query_value(None, "user_version", |r| r.get(0)) {
            Ok(v) => v,
            // A file that is not SQLite at all.
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(SearchError::NotAStore {
                    path: path.to_owned(),
                    message: "not an SQLite database".to_owned(),
                })
            }
            Err(e) => return Err(sql(e)),
        };
        if version > SCHEMA_VERSION {
            return Err(SearchError::NewerSchema {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == 0 {
            return Err(SearchError::NotAStore {
                path: path.to_owned(),
                message: "no schema version (not created by pangaea search)".to_owned(),
            });
        }
        Ok(version)
    }

    /// Brings a store of an older schema up to [`SCHEMA_VERSION`] in one transaction.
    fn migrate(&mut self, from: u32) -> Result<(), SearchError> {
        if from >= SCHEMA_VERSION {
            return Ok(());
        }
        let doing = format!("migrating the schema from version {from} to {SCHEMA_VERSION}");
        let tx = self
            .conn
            .transaction()
            .map_err(sql_err(&self.path, &doing))?;
        // Read again inside the transaction: another coordinator may have migrated meanwhile.
        let version: u32 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_err(&self.path, &doing))?;
        if version < 2 {
            tx.execute_batch(MIGRATION_2)
                .map_err(sql_err(&self.path, &doing))?;
        }
        if version < 3 {
            tx.execute_batch(MIGRATION_3)
                .map_err(sql_err(&self.path, &doing))?;
        }
        if version < 4 {
            tx.execute_batch(MIGRATION_4)
                .map_err(sql_err(&self.path, &doing))?;
        }
        if version < 5 {
            tx.execute_batch(MIGRATION_5)
                .map_err(sql_err(&self.path, &doing))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql_err(&self.path, &doing))?;
        tx.commit().map_err(sql_err(&self.path, &doing))
    }

    /// Opens an existing store for writing (the coordinator, `--resume`). A store from a newer
    /// schema is refused before anything is written.
    pub fn open(path: &Path) -> Result<Store, SearchError> {
        let version = Self::check_version(path)?;
        let conn = Connection::open(path).map_err(sql_err(path, "opening the store"))?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            schema: SCHEMA_VERSION,
        };
        Self::configure(&store.conn).map_err(store.err("configuring the store"))?;
        store.config()?;
        store.migrate(version)?;
        Ok(store)
    }

    /// Opens an existing store read-only (reports, while a search may still be running).
    pub fn open_read_only(path: &Path) -> Result<Store, SearchError> {
        let schema = Self::check_version(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_err(path, "opening the store"))?;
        let store = Store {
            conn,
            path: path.to_owned(),
            schema,
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(store.err("configuring the store"))?;
        store.config()?;
        Ok(store)
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
