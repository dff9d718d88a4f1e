//! The learning loop, measured: a labelled stream goes through the engine (windows,
//! verdicts, the prediction ledger), a council reviews a budget of verdicts per cycle
//! through [`Engine::feedback`] (so the samples land in the sample store as in production),
//! vigil-retrain's run trains a challenger on base data plus every sample and gates it
//! against the champion, and sources the council never saw score each cycle's champion.
//!
//! - The stream is either simulated (the council knows each source's true class) or a real
//!   log with the weak-label council of [`weak_labels`] (it answers only for sources its
//!   rules label, and the budget is spent on those).
//! - Sources are split once, by a seeded hash of the address, into council sources (their
//!   events are the stream, in time order, cut into `cycles` slices) and held-out sources
//!   (never ingested, never reviewed): each held-out source is scored over the window the
//!   serving policy holds for its whole history ([`Engine::score_events`]).
//! - A cycle: ingest the slice (batches of `batch` events), review up to `budget` council
//!   sources seen in it (their latest verdict; lowest confidence first, or in a seeded
//!   random order; each source once), CONFIRM when the verdict is the council's class and
//!   OVERRIDE with that class otherwise, then one retrain run (trigger `forced`: the loop
//!   asks for a run every cycle rather than waiting for the production triggers); a
//!   promoted challenger becomes the engine's model before the held-out measurement.
//! - The score: macro-F1 over the threat classes for a simulated stream; for weak labels,
//!   the share of held-out weak-labelled sources whose verdict is their weak class, with
//!   the share of held-out sources called Normal beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;
use vigil_core::ClassSet;
use vigil_core::metrics::ConfusionMatrix;
use vigil_datasets::simulate::SimEntity;
use vigil_engine::{Config, Engine, EngineError, Feedback, FeedbackTarget, Verdict};
use vigil_features::Event;
use vigil_registry::Registry;
use vigil_retrain::{BaseData, Cancel, RunContext, TriggerDecision, TriggerKind};

use crate::{EvaluateError, Result, WEAK_CLASSES, weak_labels};

/// Who the council is, and so what the held-out score means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Council {
    /// The simulator's true classes; the score is macro-F1.
    Truth,
    /// The weak-label rules; the score is weak-label agreement.
    WeakLabels,
}

/// Events with the class the council gives each source (absent: the council abstains).
#[derive(Debug, Clone)]
pub struct LabelledStream {
    /// Every event, any order.
    pub events: Vec<Event>,
    /// Source -> threat class name.
    pub labels: BTreeMap<IpAddr, String>,
    /// Who labelled.
    pub council: Council,
}

impl LabelledStream {
    /// Simulated sources with their true classes.
    pub fn simulated(entities: Vec<SimEntity>) -> Self {
        let threat = ClassSet::threat();
        let mut labels = BTreeMap::new();
        let mut events = Vec::new();
        for entity in entities {
            labels.insert(entity.ip, threat.name(entity.label).unwrap_or("Normal").to_owned());
            events.extend(entity.events);
        }
        Self { events, labels, council: Council::Truth }
    }

    /// A real log, labelled by the weak-label rules.
    pub fn weak_labelled(events: Vec<Event>) -> Self {
        let labels = weak_labels(&events)
            .into_iter()
            .map(|(ip, class)| (ip, WEAK_CLASSES[class].to_owned()))
            .collect();
        Self { events, labels, council: Council::WeakLabels }
    }
}

/// Which verdicts the council reviews first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pick {
    /// The least confident verdicts (uncertainty sampling).
    LowestConfidence,
    /// A seeded random order.
    Random,
}

/// The loop's settings.
#[derive(Debug, Clone, Serialize)]
pub struct LoopParams {
    /// Review-and-retrain cycles.
    pub cycles: usize,
    /// Reviews per cycle, at most.
    pub budget: usize,
    /// Which verdicts first.
    pub pick: Pick,
    /// Share of sources held out from the council, in (0, 1).
    pub heldout_share: f64,
    /// Seed of the held-out split and the random order.
    pub seed: u64,
    /// Events per ingest call.
    pub batch: usize,
}

