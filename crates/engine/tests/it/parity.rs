//! Serving and training compute the same vectors: the engine, fed a log in batches of
//! random sizes (and, for simulated events, in shuffled order), holds per source exactly
//! the vector that the training paths compute from the whole log: the featurizer that
//! `vigil-eval features` uses, and retrain's base extraction. Compared bit for bit, with
//! the real threat-intel feeds loaded on both sides.

use std::collections::BTreeMap;
use std::net::IpAddr;

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_engine::{Config, Engine};
use vigil_features::{
    Event, EventKind, FeatureVector, Featurizer, Format, Intel, Timestamp, WindowPolicy, parse_file,
};

use crate::{engine_with, real_intel, shared};

/// Ingests `events` in consecutive batches of 1..=`max_batch` events and returns the vector
/// the engine then holds for every source.
async fn serve(
    engine: &Engine,
    events: Vec<Event>,
    max_batch: usize,
    rng: &mut ChaCha8Rng,
) -> BTreeMap<IpAddr, FeatureVector> {
    let sources: std::collections::BTreeSet<IpAddr> = events.iter().map(|e| e.src_ip).collect();
    let mut rest = events.as_slice();
    while !rest.is_empty() {
        let n = rng.random_range(1..=max_batch.min(rest.len()));
        engine.ingest(rest[..n].to_vec()).await.unwrap();
        rest = &rest[n..];
    }
    let mut out = BTreeMap::new();
    for ip in sources {
        out.insert(ip, engine.entity(ip).await.unwrap().features);
    }
    out
}

/// An engine with the real feeds and window bounds large enough that no entity is evicted
/// (eviction is a memory bound, not part of the window policy).
fn engine_for_parity(policy: WindowPolicy) -> (Engine, tempfile::TempDir, Featurizer) {
    let intel = real_intel();
    let (engine, dir) = engine_with(
        |c: &mut Config| {
            c.intel = intel.clone();
            c.windows.max_events_per_entity = policy.max_events;
            c.windows.horizon_secs = policy.horizon_secs;
            c.windows.max_bytes_per_entity = policy.max_bytes;
            c.windows.max_entities = 1_000_000;
            c.windows.max_total_events = 100_000_000;
            c.windows.max_total_bytes = usize::MAX / 2;
        },
        intel.load().unwrap(),
    );
    let featurizer = engine.config().featurizer().unwrap();
    assert_eq!(featurizer.version(), engine.featurizer().version());
    (engine, dir, featurizer)
}

