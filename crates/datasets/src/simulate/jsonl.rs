//! The labelled JSONL form of simulated entities: one event per line in vigil-features'
//! generic JSONL form, plus a `label` field naming the entity's class.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_core::ClassSet;
use vigil_features::Event;

use super::{SimEntity, SimulateError};

type Result<T, E = SimulateError> = std::result::Result<T, E>;

#[derive(Serialize)]
struct OutLine<'a> {
    #[serde(flatten)]
    event: &'a Event,
    label: &'a str,
    scenario: &'a str,
}

/// Writes every entity's events, entity after entity, each line carrying the entity's
/// class name in `label` and its scenario in `scenario`.
pub fn write_jsonl(entities: &[SimEntity], mut writer: impl Write) -> io::Result<()> {
    let classes = ClassSet::threat();
    for entity in entities {
        let label = classes.name(entity.label).unwrap_or("?");
        for event in &entity.events {
            let line = OutLine { event, label, scenario: &entity.scenario };
            serde_json::to_writer(&mut writer, &line)?;
            writer.write_all(b"\n")?;
        }
    }
    writer.flush()
}

/// [`write_jsonl`] to a file, gzip-compressed when its name ends in `.gz`.
pub fn write_jsonl_file(entities: &[SimEntity], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let io = |error| SimulateError::Io { path: path.to_owned(), error };
    let file = File::create(path).map_err(io)?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut writer = BufWriter::with_capacity(1 << 16, gz);
        write_jsonl(entities, &mut writer).map_err(io)?;
        let gz = writer.into_inner().map_err(|e| io(e.into_error()))?;
        gz.finish().map_err(io)?;
        Ok(())
    } else {
        write_jsonl(entities, BufWriter::with_capacity(1 << 16, file)).map_err(io)
    }
}

#[derive(Deserialize)]
struct LabelOf<'a> {
    #[serde(borrow)]
    src_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    label: Option<Cow<'a, str>>,
    #[serde(borrow)]
    scenario: Option<Cow<'a, str>>,
}

/// The labels a labelled JSONL carries, by source address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceLabels {
    /// Class index (in [`ClassSet::threat`]) of every labelled source.
    pub by_source: BTreeMap<IpAddr, usize>,
    /// Lines with a `label` field.
    pub labelled_lines: usize,
    /// Non-blank lines without one (or that are not a JSON object with string fields).
    pub unlabelled_lines: usize,
}

impl SourceLabels {
    /// Whether any line carried a label.
    pub fn is_empty(&self) -> bool {
        self.labelled_lines == 0
    }
}

/// Reads the `label` of every line that has one and a `src_ip`. Lines that are not JSON
/// objects are counted as unlabelled and otherwise skipped (the event parser reports them).
/// Unknown labels and a source labelled two ways are errors.
pub fn read_labels(reader: impl BufRead) -> Result<SourceLabels> {
    let classes = ClassSet::threat();
    let mut out = SourceLabels::default();
    for_each_line(reader, |line, text| {
        let Ok(found) = serde_json::from_str::<LabelOf<'_>>(text) else {
            out.unlabelled_lines += 1;
            return Ok(());
        };
        let (Some(src), Some(label)) = (found.src_ip, found.label) else {
            out.unlabelled_lines += 1;
            return Ok(());
        };
        out.labelled_lines += 1;
        let class = parse_label(&classes, line, &label)?;
        let Ok(ip) = src.trim().parse::<IpAddr>() else {
            return Ok(());
        };
        remember(&mut out.by_source, &classes, line, ip.to_canonical(), class)
    })?;
    Ok(out)
}

/// [`read_labels`] from a file, gzip-compressed (by its magic bytes) or plain.
pub fn read_labels_file(path: impl AsRef<Path>) -> Result<SourceLabels> {
    let path = path.as_ref();
    with_file(path, |r| read_labels(r))
}

/// Reads a labelled JSONL back into entities, in order of first appearance. Strict: every
/// non-blank line must be an event in the generic JSONL form with a `label`; an entity's
/// `scenario` is the first one given for it (empty when none is).
pub fn read_jsonl(reader: impl BufRead) -> Result<Vec<SimEntity>> {
    let classes = ClassSet::threat();
    let mut order: Vec<SimEntity> = Vec::new();
    let mut index: BTreeMap<IpAddr, usize> = BTreeMap::new();
    let mut labels: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for_each_line(reader, |line, text| {
        let event: Event = serde_json::from_str(text)
            .map_err(|e| SimulateError::BadLine { line, reason: e.to_string() })?;
        let found: LabelOf<'_> = serde_json::from_str(text)
            .map_err(|e| SimulateError::BadLine { line, reason: e.to_string() })?;
        let label = found.label.ok_or(SimulateError::MissingLabel { line })?;
        let class = parse_label(&classes, line, &label)?;
        let ip = event.src_ip;
        remember(&mut labels, &classes, line, ip, class)?;
        let i = *index.entry(ip).or_insert_with(|| {
            let scenario = found.scenario.map(Cow::into_owned).unwrap_or_default();
            order.push(SimEntity { ip, label: class, scenario, events: Vec::new() });
            order.len() - 1
        });
        order[i].events.push(event);
        Ok(())
    })?;
    Ok(order)
}

/// [`read_jsonl`] from a file, gzip-compressed (by its magic bytes) or plain.
pub fn read_jsonl_file(path: impl AsRef<Path>) -> Result<Vec<SimEntity>> {
    let path = path.as_ref();
    with_file(path, |r| read_jsonl(r))
}

fn parse_label(classes: &ClassSet, line: usize, label: &str) -> Result<usize> {
    classes.parse(label).map_err(|_| SimulateError::UnknownLabel {
        line,
        label: label.to_owned(),
        known: classes.names().join(", "),
    })
}

fn remember(
    map: &mut BTreeMap<IpAddr, usize>,
    classes: &ClassSet,
    line: usize,
    ip: IpAddr,
    class: usize,
) -> Result<()> {
    match map.entry(ip) {
        Entry::Vacant(v) => {
            v.insert(class);
            Ok(())
        }
        Entry::Occupied(o) if *o.get() == class => Ok(()),
        Entry::Occupied(o) => {
            let name = |c: usize| classes.name(c).unwrap_or("?").to_owned();
            Err(SimulateError::ConflictingLabels {
                line,
                ip,
                first: name(*o.get()),
                second: name(class),
            })
        }
    }
}

/// Calls `f(line number, trimmed text)` for every non-blank line (invalid UTF-8 replaced).
fn for_each_line(
    mut reader: impl BufRead,
    mut f: impl FnMut(usize, &str) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|error| SimulateError::Io { path: "<reader>".into(), error })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if !text.is_empty() {
            f(line, text)?;
        }
    }
}

/// Opens `path` (gzip by magic bytes, any number of members, or plain) and runs `read`,
/// putting the path into I/O errors.
fn with_file<T>(path: &Path, read: impl FnOnce(&mut dyn BufRead) -> Result<T>) -> Result<T> {
    let io = |error| SimulateError::Io { path: path.to_owned(), error };
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
    let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let result = if gzip {
        let mut r = BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(file));
        read(&mut r)
    } else {
        read(&mut file)
    };
    result.map_err(|e| match e {
        SimulateError::Io { error, .. } => io(error),
        other => other,
    })
}
