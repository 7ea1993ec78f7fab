//! The online consultation plan (オンライン診療計画, FUNC-7): the items the MHLW guideline asks
//! for, drafted by a doctor, offered to the patient only when none is blank, and agreed to
//! explicitly: by the patient, or verbally with a doctor attesting. A changed plan is a new
//! version and needs agreement again.

use serde::{Deserialize, Serialize};

use crate::record::{RecordError, TEXT_MAX, text};

/// The guideline's items, each free text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanItems {
    /// The conditions treated and the treatment.
    #[serde(default)]
    pub conditions_and_treatment: String,
    /// How online and in-person visits combine: frequency, tests.
    #[serde(default)]
    pub combination: String,
    /// When visits take place.
    #[serde(default)]
    pub schedule: String,
    /// Method and devices.
    #[serde(default)]
    pub method_and_devices: String,
    /// When online care stops and the patient comes in person (including connection failure).
    #[serde(default)]
    pub switch_to_in_person: String,
    /// What the patient does to make online care work.
    #[serde(default)]
    pub patient_cooperation: String,
    /// What happens in an emergency.
    #[serde(default)]
    pub emergency_policy: String,
    /// The emergency institution's name.
    #[serde(default)]
    pub emergency_institution: String,
    /// The emergency institution's telephone number.
    #[serde(default)]
    pub emergency_phone: String,
    /// The doctors involved and when each acts.
    #[serde(default)]
    pub doctors: String,
    /// Who is responsible for what in security (clinic, patient, service).
    #[serde(default)]
    pub security: String,
}

/// The items' names, in the guideline's order.
pub const ITEMS: [&str; 11] = [
    "conditions_and_treatment",
    "combination",
    "schedule",
    "method_and_devices",
    "switch_to_in_person",
    "patient_cooperation",
    "emergency_policy",
    "emergency_institution",
    "emergency_phone",
    "doctors",
    "security",
];

impl PlanItems {
    /// The items with their names, in [`ITEMS`] order.
    pub fn fields(&self) -> [(&'static str, &str); 11] {
        [
            (ITEMS[0], &self.conditions_and_treatment),
            (ITEMS[1], &self.combination),
            (ITEMS[2], &self.schedule),
            (ITEMS[3], &self.method_and_devices),
            (ITEMS[4], &self.switch_to_in_person),
            (ITEMS[5], &self.patient_cooperation),
            (ITEMS[6], &self.emergency_policy),
            (ITEMS[7], &self.emergency_institution),
            (ITEMS[8], &self.emergency_phone),
            (ITEMS[9], &self.doctors),
            (ITEMS[10], &self.security),
        ]
    }
}

/// Checks a draft as typed: lengths and characters; blanks are allowed until it is offered.
pub fn draft(items: &PlanItems) -> Result<PlanItems, RecordError> {
    let t = |field: &'static str, value: &str| text(field, value.trim(), TEXT_MAX);
    Ok(PlanItems {
        conditions_and_treatment: t(ITEMS[0], &items.conditions_and_treatment)?,
        combination: t(ITEMS[1], &items.combination)?,
        schedule: t(ITEMS[2], &items.schedule)?,
        method_and_devices: t(ITEMS[3], &items.method_and_devices)?,
        switch_to_in_person: t(ITEMS[4], &items.switch_to_in_person)?,
        patient_cooperation: t(ITEMS[5], &items.patient_cooperation)?,
        emergency_policy: t(ITEMS[6], &items.emergency_policy)?,
        emergency_institution: t(ITEMS[7], &items.emergency_institution)?,
        emergency_phone: t(ITEMS[8], &items.emergency_phone)?,
        doctors: t(ITEMS[9], &items.doctors)?,
        security: t(ITEMS[10], &items.security)?,
    })
}

/// A plan can be offered only with every item filled in; the blank ones are named.
pub fn offerable(items: &PlanItems) -> Result<(), Vec<&'static str>> {
    let blank: Vec<&'static str> = items
        .fields()
        .iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(name, _)| *name)
        .collect();
    if blank.is_empty() { Ok(()) } else { Err(blank) }
}

/// How a patient agreed to a plan version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementMethod {
    /// The patient agreed in the app.
    Patient,
    /// The patient agreed aloud; a doctor attests it.
    Verbal,
}

impl AgreementMethod {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Verbal => "verbal",
        }
    }

    /// The method of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Patient, Self::Verbal]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> PlanItems {
        PlanItems {
            conditions_and_treatment: "高血圧症の薬物療法".into(),
            combination: "3か月に1回は対面".into(),
            schedule: "月1回 平日午前".into(),
            method_and_devices: "スマートフォンのビデオ通話".into(),
            switch_to_in_person: "血圧180以上、通信障害が続くとき".into(),
            patient_cooperation: "家庭血圧を毎日記録".into(),
            emergency_policy: "119番、当院へ連絡".into(),
            emergency_institution: "市立病院".into(),
            emergency_phone: "03-1234-5678".into(),
            doctors: "主治医 山本".into(),
            security: "端末の管理は患者、通信は事業者".into(),
        }
    }

    #[test]
    fn a_plan_with_a_blank_item_cannot_be_offered() {
        assert_eq!(offerable(&full()), Ok(()));
        let mut p = full();
        p.emergency_phone = "  ".into();
        p.security = String::new();
        assert_eq!(offerable(&p), Err(vec!["emergency_phone", "security"]));
        assert_eq!(
            offerable(&PlanItems::default()).unwrap_err().len(),
            ITEMS.len()
        );
    }

    #[test]
    fn drafts_are_trimmed_and_bounded() {
        let mut p = full();
        p.schedule = "  月1回  ".into();
        assert_eq!(draft(&p).unwrap().schedule, "月1回");
        p.doctors = "x".repeat(TEXT_MAX + 1);
        assert_eq!(draft(&p).unwrap_err().field(), "doctors");
    }
}