impl Default for LoopParams {
    fn default() -> Self {
        Self {
            cycles: 5,
            budget: 200,
            pick: Pick::LowestConfidence,
            heldout_share: 0.5,
            seed: 1,
            batch: 1000,
        }
    }
}

/// The held-out sources under one champion.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOut {
    /// Held-out sources scored.
    pub sources: usize,
    /// Of those, with a council class.
    pub labelled: usize,
    /// Macro-F1 (true classes) or agreement (weak labels) on the labelled ones.
    pub score: f64,
    /// Share of the scored sources called Normal.
    pub normal_share: f64,
    /// Council class -> (labelled sources, verdicts of that class).
    pub per_class: BTreeMap<String, (usize, usize)>,
}

/// One point of the learning curve.
#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    /// 0 is the bootstrap champion, before any review.
    pub cycle: usize,
    /// Council sources ingested this cycle.
    pub sources_seen: usize,
    /// Reviews this cycle.
    pub reviews: usize,
    /// Reviews so far.
    pub reviews_total: usize,
    /// Of this cycle's reviews, overrides.
    pub overrides: usize,
    /// The retrain run: `promoted`, `rejected` or `failed`, with the gate's line (none at
    /// cycle 0).
    pub gate: Option<String>,
    /// The champion that the held-out sources were scored with.
    pub champion: String,
    /// The held-out measurement.
    pub heldout: HeldOut,
}

/// The whole curve.
#[derive(Debug, Clone, Serialize)]
pub struct LoopReport {
    /// Who the council was.
    pub council: Council,
    /// The settings.
    pub params: LoopParams,
    /// Council sources / held-out sources.
    pub council_sources: usize,
    /// Held-out sources.
    pub heldout_sources: usize,
    /// Cycle 0 (bootstrap) to the last.
    pub cycles: Vec<CycleReport>,
}

impl LoopReport {
    /// The curve as a Markdown table.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let score = match self.council {
            Council::Truth => "held-out macro-F1",
            Council::WeakLabels => "held-out agreement",
        };
        let mut out = format!(
            "{} council sources, {} held out; budget {} per cycle, {:?} first\n\n\
             | cycle | reviews (total) | overrides | gate | champion | {score} | called Normal |\n\
             |---|---|---|---|---|---|---|\n",
            self.council_sources, self.heldout_sources, self.params.budget, self.params.pick,
        );
        for c in &self.cycles {
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} | {} | {} | {:.4} | {:.1}% |",
                c.cycle,
                c.reviews,
                c.reviews_total,
                c.overrides,
                c.gate.as_deref().unwrap_or("bootstrap"),
                c.champion,
                c.heldout.score,
                100.0 * c.heldout.normal_share
            );
        }
        out
    }
}

/// A deterministic 64-bit mix of an address and a seed (splitmix64).
fn mix(ip: IpAddr, seed: u64) -> u64 {
    let bits = match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let b = u128::from(v6);
            (b as u64) ^ ((b >> 64) as u64).rotate_left(17)
        }
    };
    let mut z = bits ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn held_out(ip: IpAddr, params: &LoopParams) -> bool {
    (mix(ip, params.seed) >> 11) as f64 / (1u64 << 53) as f64 <= params.heldout_share
}

fn invalid(reason: impl Into<String>) -> EvaluateError {
    EvaluateError::Loop { reason: reason.into() }
}

