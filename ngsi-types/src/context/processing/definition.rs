//! JSON-LD 1.1 Create Term Definition (section 4.2) and the IRI expansion it needs while a
//! context object is processed: terms are defined on demand, in dependency order, which is
//! where cyclic definitions are found.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Processor;
use crate::context::iri::{
    has_keyword_form, is_absolute_iri, is_gen_delim, is_keyword, split_compact_iri,
};
use crate::context::term::{Container, TermDefinition, TypeMapping};
use crate::error::{NgsiError, Result};

impl Processor<'_> {
    /// JSON-LD 1.1 Create Term Definition (section 4.2), for one term of the object `local`.
    pub(super) fn define(&mut self, defs: &mut Definitions<'_>, term: &str) -> Result<()> {
        match defs.state.get(term) {
            Some(true) => return Ok(()),
            Some(false) => {
                return Err(NgsiError::InvalidContext(format!(
                    "cyclic IRI mapping: the definition of '{term}' depends on itself"
                )))
            }
            None => {}
        }
        defs.state.insert(term.to_owned(), false);
        static UNDEFINED: Value = Value::Null;
        let local = defs.local;
        let value = local.get(term).unwrap_or(&UNDEFINED);
        let result = self.define_value(defs, term, value);
        defs.state.insert(term.to_owned(), true);
        result
    }

    fn define_value(
        &mut self,
        defs: &mut Definitions<'_>,
        term: &str,
        value: &Value,
    ) -> Result<()> {
        let empty = Map::new();
        let (id, spec) = match value {
            Value::Null => {
                self.terms.remove(term);
                return Ok(());
            }
            Value::String(id) => (Some(id.as_str()), &empty),
            Value::Object(spec) => {
                let id = match spec.get("@reverse").or_else(|| spec.get("@id")) {
                    None => None,
                    Some(Value::Null) => {
                        self.terms.remove(term);
                        return Ok(());
                    }
                    Some(Value::String(id)) => Some(id.as_str()),
                    Some(other) => {
                        return Err(NgsiError::InvalidContext(format!(
                            "term '{term}': @id must be a string, not {other}"
                        )))
                    }
                };
                (id, spec)
            }
            other => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': a definition must be a string, an object or null, not {other}"
                )))
            }
        };

        let iri = match id {
            // Step 14: an @id equal to the term itself is ignored, the term is vocab-relative.
            Some(id) if id != term => {
                if has_keyword_form(id) && !is_keyword(id) {
                    // Reserved keyword form: JSON-LD ignores such a definition.
                    return Ok(());
                }
                if id == "@context" {
                    return Err(NgsiError::InvalidContext(format!(
                        "term '{term}' cannot alias @context"
                    )));
                }
                self.expand_iri(defs, id, true)?
            }
            _ if term.contains(':') => self.expand_iri(defs, term, true)?,
            _ => format!("{}{term}", self.vocab()),
        };
        if !is_keyword(&iri) && !is_absolute_iri(&iri) {
            return Err(NgsiError::InvalidContext(format!(
                "term '{term}': '{iri}' is not an IRI"
            )));
        }

        let type_mapping = match spec.get("@type") {
            None => None,
            Some(Value::String(t)) => Some(match t.as_str() {
                "@id" => TypeMapping::Id,
                "@vocab" => TypeMapping::Vocab,
                "@json" => TypeMapping::Json,
                "@none" => TypeMapping::None,
                other => {
                    let datatype = self.expand_iri(defs, other, true)?;
                    if !is_absolute_iri(&datatype) {
                        return Err(NgsiError::InvalidContext(format!(
                            "term '{term}': @type '{other}' is not an IRI"
                        )));
                    }
                    TypeMapping::Datatype(datatype)
                }
            }),
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': @type must be a string, not {other}"
                )))
            }
        };

        let containers = match spec.get("@container") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(c)) => vec![container(term, c)?],
            Some(Value::Array(cs)) => cs
                .iter()
                .map(|c| match c {
                    Value::String(c) => container(term, c),
                    other => Err(NgsiError::InvalidContext(format!(
                        "term '{term}': invalid @container {other}"
                    ))),
                })
                .collect::<Result<_>>()?,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': invalid @container {other}"
                )))
            }
        };

        let scoped_context = match spec.get("@context") {
            None => false,
            Some(Value::Null | Value::Object(_) | Value::String(_) | Value::Array(_)) => true,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': invalid scoped @context {other}"
                )))
            }
        };

        // JSON-LD 1.1 makes a term a prefix when its IRI ends with a gen-delim; Oxion applies
        // that to expanded definitions too, unless they say "@prefix": false.
        let may_be_prefix = !term.contains(':') && !term.contains('/') && !is_keyword(&iri);
        let prefix = match spec.get("@prefix") {
            Some(Value::Bool(explicit)) => *explicit && may_be_prefix,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': @prefix must be true or false, not {other}"
                )))
            }
            None => may_be_prefix && iri.ends_with(is_gen_delim),
        };
        let protected = match spec.get("@protected") {
            Some(Value::Bool(p)) => *p,
            _ => defs.protected,
        };

        self.terms.insert(
            term.to_owned(),
            TermDefinition {
                iri,
                type_mapping,
                containers,
                prefix,
                protected,
                reverse: spec.contains_key("@reverse"),
                scoped_context,
            },
        );
        Ok(())
    }

    /// JSON-LD 1.1 IRI Expansion (section 5.2.2) while processing: terms of the object being
    /// processed are defined on demand, which is where cycles show up.
    pub(super) fn expand_iri(
        &mut self,
        defs: &mut Definitions<'_>,
        value: &str,
        vocab: bool,
    ) -> Result<String> {
        if is_keyword(value) {
            return Ok(value.to_owned());
        }
        if let Some((prefix, suffix)) = split_compact_iri(value) {
            if defs.local.contains_key(prefix) {
                self.define(defs, prefix)?;
            }
            return Ok(match self.lookup(prefix) {
                Some(def) if !def.is_keyword_alias() => format!("{}{suffix}", def.iri),
                _ => value.to_owned(),
            });
        }
        if value.contains(':') || !vocab {
            return Ok(value.to_owned());
        }
        if defs.local.contains_key(value) {
            self.define(defs, value)?;
        }
        Ok(match self.lookup(value) {
            Some(def) => def.iri.clone(),
            None => format!("{}{value}", self.vocab()),
        })
    }
}

/// The object being processed and which of its terms are defined (true) or being defined
/// (false): the `defined` map of the JSON-LD algorithm.
pub(super) struct Definitions<'l> {
    local: &'l Map<String, Value>,
    state: HashMap<String, bool>,
    protected: bool,
}

impl<'l> Definitions<'l> {
    pub(super) fn new(local: &'l Map<String, Value>, protected: bool) -> Self {
        Self {
            local,
            state: HashMap::new(),
            protected,
        }
    }
}

pub(super) fn container(term: &str, keyword: &str) -> Result<Container> {
    Container::from_keyword(keyword).ok_or_else(|| {
        NgsiError::InvalidContext(format!("term '{term}': invalid @container '{keyword}'"))
    })
}
