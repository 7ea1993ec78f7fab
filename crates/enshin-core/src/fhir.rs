//! HL7 FHIR R4 resources of a clinic's data where the mapping is fixed: the patient's registry
//! record (Patient, names in kanji and kana as JP Core writes them) and home readings
//! (Observation, coded with LOINC and UCUM from [`crate::vitals`]). The export puts them in one
//! collection Bundle per patient, so another system can take the data without reading our CSV.

use serde_json::{Value, json};

use crate::vitals::{self, Kind};

/// The extension JP Core uses to tell a kanji name (`IDE`) from its kana reading (`SYL`).
const NAME_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
/// The observation category code system.
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// RFC 3339 UTC time with milliseconds of a unix-ms time.
pub fn instant(at_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// A registry record's fields as the Patient resource needs them (empty: not recorded).
pub struct PatientFacts<'a> {
    /// The clinic's record id.
    pub id: &'a str,
    /// The clinic, which scopes the card number.
    pub clinic_id: &'a str,
    /// Family name (kanji).
    pub family_name: &'a str,
    /// Given name (kanji).
    pub given_name: &'a str,
    /// Family name in kana.
    pub family_name_kana: &'a str,
    /// Given name in kana.
    pub given_name_kana: &'a str,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: &'a str,
    /// `male`, `female`, `other` or `unknown` (FHIR's administrative gender codes).
    pub sex: &'a str,
    /// Clinic card number.
    pub card_number: &'a str,
    /// Phone number or e-mail address.
    pub contact: &'a str,
}

fn human_name(representation: &str, family: &str, given: &str) -> Value {
    json!({
        "extension": [{ "url": NAME_REPRESENTATION, "valueCode": representation }],
        "use": "official",
        "text": format!("{family} {given}").trim(),
        "family": family,
        "given": [given],
    })
}

/// The Patient resource of a registry record.
pub fn patient(p: &PatientFacts) -> Value {
    let mut names = vec![human_name("IDE", p.family_name, p.given_name)];
    if !p.family_name_kana.is_empty() || !p.given_name_kana.is_empty() {
        names.push(human_name("SYL", p.family_name_kana, p.given_name_kana));
    }
    let mut identifiers = vec![json!({ "system": "urn:enshin:clinic-patient", "value": p.id })];
    if !p.card_number.is_empty() {
        identifiers.push(json!({
            "type": { "text": "診察券番号" },
            "system": format!("urn:enshin:clinic:{}:card-number", p.clinic_id),
            "value": p.card_number,
        }));
    }
    let mut resource = json!({
        "resourceType": "Patient",
        "id": p.id,
        "identifier": identifiers,
        "name": names,
    });
    if !p.birth_date.is_empty() {
        resource["birthDate"] = json!(p.birth_date);
    }
    if matches!(p.sex, "male" | "female" | "other" | "unknown") {
        resource["gender"] = json!(p.sex);
    }
    if !p.contact.is_empty() {
        let system = if p.contact.contains('@') {
            "email"
        } else {
            "phone"
        };
        resource["telecom"] = json!([{ "system": system, "value": p.contact }]);
    }
    resource
}

/// The observation category of a kind: vital signs, laboratory, or activity.
fn category(kind: Kind) -> &'static str {
    match kind {
        Kind::Glucose | Kind::HbA1c => "laboratory",
        Kind::Steps => "activity",
        _ => "vital-signs",
    }
}

/// One home reading.
pub struct ReadingFacts<'a> {
    /// The reading's id.
    pub id: &'a str,
    /// The kind.
    pub kind: Kind,
    /// The value in the kind's smallest step.
    pub scaled: i64,
    /// When it was measured, unix ms.
    pub measured_at: i64,
    /// When it reached the service, unix ms.
    pub recorded_at: i64,
    /// Typed by the patient rather than sent by a device.
    pub manual: bool,
    /// The patient's note, if any.
    pub note: Option<&'a str>,
}

/// The Observation of a home reading of the patient `patient_id`.
pub fn observation(patient_id: &str, r: &ReadingFacts) -> Value {
    let spec = r.kind.spec();
    let value: f64 = vitals::format(r.kind, r.scaled).parse().unwrap_or_default();
    let mut resource = json!({
        "resourceType": "Observation",
        "id": r.id,
        "status": "final",
        "category": [{ "coding": [{ "system": CATEGORY, "code": category(r.kind) }] }],
        "code": {
            "coding": [{ "system": "http://loinc.org", "code": spec.loinc }],
            "text": spec.name,
        },
        "subject": { "reference": format!("Patient/{patient_id}") },
        "effectiveDateTime": instant(r.measured_at),
        "issued": instant(r.recorded_at),
        "valueQuantity": {
            "value": value,
            "unit": spec.unit_label,
            "system": "http://unitsofmeasure.org",
            "code": spec.unit,
        },
        "method": { "text": if r.manual { "patient-entered" } else { "device" } },
    });
    if let Some(note) = r.note.filter(|n| !n.is_empty()) {
        resource["note"] = json!([{ "text": note }]);
    }
    resource
}

/// Resources as a FHIR R4 collection Bundle made at `at_ms`.
pub fn collection(resources: Vec<Value>, at_ms: i64) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let url = format!(
                "urn:enshin:{}:{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({ "fullUrl": url, "resource": resource })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(at_ms),
        "total": entry.len(),
        "entry": entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(sex: &'a str, contact: &'a str) -> PatientFacts<'a> {
        PatientFacts {
            id: "p1",
            clinic_id: "c1",
            family_name: "山田",
            given_name: "花子",
            family_name_kana: "ヤマダ",
            given_name_kana: "ハナコ",
            birth_date: "1950-04-01",
            sex,
            card_number: "A-001",
            contact,
        }
    }

    #[test]
    fn a_patient_has_kanji_and_kana_names_and_its_card_number() {
        let p = patient(&facts("female", "090-1234-5678"));
        assert_eq!(p["name"][0]["extension"][0]["valueCode"], "IDE");
        assert_eq!(p["name"][0]["family"], "山田");
        assert_eq!(p["name"][1]["extension"][0]["valueCode"], "SYL");
        assert_eq!(p["name"][1]["given"][0], "ハナコ");
        assert_eq!(p["gender"], "female");
        assert_eq!(p["birthDate"], "1950-04-01");
        assert_eq!(p["identifier"][1]["value"], "A-001");
        assert_eq!(p["telecom"][0]["system"], "phone");
        let mail = patient(&facts("", "hanako@example.jp"));
        assert_eq!(mail["telecom"][0]["system"], "email");
        assert!(mail.get("gender").is_none(), "no sex recorded: no gender");
    }

    #[test]
    fn a_reading_is_a_coded_quantity() {
        let o = observation(
            "p1",
            &ReadingFacts {
                id: "r1",
                kind: Kind::Temperature,
                scaled: 365,
                measured_at: 1_795_790_000_000,
                recorded_at: 1_795_790_060_000,
                manual: true,
                note: Some("朝"),
            },
        );
        assert_eq!(o["code"]["coding"][0]["code"], "8310-5");
        assert_eq!(o["category"][0]["coding"][0]["code"], "vital-signs");
        assert_eq!(o["valueQuantity"]["value"], 36.5);
        assert_eq!(o["valueQuantity"]["code"], "Cel");
        assert_eq!(o["subject"]["reference"], "Patient/p1");
        assert_eq!(o["note"][0]["text"], "朝");
        let bundle = collection(vec![o], 1_795_790_000_000);
        assert_eq!(bundle["total"], 1);
        assert_eq!(bundle["entry"][0]["fullUrl"], "urn:enshin:Observation:r1");
    }
}
