//! The document: the catalogue's statements with their evidence or the operator's text, as JSON
//! (the record kept for each revision) and as Markdown.

use std::collections::BTreeMap;
use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::catalogue::{Basis, Catalogue};
use super::checks::{Both, Evidence, Status, when};
use crate::audit::checkpoint::{WriterKey, verify_document};

/// The `format` of every document of this shape.
pub const FORMAT: &str = "enshin-disclosure/v1";

/// The language of a rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Japanese (the document of record).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Reads `ja` or `en`.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "ja" => Some(Self::Ja),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The text of `both` in this language.
    pub fn pick(self, both: &Both) -> &str {
        match self {
            Self::Ja => &both.ja,
            Self::En => &both.en,
        }
    }
}

/// The operator's texts of organisational statements, from `[disclosure]` in `enshin.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorTexts {
    /// Japanese texts by key.
    pub ja: BTreeMap<String, String>,
    /// English texts by key (the Japanese one stands in for a missing one).
    pub en: BTreeMap<String, String>,
}

/// How one statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Every live check holds: the claim is made.
    Holds,
    /// A check could not observe: the claim is not made.
    Unknown,
    /// A check failed: a non-conformance, shown instead of the claim.
    Fails,
    /// The operator supplied the text.
    Organisational,
    /// The operator has not supplied the text: shown as missing.
    NotSupplied,
}

/// One statement in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocStatement {
    /// Requirement ids.
    pub requirements: Vec<String>,
    /// Enshin's claim.
    pub claim: Both,
    /// `live` or `organisational`.
    pub basis: String,
    /// The live checks behind it.
    pub checks: Vec<String>,
    /// The `[disclosure]` key of the operator's text.
    pub config_key: Option<String>,
    /// The operator's text.
    pub operator_text: Option<Both>,
    /// How it stands.
    pub standing: Standing,
}

/// One heading in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocNode {
    /// The catalogue id.
    pub id: String,
    /// 1, 2 or 3.
    pub level: usize,
    /// `(3)`, `②`, `(a)`.
    pub label: String,
    /// The heading.
    pub title: Both,
    /// The statement of a leaf.
    pub statement: Option<DocStatement>,
}

/// One check's evidence in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's id.
    pub id: String,
    /// `holds`, `unknown` or `fails`.
    pub status: Standing,
    /// What was seen.
    pub seen: Both,
    /// When (RFC 3339).
    pub at: String,
}

/// Counts over the statements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Statements in all.
    pub statements: usize,
    /// Checked and holding.
    pub holds: usize,
    /// Not observable here.
    pub unknown: usize,
    /// Non-conformances.
    pub fails: usize,
    /// With the operator's text.
    pub organisational: usize,
    /// Missing the operator's text.
    pub not_supplied: usize,
    /// No non-conformance.
    pub conformant: bool,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// [`FORMAT`].
    pub format: String,
    /// When it was generated (RFC 3339).
    pub generated_at: String,
    /// The same, unix ms.
    pub generated_at_ms: i64,
    /// Its revision number once published.
    pub revision: Option<u64>,
    /// The software and its version.
    pub software: String,
    /// Counts.
    pub summary: Summary,
    /// Every check's evidence.
    pub checks: Vec<CheckResult>,
    /// Every heading, in the seed's order.
    pub nodes: Vec<DocNode>,
}

/// The label of a heading in the seed's numbering: `(3)`, `②`, `(a)`.
pub fn label(id: &str) -> String {
    let last = id.rsplit('-').next().unwrap_or(id);
    match id.matches('-').count() {
        0 => format!("({last})"),
        1 => last
            .parse::<u32>()
            .ok()
            .and_then(|n| char::from_u32(0x2460 + n - 1))
            .map_or_else(|| format!("{last}."), String::from),
        _ => format!("({last})"),
    }
}

fn standing_of(status: Status) -> Standing {
    match status {
        Status::Holds => Standing::Holds,
        Status::Unknown => Standing::Unknown,
        Status::Fails => Standing::Fails,
    }
}