/// Runs the loop with `config` (its window policy, feeds, retrain recipe and gate; a fresh
/// registry and sample store under `work`, bootstrapped from `learning.base` if that file
/// exists, else from `[learning.bootstrap]`'s simulation). `progress` sees each cycle as it
/// ends. Needs a multi-threaded tokio runtime (training runs in place).
pub async fn learning_loop(
    config: Config,
    work: &Path,
    stream: LabelledStream,
    params: &LoopParams,
    mut progress: impl FnMut(&CycleReport),
) -> Result<LoopReport> {
    if params.cycles == 0 || params.budget == 0 {
        return Err(invalid("cycles and budget must be at least 1"));
    }
    if !(params.heldout_share > 0.0 && params.heldout_share < 1.0) {
        return Err(invalid(format!("heldout share {} is not in (0, 1)", params.heldout_share)));
    }
    let mut config = config.for_replay(work);
    config.registry = work.join("registry");
    config.learning.reports = work.join("reports");
    if !config.learning.base.is_file() {
        config.learning.base = work.join("base-events.jsonl");
    }
    let engine = Engine::open(config.clone()).await?;
    let store = engine.samples().clone();
    tokio::task::block_in_place(|| vigil_engine::bootstrap_registry(&config, &store))?;
    let registry = Registry::open(&config.registry)?;
    load_champion(&engine, &config)?;

    let LabelledStream { events, labels, council } = stream;
    let mut heldout: BTreeMap<IpAddr, Vec<Event>> = BTreeMap::new();
    let mut council_events = Vec::new();
    for event in events {
        if held_out(event.src_ip, params) {
            heldout.entry(event.src_ip).or_default().push(event);
        } else {
            council_events.push(event);
        }
    }
    let council_sources: BTreeSet<IpAddr> = council_events.iter().map(|e| e.src_ip).collect();
    if heldout.is_empty() || council_sources.is_empty() {
        return Err(invalid("the stream has too few sources to hold some out"));
    }
    council_events.sort_by_key(|e| e.timestamp);

    let score_heldout = |engine: &Engine| measure(engine, &heldout, &labels, council);
    let mut cycles = vec![CycleReport {
        cycle: 0,
        sources_seen: 0,
        reviews: 0,
        reviews_total: 0,
        overrides: 0,
        gate: None,
        champion: champion_version(&engine),
        heldout: score_heldout(&engine)?,
    }];
    progress(&cycles[0]);

    let base = BaseData::from_path(config.learning.base.clone());
    let retrain = config.retrain();
    let featurizer = config.featurizer()?;
    let cancel = Cancel::new();
    let ctx = RunContext {
        registry: &registry,
        store: Some(&store),
        base: &base,
        config: &retrain,
        featurizer: &featurizer,
        cancel: &cancel,
    };
    let slice = council_events.len().div_ceil(params.cycles).max(1);
    let mut reviewed: BTreeSet<IpAddr> = BTreeSet::new();
    let mut slices = council_events.chunks(slice);
    for cycle in 1..=params.cycles {
        let chunk = slices.next().unwrap_or(&[]);
        let latest = engine.replay(chunk.to_vec(), params.batch).await?;
        let mut candidates: Vec<&Verdict> = latest
            .iter()
            .filter(|(ip, _)| labels.contains_key(ip) && !reviewed.contains(ip))
            .map(|(_, v)| v)
            .collect();
        match params.pick {
            Pick::LowestConfidence => candidates.sort_by(|a, b| {
                a.confidence().total_cmp(&b.confidence()).then_with(|| a.entity.cmp(&b.entity))
            }),
            Pick::Random => candidates.sort_by_key(|v| {
                v.entity.parse::<IpAddr>().map_or(0, |ip| mix(ip, params.seed ^ cycle as u64))
            }),
        }
        let (mut reviews, mut overrides) = (0, 0);
        for verdict in candidates.into_iter().take(params.budget) {
            let Ok(ip) = verdict.entity.parse::<IpAddr>() else { continue };
            let truth = &labels[&ip];
            let agree = verdict.class() == truth;
            review(&engine, verdict, truth, agree).await?;
            reviewed.insert(ip);
            reviews += 1;
            overrides += usize::from(!agree);
        }
        let decision =
            TriggerDecision::only(TriggerKind::Forced, format!("vigil-eval loop, cycle {cycle}"));
        let gate = match tokio::task::block_in_place(|| vigil_retrain::run(&ctx, &decision)) {
            Ok(report) => {
                if report.promoted {
                    load_champion(&engine, &config)?;
                }
                let line = report.gate.map_or_else(|| "no gate".to_owned(), |g| g.summary);
                format!("{}: {line}", if report.promoted { "promoted" } else { "rejected" })
            }
            Err(e) => format!("failed: {e}"),
        };
        let report = CycleReport {
            cycle,
            sources_seen: latest.len(),
            reviews,
            reviews_total: reviewed.len(),
            overrides,
            gate: Some(gate),
            champion: champion_version(&engine),
            heldout: score_heldout(&engine)?,
        };
        progress(&report);
        cycles.push(report);
    }
    Ok(LoopReport {
        council,
        params: params.clone(),
        council_sources: council_sources.len(),
        heldout_sources: heldout.len(),
        cycles,
    })
}

