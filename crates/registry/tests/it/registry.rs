use std::fs;

use vigil_registry::{AuditAction, Registry, RegistryError, RegistryReader, WriterLock};

use crate::{artifact_bytes, info};

#[test]
fn register_promote_rollback_and_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(registry.champion().unwrap(), None);
    assert!(matches!(registry.rollback("nothing"), Err(RegistryError::NoChampion { .. })));

    let bytes1 = artifact_bytes(2, "v1");
    let v1 = registry.register(&bytes1, info(0.70, None)).unwrap();
    assert_eq!(v1.version, "v1");
    assert_eq!(v1.schema_version, "v1");
    assert_eq!(v1.classes, ["normal", "scan", "brute"]);
    assert_eq!(v1.sha256.len(), 64);
    // Registered is not promoted.
    assert_eq!(registry.champion().unwrap(), None);
    registry.promote("v1", "bootstrap").unwrap();
    assert!(matches!(
        registry.promote("v1", "again"),
        Err(RegistryError::AlreadyChampion { version }) if version == "v1"
    ));
    assert!(
        matches!(registry.rollback("no"), Err(RegistryError::NoPrevious { current }) if current == "v1")
    );

    let v2 = registry.register(&artifact_bytes(3, "v1"), info(0.80, Some("v1"))).unwrap();
    let v3 = registry.register(&artifact_bytes(4, "v1"), info(0.85, Some("v2"))).unwrap();
    assert_eq!((v2.version.as_str(), v3.version.as_str()), ("v2", "v3"));
    registry.promote("v2", "gate passed").unwrap();
    registry.promote("v3", "gate passed again").unwrap();
    assert_eq!(registry.champion().unwrap().unwrap().version, "v3");

    let back = registry.rollback("v3 misbehaves").unwrap();
    assert_eq!(back.version, "v2");
    let back = registry.rollback("v2 too").unwrap();
    assert_eq!(back.version, "v1");
    assert!(matches!(registry.rollback("no more"), Err(RegistryError::NoPrevious { .. })));

    let versions: Vec<_> = registry.list().unwrap().into_iter().map(|m| m.version).collect();
    assert_eq!(versions, ["v1", "v2", "v3"]);
    assert_eq!(registry.list().unwrap()[2].parent.as_deref(), Some("v2"));

    let history = registry.history().unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|e| (e.action, e.version.as_str(), e.previous.as_deref(), e.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (AuditAction::Register, "v1", None, "registered"),
            (AuditAction::Promote, "v1", None, "bootstrap"),
            (AuditAction::Register, "v2", Some("v1"), "registered"),
            (AuditAction::Register, "v3", Some("v2"), "registered"),
            (AuditAction::Promote, "v2", Some("v1"), "gate passed"),
            (AuditAction::Promote, "v3", Some("v2"), "gate passed again"),
            (AuditAction::Rollback, "v2", Some("v3"), "v3 misbehaves"),
            (AuditAction::Rollback, "v1", Some("v2"), "v2 too"),
        ]
    );
    assert_eq!(history[5].metrics, serde_json::json!({ "macro_f1": 0.85 }));
    assert_eq!(history[0].pid, std::process::id());
    assert!(history.iter().all(|e| e.at.parse::<jiff::Timestamp>().is_ok()));

    // The log is JSON lines, one entry each, readable without this crate.
    let text = fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 8);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["action"], "register");

    // A reader sees the same state; the layout is as documented.
    let reader = RegistryReader::open(dir.path()).unwrap();
    assert_eq!(reader.champion_version().unwrap().as_deref(), Some("v1"));
    let (manifest, bytes) = reader.load_champion().unwrap().unwrap();
    assert_eq!((manifest, bytes), (v1.clone(), bytes1));
    for file in ["models/v1/artifact.bin", "models/v1/manifest.json", "champion", "writer.lock"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let on_disk: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("models/v1/manifest.json")).unwrap())
            .unwrap();
    for key in [
        "format_version",
        "version",
        "created_at",
        "schema_version",
        "classes",
        "holdout_metrics",
        "training_summary",
        "parent",
        "sha256",
    ] {
        assert!(on_disk.get(key).is_some(), "{key}");
    }
}

#[test]
fn a_torn_audit_line_is_ignored_then_cut() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    registry.register(&artifact_bytes(2, "v1"), info(0.5, None)).unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut text = fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"at\":\"2026");
    fs::write(&log, &text).unwrap();
    assert_eq!(registry.history().unwrap().len(), 1);
    registry.promote("v1", "after a crash").unwrap();
    let history = registry.history().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].reason, "after a crash");

    // A corrupt complete line is an error naming the file and line.
    let mut text = fs::read(&log).unwrap();
    text.extend_from_slice(b"not json\n");
    fs::write(&log, &text).unwrap();
    let err = registry.history().unwrap_err().to_string();
    assert!(err.contains("audit.jsonl:3"), "{err}");
}

