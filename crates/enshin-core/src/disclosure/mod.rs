//! The service's conformance disclosure (DISC-1, seed §13): the catalogue of statements, the live
//! checks' rules, and the document they make together.

mod catalogue;
mod checks;
mod document;

pub use catalogue::{Basis, Catalogue, CatalogueError, Node, Statement, catalogue, parse};
pub use checks::{
    AccessLogSeen, AnnouncementsSeen, BackupsSeen, Both, CERT_WARNING_DAYS, CHECKPOINT_MAX_AGE_MS,
    Check, ClinicPagesSeen, DRILL_MAX_AGE_MS, DatabaseSeen, EncryptionSeen, Evidence,
    ListenerProbe, LocationSeen, Observations, OperatorsSeen, PasswordSeen, RecordsSeen,
    RevisionsSeen, Status, SuspensionSeen, TlsSeen, evaluate, evaluate_all, strong_suite, when,
};
pub use document::{
    DocNode, DocStatement, Document, EvidenceView, FORMAT, Lang, NodeView, OperatorTexts,
    SIGNED_FORMAT, Signed, Standing, StatementView, Summary, View, assemble, label, markdown, sign,
    verify_signature,
};