fn load_champion(engine: &Engine, config: &Config) -> Result<()> {
    let model = vigil_engine::load_champion_from(&config.registry)?
        .ok_or_else(|| invalid(format!("{} has no champion", config.registry.display())))?;
    engine.set_model(model);
    Ok(())
}

fn champion_version(engine: &Engine) -> String {
    engine.model().map_or_else(|| "none".to_owned(), |m| m.version().to_owned())
}

/// The council's feedback on `verdict`, by prediction id; if the ledger no longer holds it,
/// with the verdict's own vector and prediction (what an analyst tool would send).
async fn review(engine: &Engine, verdict: &Verdict, truth: &str, agree: bool) -> Result<()> {
    let (word, label) =
        if agree { ("CONFIRM", None) } else { ("OVERRIDE", Some(truth.to_owned())) };
    let by_id = Feedback {
        verdict: word.to_owned(),
        correct_label: label.clone(),
        target: FeedbackTarget::Prediction(verdict.prediction_id.to_string()),
    };
    match engine.feedback(by_id).await {
        Ok(_) => Ok(()),
        Err(EngineError::UnknownPrediction { .. }) => {
            let by_vector = Feedback {
                verdict: word.to_owned(),
                correct_label: label,
                target: FeedbackTarget::Features {
                    features: verdict.features.as_slice().to_vec(),
                    entity: Some(verdict.entity.clone()),
                    prediction: Some((
                        verdict.class().to_owned(),
                        f64::from(verdict.confidence()),
                        verdict.model().version().to_owned(),
                    )),
                },
            };
            engine.feedback(by_vector).await.map(drop).map_err(Into::into)
        }
        Err(e) => Err(e.into()),
    }
}

fn measure(
    engine: &Engine,
    heldout: &BTreeMap<IpAddr, Vec<Event>>,
    labels: &BTreeMap<IpAddr, String>,
    council: Council,
) -> Result<HeldOut> {
    let threat = ClassSet::threat();
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    let mut per_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut sources, mut normal) = (0, 0);
    for (ip, events) in heldout {
        let verdict = engine.score_events(events.clone(), None)?;
        sources += 1;
        normal += usize::from(verdict.class() == "Normal");
        let Some(label) = labels.get(ip) else { continue };
        let entry = per_class.entry(label.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(verdict.class() == label);
        truth.push(threat.parse(label)?);
        predicted.push(threat.parse(verdict.class())?);
    }
    let labelled = truth.len();
    let score = match council {
        Council::Truth => ConfusionMatrix::new(threat.len(), &truth, &predicted)?.macro_f1(),
        Council::WeakLabels if labelled == 0 => 0.0,
        Council::WeakLabels => {
            per_class.values().map(|&(_, agree)| agree).sum::<usize>() as f64 / labelled as f64
        }
    };
    Ok(HeldOut {
        sources,
        labelled,
        score,
        normal_share: if sources == 0 { 0.0 } else { normal as f64 / sources as f64 },
        per_class,
    })
}

