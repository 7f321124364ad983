//! The configurations shown in the README are valid: every ```toml block parses as a
//! `SearchConfig` (or, when it has `[[cells]]`, a `StudyConfig`) and passes its checks, so a
//! user who copies one gets a running search or study.

use pangaea_report::study::StudyConfig;
use pangaea_search::SearchConfig;

#[test]
fn every_toml_example_of_the_readme_is_a_valid_configuration() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(!blocks.is_empty(), "no ```toml block in {path}");
    let mut studies = 0;
    for (i, block) in blocks.iter().enumerate() {
        let parsed = if block.contains("[[cells]]") {
            studies += 1;
            StudyConfig::from_toml(block)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            SearchConfig::from_toml(block)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = parsed {
            panic!("README toml block {i} is not a valid configuration: {e}\n{block}");
        }
    }
    assert!(studies > 0, "no study configuration in {path}");
}
