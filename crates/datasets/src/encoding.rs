//! Fitting an [`Encoding`] on a training file, and applying it unchanged to other files.

use std::collections::HashMap;
use std::path::Path;

use csv::ByteRecord;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use vigil_core::{ClassSet, CoreError, Dataset};

use crate::read::{Records, number, text};
use crate::{DatasetError, LoadReport, Result, Spec};

/// Everything learned from a training file that is needed to load another file the same way:
/// the spec, the feature columns in order (with one-hot vocabularies and non-finite
/// replacements), the label column and the class set.
///
/// It is serde-serialisable so that a model artifact can carry it; a model trained on the
/// features of one encoding must only ever see features loaded with that same encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    spec: Spec,
    columns: Vec<Column>,
    label: String,
    classes: ClassSet,
}

/// One source column's contribution to the feature vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Column {
    /// One feature; `Infinity` becomes `pos_inf`, `-Infinity` `neg_inf` and `NaN` 0.
    Numeric { name: String, pos_inf: f32, neg_inf: f32 },
    /// One feature per vocabulary value (sorted), named `name=value`.
    OneHot { name: String, vocabulary: Vec<String> },
}

impl Column {
    fn name(&self) -> &str {
        match self {
            Self::Numeric { name, .. } | Self::OneHot { name, .. } => name,
        }
    }

    fn width(&self) -> usize {
        match self {
            Self::Numeric { .. } => 1,
            Self::OneHot { vocabulary, .. } => vocabulary.len(),
        }
    }
}

impl Encoding {
    /// The spec the encoding was fitted with.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The class set, from the format or fitted on the training labels.
    pub fn classes(&self) -> &ClassSet {
        &self.classes
    }

    /// The label column's name.
    pub fn label_column(&self) -> &str {
        &self.label
    }

    /// The feature names in column order: numeric columns by name, one-hot columns as
    /// `column=value`.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_features());
        for column in &self.columns {
            match column {
                Column::Numeric { name, .. } => names.push(name.clone()),
                Column::OneHot { name, vocabulary } => {
                    names.extend(vocabulary.iter().map(|value| format!("{name}={value}")));
                }
            }
        }
        names
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.columns.iter().map(Column::width).sum()
    }

    /// The fitted vocabulary of a categorical column, or `None` if `column` is not one.
    pub fn vocabulary(&self, column: &str) -> Option<&[String]> {
        self.columns.iter().find_map(|c| match c {
            Column::OneHot { name, vocabulary } if name == column => Some(vocabulary.as_slice()),
            _ => None,
        })
    }
}

