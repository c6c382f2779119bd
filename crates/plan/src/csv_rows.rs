//! The one way the stages read and write CSV, on the `csv` crate.
//!
//! Reading ([`CsvFile`]): a UTF-8 byte-order mark at the start of the file is skipped (Excel
//! writes one), fields may be quoted (`"Li, Na"`, `""` for a quote), CRLF and LF line endings
//! both work, spaces around a field are trimmed and blank lines are skipped. The header is read
//! when the file is opened; every record comes with the line it starts on, and a record with
//! another number of fields than the header is an error naming its line, so a reader may index
//! its fields freely. Typed rows are deserialized with serde ([`read_rows`], behind
//! forecast.csv and requirements.csv); the other stages' readers take [`Record`]s and check
//! each field themselves. Every error names the file and the line, and the column where one
//! is known: `forecast.csv:12: contacts: ...`.
//!
//! Writing ([`writer`], [`write_records`], [`write_serialized`]): a field is quoted only when it
//! must be (it holds a comma, a quote or a line break), lines end in `\n`, so a file without such
//! fields is exactly its plain `a,b,c` lines.

use std::io::{Read, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

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

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A byte source whose leading byte-order mark, if any, has been consumed.
pub type Unbommed<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, R>;

/// Reads the first three bytes of `input` and gives them back unless they are a UTF-8 BOM.
fn skip_bom<R: Read>(mut input: R) -> std::io::Result<Unbommed<R>> {
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < head.len() {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kept = if &head[..n] == BOM {
        Vec::new()
    } else {
        head[..n].to_vec()
    };
    Ok(std::io::Cursor::new(kept).chain(input))
}

/// One record of a CSV file and the line it starts on (the header is line 1). Dereferences to
/// its fields, so `record[2]` is the third field; every record has as many fields as the header.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    pub fields: csv::StringRecord,
}

impl std::ops::Deref for Record {
    type Target = csv::StringRecord;
    fn deref(&self) -> &csv::StringRecord {
        &self.fields
    }
}

/// A CSV file open for reading: its header, then its records ([`CsvFile::next_record`]).
pub struct CsvFile<R: Read> {
    file: String,
    reader: csv::Reader<Unbommed<R>>,
    header: csv::StringRecord,
    header_line: u64,
}

impl CsvFile<std::io::BufReader<std::fs::File>> {
    /// Opens `path` and reads its header; `path` names the file in errors.
    pub fn open(path: &Path) -> Result<Self, CsvRowsError> {
        let file = path.display().to_string();
        let input = std::fs::File::open(path).map_err(|source| CsvRowsError::Io {
            file: file.clone(),
            source,
        })?;
        CsvFile::from_reader(std::io::BufReader::new(input), &file)
    }
}

impl<R: Read> CsvFile<R> {
    /// Reads CSV from `input` (e.g. text in a test); `file` names it in errors.
    pub fn from_reader(input: R, file: &str) -> Result<Self, CsvRowsError> {
        let input = skip_bom(input).map_err(|source| CsvRowsError::Io {
            file: file.to_string(),
            source,
        })?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            // Records end at `\n` (a CRLF's `\r` is trimmed with the other spaces): the crate's
            // CRLF terminator would count a CRLF file's lines one short.
            .terminator(csv::Terminator::Any(b'\n'))
            .trim(csv::Trim::All)
            .from_reader(input);
        let mut this = CsvFile {
            file: file.to_string(),
            reader,
            header: csv::StringRecord::new(),
            header_line: 1,
        };
        if let Some(first) = this.read_any()? {
            this.header_line = first.line;
            this.header = first.fields;
        }
        Ok(this)
    }

    /// The file's name as errors give it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The header's fields; empty when the file has no lines at all.
    pub fn header(&self) -> &csv::StringRecord {
        &self.header
    }

    /// The header as it reads in the file, fields joined by commas.
    pub fn header_text(&self) -> String {
        self.header.iter().collect::<Vec<_>>().join(",")
    }

    /// An error at `line` of this file.
    pub fn error(&self, line: u64, message: impl Into<String>) -> CsvRowsError {
        CsvRowsError::Row {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }

    /// The header must be exactly `expected`, in that order; the error says what was found.
    pub fn expect_header(&self, expected: &[&str]) -> Result<(), CsvRowsError> {
        if self.header.iter().ne(expected.iter().copied()) {
            return Err(self.error(
                self.header_line,
                format!(
                    "expected the header `{}`, found `{}`",
                    expected.join(","),
                    self.header_text()
                ),
            ));
        }
        Ok(())
    }

    /// The next record after the header, `None` at the end of the file. A record that is not
    /// UTF-8 or has another number of fields than the header is a [`CsvRowsError::Row`], after
    /// which reading may go on; a [`CsvRowsError::Io`] ends the file.
    pub fn next_record(&mut self) -> Option<Result<Record, CsvRowsError>> {
        let record = match self.read_any() {
            Ok(record) => record?,
            Err(e) => return Some(Err(e)),
        };
        let (want, found) = (self.header.len(), record.len());
        if found != want {
            return Some(Err(self.error(
                record.line,
                format!("expected {want} fields, found {found}"),
            )));
        }
        Some(Ok(record))
    }

    /// Every remaining record, stopping at the first error.
    pub fn records(mut self) -> Result<Vec<Record>, CsvRowsError> {
        std::iter::from_fn(|| self.next_record()).collect()
    }

    /// `record` as a `T`, its fields named by the header; an error names the column.
    pub fn deserialize<T: DeserializeOwned>(&self, record: &Record) -> Result<T, CsvRowsError> {
        record
            .fields
            .deserialize(Some(&self.header))
            .map_err(|e| self.error(record.line, self.describe(record, e)))
    }

    /// The next non-blank record, header or not.
    fn read_any(&mut self) -> Result<Option<Record>, CsvRowsError> {
        loop {
            let mut fields = csv::StringRecord::new();
            let line = self.reader.position().line();
            match self.reader.read_record(&mut fields) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    // A line of spaces only trims to one empty field: a blank line.
                    if fields.len() == 1 && fields[0].is_empty() {
                        continue;
                    }
                    let line = fields.position().map_or(line, |p| p.line());
                    return Ok(Some(Record { line, fields }));
                }
                Err(e) => {
                    let line = e.position().map_or(line, |p| p.line());
                    return Err(match e.into_kind() {
                        csv::ErrorKind::Io(source) => CsvRowsError::Io {
                            file: self.file.clone(),
                            source,
                        },
                        csv::ErrorKind::Utf8 { err, .. } => {
                            let column = self.column(err.field());
                            self.error(line, format!("{column}invalid UTF-8"))
                        }
                        other => self.error(line, format!("{other:?}")),
                    });
                }
            }
        }
    }

    /// `name: ` for the header's `index`-th column, or nothing past the header's end.
    fn column(&self, index: usize) -> String {
        self.header
            .get(index)
            .map_or(String::new(), |name| format!("{name}: "))
    }

    /// A deserialize error as `column: what went wrong, found `value``.
    fn describe(&self, record: &Record, e: csv::Error) -> String {
        match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                Some(i) => format!(
                    "{}{}, found `{}`",
                    self.column(i as usize),
                    err.kind(),
                    record.get(i as usize).unwrap_or("")
                ),
                None => err.kind().to_string(),
            },
            _ => e.to_string(),
        }
    }
}

