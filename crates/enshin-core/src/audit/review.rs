//! The periodic access review (LOG-6): per clinic, how much was accessed and what looks unusual —
//! access at night, one person reading many records, repeated failures, certificates or addresses
//! not seen before, refused certificates.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::entry::{Entry, Outcome};

/// Japan is UTC+9 without daylight saving.
const JST_OFFSET_MS: i64 = 9 * 3_600_000;
/// Office hours in Japan: 07:00 to 21:00; anything else is off-hours.
const OFFICE_HOURS: std::ops::Range<i64> = 7..21;
/// Distinct records one principal may read in the period before it is flagged as a bulk read.
pub const BULK_READS: usize = 50;
/// Denied or failed requests by one principal (or one address) before they are flagged.
pub const REPEATED_FAILURES: u64 = 5;

/// What the review says about one clinic (or, under `None`, about requests of no clinic:
/// patients, unknown log-ins, TLS events).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClinicReview {
    /// Requests in the period.
    pub total: u64,
    /// Of them refused.
    pub denied: u64,
    /// Of them failed.
    pub failed: u64,
    /// Requests outside 07:00–21:00 Japan time.
    pub off_hours: u64,
    /// Principals who read at least [`BULK_READS`] distinct records, with how many.
    pub bulk_readers: Vec<(String, usize)>,
    /// Principals or addresses with at least [`REPEATED_FAILURES`] refusals or failures.
    pub repeated_failures: Vec<(String, u64)>,
    /// Client certificates used in the period and not in the look-back before it.
    pub new_certificates: Vec<String>,
    /// Source addresses used in the period and not in the look-back before it.
    pub new_addresses: Vec<String>,
    /// Client certificates refused at the handshake.
    pub refused_certificates: u64,
}

/// The review of a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    /// Per clinic id; `None` for requests of no clinic.
    pub clinics: BTreeMap<Option<String>, ClinicReview>,
}

/// Certificates and addresses each clinic used before the period.
#[derive(Debug, Default)]
pub struct Known {
    seen: HashMap<Option<String>, (HashSet<String>, HashSet<String>)>,
}

impl Known {
    /// Notes an entry of the look-back.
    pub fn note(&mut self, entry: &Entry) {
        let (certs, addresses) = self.seen.entry(entry.clinic_id.clone()).or_default();
        certs.extend(entry.cert_serial.clone());
        addresses.extend(entry.source.clone());
    }
}

fn off_hours(at_ms: i64) -> bool {
    let hour = (at_ms + JST_OFFSET_MS).rem_euclid(86_400_000) / 3_600_000;
    !OFFICE_HOURS.contains(&hour)
}

/// Reviews the entries of a period against what was known before it.
pub fn review(entries: impl IntoIterator<Item = Entry>, known: &Known) -> Review {
    #[derive(Default)]
    struct Tally {
        review: ClinicReview,
        reads: HashMap<String, BTreeSet<(String, String)>>,
        failures: HashMap<String, u64>,
        certs: BTreeSet<String>,
        addresses: BTreeSet<String>,
    }
    let mut tallies: BTreeMap<Option<String>, Tally> = BTreeMap::new();
    for e in entries {
        let t = tallies.entry(e.clinic_id.clone()).or_default();
        t.review.total += 1;
        match e.outcome {
            Outcome::Denied => t.review.denied += 1,
            Outcome::Failed => t.review.failed += 1,
            Outcome::Allowed => {}
        }
        if off_hours(e.at_ms) {
            t.review.off_hours += 1;
        }
        if e.action == "tls_client_certificate_refused" {
            t.review.refused_certificates += 1;
        }
        if let (Some(who), Some(kind), Some(id), Outcome::Allowed) =
            (&e.principal_id, &e.target_type, &e.target_id, e.outcome)
            && e.action.starts_with("GET ")
        {
            t.reads
                .entry(who.clone())
                .or_default()
                .insert((kind.clone(), id.clone()));
        }
        // A list that showed patient records read each of them.
        if let (Some(who), Outcome::Allowed) = (&e.principal_id, e.outcome)
            && !e.subjects.is_empty()
        {
            let read = t.reads.entry(who.clone()).or_default();
            read.extend(
                e.subjects
                    .iter()
                    .map(|id| ("patient".to_owned(), id.clone())),
            );
        }
        if e.outcome != Outcome::Allowed {
            let who = e
                .principal_id
                .clone()
                .or_else(|| e.source.as_ref().map(|s| format!("address {s}")));
            if let Some(who) = who {
                *t.failures.entry(who).or_default() += 1;
            }
        }
        t.certs.extend(e.cert_serial.clone());
        t.addresses.extend(e.source.clone());
    }
    let empty = (HashSet::new(), HashSet::new());
    let clinics = tallies
        .into_iter()
        .map(|(clinic, mut t)| {
            let (old_certs, old_addresses) = known.seen.get(&clinic).unwrap_or(&empty);
            t.review.bulk_readers = t
                .reads
                .into_iter()
                .map(|(who, read)| (who, read.len()))
                .filter(|(_, n)| *n >= BULK_READS)
                .collect();
            t.review.bulk_readers.sort();
            t.review.repeated_failures = t
                .failures
                .into_iter()
                .filter(|(_, n)| *n >= REPEATED_FAILURES)
                .collect();
            t.review.repeated_failures.sort();
            t.review.new_certificates = t
                .certs
                .into_iter()
                .filter(|c| !old_certs.contains(c))
                .collect();
            t.review.new_addresses = t
                .addresses
                .into_iter()
                .filter(|a| !old_addresses.contains(a))
                .collect();
            (clinic, t.review)
        })
        .collect();
    Review { clinics }
}

