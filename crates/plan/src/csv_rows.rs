//! Reading a stage's CSV file into typed rows (serde), with errors that name the file and the
//! line: the one reader behind forecast.csv and requirements.csv.

use std::path::Path;

use serde::de::DeserializeOwned;

/// The file could not be read, or a line is not a row of the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum CsvRowsError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: u64,
        message: String,
    },
}

/// Reads every row of `path` as a `T`, each with its line number (the header is line 1). With
/// `header`, the file's header must be exactly that, in that order.
pub fn read_rows<T: DeserializeOwned>(
    path: &Path,
    header: Option<&[&str]>,
) -> Result<Vec<(u64, T)>, CsvRowsError> {
    let file = path.display().to_string();
    let row_error = |line: u64, message: String| CsvRowsError::Row {
        file: file.clone(),
        line,
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => CsvRowsError::Io {
            file: file.clone(),
            source,
        },
        other => row_error(1, format!("{other:?}")),
    })?;
    if let Some(expected) = header {
        check_header(&mut reader, expected).map_err(|m| row_error(1, m))?;
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.deserialize::<T>().enumerate() {
        let fallback_line = i as u64 + 2;
        let line = rec
            .as_ref()
            .err()
            .and_then(|e| e.position())
            .map_or(fallback_line, |p| p.line());
        let row = rec.map_err(|e| row_error(line, e.to_string()))?;
        rows.push((line, row));
    }
    Ok(rows)
}

/// The header must be exactly `expected`, in that order; the message says what was found.
pub fn check_header<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    expected: &[&str],
) -> Result<(), String> {
    let found: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    if found != expected {
        return Err(format!(
            "expected the header `{}`, found `{}`",
            expected.join(","),
            found.join(",")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Row {
        queue: String,
        contacts: f64,
    }

    #[test]
    fn rows_come_with_their_lines_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "queue,contacts\na,1.5\nb,2\n").unwrap();
        let rows: Vec<(u64, Row)> = read_rows(&path, Some(&["queue", "contacts"])).unwrap();
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1.contacts, 2.0);

        std::fs::write(&path, "queue,contacts\na,1.5\nb,many\n").unwrap();
        let err = read_rows::<Row>(&path, None).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:3: ", path.display())), "{err}");

        let err = read_rows::<Row>(&path, Some(&["queue", "agents"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":1: expected the header `queue,agents`"),
            "{err}"
        );

        let err = read_rows::<Row>(&dir.path().join("none.csv"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.csv: cannot read"), "{err}");
    }
}
