//! `docs/FEATURES.md` is generated from the schema table; this test fails when the file
//! differs. Rewrite it with `UPDATE_FEATURES_MD=1 cargo test -p vigil-features`.

use std::path::Path;

use vigil_features::features_markdown;

#[test]
fn features_md_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/FEATURES.md");
    let want = features_markdown();
    if std::env::var_os("UPDATE_FEATURES_MD").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with crates/features/src/schema.rs; regenerate it with \
         `UPDATE_FEATURES_MD=1 cargo test -p vigil-features --test it features_md`",
        path.display()
    );
}
