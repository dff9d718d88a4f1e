use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use vigil_registry::{Registry, RegistryReader};

use crate::{artifact_bytes, info};

/// A reader thread loads the champion in a loop while the writer promotes back and forth:
/// every load is whole (the manifest's checksum matches the bytes, the artifact decodes) and
/// none fails.
#[test]
fn promotes_are_atomic_for_concurrent_readers() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    let mut expected = Vec::new();
    for rounds in [2, 3, 4] {
        let bytes = artifact_bytes(rounds, "v1");
        let manifest = registry.register(&bytes, info(0.5, None)).unwrap();
        expected.push((manifest.version, bytes));
    }
    registry.promote("v1", "start").unwrap();
    let expected = Arc::new(expected);

    let stop = Arc::new(AtomicBool::new(false));
    let loads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, loads, expected) = (stop.clone(), loads.clone(), expected.clone());
            let reader = RegistryReader::open(dir.path()).unwrap();
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                while !stop.load(Ordering::Relaxed) {
                    let (manifest, bytes) = reader.load_champion().unwrap().unwrap();
                    let (_, want) = expected.iter().find(|(v, _)| *v == manifest.version).unwrap();
                    assert!(bytes == *want, "{} loaded other bytes", manifest.version);
                    assert!(reader.champion_version().unwrap().is_some());
                    seen.insert(manifest.version);
                    loads.fetch_add(1, Ordering::Relaxed);
                }
                seen
            })
        })
        .collect();

    let order = ["v2", "v3", "v1"];
    for i in 0..60 {
        registry.promote(order[i % 3], "flip").unwrap();
        if i % 10 == 9 {
            registry.rollback("flip back").unwrap();
        }
    }
    // Let the readers overlap the last promotes before stopping them.
    while loads.load(Ordering::Relaxed) < 50 {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    for reader in readers {
        seen.extend(reader.join().expect("reader thread saw an error or a mix"));
    }
    assert!(!seen.is_empty());
    assert_eq!(registry.history().unwrap().len(), 3 + 1 + 60 + 6);
}
