//! The pieces every HTML page of the crate shares: escaping, inline SVG, the style sheet, and
//! writing a file with an error that names it.

use std::path::PathBuf;

use crate::error::ReportError;

/// Writes `text` to `path`; the error names the file.
pub(crate) fn write(path: PathBuf, text: &str) -> Result<PathBuf, ReportError> {
    std::fs::write(&path, text).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG document as an inline element (without its XML declaration).
pub(crate) fn inline(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    format!("<div class=\"chart\">{body}</div>")
}

/// The pages' style sheet, inlined.
pub(crate) const STYLE: &str =
    "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ccc;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;\
text-align:left}.chart svg{max-width:100%;height:auto}.legend{padding-left:1.5em}\
.swatch{display:inline-block;width:1.2em;height:.7em;margin-right:.5em}code{font-size:.95em}";