/// Puts the catalogue, the evidence and the operator's texts together.
pub fn assemble(
    catalogue: &Catalogue,
    evidence: &[Evidence],
    texts: &OperatorTexts,
    at_ms: i64,
    software: &str,
) -> Document {
    let mut summary = Summary::default();
    let nodes = catalogue
        .nodes
        .iter()
        .map(|node| {
            let statement = node.statement.as_ref().map(|s| {
                let (basis, checks, config_key, operator_text, standing) = match &s.basis {
                    Basis::Live(checks) => {
                        let worst = checks
                            .iter()
                            .filter_map(|c| evidence.iter().find(|e| e.check == *c))
                            .map(|e| e.status)
                            .max()
                            .unwrap_or(Status::Unknown);
                        let ids = checks.iter().map(|c| c.id().to_owned()).collect();
                        ("live", ids, None, None, standing_of(worst))
                    }
                    Basis::Organisational(key) => {
                        let text = texts
                            .ja
                            .get(key)
                            .filter(|t| !t.trim().is_empty())
                            .map(|ja| Both {
                                ja: ja.clone(),
                                en: texts.en.get(key).unwrap_or(ja).clone(),
                            });
                        let standing = if text.is_some() {
                            Standing::Organisational
                        } else {
                            Standing::NotSupplied
                        };
                        (
                            "organisational",
                            Vec::new(),
                            Some(format!("disclosure.{key}")),
                            text,
                            standing,
                        )
                    }
                };
                summary.statements += 1;
                match standing {
                    Standing::Holds => summary.holds += 1,
                    Standing::Unknown => summary.unknown += 1,
                    Standing::Fails => summary.fails += 1,
                    Standing::Organisational => summary.organisational += 1,
                    Standing::NotSupplied => summary.not_supplied += 1,
                }
                DocStatement {
                    requirements: s.requirements.clone(),
                    claim: Both {
                        ja: s.claim_ja.clone(),
                        en: s.claim_en.clone(),
                    },
                    basis: basis.into(),
                    checks,
                    config_key,
                    operator_text,
                    standing,
                }
            });
            DocNode {
                id: node.id.clone(),
                level: node.level,
                label: label(&node.id),
                title: Both {
                    ja: node.ja.clone(),
                    en: node.en.clone(),
                },
                statement,
            }
        })
        .collect();
    summary.conformant = summary.fails == 0;
    let used = catalogue.checks();
    Document {
        format: FORMAT.into(),
        generated_at: crate::fhir::instant(at_ms),
        generated_at_ms: at_ms,
        revision: None,
        software: software.into(),
        summary,
        checks: evidence
            .iter()
            .filter(|e| used.contains(&e.check))
            .map(|e| CheckResult {
                id: e.check.id().into(),
                status: standing_of(e.status),
                seen: e.seen.clone(),
                at: crate::fhir::instant(e.at_ms),
            })
            .collect(),
        nodes,
    }
}

/// Fixed words of the rendering.
struct Words {
    title: &'static str,
    generated: &'static str,
    revision: &'static str,
    draft: &'static str,
    summary: &'static str,
    holds: &'static str,
    unknown: &'static str,
    fails: &'static str,
    organisational: &'static str,
    not_supplied: &'static str,
    requirements: &'static str,
    evidence: &'static str,
    missing_text: &'static str,
    fails_lead: &'static str,
    unknown_lead: &'static str,
}

const JA: Words = Words {
    title: "サービス仕様適合開示書",
    generated: "生成日時",
    revision: "版",
    draft: "未公開(確認用)",
    summary: "要約",
    holds: "確認済み・適合",
    unknown: "未確認",
    fails: "不適合",
    organisational: "運用による対応(運営者の記載)",
    not_supplied: "運営者の記載なし",
    requirements: "対応要件",
    evidence: "確認結果",
    missing_text: "この項目の内容は、運営者が enshin.toml に記載していません",
    fails_lead: "この項目は現在満たしていません。",
    unknown_lead: "この項目はこの環境では確認できないため、記載を控えます。",
};

const EN: Words = Words {
    title: "Service conformance disclosure",
    generated: "Generated",
    revision: "Revision",
    draft: "not published (preview)",
    summary: "Summary",
    holds: "checked, holds",
    unknown: "not checked",
    fails: "non-conformance",
    organisational: "organisational (operator's text)",
    not_supplied: "operator's text missing",
    requirements: "Requirements",
    evidence: "Evidence",
    missing_text: "The operator has not supplied this statement's text in enshin.toml",
    fails_lead: "This statement does not hold at present.",
    unknown_lead: "This statement cannot be checked here, so it is not made.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

impl Standing {
    /// This standing's name in `lang`.
    pub fn name(self, lang: Lang) -> &'static str {
        let w = words(lang);
        match self {
            Self::Holds => w.holds,
            Self::Unknown => w.unknown,
            Self::Fails => w.fails,
            Self::Organisational => w.organisational,
            Self::NotSupplied => w.not_supplied,
        }
    }

    /// The CSS class and the JSON name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::Unknown => "unknown",
            Self::Fails => "fails",
            Self::Organisational => "organisational",
            Self::NotSupplied => "not_supplied",
        }
    }
}

