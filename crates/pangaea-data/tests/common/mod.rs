//! Helpers shared by the integration tests: files the tests write themselves, and a tiny HTTP
//! server on 127.0.0.1.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` random images of `len` bytes and labels below `classes`, from `seed`.
pub fn random_images(n: usize, len: usize, classes: u16, seed: u64) -> (Vec<u8>, Vec<u16>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let images = (0..n * len).map(|_| rng.random()).collect();
    let labels = (0..n).map(|_| rng.random_range(0..classes)).collect();
    (images, labels)
}

/// Gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes a complete small CIFAR-10 folder (`per_file` records in each of the six files) into
/// `dir`; returns (train images, train labels, test images, test labels).
pub fn write_cifar10_dir(
    dir: &Path,
    per_file: usize,
    seed: u64,
) -> (Vec<u8>, Vec<u16>, Vec<u8>, Vec<u16>) {
    std::fs::create_dir_all(dir).unwrap();
    let (mut ti, mut tl) = (Vec::new(), Vec::new());
    for (k, name) in pangaea_data::cifar::CIFAR10_TRAIN_FILES.iter().enumerate() {
        let (i, l) = random_images(per_file, 3072, 10, seed + k as u64);
        std::fs::write(
            dir.join(name),
            pangaea_data::cifar::encode_cifar10(&i, &l).unwrap(),
        )
        .unwrap();
        ti.extend(i);
        tl.extend(l);
    }
    let (i, l) = random_images(per_file, 3072, 10, seed + 99);
    std::fs::write(
        dir.join("test_batch.bin"),
        pangaea_data::cifar::encode_cifar10(&i, &l).unwrap(),
    )
    .unwrap();
    (ti, tl, i, l)
}

/// A .tar.gz holding `folder/<name>` for each file.
pub fn tar_gz(folder: &str, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let enc = GzEncoder::new(Vec::new(), Compression::fast());
    let mut builder = tar::Builder::new(enc);
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{folder}/{name}"), &data[..])
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How the test server answers one path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with the whole body.
    Full(Vec<u8>),
    /// 200 announcing the whole body's length, but the connection closes after `n` bytes.
    CutAfter(Vec<u8>, usize),
}

/// A running test server: its base address and how many requests it has answered.
pub struct Server {
    pub base: String,
    pub requests: Arc<AtomicUsize>,
}

/// Starts an HTTP/1.1 server on 127.0.0.1 (a free port) answering `routes` (path → reply)
/// and 404 for anything else. The thread lives until the test process ends.
pub fn serve(routes: HashMap<String, Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let _ = answer(stream, &routes);
        }
    });
    Server { base, requests }
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(());
        }
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    match routes.get(&path) {
        None => {
            stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
        Some(Reply::Full(body)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(body)?;
        }
        Some(Reply::CutAfter(body, n)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body[..*n])?;
            stream.flush()?;
        }
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Both)
}

/// Names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
