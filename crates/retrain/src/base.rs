//! The base training data: what a fresh install trains its first champion on, and what every
//! retrain keeps training on beside the council samples.

use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use vigil_core::{ClassSet, Dataset};
use vigil_features::{EventWindow, Featurizer};

use crate::{Result, RetrainError};

/// Where the base training data comes from.
#[derive(Clone)]
pub struct BaseData {
    source: Source,
}

#[derive(Clone)]
enum Source {
    None,
    Events(PathBuf),
    FeaturesCsv(PathBuf),
    Rows { entities: Vec<String>, dataset: Dataset },
}

impl fmt::Debug for BaseData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Base rows, loaded: one entity id per row (it decides holdout membership).
#[derive(Debug, Clone)]
pub(crate) struct BaseRows {
    pub(crate) entities: Vec<String>,
    pub(crate) dataset: Option<Dataset>,
}

impl BaseData {
    /// No base data: train on council samples only.
    pub fn none() -> Self {
        Self { source: Source::None }
    }

    /// Labelled events in the simulator's JSONL form (one event per line with a `"label"`;
    /// `.gz` allowed): features are extracted per source address, which is the entity, over
    /// the window serving would hold (the run's [`Featurizer`]: window policy and feeds).
    pub fn events_file(path: impl Into<PathBuf>) -> Self {
        Self { source: Source::Events(path.into()) }
    }

    /// A features CSV: a header with a `label` column, optionally an `entity` column
    /// (default: `base-row-<n>`), and exactly the schema's feature columns, in any order.
    pub fn features_csv(path: impl Into<PathBuf>) -> Self {
        Self { source: Source::FeaturesCsv(path.into()) }
    }

    /// [`BaseData::features_csv`] for `*.csv` (and `*.csv.gz`), else
    /// [`BaseData::events_file`].
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let stem = name.strip_suffix(".gz").unwrap_or(&name);
        if Path::new(stem).extension().is_some_and(|e| e == "csv") {
            Self::features_csv(path)
        } else {
            Self::events_file(path)
        }
    }

    /// Rows already in memory, with one entity id per row.
    pub fn rows(entities: Vec<String>, dataset: Dataset) -> Result<Self> {
        if entities.len() != dataset.n_rows() {
            return Err(RetrainError::InvalidData {
                reason: format!("{} entity ids for {} base rows", entities.len(), dataset.n_rows()),
            });
        }
        Ok(Self { source: Source::Rows { entities, dataset } })
    }

    /// Whether there is no base data.
    pub fn is_none(&self) -> bool {
        matches!(self.source, Source::None)
    }

    /// One line for logs and reports.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::None => "none".to_owned(),
            Source::Events(p) => format!("events {}", p.display()),
            Source::FeaturesCsv(p) => format!("features csv {}", p.display()),
            Source::Rows { dataset, .. } => format!("{} rows in memory", dataset.n_rows()),
        }
    }

    /// The base rows as a run loads them (threat classes, the v1 feature columns), with one
    /// entity id per row: what retraining trains on, for tools and parity tests.
    pub fn extract(&self, featurizer: &Featurizer) -> Result<(Vec<String>, Option<Dataset>)> {
        let names: Vec<String> =
            vigil_features::feature_names().iter().map(|&n| n.to_owned()).collect();
        let rows = self.load(&ClassSet::threat(), &names, featurizer)?;
        Ok((rows.entities, rows.dataset))
    }

    /// Loads the rows over `classes` with `names` as columns; events become vectors through
    /// `featurizer` (the serving window policy and feeds).
    pub(crate) fn load(
        &self,
        classes: &ClassSet,
        names: &[String],
        featurizer: &Featurizer,
    ) -> Result<BaseRows> {
        match &self.source {
            Source::None => Ok(BaseRows { entities: Vec::new(), dataset: None }),
            Source::Rows { entities, dataset } => {
                Ok(BaseRows { entities: entities.clone(), dataset: Some(dataset.clone()) })
            }
            Source::Events(path) => load_events(path, classes, names, featurizer),
            Source::FeaturesCsv(path) => load_csv(path, classes, names),
        }
    }
}

fn base_error(path: &Path) -> impl Fn(String) -> RetrainError + '_ {
    move |reason| RetrainError::Base { path: path.to_path_buf(), reason }
}

