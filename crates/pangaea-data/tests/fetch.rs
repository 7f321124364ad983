//! `fetch` against an HTTP server on 127.0.0.1 serving archives the tests build themselves:
//! success, a wrong checksum, and a connection cut mid-file. After a failure nothing that looks
//! like data is left behind and existing data is untouched.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use common::{entries, gzip, random_images, serve, sha256_hex, tar_gz, write_cifar10_dir, Reply};
use pangaea_data::idx::encode_idx;
use pangaea_data::{
    fetch, fetch_plan, load, DataError, DatasetName, FetchEvent, FetchOptions, FetchPlan,
    LoadOptions,
};

/// A tiny CIFAR-10 archive (2 records per file): its bytes, and the folder's files.
fn cifar_archive(seed: u64) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let src = tempfile::tempdir().unwrap();
    write_cifar10_dir(src.path(), 2, seed);
    let files: Vec<(String, Vec<u8>)> = entries(src.path())
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(src.path().join(&n)).unwrap();
            (n, bytes)
        })
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    (tar_gz("cifar-10-batches-bin", &refs), files)
}

/// The official CIFAR-10 plan moved to `base`, expecting `bytes`.
fn cifar_plan(base: &str, bytes: &[u8]) -> FetchPlan {
    let mut plan = FetchPlan::official(DatasetName::Cifar10)
        .unwrap()
        .with_base_url(base);
    plan.files[0].sha256 = sha256_hex(bytes);
    plan.files[0].size = Some(bytes.len() as u64);
    plan
}

fn route(path: &str, reply: Reply) -> HashMap<String, Reply> {
    HashMap::from([(path.to_owned(), reply)])
}

fn read_dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    entries(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn tar_gz_fetch_verifies_unpacks_and_loads() {
    let (archive, files) = cifar_archive(1);
    let server = serve(route(
        "/mirror/cifar-10-binary.tar.gz",
        Reply::Full(archive.clone()),
    ));
    let root = tempfile::tempdir().unwrap();
    let plan = cifar_plan(&format!("{}/mirror/", server.base), &archive);

    let mut events = Vec::new();
    let dir = fetch_plan(&plan, root.path(), false, &mut |e| {
        events.push(format!("{e:?}"))
    })
    .unwrap();
    assert_eq!(dir, root.path().join("cifar-10-batches-bin"));
    assert_eq!(
        entries(root.path()),
        vec!["cifar-10-batches-bin"],
        "no temporaries left"
    );
    assert_eq!(read_dir_files(&dir), files);
    let total = archive.len();
    assert!(events.iter().any(|e| e.starts_with("Start")), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e.contains(&format!("done: {total}, total: Some({total})"))),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e.starts_with("Verified")));
    assert!(events.last().unwrap().starts_with("Installed"));

    let data = load(
        DatasetName::Cifar10,
        &LoadOptions::with_data_dir(root.path()),
    )
    .unwrap();
    assert_eq!((data.train.len(), data.test.len()), (10, 2));

    // Fetching again finds the data and downloads nothing.
    let before = server.requests.load(Ordering::SeqCst);
    let mut events = Vec::new();
    fetch_plan(&plan, root.path(), false, &mut |e| {
        events.push(format!("{e:?}"))
    })
    .unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), before);
    assert!(events[0].starts_with("AlreadyPresent"), "{events:?}");
}

#[test]
fn wrong_checksum_leaves_nothing_and_keeps_existing_data() {
    let (archive, _) = cifar_archive(2);
    let server = serve(route(
        "/cifar-10-binary.tar.gz",
        Reply::Full(archive.clone()),
    ));
    let mut plan = cifar_plan(&server.base, &archive);
    plan.files[0].sha256 = "0".repeat(64);

    // Into an empty root: an error, and nothing that looks like data.
    let root = tempfile::tempdir().unwrap();
    let err = fetch_plan(&plan, root.path(), false, &mut |_| {}).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("cifar-10-binary.tar.gz") && msg.contains(&sha256_hex(&archive)),
        "{msg}"
    );
    assert!(
        entries(root.path()).is_empty(),
        "{:?}",
        entries(root.path())
    );

    // Over existing data (forced): the old folder survives byte for byte.
    let old_dir = root.path().join("cifar-10-batches-bin");
    write_cifar10_dir(&old_dir, 1, 77);
    let old = read_dir_files(&old_dir);
    let err = fetch_plan(&plan, root.path(), true, &mut |_| {}).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err}");
    assert_eq!(entries(root.path()), vec!["cifar-10-batches-bin"]);
    assert_eq!(read_dir_files(&old_dir), old);
}