#[cfg(test)]
mod tests {
    use vigil_datasets::simulate::{SimParams, simulate};
    use vigil_store::SampleStore;

    use super::*;

    /// A small loop end to end: every review lands in the sample store as one sample with
    /// the council's verdict, each cycle runs one recorded retrain, no held-out source is
    /// ever reviewed, and the curve ends on the registry's champion.
    #[test]
    fn a_loop_reviews_retrains_and_measures_on_sources_it_never_reviewed() {
        let work = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.learning.bootstrap.entities = 300;
        let entities = simulate(&SimParams::new(500, 3, 99)).unwrap();
        let truth: BTreeMap<String, usize> =
            entities.iter().map(|e| (e.ip.to_string(), e.label)).collect();
        let params = LoopParams { cycles: 2, budget: 40, ..LoopParams::default() };
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let mut seen = 0;
        let report = runtime
            .block_on(learning_loop(
                config,
                work.path(),
                LabelledStream::simulated(entities),
                &params,
                |_| seen += 1,
            ))
            .unwrap();
        assert_eq!(seen, 3);
        let cycles = &report.cycles;
        assert_eq!(cycles.iter().map(|c| c.cycle).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!((cycles[0].reviews, cycles[0].gate.as_deref()), (0, None));
        assert!(cycles[1..].iter().all(|c| c.reviews == 40), "{cycles:?}");
        assert_eq!(cycles[2].reviews_total, 80);
        for c in &cycles[1..] {
            let gate = c.gate.as_deref().unwrap();
            assert!(gate.starts_with("promoted") || gate.starts_with("rejected"), "{gate}");
        }
        assert_eq!(report.council_sources + report.heldout_sources, 500);
        assert!(cycles.iter().all(|c| c.heldout.sources == report.heldout_sources));
        assert!((0.0..=1.0).contains(&cycles[2].heldout.score));

        let store = SampleStore::open(work.path().join("vigil.db")).unwrap();
        let rate = store.override_rate(10_000).unwrap();
        let overrides: usize = cycles.iter().map(|c| c.overrides).sum();
        assert_eq!((rate.verdicts, rate.overrides), (80, overrides as u64));
        let threat = ClassSet::threat();
        let names: Vec<String> =
            vigil_features::FEATURES.iter().map(|f| f.name.to_owned()).collect();
        let samples =
            store.load_trainable(&threat, vigil_features::SCHEMA_VERSION, &names).unwrap();
        assert_eq!(samples.entities.len(), 80);
        for (entity, &label) in samples.entities.iter().zip(samples.dataset.labels()) {
            assert_eq!(truth[entity], label, "{entity}: the council's class is the truth");
            assert!(!held_out(entity.parse().unwrap(), &params), "{entity} is held out");
        }
        let jobs = store.recent_jobs(10).unwrap();
        assert_eq!(jobs.len(), 3, "the bootstrap and one run per cycle");
        let champion = Registry::open(work.path().join("registry")).unwrap().champion().unwrap();
        assert_eq!(champion.unwrap().version, cycles[2].champion);
    }

    #[test]
    fn the_held_out_split_is_seeded_and_near_its_share() {
        let params = LoopParams { heldout_share: 0.3, ..LoopParams::default() };
        let ips: Vec<IpAddr> =
            (0..10_000u32).map(|i| IpAddr::V4((0xC633_6400 + i * 7919).into())).collect();
        let share = ips.iter().filter(|&&ip| held_out(ip, &params)).count() as f64 / 1e4;
        assert!((share - 0.3).abs() < 0.02, "held-out share {share}");
        let other = LoopParams { seed: 2, ..params.clone() };
        let same = ips.iter().filter(|&&ip| held_out(ip, &params) == held_out(ip, &other)).count();
        assert!(same < 9_000, "a different seed must move sources: {same} of 10000 unchanged");
    }
}