/// Loads a training file: fits the [`Encoding`] (vocabularies, class set unless the format fixes
/// it, non-finite replacements) on it and returns the encoded rows.
pub fn load_train(spec: &Spec, path: impl AsRef<Path>) -> Result<(Dataset, Encoding, LoadReport)> {
    let path = path.as_ref();
    let layout = spec.layout()?;
    let mut source = Records::open(path)?;
    let header = match layout.fixed_header {
        Some(names) => names,
        None => source.header()?,
    };
    let ctx = Context { path, header: &header };
    let label_index = ctx.find(&layout.label)?;
    let ignored_required = if layout.ignore_must_exist { layout.ignore.as_slice() } else { &[] };
    for name in layout.categorical.iter().chain(ignored_required) {
        ctx.find(name)?;
    }

    let mut roles = Vec::with_capacity(header.len());
    let mut accumulators = Vec::new();
    let mut unused_columns = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if i == label_index {
            roles.push(Role::Label);
        } else if layout.ignore.contains(name) {
            roles.push(Role::Unused);
            unused_columns.push(name.clone());
        } else {
            roles.push(Role::Feature(accumulators.len()));
            accumulators.push(if layout.categorical.contains(name) {
                Accumulator::Categorical {
                    name: name.clone(),
                    ids: Vec::new(),
                    vocab: Vocab::default(),
                }
            } else {
                Accumulator::Numeric { name: name.clone(), values: Vec::new() }
            });
        }
    }

    let mut labels = Labels::new(layout.classes);
    let mut label_ids = Vec::new();
    let mut record = ByteRecord::new();
    while let Some(line) = source.next(&mut record)? {
        ctx.check_width(&record, line)?;
        for (i, (field, role)) in record.iter().zip(&roles).enumerate() {
            match *role {
                Role::Feature(k) => match &mut accumulators[k] {
                    Accumulator::Numeric { values, .. } => values.push(ctx.number(field, i, line)?),
                    Accumulator::Categorical { ids, vocab, .. } => ids.push(vocab.id(field)),
                },
                Role::Label => {
                    let id = labels
                        .resolve(field)
                        .ok_or_else(|| ctx.unknown_label(field, i, line, labels.fixed.as_ref()))?;
                    label_ids.push(id);
                }
                Role::Unused => {}
            }
        }
    }
    let rows = label_ids.len();
    if rows == 0 {
        return Err(DatasetError::Empty { path: path.to_owned() });
    }

    let mut report = LoadReport {
        path: path.to_owned(),
        rows,
        skipped_empty_rows: source.skipped_empty,
        unused_columns,
        ..LoadReport::default()
    };
    let (classes, class_of) =
        labels.finish().map_err(|error| DatasetError::Core { path: path.to_owned(), error })?;
    let labels: Vec<usize> = label_ids.iter().map(|&id| class_of[id as usize]).collect();

    let width = accumulators.iter().map(Accumulator::width).sum();
    let mut features = Array2::<f32>::zeros((rows, width));
    let mut columns = Vec::with_capacity(accumulators.len());
    let mut offset = 0;
    for accumulator in accumulators {
        let column = match accumulator {
            Accumulator::Numeric { name, mut values } => {
                let (pos_inf, neg_inf) = finite_range(&values);
                for value in &mut values {
                    if !value.is_finite() {
                        report.count_non_finite(&name, *value);
                        *value = replacement(*value, pos_inf, neg_inf);
                    }
                }
                features.column_mut(offset).assign(&ndarray::ArrayView1::from(&values));
                Column::Numeric { name, pos_inf, neg_inf }
            }
            Accumulator::Categorical { name, ids, vocab } => {
                let (vocabulary, index_of) = vocab.sorted();
                for (row, &id) in ids.iter().enumerate() {
                    features[[row, offset + index_of[id as usize]]] = 1.0;
                }
                Column::OneHot { name, vocabulary }
            }
        };
        offset += column.width();
        columns.push(column);
    }

    let encoding = Encoding { spec: spec.clone(), columns, label: layout.label, classes };
    let dataset =
        Dataset::new(features, labels, encoding.feature_names(), encoding.classes.clone())
            .map_err(|error| DatasetError::Core { path: path.to_owned(), error })?;
    Ok((dataset, encoding, report))
}

/// Loads another file (validation, test, live capture) with an encoding fitted by
/// [`load_train`]. Header columns are matched by name, so their order may differ; unseen
/// categories become all-zero one-hot blocks and a label outside the class set is an error.
pub fn load_with(encoding: &Encoding, path: impl AsRef<Path>) -> Result<(Dataset, LoadReport)> {
    let path = path.as_ref();
    let layout = encoding.spec.layout()?;
    let mut source = Records::open(path)?;
    let header = match layout.fixed_header {
        Some(names) => names,
        None => source.header()?,
    };
    let ctx = Context { path, header: &header };
    let label_index = ctx.find(&encoding.label)?;

    let mut roles = vec![Role::Unused; header.len()];
    roles[label_index] = Role::Label;
    let mut appliers = Vec::with_capacity(encoding.columns.len());
    let mut offset = 0;
    for (k, column) in encoding.columns.iter().enumerate() {
        roles[ctx.find(column.name())?] = Role::Feature(k);
        appliers.push(match column {
            Column::Numeric { name, pos_inf, neg_inf } => {
                Applier::Numeric { name, offset, pos_inf: *pos_inf, neg_inf: *neg_inf }
            }
            Column::OneHot { name, vocabulary } => Applier::OneHot {
                name,
                offset,
                index_of: vocabulary.iter().enumerate().map(|(j, v)| (v.clone(), j)).collect(),
            },
        });
        offset += column.width();
    }
    let width = offset;
    let unused_columns = header
        .iter()
        .zip(&roles)
        .filter(|(_, role)| matches!(role, Role::Unused))
        .map(|(name, _)| name.clone())
        .collect();

    let mut report = LoadReport { path: path.to_owned(), unused_columns, ..LoadReport::default() };
    let mut labels = Labels::new(Some(encoding.classes.clone()));
    let mut label_ids = Vec::new();
    let mut data = Vec::new();
    let mut record = ByteRecord::new();
    while let Some(line) = source.next(&mut record)? {
        ctx.check_width(&record, line)?;
        let start = data.len();
        data.resize(start + width, 0.0_f32);
        let row = &mut data[start..];
        for (i, (field, role)) in record.iter().zip(&roles).enumerate() {
            match *role {
                Role::Feature(k) => match &appliers[k] {
                    Applier::Numeric { name, offset, pos_inf, neg_inf } => {
                        let mut value = ctx.number(field, i, line)?;
                        if !value.is_finite() {
                            report.count_non_finite(name, value);
                            value = replacement(value, *pos_inf, *neg_inf);
                        }
                        row[*offset] = value;
                    }
                    Applier::OneHot { name, offset, index_of } => {
                        let value = text(field);
                        match index_of.get(value.as_ref()) {
                            Some(&j) => row[offset + j] = 1.0,
                            None => report.count_unseen(name, &value),
                        }
                    }
                },
                Role::Label => {
                    let id = labels
                        .resolve(field)
                        .ok_or_else(|| ctx.unknown_label(field, i, line, labels.fixed.as_ref()))?;
                    label_ids.push(id as usize);
                }
                Role::Unused => {}
            }
        }
    }
    report.rows = label_ids.len();
    report.skipped_empty_rows = source.skipped_empty;
    if report.rows == 0 {
        return Err(DatasetError::Empty { path: path.to_owned() });
    }
    let core_error = |error| DatasetError::Core { path: path.to_owned(), error };
    let n_values = data.len();
    let features = Array2::from_shape_vec((report.rows, width), data).map_err(|_| {
        core_error(CoreError::ShapeMismatch {
            what: "feature values vs rows x features".into(),
            expected: report.rows * width,
            found: n_values,
        })
    })?;
    let dataset =
        Dataset::new(features, label_ids, encoding.feature_names(), encoding.classes.clone())
            .map_err(core_error)?;
    Ok((dataset, report))
}