/// Reads every row of `path` as a `T`, each with its line number (the header is line 1). With
/// `header`, the file's header must be exactly that, in that order; the first bad row is an
/// error naming its line and column.
pub fn read_rows<T: DeserializeOwned>(
    path: &Path,
    header: Option<&[&str]>,
) -> Result<Vec<(u64, T)>, CsvRowsError> {
    let mut csv = CsvFile::open(path)?;
    if let Some(expected) = header {
        csv.expect_header(expected)?;
    }
    let mut rows = Vec::new();
    while let Some(record) = csv.next_record() {
        let record = record?;
        rows.push((record.line, csv.deserialize(&record)?));
    }
    Ok(rows)
}

/// A CSV writer with the stages' settings: a field is quoted only when it must be, lines end
/// in `\n`.
pub fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// Writes `header`, then one record per item of `rows`, and flushes.
pub fn write_records<F, R>(
    out: impl Write,
    header: impl IntoIterator<Item = F>,
    rows: impl IntoIterator<Item = R>,
) -> std::io::Result<()>
where
    F: AsRef<[u8]>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = writer(out);
    w.write_record(header)?;
    for row in rows {
        w.write_record(row)?;
    }
    w.flush()
}

/// Writes `rows` with serde, the header from the first row's field names (nothing at all for
/// no rows), and flushes.
pub fn write_serialized<T: Serialize>(rows: &[T], out: impl Write) -> std::io::Result<()> {
    let mut w = writer(out);
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
    struct Row {
        queue: String,
        contacts: f64,
    }

    fn parse(text: &[u8]) -> Result<(Vec<String>, Vec<Record>), CsvRowsError> {
        let csv = CsvFile::from_reader(text, "t.csv")?;
        let header = csv.header().iter().map(String::from).collect();
        Ok((header, csv.records()?))
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
        assert_eq!(
            err,
            format!(
                "{}:3: contacts: invalid float literal, found `many`",
                path.display()
            )
        );

        let err = read_rows::<Row>(&path, Some(&["queue", "agents"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":1: expected the header `queue,agents`, found `queue,contacts`"),
            "{err}"
        );

        std::fs::write(&path, "queue,contacts\na,1.5\nb\n").unwrap();
        let err = read_rows::<Row>(&path, None).unwrap_err().to_string();
        assert!(err.ends_with(":3: expected 2 fields, found 1"), "{err}");

        let err = read_rows::<Row>(&dir.path().join("none.csv"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.csv: cannot read"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_crlf_and_blank_lines_are_tolerated() {
        let (header, records) =
            parse(b"\xEF\xBB\xBFqueue,contacts\r\na,1\r\n\r\n   \r\nb,2\r\n").unwrap();
        assert_eq!(header, ["queue", "contacts"]);
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5]);
        assert_eq!(&records[1][1], "2");

        // Only a leading mark is skipped; a short or empty file is not mistaken for one.
        let (header, records) = parse(b"q\n\xEF\xBB\xBFx\n").unwrap();
        assert_eq!(header, ["q"]);
        assert_eq!(&records[0][0], "\u{feff}x");
        let err = parse(b"\xEF\xBB").unwrap_err().to_string();
        assert_eq!(err, "t.csv:1: invalid UTF-8");
        let (header, records) = parse(b"\xEF\xBB\xBF").unwrap();
        assert!(header.is_empty() && records.is_empty());
    }

    #[test]
    fn quoted_fields_read_and_are_written_only_when_needed() {
        let text = "queue,contacts\n\"zh, chat\",\"12\"\n\"say \"\"hi\"\"\",3\n\"two\nlines\",4\nplain,5\n";
        let (_, records) = parse(text.as_bytes()).unwrap();
        let fields: Vec<(u64, &str, &str)> =
            records.iter().map(|r| (r.line, &r[0], &r[1])).collect();
        assert_eq!(
            fields,
            [
                (2, "zh, chat", "12"),
                (3, "say \"hi\"", "3"),
                (4, "two\nlines", "4"),
                (6, "plain", "5"),
            ]
        );

        let mut out = Vec::new();
        write_records(
            &mut out,
            ["queue", "contacts"],
            records.iter().map(|r| &r.fields),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "queue,contacts\n\"zh, chat\",12\n\"say \"\"hi\"\"\",3\n\"two\nlines\",4\nplain,5\n"
        );

        let rows = [Row {
            queue: "a,b".into(),
            contacts: 1.5,
        }];
        let mut out = Vec::new();
        write_serialized(&rows, &mut out).unwrap();
        assert_eq!(out, b"queue,contacts\n\"a,b\",1.5\n");
        let mut csv = CsvFile::from_reader(out.as_slice(), "t.csv").unwrap();
        let record = csv.next_record().unwrap().unwrap();
        assert_eq!(csv.deserialize::<Row>(&record).unwrap(), rows[0]);
    }

    #[test]
    fn bad_utf8_names_its_line_and_column() {
        let err = parse(b"queue,contacts\na,1\n\xFF,2\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.csv:3: queue: invalid UTF-8");
    }
}