#[cfg(test)]
mod tests {
    use super::super::entry::Entry;
    use super::*;

    fn e(at_ms: i64, who: &str, outcome: Outcome, target: Option<&str>) -> Entry {
        Entry {
            at_ms,
            listener: "clinic".into(),
            action: "GET /api/v1/members/{id}".into(),
            target_type: target.map(|_| "member".into()),
            target_id: target.map(str::to_owned),
            outcome,
            status: 200,
            principal_id: Some(who.into()),
            principal_kind: Some("member".into()),
            role: Some("staff".into()),
            clinic_id: Some("c1".into()),
            source: Some("10.0.0.1".into()),
            cert_serial: Some("aa".into()),
            session_hash: None,
            request_id: None,
            access: None,
            subjects: Vec::new(),
        }
    }

    #[test]
    fn the_review_flags_night_access_bulk_reads_failures_and_new_certificates() {
        // 2026-11-27 10:00 JST is 01:00 UTC; 23:00 JST is 14:00 UTC.
        let day = 1_795_741_200_000;
        let night = day + 13 * 3_600_000;
        let mut entries: Vec<Entry> = (0..60)
            .map(|i| e(day, "reader", Outcome::Allowed, Some(&format!("m{i}"))))
            .collect();
        entries.extend((0..5).map(|_| e(night, "guesser", Outcome::Denied, None)));
        let mut known = Known::default();
        let mut old = e(day, "reader", Outcome::Allowed, None);
        old.cert_serial = Some("old".into());
        known.note(&old);
        let review = review(entries, &known);
        let c1 = &review.clinics[&Some("c1".to_owned())];
        assert_eq!((c1.total, c1.denied, c1.off_hours), (65, 5, 5));
        assert_eq!(c1.bulk_readers, [("reader".to_owned(), 60)]);
        assert_eq!(c1.repeated_failures, [("guesser".to_owned(), 5)]);
        assert_eq!(c1.new_certificates, ["aa"]);
        assert!(c1.new_addresses.is_empty(), "10.0.0.1 was seen before");
    }

    #[test]
    fn records_shown_by_lists_count_as_reads() {
        let day = 1_795_741_200_000;
        let mut export = e(day, "exporter", Outcome::Allowed, None);
        export.action = "GET /api/v1/patients/export".into();
        export.subjects = (0..70).map(|i| format!("p{i}")).collect();
        let mut search = e(day, "searcher", Outcome::Allowed, None);
        search.subjects = vec!["p1".into(), "p2".into()];
        let review = review(vec![export, search], &Known::default());
        let c1 = &review.clinics[&Some("c1".to_owned())];
        assert_eq!(c1.bulk_readers, [("exporter".to_owned(), 70)]);
    }
}