impl DocStatement {
    /// What the document says for this statement in `lang`: the claim when it stands, or the
    /// reason it is not made.
    pub fn body(&self, lang: Lang) -> String {
        let w = words(lang);
        match self.standing {
            Standing::Holds => lang.pick(&self.claim).to_owned(),
            Standing::Organisational => {
                let text = self.operator_text.as_ref().map_or("", |t| lang.pick(t));
                format!("{}\n\n{text}", lang.pick(&self.claim))
            }
            Standing::Fails => w.fails_lead.into(),
            Standing::Unknown => w.unknown_lead.into(),
            Standing::NotSupplied => format!(
                "{} ({})",
                w.missing_text,
                self.config_key.as_deref().unwrap_or("")
            ),
        }
    }
}

impl Document {
    /// The evidence of the checks behind `statement`.
    pub fn evidence_of<'a>(
        &'a self,
        statement: &'a DocStatement,
    ) -> impl Iterator<Item = &'a CheckResult> {
        self.checks
            .iter()
            .filter(|c| statement.checks.contains(&c.id))
    }

    /// The heading line of the document in `lang`.
    pub fn title(&self, lang: Lang) -> &'static str {
        words(lang).title
    }

    /// "Generated …, revision …" in `lang`.
    pub fn byline(&self, lang: Lang) -> String {
        let w = words(lang);
        let revision = self
            .revision
            .map_or_else(|| w.draft.to_owned(), |n| n.to_string());
        format!(
            "{}: {} ・ {}: {} ・ {}",
            w.generated,
            when(self.generated_at_ms),
            w.revision,
            revision,
            self.software
        )
    }

    /// The summary line in `lang`.
    pub fn summary_line(&self, lang: Lang) -> String {
        let w = words(lang);
        let s = &self.summary;
        format!(
            "{}: {} {} ・ {} {} ・ {} {} ・ {} {} ・ {} {}",
            w.summary,
            w.holds,
            s.holds,
            w.fails,
            s.fails,
            w.unknown,
            s.unknown,
            w.organisational,
            s.organisational,
            w.not_supplied,
            s.not_supplied
        )
    }

    /// The words "Requirements" and "Evidence" in `lang`.
    pub fn captions(lang: Lang) -> (&'static str, &'static str) {
        let w = words(lang);
        (w.requirements, w.evidence)
    }
}

/// One check's evidence as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceView {
    /// The check's id.
    pub id: String,
    /// `holds`, `unknown` or `fails`.
    pub status: &'static str,
    /// Its name in the page's language.
    pub status_name: &'static str,
    /// When it was seen.
    pub at: String,
    /// What was seen.
    pub seen: String,
}

/// One statement as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementView {
    /// The standing's code (a CSS class).
    pub standing: &'static str,
    /// The standing's name.
    pub standing_name: &'static str,
    /// The claim and the operator's text, or why no claim is made, by paragraph.
    pub paragraphs: Vec<String>,
    /// The evidence of its checks.
    pub evidence: Vec<EvidenceView>,
    /// Its requirement ids, comma-separated.
    pub requirements: String,
}

/// One heading as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The catalogue id (an anchor).
    pub id: String,
    /// 1 to 3.
    pub level: usize,
    /// `(3)`, `②`, `(a)`.
    pub label: String,
    /// The heading.
    pub title: String,
    /// The statement of a leaf.
    pub statement: Option<StatementView>,
}

/// The document in one language, every text decided: what the HTML and Markdown renderings show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// `ja` or `en`.
    pub lang: &'static str,
    /// The document's title.
    pub title: &'static str,
    /// Generated when, which revision, which software.
    pub byline: String,
    /// The counts.
    pub summary: String,
    /// No non-conformance.
    pub conformant: bool,
    /// "Requirements".
    pub requirements_caption: &'static str,
    /// "Evidence".
    pub evidence_caption: &'static str,
    /// Every heading.
    pub nodes: Vec<NodeView>,
}

