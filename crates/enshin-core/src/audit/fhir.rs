//! Access-log entries as FHIR R4 AuditEvent resources in a collection Bundle, for handing a
//! clinic's entries to an incident investigation in a standard form.

use serde_json::{Value, json};

use super::entry::{Outcome, Sealed};
use crate::fhir::instant;

/// The FHIR AuditEvent `action` of an entry: C(reate), R(ead), U(pdate), D(elete), E(xecute).
fn action_code(action: &str) -> &'static str {
    match action.split(' ').next() {
        Some("GET") | Some("HEAD") => "R",
        Some("POST") => "C",
        Some("PUT") | Some("PATCH") => "U",
        Some("DELETE") => "D",
        _ => "E",
    }
}

/// One entry as an AuditEvent; its id is `writer-index`, unique and stable.
pub fn audit_event(sealed: &Sealed) -> Value {
    let e = &sealed.entry;
    let outcome = match e.outcome {
        Outcome::Allowed => "0",
        Outcome::Denied => "4",
        Outcome::Failed => "8",
    };
    let mut agent = json!({
        "requestor": true,
        "network": { "address": e.source, "type": "2" },
    });
    if let Some(who) = &e.principal_id {
        agent["who"] = json!({ "identifier": { "system": "urn:enshin:account", "value": who } });
    }
    if let Some(role) = &e.role {
        agent["role"] = json!([{ "text": role }]);
    }
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": format!("{}-{}", sealed.writer, sealed.index),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation"
        },
        "action": action_code(&e.action),
        "recorded": instant(e.at_ms),
        "outcome": outcome,
        "outcomeDesc": format!("{} {}", e.action, e.status),
        "agent": [agent],
        "source": {
            "observer": { "identifier": { "system": "urn:enshin:audit-writer", "value": sealed.writer } },
            "site": e.listener,
        },
    });
    let mut entity = Vec::new();
    if let (Some(kind), Some(id)) = (&e.target_type, &e.target_id) {
        entity.push(json!({ "what": { "identifier": { "system": format!("urn:enshin:{kind}"), "value": id } } }));
    }
    if let Some(clinic) = &e.clinic_id {
        entity.push(
            json!({ "what": { "identifier": { "system": "urn:enshin:clinic", "value": clinic } } }),
        );
    }
    if !entity.is_empty() {
        event["entity"] = Value::Array(entity);
    }
    event
}

/// Entries as a FHIR R4 collection Bundle.
pub fn bundle<'a>(entries: impl IntoIterator<Item = &'a Sealed>, at_ms: i64) -> Value {
    crate::fhir::collection(entries.into_iter().map(audit_event).collect(), at_ms)
}

#[cfg(test)]
mod tests {
    use super::super::entry::{Entry, NO_PREVIOUS};
    use super::*;

    #[test]
    fn an_entry_maps_to_an_audit_event() {
        let entry = Entry {
            at_ms: 1_795_790_000_123,
            listener: "clinic".into(),
            action: "POST /api/v1/members/{id}/disable".into(),
            target_type: Some("member".into()),
            target_id: Some("m1".into()),
            outcome: Outcome::Denied,
            status: 403,
            principal_id: Some("a1".into()),
            principal_kind: Some("member".into()),
            role: Some("doctor".into()),
            clinic_id: Some("c1".into()),
            source: Some("10.0.0.1".into()),
            cert_serial: None,
            session_hash: None,
            request_id: None,
            access: None,
            subjects: Vec::new(),
        };
        let sealed = Sealed::new("w1", 3, &NO_PREVIOUS, entry);
        let b = bundle([&sealed], 0);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["total"], 1);
        let event = &b["entry"][0]["resource"];
        assert_eq!(event["id"], "w1-3");
        assert_eq!(event["action"], "C");
        assert_eq!(event["outcome"], "4");
        assert_eq!(event["recorded"], "2026-11-27T14:33:20.123Z");
        assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "a1");
        assert_eq!(
            event["entity"][0]["what"]["identifier"]["system"],
            "urn:enshin:member"
        );
        assert_eq!(event["entity"][1]["what"]["identifier"]["value"], "c1");
    }
}
