//! Integration tests of vigil-engine: the engine driven without any HTTP server, and the
//! parity of serving and training feature vectors.

mod engine;
mod parity;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;
use vigil_engine::{Config, Engine, LoadedModel};
use vigil_features::Intel;
use vigil_model::Artifact;
use vigil_store::{AnyCache, MemoryCache, MemoryConfig, SampleStore, SampleStoreConfig};

/// `../shared/datasets/<rel>`, or a panic that says what is missing.
pub(crate) fn shared(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets").join(rel);
    assert!(
        path.exists(),
        "{} is missing: these tests need ../shared/datasets beside the checkout",
        path.display()
    );
    path
}

/// [`vigil_retrain::synthetic::tiny_artifact`] as model `t1`, trained once per process.
pub(crate) fn tiny_model() -> LoadedModel {
    static ARTIFACT: OnceLock<Artifact> = OnceLock::new();
    let artifact = ARTIFACT.get_or_init(|| vigil_retrain::synthetic::tiny_artifact(1));
    LoadedModel::new("t1", serde_json::json!({ "version": "t1" }), artifact.clone()).unwrap()
}

/// An engine over temporary stores with `config` changed by `change`, `intel` as feeds and
/// the tiny model loaded.
pub(crate) fn engine_with(change: impl FnOnce(&mut Config), intel: Intel) -> (Engine, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::rooted_at(dir.path());
    config.learning.bootstrap.enabled = false;
    change(&mut config);
    config.check().unwrap();
    let samples = SampleStore::open_with(
        &config.database,
        SampleStoreConfig {
            classes: Some(vigil_core::ClassSet::threat()),
            ..SampleStoreConfig::default()
        },
    )
    .unwrap();
    let cache = AnyCache::Memory(MemoryCache::new(MemoryConfig::default()));
    let engine = Engine::from_parts(config, cache, samples, intel);
    engine.set_model(tiny_model());
    (engine, dir)
}

/// The real threat-intel feeds of `../shared/datasets/intel`, as a configuration section.
pub(crate) fn real_intel() -> vigil_engine::IntelConfig {
    vigil_engine::IntelConfig {
        tor_exits: Some(shared("intel/torproject_exit-addresses_2024-03-12.txt")),
        c2: Some(shared("intel/abusech_feodo_ipblocklist_2021-12-20.csv")),
        blocklists: vec![shared("intel/firehol_level1_2026-08-22.netset")],
        asn: Some(shared("intel/iptoasn_ip2asn-v4_google-cloudflare-subset.tsv")),
        ..vigil_engine::IntelConfig::default()
    }
}
