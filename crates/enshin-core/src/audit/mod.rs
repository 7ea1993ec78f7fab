//! The access log's rules (LOG-1..7): what an entry holds, its canonical bytes, the Merkle tree
//! over them and the signed checkpoints that make tampering evident.

pub mod checkpoint;
pub mod entry;
pub mod fhir;
pub mod merkle;
pub mod proof;
pub mod review;
pub mod verify;
