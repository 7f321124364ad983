//! Where dataset files live: the data root, and the folders searched under it.
//!
//! The data root is, in order of preference: an explicit folder (`--data-dir`), the
//! `$PANGAEA_DATA` environment variable, or the per-user cache folder
//! (`$XDG_CACHE_HOME/pangaea/data`, `~/.cache/pangaea/data` on Linux). Under the root each
//! dataset has its own folder, the one `pangaea data fetch` creates:
//!
//! | dataset         | folder                     | files                                  |
//! |-----------------|----------------------------|----------------------------------------|
//! | `cifar10`       | `cifar-10-batches-bin/`    | `data_batch_{1..5}.bin`, `test_batch.bin` |
//! | `cifar100`      | `cifar-100-binary/`        | `train.bin`, `test.bin`                |
//! | `mnist`         | `mnist/`                   | `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` |
//! | `fashion-mnist` | `fashion-mnist/`           | the same names as MNIST                |
//!
//! The root itself is searched too, for a `--data-dir` that points straight at the files. For
//! Fashion-MNIST the Debian package `dataset-fashion-mnist` location
//! (`/usr/share/datasets/fashion-mnist/`) is searched last.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cifar::{
    CIFAR100_TEST_FILE, CIFAR100_TRAIN_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES,
};
use crate::error::DataError;
use crate::idx::{find_idx_file, IDX_FILES};
use pangaea_wire::DatasetName;

/// The environment variable naming the data root.
pub const DATA_DIR_ENV: &str = "PANGAEA_DATA";

/// Where the Debian package `dataset-fashion-mnist` installs its gzipped idx files.
pub const DEBIAN_FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The per-user cache folder for datasets: `<cache>/pangaea/data`, or `None` without a home.
pub fn user_cache_root() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("pangaea").join("data"))
}

/// The data root from an explicit folder, else `$PANGAEA_DATA` (when set and not empty), else
/// the per-user cache folder.
pub fn resolve_data_root(explicit: Option<&Path>) -> Option<PathBuf> {
    resolve_data_root_from(explicit, std::env::var_os(DATA_DIR_ENV), user_cache_root())
}

/// [`resolve_data_root`] with the environment value and cache folder given, for tests.
pub fn resolve_data_root_from(
    explicit: Option<&Path>,
    env: Option<OsString>,
    cache: Option<PathBuf>,
) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_owned());
    }
    if let Some(dir) = env.filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    cache
}

/// The folder `pangaea data fetch` creates under the root for `name` (`None` for synthetic).
pub fn dataset_folder(name: DatasetName) -> Option<&'static str> {
    match name {
        DatasetName::Cifar10 => Some("cifar-10-batches-bin"),
        DatasetName::Cifar100 => Some("cifar-100-binary"),
        DatasetName::Mnist => Some("mnist"),
        DatasetName::FashionMnist => Some("fashion-mnist"),
        DatasetName::Synthetic => None,
    }
}

/// The files a folder must hold for `name` (idx files may carry `.gz`).
pub fn required_files(name: DatasetName) -> Vec<&'static str> {
    match name {
        DatasetName::Cifar10 => {
            let mut files = CIFAR10_TRAIN_FILES.to_vec();
            files.push(CIFAR10_TEST_FILE);
            files
        }
        DatasetName::Cifar100 => vec![CIFAR100_TRAIN_FILE, CIFAR100_TEST_FILE],
        DatasetName::Mnist | DatasetName::FashionMnist => IDX_FILES.to_vec(),
        DatasetName::Synthetic => Vec::new(),
    }
}

/// The folders searched for `name` under `root`, in order.
pub fn search_dirs(name: DatasetName, root: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let (Some(root), Some(folder)) = (root, dataset_folder(name)) {
        dirs.push(root.join(folder));
        dirs.push(root.to_owned());
    }
    if name == DatasetName::FashionMnist {
        dirs.push(PathBuf::from(DEBIAN_FASHION_MNIST_DIR));
    }
    dirs
}

/// Whether `dir` holds every file `name` needs.
pub fn has_dataset(name: DatasetName, dir: &Path) -> bool {
    required_files(name).iter().all(|file| match name {
        DatasetName::Mnist | DatasetName::FashionMnist => find_idx_file(dir, file).is_some(),
        _ => dir.join(file).is_file(),
    })
}

/// The first searched folder that holds `name`'s files, or a [`DataError::NotFound`] that
/// lists every folder searched and tells how to fetch the data. `root` is the resolved data
/// root (see [`resolve_data_root`]).
pub fn locate(name: DatasetName, root: Option<&Path>) -> Result<PathBuf, DataError> {
    if name == DatasetName::Synthetic {
        return Err(DataError::config(
            "dataset",
            "`synthetic` is generated, it has no files to locate",
        ));
    }
    let searched = search_dirs(name, root);
    if let Some(dir) = searched.iter().find(|d| has_dataset(name, d)) {
        return Ok(dir.clone());
    }
    let gz = matches!(name, DatasetName::Mnist | DatasetName::FashionMnist);
    Err(DataError::NotFound {
        dataset: name,
        searched,
        needed: required_files(name)
            .into_iter()
            .map(|f| {
                if gz {
                    format!("{f}[.gz]")
                } else {
                    f.to_owned()
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_env_beats_cache() {
        let cache = Some(PathBuf::from("/c"));
        let env = Some(OsString::from("/e"));
        assert_eq!(
            resolve_data_root_from(Some(Path::new("/x")), env.clone(), cache.clone()),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            resolve_data_root_from(None, env, cache.clone()),
            Some(PathBuf::from("/e"))
        );
        assert_eq!(
            resolve_data_root_from(None, Some(OsString::new()), cache.clone()),
            cache
        );
        assert_eq!(resolve_data_root_from(None, None, None), None);
    }

    #[test]
    fn not_found_lists_the_searched_folders_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(DatasetName::Cifar10, Some(dir.path())).unwrap_err();
        let msg = err.to_string();
        let folder = dir.path().join("cifar-10-batches-bin");
        assert!(msg.contains(&format!("`{}`", folder.display())), "{msg}");
        assert!(
            msg.contains(&format!("`{}`", dir.path().display())),
            "{msg}"
        );
        assert!(msg.contains("data_batch_1.bin"), "{msg}");
        assert!(msg.contains("pangaea data fetch cifar10"), "{msg}");

        let msg = locate(DatasetName::Mnist, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("train-images-idx3-ubyte[.gz]"), "{msg}");
        assert!(msg.contains("pangaea data fetch mnist"), "{msg}");
    }

    #[test]
    fn fashion_mnist_also_searches_the_debian_folder() {
        let dirs = search_dirs(DatasetName::FashionMnist, Some(Path::new("/r")));
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("/r/fashion-mnist"),
                PathBuf::from("/r"),
                PathBuf::from(DEBIAN_FASHION_MNIST_DIR)
            ]
        );
        assert_eq!(search_dirs(DatasetName::Mnist, None), Vec::<PathBuf>::new());
    }
}
