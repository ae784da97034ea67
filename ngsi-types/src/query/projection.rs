//! Projections: which members of an entity a response carries (`attrs`, `pick`, `omit`,
//! clause 4.21) and which language of a LanguageProperty (`lang`, clause 4.15).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::attribute::LanguageMap;
use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::{NgsiError, Result};
use crate::ident::check_name;

/// Entity members that `pick`/`omit` name directly rather than as attributes.
const ENTITY_MEMBERS: [&str; 4] = ["id", "type", "scope", "@context"];

/// A projection over an entity's members, with attribute names expanded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// `attrs`: only these attributes (expanded names).
    attrs: Option<HashSet<String>>,
    /// `pick`: only these members (entity members as written, attributes expanded).
    pick: Option<HashSet<String>>,
    /// `omit`: never these members.
    omit: HashSet<String>,
    /// The projections of Linked Entities (clause 4.21, `rel{a,b}`), by expanded Relationship
    /// name: in `pick`, the members kept of the entities `rel` targets; in `omit`, those left
    /// out of them (`rel` itself stays).
    linked: HashMap<String, Projection>,
}

/// One element of the Attribute Projection Language (clause 4.21): a name, and for a
/// Relationship followed into its Linked Entities, the terms that project them.
#[derive(Debug, Clone, PartialEq)]
struct ProjectionTerm {
    name: String,
    linked: Option<Vec<ProjectionTerm>>,
}

/// Deepest nesting of `{...}` accepted in a projection.
const MAX_PROJECTION_DEPTH: usize = 16;

impl Projection {
    /// Builds a projection from the raw `attrs`, `pick` and `omit` parameters.
    pub fn parse(
        attrs: Option<&str>,
        pick: Option<&str>,
        omit: Option<&str>,
        ctx: &ActiveContext,
    ) -> Result<Self> {
        if pick.is_some() && omit.is_some() {
            return Err(NgsiError::InvalidParameter {
                param: "pick".into(),
                reason: "pick and omit cannot be used together".into(),
            });
        }
        // GS CIM 009 6.4.3.2, 6.5.3.1: attrs is a deprecated synonym of pick, so the two (or
        // attrs with omit) would be two projections of one response.
        if attrs.is_some() && (pick.is_some() || omit.is_some()) {
            return Err(NgsiError::InvalidParameter {
                param: "attrs".into(),
                reason: "attrs cannot be used together with pick or omit".into(),
            });
        }
        let attrs = attrs.map(|a| names("attrs", a, ctx)).transpose()?;
        // GS CIM 009 6.5.3.1: unlike pick, attrs names attributes only (not id, type, scope).
        if let Some(member) = attrs
            .iter()
            .flatten()
            .find(|n| ENTITY_MEMBERS.contains(&n.as_str()))
        {
            return Err(NgsiError::InvalidParameter {
                param: "attrs".into(),
                reason: format!("'{member}' is an entity member, not an attribute"),
            });
        }
        // attrs with pick or omit was refused above.
        if let Some(pick) = pick {
            return Ok(Self::picking(&parse_terms("pick", pick)?, ctx));
        }
        if let Some(omit) = omit {
            return Ok(Self::omitting(&parse_terms("omit", omit)?, ctx));
        }
        Ok(Self {
            attrs,
            ..Self::default()
        })
    }

    fn picking(terms: &[ProjectionTerm], ctx: &ActiveContext) -> Self {
        let mut projection = Self {
            pick: Some(HashSet::new()),
            ..Self::default()
        };
        for term in terms {
            let name = member_or_attribute(&term.name, ctx);
            if let Some(linked) = &term.linked {
                projection
                    .linked
                    .insert(name.clone(), Self::picking(linked, ctx));
            }
            projection.pick.get_or_insert_default().insert(name);
        }
        projection
    }

    fn omitting(terms: &[ProjectionTerm], ctx: &ActiveContext) -> Self {
        let mut projection = Self::default();
        for term in terms {
            let name = member_or_attribute(&term.name, ctx);
            match &term.linked {
                Some(linked) => {
                    projection.linked.insert(name, Self::omitting(linked, ctx));
                }
                None => {
                    projection.omit.insert(name);
                }
            }
        }
        projection
    }