fn assert_same(
    what: &str,
    served: &BTreeMap<IpAddr, FeatureVector>,
    trained: &BTreeMap<IpAddr, FeatureVector>,
) {
    assert_eq!(served.len(), trained.len(), "{what}: sources");
    for (ip, vector) in trained {
        let bits = |v: &FeatureVector| v.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let got = &served[ip];
        if bits(got) != bits(vector) {
            let names = vigil_features::feature_names();
            let diff: Vec<String> = (0..names.len())
                .filter(|&i| got.as_slice()[i].to_bits() != vector.as_slice()[i].to_bits())
                .map(|i| format!("{}: {} vs {}", names[i], got.as_slice()[i], vector.as_slice()[i]))
                .collect();
            panic!("{what}: {ip} differs: {diff:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_cowrie_logs_give_the_training_vectors_whatever_the_batches() {
    let intel: Vec<usize> = vigil_features::FEATURES
        .iter()
        .enumerate()
        .filter(|(_, f)| f.group == vigil_features::Group::ThreatIntel)
        .map(|(i, _)| i)
        .collect();
    let mut listed = 0;
    for (i, log) in crate::parity::LOGS.iter().enumerate() {
        let parsed = parse_file(Format::Cowrie, shared(log)).unwrap();
        assert!(parsed.rejected.is_empty(), "{log}: {:?}", parsed.rejected.first());
        let (engine, _dir, featurizer) = engine_for_parity(WindowPolicy::default());
        let trained = featurizer.vectors(parsed.events.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
        let served = serve(&engine, parsed.events, 3000, &mut rng).await;
        assert_same(log, &served, &trained);
        assert!(trained.len() >= [1_583, 10, 10][i], "{log}: {} sources", trained.len());
        listed +=
            trained.values().filter(|v| intel.iter().any(|&f| v.as_slice()[f] != 0.0)).count();
    }
    // The feeds matter here: some sources of these logs have a non-zero intel feature.
    assert!(listed > 0, "no source with an intel feature: the feeds were not compared");
}

pub(crate) const LOGS: [&str; 3] = [
    "cowrie/cowrie_kareiva_2018-05-06_to_2018-07-02.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-04.json.gz",
    "cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_events_give_the_retrain_base_rows_in_any_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base-events.jsonl");
    let entities =
        vigil_datasets::simulate::simulate(&vigil_datasets::simulate::SimParams::new(300, 2, 11))
            .unwrap();
    vigil_datasets::simulate::write_jsonl_file(&entities, &path).unwrap();
    // A short policy, so that the horizon, the count and the byte budget cut some windows.
    let policy = WindowPolicy { horizon_secs: 3600, max_events: 40, max_bytes: 12 << 10 };
    let (engine, _dir, featurizer) = engine_for_parity(policy);

    let parsed = parse_file(Format::Jsonl, &path).unwrap();
    assert!(parsed.rejected.is_empty());
    let trained = featurizer.vectors(parsed.events.clone());
    let (ids, rows) = vigil_retrain::BaseData::events_file(&path).extract(&featurizer).unwrap();
    let rows = rows.unwrap();
    let base: BTreeMap<IpAddr, FeatureVector> = ids
        .iter()
        .zip(rows.features().rows())
        .map(|(id, row)| (id.parse().unwrap(), FeatureVector::from_slice(&row.to_vec()).unwrap()))
        .collect();
    assert_same("retrain base rows vs eval features", &base, &trained);

    let mut events = parsed.events;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    events.shuffle(&mut rng);
    let served = serve(&engine, events, 500, &mut rng).await;
    assert_same("engine vs training", &served, &trained);
    let cut = entities
        .iter()
        .filter(|e| {
            vigil_features::EventWindow::of(&policy, e.events.clone()).len() < e.events.len()
        })
        .count();
    assert!(cut > 0, "the policy cut no window; the test would not see a difference");
}

fn event(ip: u8, secs: i64, user: u8) -> Event {
    let mut e = Event::new(
        Timestamp::from_secs(1_600_000_000 + secs).unwrap(),
        IpAddr::from([192, 0, 2, ip]),
        if user.is_multiple_of(3) { EventKind::LoginSuccess } else { EventKind::LoginFailed },
    );
    e.username = Some(format!("user{user}").into());
    e
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any events (duplicates, ties in time, late arrivals), any arrival order, any batch
    /// split: the engine holds the training vector.
    #[test]
    fn any_split_and_order_gives_the_training_vector(
        raw in prop::collection::vec((0u8..3, 0i64..400, 0u8..6), 1..60),
        seed in any::<u64>(),
        max_batch in 1usize..12,
    ) {
        let events: Vec<Event> = raw.iter().map(|&(ip, t, u)| event(ip, t, u)).collect();
        let policy = WindowPolicy { horizon_secs: 200, max_events: 7, max_bytes: 1500 };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (engine, _dir) = engine_with(
            |c| {
                c.windows.horizon_secs = policy.horizon_secs;
                c.windows.max_events_per_entity = policy.max_events;
                c.windows.max_bytes_per_entity = policy.max_bytes;
            },
            Intel::new(),
        );
        let featurizer = Featurizer::new(policy, Intel::new().snapshot());
        let trained = featurizer.vectors(events.clone());
        let mut shuffled = events;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        shuffled.shuffle(&mut rng);
        let served = runtime.block_on(serve(&engine, shuffled, max_batch, &mut rng));
        for (ip, v) in &trained {
            let same = served[ip].as_slice().iter().zip(v.as_slice()).all(|(a, b)| a.to_bits() == b.to_bits());
            prop_assert!(same, "{} differs", ip);
        }
    }
}