impl Document {
    /// The document in `lang`.
    pub fn view(&self, lang: Lang) -> View {
        let (requirements_caption, evidence_caption) = Self::captions(lang);
        let nodes = self
            .nodes
            .iter()
            .map(|node| NodeView {
                id: node.id.clone(),
                level: node.level,
                label: node.label.clone(),
                title: lang.pick(&node.title).to_owned(),
                statement: node.statement.as_ref().map(|s| StatementView {
                    standing: s.standing.code(),
                    standing_name: s.standing.name(lang),
                    paragraphs: s
                        .body(lang)
                        .split("\n\n")
                        .filter(|p| !p.trim().is_empty())
                        .map(str::to_owned)
                        .collect(),
                    evidence: self
                        .evidence_of(s)
                        .map(|e| EvidenceView {
                            id: e.id.clone(),
                            status: e.status.code(),
                            status_name: e.status.name(lang),
                            at: when_rfc3339(&e.at),
                            seen: lang.pick(&e.seen).to_owned(),
                        })
                        .collect(),
                    requirements: s.requirements.join(", "),
                }),
            })
            .collect();
        View {
            lang: match lang {
                Lang::Ja => "ja",
                Lang::En => "en",
            },
            title: self.title(lang),
            byline: self.byline(lang),
            summary: self.summary_line(lang),
            conformant: self.summary.conformant,
            requirements_caption,
            evidence_caption,
            nodes,
        }
    }
}

/// `2026-11-29T01:50:22.123Z` as `2026-11-29 01:50 UTC`.
fn when_rfc3339(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => at.to_owned(),
    }
}

/// The document as Markdown in `lang`.
pub fn markdown(doc: &Document, lang: Lang) -> String {
    let view = doc.view(lang);
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", view.title);
    let _ = writeln!(out, "{}\n", view.byline);
    let _ = writeln!(out, "{}\n", view.summary);
    for node in &view.nodes {
        let hashes = "#".repeat(node.level + 1);
        let _ = writeln!(out, "{hashes} {} {}\n", node.label, node.title);
        let Some(s) = &node.statement else { continue };
        for (i, p) in s.paragraphs.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "**[{}]** {p}\n", s.standing_name);
            } else {
                let _ = writeln!(out, "{p}\n");
            }
        }
        for e in &s.evidence {
            let _ = writeln!(
                out,
                "- {} `{}` ({}, {}): {}",
                view.evidence_caption, e.id, e.status_name, e.at, e.seen
            );
        }
        if !s.requirements.is_empty() {
            let _ = writeln!(out, "- {}: {}", view.requirements_caption, s.requirements);
        }
        out.push('\n');
    }
    out
}

/// The `format` of a published revision handed out with its signature.
pub const SIGNED_FORMAT: &str = "enshin-disclosure-signed/v1";

/// A published revision as `/disclosure.json` hands it out: the document's exact bytes, the
/// signer and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// [`SIGNED_FORMAT`].
    pub format: String,
    /// The revision number.
    pub revision: u64,
    /// The document's JSON, byte for byte as signed.
    pub document: String,
    /// The signing writer's id.
    pub signer: String,
    /// Its public key, base64.
    pub public_key: String,
    /// The signature, base64.
    pub signature: String,
}

impl Signed {
    /// The signed document, if the format is this one, the signature holds over its bytes, and
    /// it is the revision the envelope names.
    pub fn verified_document(&self) -> Option<Document> {
        if self.format != SIGNED_FORMAT
            || !verify_signature(self.document.as_bytes(), &self.public_key, &self.signature)
        {
            return None;
        }
        serde_json::from_str::<Document>(&self.document)
            .ok()
            .filter(|d| d.revision == Some(self.revision))
    }
}

fn message(bytes: &[u8]) -> Vec<u8> {
    [FORMAT.as_bytes(), b"\n", bytes].concat()
}

/// The writer key's signature (base64) over a published document's exact JSON bytes.
pub fn sign(bytes: &[u8], key: &WriterKey) -> String {
    STANDARD.encode(key.sign_document(&message(bytes)))
}