    /// How many Relationships the projection follows into Linked Entities (`a{b{c}}`: 2); it
    /// can be no deeper than the Linked Entity retrieval (clause 5.7.1.4).
    pub fn depth(&self) -> usize {
        self.linked
            .values()
            .map(|p| 1 + p.depth())
            .max()
            .unwrap_or(0)
    }

    /// The projection of the Linked Entities that the Relationship `relationship` (expanded)
    /// targets: what `rel{...}` says of them, else every member.
    pub fn of_linked(&self, relationship: &str) -> Projection {
        self.linked.get(relationship).cloned().unwrap_or_default()
    }

    /// A projection that keeps only the given expanded attribute names.
    pub fn attrs(expanded: impl IntoIterator<Item = String>) -> Self {
        Self {
            attrs: Some(expanded.into_iter().collect()),
            ..Self::default()
        }
    }

    /// A projection from names already expanded (a subscription's `notification.attributes`,
    /// `pick` and `omit`, clause 5.2.14.1); an empty list means "not given".
    pub fn expanded(attrs: &[String], pick: &[String], omit: &[String]) -> Self {
        let set = |names: &[String]| -> Option<HashSet<String>> {
            (!names.is_empty()).then(|| names.iter().cloned().collect())
        };
        Self {
            attrs: set(attrs),
            pick: set(pick),
            omit: set(omit).unwrap_or_default(),
            linked: HashMap::new(),
        }
    }

    /// The `attrs` list (expanded), if one was given.
    pub fn attr_names(&self) -> Option<&HashSet<String>> {
        self.attrs.as_ref()
    }

    /// The (expanded) Attributes of `pick`, when it names Attributes only: then an entity
    /// with none of them has nothing to show.
    pub fn picked_attributes_only(&self) -> Option<Vec<String>> {
        let pick = self.pick.as_ref()?;
        if pick.iter().any(|n| ENTITY_MEMBERS.contains(&n.as_str())) {
            return None;
        }
        let mut names: Vec<String> = pick.iter().cloned().collect();
        names.sort();
        Some(names)
    }

    /// True if the attribute with this expanded name is rendered.
    pub fn keeps_attribute(&self, expanded: &str) -> bool {
        self.attrs.as_ref().is_none_or(|a| a.contains(expanded))
            && self.pick.as_ref().is_none_or(|p| p.contains(expanded))
            && !self.omit.contains(expanded)
    }

    /// True if the entity member (`id`, `type`, `scope`) is rendered.
    pub fn keeps_member(&self, member: &str) -> bool {
        self.pick.as_ref().is_none_or(|p| p.contains(member)) && !self.omit.contains(member)
    }

    /// True if the projection leaves something of `entity` to return: with `attrs`, one of
    /// them (GS CIM 009 5.7.1.4, 6.5.3.1: else ResourceNotFound); with `pick` or `omit`, one
    /// member, by the same rule, as `attrs` is a synonym of `pick`.
    pub fn keeps_any_of(&self, entity: &Entity) -> bool {
        let attribute = entity.attributes.keys().any(|a| self.keeps_attribute(a));
        if self.attrs.is_some() {
            return attribute;
        }
        attribute
            || self.keeps_member("id")
            || self.keeps_member("type")
            || (!entity.scope.is_empty() && self.keeps_member("scope"))
    }
}

fn names(param: &str, list: &str, ctx: &ActiveContext) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    // GS CIM 009 4.21: `,` and `|` both separate the projected names.
    for name in list.split([',', '|']) {
        let name = name.trim();
        check_name(param, name)?;
        out.insert(member_or_attribute(name, ctx));
    }
    Ok(out)
}

/// An entity member as written, an attribute name expanded.
fn member_or_attribute(name: &str, ctx: &ActiveContext) -> String {
    if ENTITY_MEMBERS.contains(&name) {
        name.to_owned()
    } else {
        ctx.expand_term(name).into_owned()
    }
}

/// Parses `ProjectionTerm` of clause 4.21: names separated by `,` or `|`, a name followed by
/// `{...}` projecting the Linked Entities of that Relationship.
fn parse_terms(param: &str, src: &str) -> Result<Vec<ProjectionTerm>> {
    let mut pos = 0;
    let terms = parse_term_list(param, src, &mut pos, 0)?;
    if pos != src.len() {
        return Err(NgsiError::InvalidParameter {
            param: param.into(),
            reason: format!("unbalanced '}}' at {pos} in '{src}'"),
        });
    }
    Ok(terms)
}

