//! Downloading datasets from their official addresses, verified and installed atomically.
//!
//! Every file is streamed to a hidden temporary name beside its destination, hashed on the
//! way, checked against its SHA-256 (and size), flushed to disk (`fsync`), and only then renamed
//! into place. CIFAR archives are unpacked into a hidden temporary folder, which is renamed into
//! place once complete. So a failed or interrupted fetch leaves nothing that looks like data
//! (temporaries are removed, or at worst left under a `.…partial-…` / `.…unpack-…` name the
//! loader never reads), and data that was already there stays untouched.
//!
//! The addresses and digests are those TensorFlow Datasets records in its
//! `url_checksums/{cifar10,cifar100,mnist,fashion_mnist}.txt`. MNIST comes from the CVDF
//! mirror (`storage.googleapis.com/cvdf-datasets/mnist/`), which TensorFlow Datasets uses
//! because the original site no longer serves the files reliably; the bytes are the originals.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use crate::error::DataError;
use crate::location::dataset_folder;
use pangaea_wire::DatasetName;

/// Environment variable holding a base address that replaces the official ones (a mirror).
pub const MIRROR_ENV: &str = "PANGAEA_DATA_MIRROR";

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// Full address.
    pub url: String,
    /// Name to store it under (the last segment of the official address).
    pub file_name: String,
    /// Expected SHA-256, lowercase hex.
    pub sha256: String,
    /// Expected size in bytes, when known.
    pub size: Option<u64>,
}

/// How downloaded files become a dataset folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// One `.tar.gz` whose top-level folder `folder` holds `files`; it is unpacked and the
    /// folder moved to `<root>/<folder>`. The archive is deleted afterwards.
    TarGz {
        /// The folder inside the archive, and its name under the root.
        folder: String,
        /// Files the folder must contain.
        files: Vec<String>,
    },
    /// The files are kept as downloaded (gzipped idx files stay gzipped) in `<root>/<folder>`.
    Files {
        /// The folder under the root.
        folder: String,
    },
}

/// What to download for a dataset and how to install it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPlan {
    /// The dataset.
    pub name: DatasetName,
    /// The downloads.
    pub files: Vec<RemoteFile>,
    /// How they are installed.
    pub install: Install,
}

fn remote(base: &str, name: &str, size: u64, sha256: &str) -> RemoteFile {
    RemoteFile {
        url: format!("{base}{name}"),
        file_name: name.to_owned(),
        sha256: sha256.to_owned(),
        size: Some(size),
    }
}

impl FetchPlan {
    /// The official addresses and digests of `name`. Errors for `synthetic`.
    pub fn official(name: DatasetName) -> Result<Self, DataError> {
        const TORONTO: &str = "https://www.cs.toronto.edu/~kriz/";
        const MNIST: &str = "https://storage.googleapis.com/cvdf-datasets/mnist/";
        const FASHION: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
        let folder = dataset_folder(name)
            .ok_or(DataError::NotFetchable(name))?
            .to_owned();
        let files_of = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect();
        let plan = match name {
            DatasetName::Cifar10 => FetchPlan {
                name,
                files: vec![remote(
                    TORONTO,
                    "cifar-10-binary.tar.gz",
                    170_052_171,
                    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                )],
                install: Install::TarGz {
                    folder,
                    files: files_of(&crate::location::required_files(name)),
                },
            },
            DatasetName::Cifar100 => FetchPlan {
                name,
                files: vec![remote(
                    TORONTO,
                    "cifar-100-binary.tar.gz",
                    168_513_733,
                    "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
                )],
                install: Install::TarGz {
                    folder,
                    files: files_of(&crate::location::required_files(name)),
                },
            },
            DatasetName::Mnist => FetchPlan {
                name,
                files: vec![
                    remote(
                        MNIST,
                        "train-images-idx3-ubyte.gz",
                        9_912_422,
                        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    ),
                    remote(
                        MNIST,
                        "train-labels-idx1-ubyte.gz",
                        28_881,
                        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    ),
                    remote(
                        MNIST,
                        "t10k-images-idx3-ubyte.gz",
                        1_648_877,
                        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    ),
                    remote(
                        MNIST,
                        "t10k-labels-idx1-ubyte.gz",
                        4_542,
                        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    ),
                ],
                install: Install::Files { folder },
            },
            DatasetName::FashionMnist => FetchPlan {
                name,
                files: vec![
                    remote(
                        FASHION,
                        "train-images-idx3-ubyte.gz",
                        26_421_880,
                        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    ),
                    remote(
                        FASHION,
                        "train-labels-idx1-ubyte.gz",
                        29_515,
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    ),
                    remote(
                        FASHION,
                        "t10k-images-idx3-ubyte.gz",
                        4_422_102,
                        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    ),
                    remote(
                        FASHION,
                        "t10k-labels-idx1-ubyte.gz",
                        5_148,
                        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    ),
                ],
                install: Install::Files { folder },
            },
            DatasetName::Synthetic => return Err(DataError::NotFetchable(name)),
        };
        Ok(plan)
    }