/// Whether `signature` (base64) is `public_key`'s (base64) over the document's bytes.
pub fn verify_signature(bytes: &[u8], public_key: &str, signature: &str) -> bool {
    match (STANDARD.decode(public_key), STANDARD.decode(signature)) {
        (Ok(key), Ok(sig)) => verify_document(&key, &message(bytes), &sig),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalogue::catalogue;
    use super::super::checks::tests::{NOW, good};
    use super::super::checks::{Check, evaluate_all};
    use super::*;

    fn texts() -> OperatorTexts {
        let mut t = OperatorTexts::default();
        t.ja.insert("staff_training".into(), "年1回の研修を行います。".into());
        t.en.insert("staff_training".into(), "Yearly training.".into());
        t.ja.insert("contact_hours".into(), "平日9時から17時".into());
        t
    }

    fn doc(obs: &super::super::checks::Observations) -> Document {
        assemble(
            catalogue(),
            &evaluate_all(obs),
            &texts(),
            NOW,
            "enshin test",
        )
    }

    #[test]
    fn both_languages_carry_every_statement_of_the_catalogue() {
        let d = doc(&good());
        let c = catalogue();
        assert_eq!(d.summary.statements, c.statements().count());
        for lang in [Lang::Ja, Lang::En] {
            let md = markdown(&d, lang);
            for node in &c.nodes {
                let title = if lang == Lang::Ja { &node.ja } else { &node.en };
                assert!(
                    md.contains(&format!("{} {title}", label(&node.id))),
                    "{lang:?} lacks {}",
                    node.id
                );
            }
            for (_, s) in c.statements() {
                if let Basis::Live(_) = s.basis {
                    let claim = if lang == Lang::Ja {
                        &s.claim_ja
                    } else {
                        &s.claim_en
                    };
                    assert!(md.contains(claim.as_str()), "{lang:?} lacks {claim}");
                }
            }
        }
        assert!(d.summary.conformant);
        assert_eq!(d.summary.fails, 0);
        assert_eq!(d.summary.organisational, 2);
        assert_eq!(d.summary.not_supplied, c.organisational_keys().len() - 2);
    }

    #[test]
    fn a_failing_check_replaces_its_claims_with_a_non_conformance() {
        let mut obs = good();
        obs.listeners[0].outcome = Ok(super::super::checks::TlsSeen {
            versions: vec!["TLSv1.2".into(), "TLSv1.1".into()],
            suites: vec!["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()],
            ..Default::default()
        });
        let d = doc(&obs);
        assert!(!d.summary.conformant);
        let tls_statements: Vec<&DocNode> = d
            .nodes
            .iter()
            .filter(|n| {
                n.statement
                    .as_ref()
                    .is_some_and(|s| s.checks.contains(&Check::Tls.id().to_owned()))
            })
            .collect();
        assert!(tls_statements.len() >= 3);
        assert_eq!(d.summary.fails, tls_statements.len());
        let md = markdown(&d, Lang::En);
        let ja = markdown(&d, Lang::Ja);
        for n in tls_statements {
            let s = n.statement.as_ref().unwrap();
            assert_eq!(s.standing, Standing::Fails);
            assert!(
                !md.contains(&s.claim.en),
                "the claim of {} is still printed",
                n.id
            );
            assert!(!ja.contains(&s.claim.ja));
        }
        assert!(md.contains("**[non-conformance]** This statement does not hold at present."));
        assert!(ja.contains("**[不適合]**"));
        assert!(md.contains("TLSv1.1"));
    }

    #[test]
    fn operator_texts_show_and_missing_ones_are_named() {
        let d = doc(&good());
        let ja = markdown(&d, Lang::Ja);
        let en = markdown(&d, Lang::En);
        assert!(ja.contains("年1回の研修を行います。") && en.contains("Yearly training."));
        // No English text: the Japanese one stands in.
        assert!(en.contains("平日9時から17時"));
        assert!(ja.contains("運営者の記載なし") && ja.contains("disclosure.security_organisation"));
        assert!(en.contains("operator's text missing"));
    }

    #[test]
    fn a_published_document_verifies_and_an_edited_one_does_not() {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let public = STANDARD.encode(key.public_key());
        let bytes = serde_json::to_vec(&doc(&good())).unwrap();
        let signature = sign(&bytes, &key);
        assert!(verify_signature(&bytes, &public, &signature));
        let mut edited = bytes.clone();
        let at = edited.iter().position(|b| *b == b'1').unwrap();
        edited[at] = b'2';
        assert!(!verify_signature(&edited, &public, &signature));
        assert!(!verify_signature(&bytes, "not base64!", &signature));
        let back: Document = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, doc(&good()));
    }

    #[test]
    fn labels_follow_the_seed_numbering() {
        assert_eq!(label("3"), "(3)");
        assert_eq!(label("3-2"), "②");
        assert_eq!(label("1-10"), "⑩");
        assert_eq!(label("3-2-h"), "(h)");
    }
}