fn parse_term_list(
    param: &str,
    src: &str,
    pos: &mut usize,
    depth: usize,
) -> Result<Vec<ProjectionTerm>> {
    if depth > MAX_PROJECTION_DEPTH {
        return Err(NgsiError::InvalidParameter {
            param: param.into(),
            reason: format!("linked projections nested deeper than {MAX_PROJECTION_DEPTH}"),
        });
    }
    let mut terms = Vec::new();
    loop {
        let rest = &src[*pos..];
        let len = rest.find([',', '|', '{', '}']).unwrap_or(rest.len());
        let name = rest[..len].trim();
        check_name(param, name)?;
        *pos += len;
        let linked = if src[*pos..].starts_with('{') {
            *pos += 1;
            let inner = parse_term_list(param, src, pos, depth + 1)?;
            if !src[*pos..].starts_with('}') {
                return Err(NgsiError::InvalidParameter {
                    param: param.into(),
                    reason: format!("a '{{' is not closed in '{src}'"),
                });
            }
            *pos += 1;
            Some(inner)
        } else {
            None
        };
        terms.push(ProjectionTerm {
            name: name.to_owned(),
            linked,
        });
        match src[*pos..].chars().next() {
            Some(',' | '|') => *pos += 1,
            _ => return Ok(terms),
        }
    }
}

/// The `lang` parameter: preferred languages with weights (an Accept-Language style list,
/// clause 4.15), or `*` for every language.
#[derive(Debug, Clone, PartialEq)]
pub struct LangFilter {
    /// Language ranges, best first; empty for `*` (any supported language).
    preferred: Vec<String>,
}

impl LangFilter {
    pub fn parse(s: &str) -> Result<Self> {
        let mut weighted: Vec<(String, f32)> = Vec::new();
        for item in s.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            if tag.is_empty() {
                return Err(lang_error(s, "empty language tag"));
            }
            let mut weight = 1.0f32;
            for param in parts {
                match param.trim().strip_prefix("q=").map(str::parse::<f32>) {
                    Some(Ok(q)) if (0.0..=1.0).contains(&q) => weight = q,
                    _ => return Err(lang_error(s, &format!("invalid weight '{param}'"))),
                }
            }
            if tag != "*" && !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(lang_error(s, &format!("'{tag}' is not a language tag")));
            }
            weighted.push((tag.to_owned(), weight));
        }
        // Stable sort keeps the client's order among equal weights.
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1));
        if weighted.first().is_some_and(|(t, _)| t == "*") {
            return Ok(Self {
                preferred: Vec::new(),
            });
        }
        Ok(Self {
            preferred: weighted
                .into_iter()
                .filter(|(t, w)| t != "*" && *w > 0.0)
                .map(|(t, _)| t)
                .collect(),
        })
    }

    /// The language and text to show from a languageMap (clause 4.15): for each preferred
    /// range, best first, a tag equal to it, then one under it (`en` finds `en-US`, RFC 4647
    /// basic filtering), then the same for the range shortened by its last subtag (`nl-BE` finds
    /// `nl`, RFC 4647 lookup); tags compare without regard to case. Without a match (and for
    /// `*`): `@none`, else the first entry, since any supported language is then served.
    pub fn select<'m>(&self, map: &'m LanguageMap) -> Option<(&'m str, &'m Value)> {
        let found = |range: &str| {
            map.iter()
                .find(|(tag, _)| tag.eq_ignore_ascii_case(range))
                .or_else(|| {
                    map.iter().find(|(tag, _)| {
                        tag.len() > range.len()
                            && tag.as_bytes()[range.len()] == b'-'
                            && tag[..range.len()].eq_ignore_ascii_case(range)
                    })
                })
        };
        self.preferred
            .iter()
            .find_map(|range| {
                let mut range = range.as_str();
                loop {
                    if let Some(hit) = found(range) {
                        return Some(hit);
                    }
                    range = &range[..range.rfind('-')?];
                }
            })
            .or_else(|| map.get_key_value("@none"))
            .or_else(|| map.first())
            .map(|(k, v)| (k.as_str(), v))
    }
}

