//! `docs/permissions.md` is the matrix of `authz.rs`, rendered; this keeps them from drifting.
// covers ROLE-1

use std::path::Path;

#[test]
fn the_permissions_document_matches_the_matrix() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/permissions.md");
    let expected = enshin_core::authz::matrix_markdown();
    if std::env::var_os("ENSHIN_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/permissions.md is stale; regenerate it with: ENSHIN_UPDATE_DOCS=1 cargo test -p enshin-core --test permissions_doc"
    );
}