/// What a source column is used for.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// Feature column number `k` (an index into the accumulators or appliers).
    Feature(usize),
    Label,
    Unused,
}

/// A training column's values, kept until the vocabulary and replacements are known.
enum Accumulator {
    Numeric { name: String, values: Vec<f32> },
    Categorical { name: String, ids: Vec<u32>, vocab: Vocab },
}

impl Accumulator {
    fn width(&self) -> usize {
        match self {
            Self::Numeric { .. } => 1,
            Self::Categorical { vocab, .. } => vocab.values.len(),
        }
    }
}

/// A fitted column, ready to encode fields of another file.
enum Applier<'a> {
    Numeric { name: &'a str, offset: usize, pos_inf: f32, neg_inf: f32 },
    OneHot { name: &'a str, offset: usize, index_of: HashMap<String, usize> },
}

/// Category values in order of first appearance.
#[derive(Default)]
struct Vocab {
    ids: HashMap<String, u32>,
    values: Vec<String>,
}

impl Vocab {
    fn id(&mut self, field: &[u8]) -> u32 {
        let value = text(field);
        if let Some(&id) = self.ids.get(value.as_ref()) {
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(value.to_string(), id);
        self.values.push(value.into_owned());
        id
    }

    /// The values sorted (so the encoding does not depend on row order) and, per first-seen
    /// id, its position in that order.
    fn sorted(self) -> (Vec<String>, Vec<usize>) {
        let mut order: Vec<usize> = (0..self.values.len()).collect();
        order.sort_by(|&a, &b| self.values[a].cmp(&self.values[b]));
        let mut index_of = vec![0; order.len()];
        for (position, &id) in order.iter().enumerate() {
            index_of[id] = position;
        }
        let values = order.iter().map(|&id| self.values[id].clone()).collect();
        (values, index_of)
    }
}

/// Label resolution: against a fixed class set, or collecting the distinct labels of a
/// training file (case and surrounding spaces ignored, as [`ClassSet`] does).
struct Labels {
    fixed: Option<ClassSet>,
    /// Trimmed label as written -> id (a class index when `fixed`).
    cache: HashMap<String, u32>,
    /// When fitting: label normalised as `ClassSet` does (trimmed, lower-cased) -> id, and the first spelling seen per id.
    keys: HashMap<String, u32>,
    names: Vec<String>,
}

impl Labels {
    fn new(fixed: Option<ClassSet>) -> Self {
        Self { fixed, cache: HashMap::new(), keys: HashMap::new(), names: Vec::new() }
    }

    /// The id of a label field, or `None` if a fixed class set does not know it.
    fn resolve(&mut self, field: &[u8]) -> Option<u32> {
        let label = text(field);
        if let Some(&id) = self.cache.get(label.as_ref()) {
            return Some(id);
        }
        let id = if let Some(classes) = &self.fixed {
            classes.parse(&label).ok()? as u32
        } else {
            let next = self.names.len() as u32;
            let id = *self.keys.entry(label.trim().to_lowercase()).or_insert(next);
            if id == next {
                self.names.push(label.to_string());
            }
            id
        };
        self.cache.insert(label.into_owned(), id);
        Some(id)
    }

    /// The class set and, per id, its class index. A fitted set puts labels that look benign
    /// (`benign`, `normal`) first, then the rest in sorted order.
    fn finish(self) -> Result<(ClassSet, Vec<usize>), CoreError> {
        if let Some(classes) = self.fixed {
            let identity = (0..classes.len()).collect();
            return Ok((classes, identity));
        }
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by_key(|&id| (!is_benign(&self.names[id]), self.names[id].clone()));
        let mut class_of = vec![0; order.len()];
        for (class, &id) in order.iter().enumerate() {
            class_of[id] = class;
        }
        let names = order.iter().map(|&id| self.names[id].clone());
        // The keys normalise as `ClassSet` does, so the names are distinct for it too.
        Ok((ClassSet::new(names)?, class_of))
    }
}

fn is_benign(label: &str) -> bool {
    ["benign", "normal"].iter().any(|b| label.eq_ignore_ascii_case(b))
}

/// The finite maximum and minimum of `values` (0 and 0 if none is finite).
fn finite_range(values: &[f32]) -> (f32, f32) {
    let mut finite = values.iter().copied().filter(|v| v.is_finite()).peekable();
    if finite.peek().is_none() {
        return (0.0, 0.0);
    }
    finite.fold((f32::MIN, f32::MAX), |(max, min), v| (max.max(v), min.min(v)))
}

fn replacement(value: f32, pos_inf: f32, neg_inf: f32) -> f32 {
    if value.is_nan() {
        0.0
    } else if value > 0.0 {
        pos_inf
    } else {
        neg_inf
    }
}

/// The file and its column names, for checks and error messages.
struct Context<'a> {
    path: &'a Path,
    header: &'a [String],
}

impl Context<'_> {
    fn find(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|column| column == name).ok_or_else(|| {
            DatasetError::MissingColumn { path: self.path.to_owned(), name: name.to_owned() }
        })
    }

    fn check_width(&self, record: &ByteRecord, line: u64) -> Result<()> {
        if record.len() == self.header.len() {
            Ok(())
        } else {
            Err(DatasetError::ColumnCount {
                path: self.path.to_owned(),
                line,
                expected: self.header.len(),
                found: record.len(),
            })
        }
    }

    fn number(&self, field: &[u8], index: usize, line: u64) -> Result<f32> {
        number(field).ok_or_else(|| DatasetError::NotNumeric {
            path: self.path.to_owned(),
            line,
            column: index + 1,
            name: self.header[index].clone(),
            value: String::from_utf8_lossy(field).into_owned(),
        })
    }

    fn unknown_label(
        &self,
        field: &[u8],
        index: usize,
        line: u64,
        classes: Option<&ClassSet>,
    ) -> DatasetError {
        DatasetError::UnknownLabel {
            path: self.path.to_owned(),
            line,
            column: index + 1,
            name: self.header[index].clone(),
            label: text(field).into_owned(),
            known: classes.map(|c| c.names().join(", ")).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_sort_and_remap_first_seen_ids() {
        let mut vocab = Vocab::default();
        let ids: Vec<u32> =
            [&b"udp"[..], b"tcp", b" udp ", b"icmp"].iter().map(|f| vocab.id(f)).collect();
        assert_eq!(ids, [0, 1, 0, 2]);
        let (values, index_of) = vocab.sorted();
        assert_eq!(values, ["icmp", "tcp", "udp"]);
        assert_eq!(index_of, [2, 1, 0]);
    }

    #[test]
    fn fitted_classes_put_benign_first_then_sort_and_merge_case_variants() {
        let mut labels = Labels::new(None);
        let ids: Vec<u32> = [&b"PortScan"[..], b"DDoS", b" BENIGN", b"ddos", b"Bot"]
            .iter()
            .map(|f| labels.resolve(f).unwrap())
            .collect();
        let (classes, class_of) = labels.finish().unwrap();
        assert_eq!(classes.names(), ["BENIGN", "Bot", "DDoS", "PortScan"]);
        let classes_of_rows: Vec<usize> = ids.iter().map(|&id| class_of[id as usize]).collect();
        assert_eq!(classes_of_rows, [3, 2, 0, 2, 1]);
    }

    #[test]
    fn non_finite_values_get_the_finite_extremes_or_zero() {
        let values = [1.0, f32::INFINITY, -3.0, f32::NAN, f32::NEG_INFINITY, 7.0];
        let (hi, lo) = finite_range(&values);
        assert_eq!((hi, lo), (7.0, -3.0));
        let replaced: Vec<f32> = values
            .iter()
            .map(|&v| if v.is_finite() { v } else { replacement(v, hi, lo) })
            .collect();
        assert_eq!(replaced, [1.0, 7.0, -3.0, 0.0, -3.0, 7.0]);
        assert_eq!(finite_range(&[f32::NAN, f32::INFINITY]), (0.0, 0.0));
    }
}