fn lang_error(value: &str, reason: &str) -> NgsiError {
    NgsiError::InvalidParameter {
        param: "lang".into(),
        reason: format!("'{value}': {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attrs_pick_and_omit_project() {
        let ctx = ActiveContext::core();
        let p = Projection::parse(Some("speed"), None, None, &ctx).expect("valid");
        let speed = ctx.expand_term("speed").into_owned();
        let name = ctx.expand_term("name").into_owned();
        let other = ctx.expand_term("other").into_owned();
        assert!(p.keeps_attribute(&speed));
        assert!(!p.keeps_attribute(&name));
        assert!(!p.keeps_attribute(&other));
        assert!(p.keeps_member("id"));

        let p = Projection::parse(None, None, Some("name,type"), &ctx).expect("valid");
        assert!(p.keeps_attribute(&speed) && !p.keeps_attribute(&name));
        assert!(p.keeps_member("id") && !p.keeps_member("type"));

        let p = Projection::parse(None, Some("id,speed"), None, &ctx).expect("valid");
        assert!(p.keeps_member("id"));
        assert!(!p.keeps_member("type"));
        assert!(p.keeps_attribute(&speed));
        assert!(!p.keeps_attribute(&name));
    }

    #[test]
    fn attrs_is_a_synonym_of_pick_for_attributes_only() {
        let ctx = ActiveContext::core();
        assert!(Projection::parse(Some("a"), Some("b"), None, &ctx).is_err());
        assert!(Projection::parse(Some("a"), None, Some("b"), &ctx).is_err());
        assert!(Projection::parse(Some("id,type"), None, None, &ctx).is_err());
        let piped = Projection::parse(None, Some("a|b"), None, &ctx).expect("valid");
        let commas = Projection::parse(None, Some("a,b"), None, &ctx).expect("valid");
        assert_eq!(piped, commas);
    }

    #[test]
    fn a_projection_leaving_nothing_keeps_nothing() {
        let ctx = ActiveContext::core();
        let entity: Entity = crate::format::parse_entity(
            json!({"id": "urn:a", "type": "T", "speed": {"type": "Property", "value": 1}}),
            &ctx,
        )
        .expect("entity");
        let keeps = |a: Option<&str>, p: Option<&str>, o: Option<&str>| {
            Projection::parse(a, p, o, &ctx)
                .expect("valid")
                .keeps_any_of(&entity)
        };
        assert!(keeps(Some("speed"), None, None));
        assert!(!keeps(Some("other"), None, None));
        assert!(keeps(None, Some("id"), None));
        assert!(!keeps(None, Some("other"), None));
        assert!(!keeps(None, None, Some("id,type,speed")));
        assert!(keeps(None, None, Some("id,type")));
    }

    #[test]
    fn pick_with_omit_is_refused() {
        let ctx = ActiveContext::core();
        let err = Projection::parse(None, Some("a"), Some("b"), &ctx).unwrap_err();
        assert!(err.to_string().contains("pick and omit"));
        let err = Projection::parse(Some("a b"), None, None, &ctx).unwrap_err();
        assert!(matches!(err, NgsiError::InvalidName { .. }));
    }

    #[test]
    fn lang_picks_best_available_language() {
        let map: LanguageMap =
            serde_json::from_value(json!({"fr": "Grand Place", "nl": "Grote Markt"})).expect("map");
        let pick = |s: &str| {
            LangFilter::parse(s)
                .expect(s)
                .select(&map)
                .map(|(k, _)| k.to_owned())
        };
        assert_eq!(pick("nl").as_deref(), Some("nl"));
        assert_eq!(pick("de,fr").as_deref(), Some("fr"));
        assert_eq!(pick("fr;q=0.5,nl;q=0.9").as_deref(), Some("nl"));
        assert_eq!(
            pick("de").as_deref(),
            Some("fr"),
            "falls back to the first entry"
        );
        assert_eq!(pick("*").as_deref(), Some("fr"), "any supported language");
        assert_eq!(pick("NL").as_deref(), Some("nl"), "tags ignore case");
        assert_eq!(
            pick("nl-BE").as_deref(),
            Some("nl"),
            "lookup shortens the range"
        );
        let regional: LanguageMap =
            serde_json::from_value(json!({"de": "Platz", "en-US": "Square"})).expect("map");
        let found = LangFilter::parse("en").expect("en").select(&regional);
        assert_eq!(
            found.map(|(k, _)| k),
            Some("en-US"),
            "a range finds the tags under it"
        );
        assert!(LangFilter::parse("fr;q=2").is_err());
        assert!(LangFilter::parse("").is_err());
    }
}
