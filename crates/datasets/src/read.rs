//! Reading records from plain or gzipped CSV files, with line numbers and header clean-up.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};
use flate2::read::MultiGzDecoder;

use crate::{DatasetError, Result};

/// Records of one file, read as raw bytes so that no field allocates.
pub(crate) struct Records {
    path: PathBuf,
    reader: csv::Reader<NewlineLog>,
    /// Rows whose fields were all empty, skipped so far.
    pub(crate) skipped_empty: usize,
}

impl Records {
    /// Opens `path`, decompressing it if its extension is `.gz` (any case).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file =
            File::open(path).map_err(|error| DatasetError::Io { path: path.to_owned(), error })?;
        let gzipped = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("gz"));
        // Multi-member, because `cat a.gz b.gz` and bgzip files are valid gzip files too.
        let inner: Box<dyn Read> =
            if gzipped { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
        Ok(Self::from_reader(path, inner))
    }

    fn from_reader(path: &Path, inner: Box<dyn Read>) -> Self {
        // `flexible`: rows of the wrong width are reported by the loader, which knows the
        // column names, rather than by the csv crate.
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(NewlineLog { inner, offset: 0, newlines: VecDeque::new() });
        Self { path: path.to_owned(), reader, skipped_empty: 0 }
    }

    /// Reads the next record that has a non-empty field into `record`; returns its 1-based
    /// line, or `None` at the end of the file.
    pub(crate) fn next(&mut self, record: &mut ByteRecord) -> Result<Option<u64>> {
        loop {
            let more = self.reader.read_byte_record(record).map_err(|err| DatasetError::Io {
                path: self.path.clone(),
                error: match err.into_kind() {
                    csv::ErrorKind::Io(error) => error,
                    other => io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}")),
                },
            })?;
            if !more {
                return Ok(None);
            }
            if record.iter().all(|field| field.trim_ascii().is_empty()) {
                self.skipped_empty += 1;
                continue;
            }
            return Ok(Some(self.start_line(record)));
        }
    }

    /// The line a record starts on. The csv crate's own record position points at the end of
    /// the previous record, before any blank lines it skipped, so it is computed backwards
    /// from the end: the lines consumed so far, minus the newlines inside quoted fields, minus
    /// the record's terminating `\n` if that was consumed (an LF ending is; of a CRLF ending
    /// only the `\r` is, and at the end of the file there may be none).
    fn start_line(&mut self, record: &ByteRecord) -> u64 {
        let end = self.reader.position();
        let (end_line, end_byte) = (end.line(), end.byte());
        #[expect(clippy::naive_bytecount, reason = "fields are short; not worth a dependency")]
        let embedded = record.as_slice().iter().filter(|&&b| b == b'\n').count();
        let log = self.reader.get_mut();
        let terminated = end_byte.checked_sub(1).is_some_and(|last| log.is_newline(last));
        end_line.saturating_sub(embedded as u64 + u64::from(terminated)).max(1)
    }

    /// Reads the first line as column names; see [`column_names`].
    pub(crate) fn header(&mut self) -> Result<Vec<String>> {
        let mut record = ByteRecord::new();
        match self.next(&mut record)? {
            Some(_) => Ok(column_names(&record)),
            None => Err(DatasetError::Empty { path: self.path.clone() }),
        }
    }
}

/// A reader that notes where the newlines are, so that [`Records::start_line`] can tell
/// whether the last byte the csv reader consumed was one. Only offsets the csv reader has not
/// consumed yet are kept: at most one buffer's worth.
struct NewlineLog {
    inner: Box<dyn Read>,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of `\n` bytes read but not yet asked about, ascending.
    newlines: VecDeque<u64>,
}

impl NewlineLog {
    /// Whether byte `offset` is a newline; offsets must be asked in ascending order.
    fn is_newline(&mut self, offset: u64) -> bool {
        while self.newlines.front().is_some_and(|&n| n < offset) {
            self.newlines.pop_front();
        }
        self.newlines.front() == Some(&offset)
    }
}

