//! What every part of the store shares: errors that name the file and what was being done,
//! and the conversion of the state enums to and from their stored names.

use std::path::Path;

use crate::error::SearchError;

/// The error of an SQLite call on the store at `path` while doing `doing` (`storing the plan
/// of generation 3`).
pub(crate) fn sql_err(
    path: &Path,
    doing: impl Into<String>,
) -> impl FnOnce(rusqlite::Error) -> SearchError {
    let path = path.to_owned();
    let doing = doing.into();
    move |source| SearchError::Sqlite {
        path,
        doing,
        source,
    }
}

/// Implements `FromStr`, `ToSql` and `FromSql` for an enum with an `ALL` list and a `name`
/// method, so that it is stored as its name and an unknown stored name is an error naming it.
macro_rules! stored_as_name {
    ($ty:ty, $what:literal) => {
        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL
                    .into_iter()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| format!("unknown {} `{s}`", $what))
            }
        }

        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.name().into())
            }
        }

        impl rusqlite::types::FromSql for $ty {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                text.parse()
                    .map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
            }
        }
    };
}

pub(crate) use stored_as_name;