#[test]
fn corrupt_artifacts_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    let manifest = registry.register(&artifact_bytes(2, "v1"), info(0.5, None)).unwrap();
    registry.register(&artifact_bytes(3, "v1"), info(0.6, None)).unwrap();
    registry.promote("v1", "first").unwrap();
    let reader = registry.reader();
    let artifact = dir.path().join("models/v1/artifact.bin");
    let manifest_path = dir.path().join("models/v1/manifest.json");
    let original = fs::read(&artifact).unwrap();

    // One flipped byte: checksum mismatch.
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    fs::write(&artifact, &flipped).unwrap();
    let err = reader.load_champion().unwrap_err();
    assert!(matches!(err, RegistryError::ChecksumMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&artifact.display().to_string()), "{text}");
    assert!(text.contains(&manifest.sha256), "{text}");
    // Nothing is promoted or rolled back to unverified.
    assert!(matches!(registry.promote("v1", "x"), Err(RegistryError::ChecksumMismatch { .. })));
    registry.promote("v2", "second").unwrap();
    assert!(matches!(registry.rollback("x"), Err(RegistryError::ChecksumMismatch { .. })));
    assert_eq!(reader.champion_version().unwrap().as_deref(), Some("v2"));

    // The checksum matches but the bytes are no artifact (wrong format).
    let mut edited: serde_json::Value =
        serde_json::from_slice(&fs::read(&manifest_path).unwrap()).unwrap();
    let garbage = b"VIGILART\x09\x00\x00\x00rest".to_vec();
    fs::write(&artifact, &garbage).unwrap();
    edited["sha256"] = sha256_of(&garbage).into();
    fs::write(&manifest_path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let err = reader.load("v1").unwrap_err();
    assert!(matches!(err, RegistryError::InvalidArtifact { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("artifact.bin") && text.contains("format 9"), "{text}");

    // A manifest claiming another schema.
    fs::write(&artifact, &original).unwrap();
    edited["sha256"] = manifest.sha256.clone().into();
    edited["schema_version"] = "v2".into();
    fs::write(&manifest_path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let text = reader.load("v1").unwrap_err().to_string();
    assert!(text.contains("artifact.bin") && text.contains("schema"), "{text}");

    // A missing artifact and a corrupt manifest.
    fs::remove_file(&artifact).unwrap();
    let text = reader.load("v1").unwrap_err().to_string();
    assert!(text.contains("artifact.bin"), "{text}");
    fs::write(&manifest_path, b"{").unwrap();
    let text = reader.load("v1").unwrap_err().to_string();
    assert!(text.contains("manifest.json"), "{text}");

    // Unknown and malformed version ids.
    assert!(matches!(reader.load("v9"), Err(RegistryError::NotFound { .. })));
    assert!(matches!(reader.load("../v2"), Err(RegistryError::NotFound { .. })));
}

#[test]
fn registration_checks_the_artifact_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    let bytes = artifact_bytes(2, "v1");
    let err = registry.register(b"junk", info(0.5, None)).unwrap_err();
    assert!(matches!(err, RegistryError::InvalidArtifact { .. }), "{err}");
    let mut other_schema = info(0.5, None);
    other_schema.schema_version = "nsl-kdd".into();
    assert!(registry.register(&bytes, other_schema).unwrap_err().to_string().contains("schema"));
    let mut other_classes = info(0.5, None);
    other_classes.classes = vec!["a".into(), "b".into(), "c".into()];
    assert!(registry.register(&bytes, other_classes).is_err());
    let err = registry.register(&bytes, info(0.5, Some("v7"))).unwrap_err();
    assert!(matches!(err, RegistryError::InvalidRegistration { .. }), "{err}");
    let mut no_classes = info(0.5, None);
    no_classes.classes.clear();
    assert_eq!(registry.register(&bytes, no_classes).unwrap().classes.len(), 3);
    assert_eq!(registry.list().unwrap().len(), 1);
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_reader_of_a_missing_directory_sees_an_empty_registry() {
    let dir = tempfile::tempdir().unwrap();
    let reader = RegistryReader::open(dir.path().join("not-yet")).unwrap();
    assert_eq!(reader.champion_version().unwrap(), None);
    assert_eq!(reader.load_champion().unwrap(), None);
    assert!(reader.list().unwrap().is_empty());
    assert!(reader.history().unwrap().is_empty());
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    assert!(RegistryReader::open(&file).is_err());
}

/// Run as a child process by `a_second_process_is_refused_and_told_who_holds_the_lock`.
#[test]
#[allow(clippy::print_stdout, reason = "the parent test reads the child's stdout")]
fn lock_probe_child() {
    let Ok(dir) = std::env::var("VIGIL_REGISTRY_LOCK_PROBE") else { return };
    match Registry::open(&dir) {
        Ok(_) => println!("PROBE: acquired"),
        Err(e) => println!("PROBE: {e}"),
    }
}

#[test]
fn a_second_process_is_refused_and_told_who_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let probe = || {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "registry::lock_probe_child", "--nocapture", "--test-threads=1"])
            .env("VIGIL_REGISTRY_LOCK_PROBE", dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .lines()
            .find_map(|l| l.split_once("PROBE: ").map(|(_, m)| m.to_owned()))
            .unwrap_or(stdout)
    };
    {
        let registry = Registry::open(dir.path()).unwrap();
        // The same process shares its lock: a second handle is fine.
        let again = Registry::lock_writer(dir.path()).unwrap();
        assert_eq!(again.info(), registry.lock().info());
        let holder = WriterLock::holder(dir.path()).unwrap().unwrap();
        assert_eq!(holder.pid, std::process::id());

        let refused = probe();
        let pid = std::process::id().to_string();
        assert!(refused.contains("locked by another writer"), "{refused}");
        assert!(refused.contains(&format!("pid {pid} on ")), "{refused}");
        assert!(refused.contains(" since "), "{refused}");
    }
    // Released with the last handle.
    assert_eq!(WriterLock::holder(dir.path()).unwrap(), None);
    assert_eq!(probe(), "acquired");
}

fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}
