//! The control catalogue (`data/disclosure.toml`): the seed disclosure's headings in order, each
//! statement with its requirement ids and either live checks or the operator's text key.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

use super::Check;

/// The catalogue bundled with this build.
const BUNDLED: &str = include_str!("../../data/disclosure.toml");

/// A heading of the disclosure; a leaf carries a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `3-2-a` for §(3) ② (a).
    pub id: String,
    /// The seed's Japanese heading.
    pub ja: String,
    /// The English heading.
    pub en: String,
    /// 1 for a section, 2 for a numbered item, 3 for a lettered sub-item.
    pub level: usize,
    /// What enshin states under a heading without children.
    pub statement: Option<Statement>,
}

/// One statement of the disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Requirement ids of REQUIREMENTS.md it maps to.
    pub requirements: Vec<String>,
    /// Enshin's claim in Japanese.
    pub claim_ja: String,
    /// Enshin's claim in English.
    pub claim_en: String,
    /// How the claim is backed.
    pub basis: Basis,
}

/// How a statement is backed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Checked against the deployment whenever the document is generated.
    Live(Vec<Check>),
    /// Beyond software: the operator supplies the text under this `[disclosure]` key.
    Organisational(String),
}

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// Every heading, in the seed's order.
    pub nodes: Vec<Node>,
}

/// Why a catalogue is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// Not TOML of the expected shape.
    #[error("catalogue: {0}")]
    Format(String),
    /// A node breaks a structural rule.
    #[error("catalogue node {id}: {problem}")]
    Node {
        /// The node's id.
        id: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    node: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: String,
    ja: String,
    en: String,
    requirements: Option<Vec<String>>,
    checks: Option<Vec<Check>>,
    organisational: Option<String>,
    claim_ja: Option<String>,
    claim_en: Option<String>,
}

/// The bundled catalogue (held to its rules by the tests, so it always parses).
pub fn catalogue() -> &'static Catalogue {
    static PARSED: LazyLock<Catalogue> =
        LazyLock::new(|| parse(BUNDLED).expect("the bundled catalogue is checked by its tests"));
    &PARSED
}

/// Whether `id` is a well-formed node id: a section number, then an item number, then a letter.
fn level_of(id: &str) -> Option<usize> {
    let parts: Vec<&str> = id.split('-').collect();
    let number = |p: &str, max: u32| p.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n));
    let ok = match parts.as_slice() {
        [s] => number(s, 13),
        [s, i] => number(s, 13) && number(i, 20),
        [s, i, l] => {
            number(s, 13)
                && number(i, 20)
                && l.len() == 1
                && l.bytes().all(|b| b.is_ascii_lowercase())
        }
        _ => false,
    };
    ok.then_some(parts.len())
}