    /// The same plan with every address moved under `base` (a mirror, or a test server):
    /// `<base>/<file_name>`.
    pub fn with_base_url(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        for file in &mut self.files {
            file.url = format!("{base}/{}", file.file_name);
        }
        self
    }

    /// The folder the plan installs under the root.
    pub fn folder(&self) -> &str {
        match &self.install {
            Install::TarGz { folder, .. } | Install::Files { folder } => folder,
        }
    }
}

/// Options of [`fetch`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Base address replacing the official ones (see [`FetchPlan::with_base_url`]).
    pub mirror: Option<String>,
    /// Download again even when the dataset is already installed.
    pub force: bool,
}

impl FetchOptions {
    /// Options with the mirror taken from `$PANGAEA_DATA_MIRROR` (when set and not empty).
    pub fn from_env() -> Self {
        FetchOptions {
            mirror: std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty()),
            force: false,
        }
    }
}

/// What a fetch is doing, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchEvent<'a> {
    /// The dataset (or this file) is already installed; nothing is downloaded.
    AlreadyPresent {
        /// The installed folder or file.
        path: &'a Path,
    },
    /// A download starts.
    Start {
        /// The address.
        url: &'a str,
        /// Expected bytes, when known.
        total: Option<u64>,
    },
    /// Bytes arrived.
    Progress {
        /// The address.
        url: &'a str,
        /// Bytes received so far.
        done: u64,
        /// Expected bytes, when known.
        total: Option<u64>,
    },
    /// A download is complete and its SHA-256 matches.
    Verified {
        /// The address.
        url: &'a str,
    },
    /// An archive is being unpacked.
    Unpacking {
        /// The archive's file name.
        file: &'a str,
    },
    /// The dataset folder is in place.
    Installed {
        /// The folder.
        dir: &'a Path,
    },
}