fn load_events(
    path: &Path,
    classes: &ClassSet,
    names: &[String],
    featurizer: &Featurizer,
) -> Result<BaseRows> {
    let fail = base_error(path);
    if classes.names() != ClassSet::threat().names() {
        return Err(fail(format!(
            "simulated events are labelled with the threat classes, the run uses [{}]",
            classes.names().join(", ")
        )));
    }
    if names.len() != vigil_features::FEATURE_COUNT
        || names.iter().zip(vigil_features::feature_names()).any(|(a, b)| a != b)
    {
        return Err(fail("events give the v1 features, the run uses another schema".into()));
    }
    let entities =
        vigil_datasets::simulate::read_jsonl_file(path).map_err(|e| fail(e.to_string()))?;
    if entities.is_empty() {
        return Err(fail("no labelled events".into()));
    }
    let mut flat = Vec::with_capacity(entities.len() * names.len());
    let mut labels = Vec::with_capacity(entities.len());
    let mut ids = Vec::with_capacity(entities.len());
    for entity in entities {
        labels.push(entity.label);
        ids.push(entity.ip.to_string());
        // The window serving would hold after ingesting this entity's events.
        let window = EventWindow::of(&featurizer.policy, entity.events);
        flat.extend_from_slice(featurizer.extract(&window).as_slice());
    }
    let x =
        Array2::from_shape_vec((ids.len(), names.len()), flat).map_err(|e| fail(e.to_string()))?;
    let dataset = Dataset::new(x, labels, names.to_vec(), classes.clone())?;
    Ok(BaseRows { entities: ids, dataset: Some(dataset) })
}

fn load_csv(path: &Path, classes: &ClassSet, names: &[String]) -> Result<BaseRows> {
    let fail = base_error(path);
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let reader: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2_reader(file))
    } else {
        Box::new(file)
    };
    let mut csv =
        csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(reader);
    let header = csv.headers().map_err(|e| fail(e.to_string()))?.clone();
    let find = |name: &str| header.iter().position(|h| h == name);
    let label_col = find("label").ok_or_else(|| fail("no \"label\" column".into()))?;
    let entity_col = find("entity");
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        columns.push(find(name).ok_or_else(|| fail(format!("no column for feature {name:?}")))?);
    }
    if let Some(extra) =
        header.iter().find(|h| *h != "label" && *h != "entity" && !names.iter().any(|n| n == h))
    {
        return Err(fail(format!("column {extra:?} is not a feature of the schema")));
    }
    let (mut flat, mut labels, mut entities) = (Vec::new(), Vec::new(), Vec::new());
    for (i, record) in csv.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| fail(format!("line {line}: {e}")))?;
        let label = &record[label_col];
        let class = classes.parse(label).map_err(|e| fail(format!("line {line}: {e}")))?;
        for (name, &c) in names.iter().zip(&columns) {
            let v: f32 = record[c].parse().map_err(|_| {
                fail(format!("line {line}, column {name:?}: {:?} is not a number", &record[c]))
            })?;
            flat.push(v);
        }
        labels.push(class);
        entities.push(
            entity_col.map_or_else(|| format!("base-row-{}", i + 1), |c| record[c].to_owned()),
        );
    }
    if labels.is_empty() {
        return Err(fail("no rows".into()));
    }
    let x = Array2::from_shape_vec((labels.len(), names.len()), flat)
        .map_err(|e| fail(e.to_string()))?;
    let dataset = Dataset::new(x, labels, names.to_vec(), classes.clone())?;
    Ok(BaseRows { entities, dataset: Some(dataset) })
}

fn flate2_reader(file: std::fs::File) -> impl std::io::Read {
    flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))
}

/// Writes `dataset` as a features CSV that [`BaseData::features_csv`] reads back: `entity`,
/// `label` (the class name), then the feature columns.
pub fn write_features_csv(path: &Path, entities: &[String], dataset: &Dataset) -> Result<()> {
    let fail = base_error(path);
    if entities.len() != dataset.n_rows() {
        return Err(fail(format!("{} entity ids for {} rows", entities.len(), dataset.n_rows())));
    }
    let mut out = csv::Writer::from_path(path).map_err(|e| fail(e.to_string()))?;
    let mut header = vec!["entity".to_owned(), "label".to_owned()];
    header.extend(dataset.feature_names().iter().cloned());
    out.write_record(&header).map_err(|e| fail(e.to_string()))?;
    for ((row, &label), entity) in
        dataset.features().rows().into_iter().zip(dataset.labels()).zip(entities)
    {
        let mut record =
            vec![entity.clone(), dataset.classes().name(label).unwrap_or("").to_owned()];
        record.extend(row.iter().map(ToString::to_string));
        out.write_record(&record).map_err(|e| fail(e.to_string()))?;
    }
    out.flush().map_err(|e| fail(e.to_string()))
}
