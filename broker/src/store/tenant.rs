//! Tenants (clause 4.14): the `NGSILD-Tenant` header names one; no header is the default tenant.

use std::fmt;

/// A tenant name; `None` is the default tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Tenant(Option<String>);

/// Longest tenant name accepted (Orion-LD derives a database name from it, which MongoDB caps).
pub const MAX_TENANT_LEN: usize = 50;

impl Tenant {
    /// The default tenant (no `NGSILD-Tenant` header).
    pub fn default_tenant() -> Self {
        Self(None)
    }

    /// A named tenant, if the name is acceptable: 1 to 50 ASCII letters, digits, `_` or `-`.
    pub fn named(name: &str) -> Option<Self> {
        let ok = !name.is_empty()
            && name.len() <= MAX_TENANT_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        ok.then(|| Self(Some(name.to_owned())))
    }

    pub fn name(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn is_default(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("(default)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_checked() {
        assert_eq!(
            Tenant::named("city-1_a")
                .and_then(|t| t.name().map(str::to_owned))
                .as_deref(),
            Some("city-1_a")
        );
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(51)] {
            assert!(Tenant::named(bad).is_none(), "{bad}");
        }
        assert!(Tenant::default_tenant().is_default());
    }
}