#[test]
fn connection_cut_mid_file_leaves_nothing_and_keeps_existing_data() {
    let (archive, _) = cifar_archive(3);
    let half = archive.len() / 2;
    let server = serve(route(
        "/cifar-10-binary.tar.gz",
        Reply::CutAfter(archive.clone(), half),
    ));
    let plan = cifar_plan(&server.base, &archive);

    let root = tempfile::tempdir().unwrap();
    // An incomplete folder (no test batch) is there: the fetch tries to replace it, and fails.
    let old_dir = root.path().join("cifar-10-batches-bin");
    write_cifar10_dir(&old_dir, 1, 5);
    std::fs::remove_file(old_dir.join("test_batch.bin")).unwrap();
    let old = read_dir_files(&old_dir);

    let mut last_done = 0;
    let err = fetch_plan(&plan, root.path(), false, &mut |e| {
        if let FetchEvent::Progress { done, .. } = e {
            last_done = *done;
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Interrupted { .. } | DataError::DownloadSize { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("cifar-10-binary.tar.gz"), "{err}");
    assert!(last_done <= half as u64);
    assert_eq!(entries(root.path()), vec!["cifar-10-batches-bin"]);
    assert_eq!(read_dir_files(&old_dir), old);
}

/// A tiny MNIST in gzipped idx files: (file name, bytes).
fn mnist_files() -> Vec<(String, Vec<u8>)> {
    let (ti, tl) = random_images(6, 784, 10, 8);
    let (si, sl) = random_images(3, 784, 10, 9);
    let lab = |l: &[u16]| l.iter().map(|&x| x as u8).collect::<Vec<u8>>();
    vec![
        (
            "train-images-idx3-ubyte.gz".into(),
            gzip(&encode_idx(&[6, 28, 28], &ti).unwrap()),
        ),
        (
            "train-labels-idx1-ubyte.gz".into(),
            gzip(&encode_idx(&[6], &lab(&tl)).unwrap()),
        ),
        (
            "t10k-images-idx3-ubyte.gz".into(),
            gzip(&encode_idx(&[3, 28, 28], &si).unwrap()),
        ),
        (
            "t10k-labels-idx1-ubyte.gz".into(),
            gzip(&encode_idx(&[3], &lab(&sl)).unwrap()),
        ),
    ]
}

fn mnist_plan(base: &str, files: &[(String, Vec<u8>)]) -> FetchPlan {
    let mut plan = FetchPlan::official(DatasetName::Mnist)
        .unwrap()
        .with_base_url(base);
    for f in &mut plan.files {
        let bytes = &files.iter().find(|(n, _)| *n == f.file_name).unwrap().1;
        f.sha256 = sha256_hex(bytes);
        f.size = Some(bytes.len() as u64);
    }
    plan
}

#[test]
fn gz_files_are_kept_gzipped_and_load() {
    let files = mnist_files();
    let routes = files
        .iter()
        .map(|(n, b)| (format!("/{n}"), Reply::Full(b.clone())))
        .collect();
    let server = serve(routes);
    let root = tempfile::tempdir().unwrap();
    let dir = fetch_plan(
        &mnist_plan(&server.base, &files),
        root.path(),
        false,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(dir, root.path().join("mnist"));
    let mut expected: Vec<(String, Vec<u8>)> = files.clone();
    expected.sort();
    assert_eq!(read_dir_files(&dir), expected);
    let data = load(DatasetName::Mnist, &LoadOptions::with_data_dir(root.path())).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (6, 3));
}

#[test]
fn cut_gz_file_is_not_installed_and_earlier_files_are_complete() {
    let files = mnist_files();
    let mut routes: HashMap<String, Reply> = files
        .iter()
        .map(|(n, b)| (format!("/{n}"), Reply::Full(b.clone())))
        .collect();
    let (name, bytes) = &files[2];
    routes.insert(
        format!("/{name}"),
        Reply::CutAfter(bytes.clone(), bytes.len() / 3),
    );
    let server = serve(routes);
    let root = tempfile::tempdir().unwrap();
    let err = fetch_plan(
        &mnist_plan(&server.base, &files),
        root.path(),
        false,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("t10k-images-idx3-ubyte.gz"),
        "{err}"
    );
    let dir = root.path().join("mnist");
    // The two files before the cut are whole and verified; the cut one is absent.
    assert_eq!(read_dir_files(&dir), files[..2].to_vec());
    assert!(matches!(
        load(DatasetName::Mnist, &LoadOptions::with_data_dir(root.path())),
        Err(DataError::NotFound { .. })
    ));
}

#[test]
fn mirror_option_uses_the_official_checksums_and_missing_files_are_http_errors() {
    let (archive, _) = cifar_archive(4);
    let server = serve(route(
        "/cifar-10-binary.tar.gz",
        Reply::Full(archive.clone()),
    ));
    let root = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.base.clone()),
        force: false,
    };
    // The test archive is not the official one: its size already disagrees.
    let err = fetch(DatasetName::Cifar10, root.path(), &options, &mut |_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{}/cifar-10-binary.tar.gz", server.base)),
        "{msg}"
    );
    assert!(msg.contains("expected 170052171"), "{msg}");
    assert!(entries(root.path()).is_empty());

    // Nothing served for CIFAR-100: a 404, reported as a failed request for that address.
    let err = fetch(DatasetName::Cifar100, root.path(), &options, &mut |_| {}).unwrap_err();
    assert!(matches!(err, DataError::Http { .. }), "{err:?}");
    assert!(err.to_string().contains("cifar-100-binary.tar.gz"), "{err}");
    assert!(entries(root.path()).is_empty());

    let err = fetch(DatasetName::Synthetic, root.path(), &options, &mut |_| {}).unwrap_err();
    assert!(err.is_usage());
}
