//! What scoring returns: a verdict per entity (class, probabilities, the threshold
//! decision, where the features came from, the prediction id for feedback), and what a
//! stored feedback returns.

use std::sync::Arc;

use serde::Serialize;
use vigil_features::{FeatureVector, SCHEMA_VERSION};

use crate::Route;
use crate::extract::Provenance;
use crate::ledger::PredictionId;
use crate::model::{ClassMap, DecisionBody, LoadedModel, Scored};

/// Window facts reported with a verdict on events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowInfo {
    /// Events in the entity's window (after this batch, for an ingest).
    pub events: usize,
    /// Events of this batch added to it.
    pub added: usize,
    /// Events of this batch already in it.
    pub duplicates: usize,
}

/// One verdict. Serialises as the HTTP API's verdict object (`docs/API.md`).
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The id to send feedback with.
    pub prediction_id: PredictionId,
    /// The entity (source IP, or the name given with a bare vector).
    pub entity: String,
    /// The features the model saw.
    pub features: FeatureVector,
    /// Where the features came from.
    pub provenance: Provenance,
    /// The entity's window, for verdicts on events.
    pub window: Option<WindowInfo>,
    /// Probabilities and the decision.
    pub scored: Scored,
    /// Where the verdict goes (`[routing]`): autonomous, council or human.
    pub route: Route,
    model: Arc<LoadedModel>,
}

impl Verdict {
    pub(crate) fn new(
        prediction_id: PredictionId,
        subject: Subject,
        scored: Scored,
        route: Route,
        model: Arc<LoadedModel>,
    ) -> Self {
        Self {
            prediction_id,
            entity: subject.entity,
            features: subject.features,
            provenance: subject.provenance,
            window: subject.window,
            scored,
            route,
            model,
        }
    }

    /// The decided class's name.
    pub fn class(&self) -> &str {
        self.model.class_name(self.scored.decision.class)
    }

    /// The calibrated probability of the decided class.
    pub fn confidence(&self) -> f32 {
        self.scored.confidence()
    }

    /// The model that decided.
    pub fn model(&self) -> &Arc<LoadedModel> {
        &self.model
    }

    /// Why the decided class scored what it did ([`vigil_model::Artifact::explain`]): its raw
    /// score, the score at the training mean (`base`), and the `top` features (all when
    /// `None`) by the size of their contribution, each with its value; `base` plus every
    /// contribution is `score`. As JSON: `{"class", "base", "score", "contributions":
    /// [{"feature", "value", "contribution"}]}`.
    pub fn explain(&self, top: Option<usize>) -> Result<serde_json::Value, crate::EngineError> {
        let artifact = self.model.artifact();
        let explanation = artifact
            .explain(self.features.as_slice(), self.scored.decision.class)
            .map_err(|e| crate::EngineError::Explain { reason: e.to_string() })?;
        let mut order: Vec<usize> = (0..explanation.contributions.len()).collect();
        order.sort_by(|&a, &b| {
            let (ca, cb) = (explanation.contributions[a].abs(), explanation.contributions[b].abs());
            cb.total_cmp(&ca).then(a.cmp(&b))
        });
        order.truncate(top.unwrap_or(order.len()));
        let names = &artifact.schema.names;
        let values = self.features.as_slice();
        let contributions: Vec<serde_json::Value> = order
            .into_iter()
            .map(|i| {
                serde_json::json!({
                    "feature": names[i],
                    "value": values[i],
                    "contribution": explanation.contributions[i],
                })
            })
            .collect();
        Ok(serde_json::json!({
            "class": self.class(),
            "method": explanation.method,
            "base": explanation.base,
            "score": explanation.score,
            "contributions": contributions,
        }))
    }
}

/// What a verdict is about, before scoring.
pub(crate) struct Subject {
    pub(crate) entity: String,
    pub(crate) features: FeatureVector,
    pub(crate) provenance: Provenance,
    pub(crate) window: Option<WindowInfo>,
    /// Whether the entity has real activity (its prediction is kept in the ledger's main
    /// segment).
    pub(crate) established: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    prediction_id: String,
    entity: &'a str,
    class: &'a str,
    confidence: f32,
    route: Route,
    probabilities: ClassMap<'a, f32>,
    decision: DecisionBody<'a>,
    model_version: &'a str,
    schema_version: &'static str,
    features: &'a Provenance,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<WindowInfo>,
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let classes = self.model.artifact().classes.names();
        Body {
            prediction_id: self.prediction_id.to_string(),
            entity: &self.entity,
            class: self.class(),
            confidence: self.confidence(),
            route: self.route,
            probabilities: ClassMap { classes, values: &self.scored.probabilities },
            decision: DecisionBody::new(&self.model, &self.scored),
            model_version: self.model.version(),
            schema_version: SCHEMA_VERSION,
            features: &self.provenance,
            window: self.window,
        }
        .serialize(s)
    }
}

/// A stored feedback.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackReceipt {
    /// The sample's id in the store.
    pub sample_id: i64,
    /// Whether this feedback was stored before (a retry): the stored sample is returned.
    pub replayed: bool,
    /// The prediction judged, when the feedback named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    /// CONFIRM, OVERRIDE or UNCERTAIN.
    pub verdict: &'static str,
    /// The model's class (canonical name).
    pub ml_prediction: String,
    /// The label stored for training (the confirmed or corrected class), if any.
    pub correct_label: Option<String>,
    /// Whether the council overrode the model.
    pub was_override: bool,
    /// The model version judged.
    pub model_version: String,
}