/// Downloads `name` from its official addresses (or `options.mirror`) into `root` and returns
/// the installed dataset folder. Skips the download when the folder is already complete,
/// unless `options.force`. `on_event` sees the progress.
pub fn fetch(
    name: DatasetName,
    root: &Path,
    options: &FetchOptions,
    on_event: &mut dyn FnMut(&FetchEvent<'_>),
) -> Result<PathBuf, DataError> {
    let mut plan = FetchPlan::official(name)?;
    if let Some(mirror) = &options.mirror {
        plan = plan.with_base_url(mirror);
    }
    fetch_plan(&plan, root, options.force, on_event)
}

/// Carries out `plan` into `root`: the engine behind [`fetch`], usable with any plan.
pub fn fetch_plan(
    plan: &FetchPlan,
    root: &Path,
    force: bool,
    on_event: &mut dyn FnMut(&FetchEvent<'_>),
) -> Result<PathBuf, DataError> {
    std::fs::create_dir_all(root).map_err(|e| DataError::write(root, e))?;
    let agent = agent();
    match &plan.install {
        Install::TarGz { folder, files } => {
            let dest = root.join(folder);
            if !force && files.iter().all(|f| dest.join(f).is_file()) {
                on_event(&FetchEvent::AlreadyPresent { path: &dest });
                return Ok(dest);
            }
            let [archive] = plan.files.as_slice() else {
                return Err(DataError::config(
                    "fetch plan",
                    format!(
                        "a .tar.gz install needs exactly one file, got {}",
                        plan.files.len()
                    ),
                ));
            };
            let partial = TempPath::new(root, &archive.file_name, "partial");
            download(&agent, archive, &partial.path, on_event)?;
            on_event(&FetchEvent::Unpacking {
                file: &archive.file_name,
            });
            let unpack = TempPath::new(root, folder, "unpack");
            unpack_tar_gz(
                &partial.path,
                &archive.file_name,
                &unpack.path,
                folder,
                files,
            )?;
            replace_dir(&unpack.path.join(folder), &dest, root)?;
            on_event(&FetchEvent::Installed { dir: &dest });
            Ok(dest)
        }
        Install::Files { folder } => {
            let dest = root.join(folder);
            std::fs::create_dir_all(&dest).map_err(|e| DataError::write(&dest, e))?;
            for file in &plan.files {
                let target = dest.join(&file.file_name);
                if !force && target.is_file() {
                    on_event(&FetchEvent::AlreadyPresent { path: &target });
                    continue;
                }
                let partial = TempPath::new(&dest, &file.file_name, "partial");
                download(&agent, file, &partial.path, on_event)?;
                std::fs::rename(&partial.path, &target)
                    .map_err(|e| DataError::write(&target, e))?;
                sync_dir(&dest)?;
            }
            on_event(&FetchEvent::Installed { dir: &dest });
            Ok(dest)
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("pangaea-data/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Streams `file` into `dest`, hashing on the way; fsyncs and checks size and digest.
fn download(
    agent: &ureq::Agent,
    file: &RemoteFile,
    dest: &Path,
    on_event: &mut dyn FnMut(&FetchEvent<'_>),
) -> Result<(), DataError> {
    let url = file.url.as_str();
    let response = agent.get(url).call().map_err(|e| DataError::Http {
        url: url.to_owned(),
        source: Box::new(e),
    })?;
    let announced = response.body().content_length();
    if let (Some(announced), Some(expected)) = (announced, file.size) {
        if announced != expected {
            return Err(DataError::DownloadSize {
                url: url.to_owned(),
                expected,
                received: announced,
            });
        }
    }
    let total = file.size.or(announced);
    on_event(&FetchEvent::Start { url, total });
    let mut reader = response.into_body().into_reader();
    let mut out = File::create(dest).map_err(|e| DataError::write(dest, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(DataError::Interrupted {
                    url: url.to_owned(),
                    received: done,
                    source: e,
                })
            }
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| DataError::write(dest, e))?;
        done += n as u64;
        on_event(&FetchEvent::Progress { url, done, total });
    }
    if let Some(expected) = total {
        if done != expected {
            return Err(DataError::DownloadSize {
                url: url.to_owned(),
                expected,
                received: done,
            });
        }
    }
    let found = hex(&hasher.finalize());
    if !found.eq_ignore_ascii_case(&file.sha256) {
        return Err(DataError::Checksum {
            url: url.to_owned(),
            expected: file.sha256.to_ascii_lowercase(),
            found,
        });
    }
    out.sync_all().map_err(|e| DataError::write(dest, e))?;
    on_event(&FetchEvent::Verified { url });
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpacks `archive` (a .tar.gz) into `into`, checks that `into/folder` holds `files`, and
/// fsyncs them.
fn unpack_tar_gz(
    archive: &Path,
    archive_name: &str,
    into: &Path,
    folder: &str,
    files: &[String],
) -> Result<(), DataError> {
    let unpack_err = |reason: String| DataError::Unpack {
        path: PathBuf::from(archive_name),
        reason,
    };
    std::fs::create_dir_all(into).map_err(|e| DataError::write(into, e))?;
    let reader = File::open(archive).map_err(|e| DataError::read(archive, e))?;
    let mut tar = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(reader)));
    tar.set_preserve_permissions(false);
    tar.set_unpack_xattrs(false);
    tar.unpack(into).map_err(|e| unpack_err(e.to_string()))?;
    let dir = into.join(folder);
    for f in files {
        let path = dir.join(f);
        let file = File::open(&path)
            .map_err(|_| unpack_err(format!("the archive has no `{folder}/{f}`")))?;
        file.sync_all().map_err(|e| DataError::write(&path, e))?;
    }
    sync_dir(&dir)
}

/// Moves the complete folder `new` to `dest`, replacing what is there only once `new` is in
/// place (the old folder is moved aside first and restored should the move fail).
fn replace_dir(new: &Path, dest: &Path, root: &Path) -> Result<(), DataError> {
    let aside = if dest.exists() {
        let name = dest
            .file_name()
            .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
        let aside = TempPath::new(root, &name, "old");
        std::fs::rename(dest, &aside.path).map_err(|e| DataError::write(dest, e))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(new, dest) {
        if let Some(aside) = &aside {
            let _ = std::fs::rename(&aside.path, dest);
        }
        return Err(DataError::write(dest, e));
    }
    sync_dir(root)
    // `aside` (the old data) is removed when it drops.
}

/// Flushes a directory's entries (the renames) to disk. A no-op where directories cannot be
/// opened as files.
fn sync_dir(dir: &Path) -> Result<(), DataError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DataError::write(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A hidden temporary path beside the destination (`.<name>.<kind>-<pid>-<n>`), removed
/// (file or folder) when dropped.
struct TempPath {
    path: PathBuf,
}

impl TempPath {
    fn new(dir: &Path, name: &str, kind: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        TempPath {
            path: dir.join(format!(".{name}.{kind}-{}-{n}", std::process::id())),
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.is_dir() => {
                let _ = std::fs::remove_dir_all(&self.path);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&self.path);
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_plans_cover_every_downloadable_dataset() {
        for name in DatasetName::ALL {
            match FetchPlan::official(name) {
                Ok(plan) => {
                    assert!(!plan.files.is_empty());
                    for f in &plan.files {
                        assert_eq!(f.sha256.len(), 64, "{}", f.url);
                        assert!(f.sha256.chars().all(|c| c.is_ascii_hexdigit()));
                        assert!(f.url.ends_with(&f.file_name));
                    }
                    assert_eq!(Some(plan.folder()), dataset_folder(name));
                }
                Err(e) => {
                    assert_eq!(name, DatasetName::Synthetic);
                    assert!(e.is_usage());
                }
            }
        }
    }

    #[test]
    fn mirror_replaces_the_base_address() {
        let plan = FetchPlan::official(DatasetName::Mnist)
            .unwrap()
            .with_base_url("http://127.0.0.1:9/m/");
        assert_eq!(
            plan.files[0].url,
            "http://127.0.0.1:9/m/train-images-idx3-ubyte.gz"
        );
    }

    #[test]
    fn temp_paths_are_hidden_unique_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let a = TempPath::new(dir.path(), "x.gz", "partial");
        let b = TempPath::new(dir.path(), "x.gz", "partial");
        assert_ne!(a.path, b.path);
        let name = a.path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".x.gz.partial-"), "{name}");
        std::fs::write(&a.path, b"x").unwrap();
        std::fs::create_dir(&b.path).unwrap();
        std::fs::write(b.path.join("f"), b"y").unwrap();
        drop((a, b));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