impl Read for NewlineLog {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, _) in buf[..n].iter().enumerate().filter(|&(_, &b)| b == b'\n') {
            self.newlines.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Header fields as column names: a UTF-8 byte-order mark is dropped, surrounding spaces are
/// trimmed (CICFlowMeter writes `" Label"`), an empty name becomes `column_<n>` (1-based), and
/// a repeated name gets the suffix `.1`, `.2`, ... as pandas does (CICFlowMeter writes
/// `Fwd Header Length` twice).
pub(crate) fn column_names(record: &ByteRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let field =
            if i == 0 { field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field) } else { field };
        let mut name = text(field).into_owned();
        if name.is_empty() {
            name = format!("column_{}", i + 1);
        }
        let base = name.clone();
        let mut suffix = 0;
        while names.contains(&name) {
            suffix += 1;
            name = format!("{base}.{suffix}");
        }
        names.push(name);
    }
    names
}

/// A field as trimmed text; invalid UTF-8 is replaced by U+FFFD (only then does it allocate).
pub(crate) fn text(field: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(field.trim_ascii())
}

/// A numeric field, trimmed. `Infinity`, `inf` and `NaN` (any case, signed) parse to the
/// non-finite values, which the loader then replaces and counts.
pub(crate) fn number(field: &[u8]) -> Option<f32> {
    let field = field.trim_ascii();
    // Most fields of these files are small integers ("0", "255"). Up to 7 digits they are
    // below 2^24, so the f32 is exact and equal to what `parse` returns, at a fraction of the
    // cost.
    if !field.is_empty() && field.len() <= 7 && field.iter().all(u8::is_ascii_digit) {
        let value = field.iter().fold(0_u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        return Some(value as f32);
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &'static [u8]) -> Records {
        Records::from_reader(Path::new("mem.csv"), Box::new(bytes))
    }

    #[test]
    fn header_names_are_trimmed_deduplicated_and_never_empty() {
        let mut r = records(b"\xEF\xBB\xBF a , b,a,,a, a.1\n1,2,3,4,5,6\n");
        assert_eq!(r.header().unwrap(), ["a", "b", "a.1", "column_4", "a.2", "a.1.1"]);
    }

    #[test]
    fn blank_and_all_empty_rows_are_skipped_and_lines_stay_true() {
        let mut r = records(b"h1,h2\n\n1,2\n , \n\r\n\"x\ny\",3\n4,5");
        let mut rec = ByteRecord::new();
        let mut lines = Vec::new();
        while let Some(line) = r.next(&mut rec).unwrap() {
            lines.push(line);
        }
        assert_eq!(lines, [1, 3, 6, 8]);
        assert_eq!(r.skipped_empty, 1);
    }

    #[test]
    fn lines_are_true_for_lf_crlf_quoted_newlines_and_a_missing_final_newline() {
        for (input, expected) in [
            (&b"a\n\nb\nc"[..], &[1, 3, 4][..]),
            (b"a\r\n\r\nb\r\nc\r\n", &[1, 3, 4]),
            (b"\"x\ny\"\nz\n", &[1, 3]),
            (b"\"x\r\ny\"\r\nz", &[1, 3]),
            (b"\n\na\n\n", &[3]),
            (b"a\n\"q\n\n\"\n\nb", &[1, 2, 6]),
        ] {
            let mut r = Records::from_reader(Path::new("mem.csv"), Box::new(input));
            let mut rec = ByteRecord::new();
            let mut lines = Vec::new();
            while let Some(line) = r.next(&mut rec).unwrap() {
                lines.push(line);
            }
            assert_eq!(lines, expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn numbers_parse_with_spaces_and_special_values() {
        assert_eq!(number(b" 1.5 "), Some(1.5));
        assert_eq!(number(b"-2e3"), Some(-2000.0));
        assert_eq!(number(b"Infinity"), Some(f32::INFINITY));
        assert_eq!(number(b"-inf"), Some(f32::NEG_INFINITY));
        assert!(number(b"NaN").unwrap().is_nan());
        assert_eq!(number(b"1e39"), Some(f32::INFINITY));
        for int in ["0", "7", "0042", "255", "9999999", "16777217", "123456789"] {
            assert_eq!(number(int.as_bytes()), int.parse().ok(), "{int}");
        }
        for bad in [&b""[..], b"abc", b"1,5", b"\xff1", b"0x10"] {
            assert_eq!(number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn empty_input_has_no_header() {
        assert!(matches!(records(b"").header(), Err(DatasetError::Empty { .. })));
        assert!(matches!(records(b"\n\n").header(), Err(DatasetError::Empty { .. })));
    }
}