/// Parses and checks a catalogue: ids well formed, unique and in order under an existing
/// parent; a statement on every leaf and on no other node; one basis per statement.
pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
    let file: File = toml::from_str(text).map_err(|e| CatalogueError::Format(e.to_string()))?;
    let mut seen = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let ids: Vec<String> = file.node.iter().map(|n| n.id.clone()).collect();
    let mut nodes = Vec::new();
    for (i, raw) in file.node.into_iter().enumerate() {
        let fail = |problem: &str| CatalogueError::Node {
            id: raw.id.clone(),
            problem: problem.into(),
        };
        let level = level_of(&raw.id).ok_or_else(|| fail("malformed id"))?;
        if !seen.insert(raw.id.clone()) {
            return Err(fail("duplicate id"));
        }
        if let Some((parent, _)) = raw.id.rsplit_once('-')
            && !seen.contains(parent)
        {
            return Err(fail("its parent does not come before it"));
        }
        if raw.ja.trim().is_empty() || raw.en.trim().is_empty() {
            return Err(fail("a heading is empty"));
        }
        let prefix = format!("{}-", raw.id);
        let leaf = !ids[i + 1..].iter().any(|other| other.starts_with(&prefix));
        let statement = match (leaf, raw.claim_ja, raw.claim_en) {
            (true, Some(claim_ja), Some(claim_en))
                if !claim_ja.trim().is_empty() && !claim_en.trim().is_empty() =>
            {
                let basis = match (raw.checks, raw.organisational) {
                    (Some(checks), None) if !checks.is_empty() => Basis::Live(checks),
                    (None, Some(key)) if valid_key(&key) => {
                        if !keys.insert(key.clone()) {
                            return Err(fail("its operator text key is used twice"));
                        }
                        Basis::Organisational(key)
                    }
                    _ => return Err(fail("needs either checks or an organisational key")),
                };
                let requirements = raw
                    .requirements
                    .ok_or_else(|| fail("no requirements list"))?;
                if let Some(bad) = requirements.iter().find(|r| !valid_requirement(r)) {
                    return Err(fail(&format!("malformed requirement id {bad}")));
                }
                Some(Statement {
                    requirements,
                    claim_ja,
                    claim_en,
                    basis,
                })
            }
            (true, _, _) => return Err(fail("a statement needs claims in both languages")),
            (false, None, None)
                if raw.checks.is_none()
                    && raw.organisational.is_none()
                    && raw.requirements.is_none() =>
            {
                None
            }
            (false, _, _) => return Err(fail("a heading with children carries no statement")),
        };
        nodes.push(Node {
            id: raw.id,
            ja: raw.ja,
            en: raw.en,
            level,
            statement,
        });
    }
    Ok(Catalogue { nodes })
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn valid_requirement(id: &str) -> bool {
    id.split_once('-').is_some_and(|(family, n)| {
        !family.is_empty()
            && family.bytes().all(|b| b.is_ascii_uppercase())
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

impl Catalogue {
    /// The statements, in order.
    pub fn statements(&self) -> impl Iterator<Item = (&Node, &Statement)> {
        self.nodes
            .iter()
            .filter_map(|n| n.statement.as_ref().map(|s| (n, s)))
    }

    /// Every operator text key, in order.
    pub fn organisational_keys(&self) -> Vec<&str> {
        self.statements()
            .filter_map(|(_, s)| match &s.basis {
                Basis::Organisational(key) => Some(key.as_str()),
                Basis::Live(_) => None,
            })
            .collect()
    }

    /// Every check some statement uses.
    pub fn checks(&self) -> BTreeSet<Check> {
        self.statements()
            .flat_map(|(_, s)| match &s.basis {
                Basis::Live(checks) => checks.clone(),
                Basis::Organisational(_) => Vec::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_HEADINGS: usize = 103;
    const SEED_STATEMENTS: usize = 79;

    #[test]
    fn the_bundled_catalogue_follows_the_seed_structure() {
        let c = parse(BUNDLED).unwrap();
        assert_eq!(c.nodes.len(), SEED_HEADINGS);
        assert_eq!(c.statements().count(), SEED_STATEMENTS);
        let sections: Vec<&str> = c
            .nodes
            .iter()
            .filter(|n| n.level == 1)
            .map(|n| n.id.as_str())
            .collect();
        let expected: Vec<String> = (1..=13).map(|n| n.to_string()).collect();
        assert_eq!(sections, expected);
        assert_eq!(c.nodes[2].ja, "情報セキュリティに関する組織体制");
        assert!(c.checks().len() >= 15, "{:?}", c.checks());
        assert!(c.organisational_keys().contains(&"staff_training"));
    }

    fn one(extra: &str) -> String {
        format!("[[node]]\nid = \"1\"\nja = \"a\"\nen = \"b\"\n{extra}")
    }

    #[test]
    fn a_broken_catalogue_is_refused_with_the_node_named() {
        let good = "requirements = []\nclaim_ja = \"x\"\nclaim_en = \"y\"\n";
        assert!(parse(&one(&format!("{good}organisational = \"k\""))).is_ok());
        for (extra, problem) in [
            (good.to_owned(), "needs either checks"),
            (
                format!("{good}organisational = \"k\"\nchecks = [\"tls\"]"),
                "needs either checks",
            ),
            (format!("{good}checks = []"), "needs either checks"),
            (
                "organisational = \"k\"\nrequirements = []\nclaim_ja = \"x\"".into(),
                "both languages",
            ),
            (
                format!("{good}organisational = \"Bad Key\""),
                "needs either checks",
            ),
        ] {
            let err = parse(&one(&extra)).unwrap_err().to_string();
            assert!(
                err.contains("node 1") && err.contains(problem),
                "{extra}: {err}"
            );
        }
        let bad_req = parse(&one(
            "requirements = [\"auth1\"]\nclaim_ja = \"x\"\nclaim_en = \"y\"\norganisational = \"k\"",
        ));
        assert!(bad_req.unwrap_err().to_string().contains("auth1"));
        let unknown_check = parse(&one(
            "requirements = []\nclaim_ja = \"x\"\nclaim_en = \"y\"\nchecks = [\"vibes\"]",
        ));
        assert!(matches!(unknown_check, Err(CatalogueError::Format(_))));
        let orphan = "[[node]]\nid = \"2-1\"\nja = \"a\"\nen = \"b\"\n";
        assert!(parse(orphan).unwrap_err().to_string().contains("parent"));
        let leaf = one(&format!("{good}organisational = \"k\"\n"));
        let twice = format!("{leaf}{leaf}");
        assert!(parse(&twice).unwrap_err().to_string().contains("duplicate"));
        let parent_with_claim = format!(
            "{}[[node]]\nid = \"1-1\"\nja = \"a\"\nen = \"b\"\nrequirements = []\nclaim_ja = \"x\"\nclaim_en = \"y\"\norganisational = \"k\"\n",
            one("requirements = []\nclaim_ja = \"x\"\nclaim_en = \"y\"\norganisational = \"j\"\n")
        );
        assert!(
            parse(&parent_with_claim)
                .unwrap_err()
                .to_string()
                .contains("children")
        );
        assert!(parse("[[node]]\nid = \"14\"\nja = \"a\"\nen = \"b\"\n").is_err());
    }
}
