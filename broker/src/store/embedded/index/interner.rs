//! Interned names (types, attribute names) of one tenant.
//!
//! A million entities share a handful of types and a few dozen attribute names; storing each
//! name once and referring to it by a 4-byte [`Sym`] keeps per-entity metadata small. Names are
//! never forgotten: a tenant's vocabulary is small and bounded by its data model.

use std::collections::HashMap;
use std::sync::Arc;

/// An interned name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

#[derive(Debug, Default)]
pub struct Interner {
    syms: HashMap<Arc<str>, Sym>,
    names: Vec<Arc<str>>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(sym) = self.syms.get(name) {
            return *sym;
        }
        // More than 4 billion distinct names would exhaust memory long before u32.
        let sym = Sym(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.syms.insert(name, sym);
        sym
    }

    /// The symbol of a name already seen.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.syms.get(name).copied()
    }

    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym.0 as usize).map_or("", |n| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stored_once() {
        let mut interner = Interner::default();
        let a = interner.intern("https://example.org/A");
        let b = interner.intern("https://example.org/B");
        assert_ne!(a, b);
        assert_eq!(interner.intern("https://example.org/A"), a);
        assert_eq!(interner.get("https://example.org/B"), Some(b));
        assert_eq!(interner.get("https://example.org/C"), None);
        assert_eq!(interner.name(a), "https://example.org/A");
    }
}
