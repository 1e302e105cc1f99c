//! The parameters of an OAuth request, a query string or a form body, read one way for the
//! authorization request ([`request`](super::request)) and for the token and revocation endpoints
//! ([`token`](super::token)): RFC 6749 §3.1 and §3.2 say no parameter may be sent twice, and an
//! empty value counts as not sent where a value is required.

use std::collections::HashMap;

/// A request's parameters by name, each with every value it was sent with.
pub struct Params<'a> {
    values: HashMap<&'a str, Vec<&'a str>>,
    repeated: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// Reads `pairs` (name, value), in the order they were sent.
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        let mut values: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut repeated = None;
        for (name, value) in pairs {
            let given = values.entry(name.as_str()).or_default();
            given.push(value.as_str());
            if given.len() == 2 && repeated.is_none() {
                repeated = Some(name.as_str());
            }
        }
        Self { values, repeated }
    }

    /// The first parameter sent more than once, if any: such a request is refused.
    pub fn repeated(&self) -> Option<&'a str> {
        self.repeated
    }

    /// The words of the refusal of a request that sent a parameter twice: the parameter's name when
    /// it is one of the endpoint's own (`known`), else none of the request's text, which an app may
    /// show its users (docs/security.md).
    pub fn repeated_refusal(&self, known: &[&str]) -> Option<String> {
        self.repeated.map(|name| {
            if known.contains(&name) {
                format!("`{name}` was given more than once")
            } else {
                "a parameter was given more than once".to_owned()
            }
        })
    }

    /// The value of `name` when it was sent exactly once, empty or not.
    pub fn single(&self, name: &str) -> Option<&'a str> {
        match self.values.get(name).map(Vec::as_slice) {
            Some([value]) => Some(*value),
            _ => None,
        }
    }

    /// The value of `name` when it was sent exactly once and is not empty.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.single(name).filter(|value| !value.is_empty())
    }

    /// Whether `name` was sent at all.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    #[test]
    fn a_parameter_sent_twice_is_named_and_has_no_single_value() {
        let sent = pairs(&[("code", "a"), ("state", ""), ("code", "b"), ("scope", "x"), ("scope", "y")]);
        let params = Params::new(&sent);
        assert_eq!(params.repeated(), Some("code"), "the first one repeated, in the order sent");
        assert_eq!(params.repeated_refusal(&["code"]).as_deref(), Some("`code` was given more than once"));
        assert_eq!(params.repeated_refusal(&[]).as_deref(), Some("a parameter was given more than once"));
        assert_eq!(params.single("code"), None);
        assert!(params.has("code"));
    }

    #[test]
    fn an_empty_value_is_single_but_not_given() {
        let sent = pairs(&[("state", ""), ("nonce", "n")]);
        let params = Params::new(&sent);
        assert_eq!((params.single("state"), params.get("state")), (Some(""), None));
        assert_eq!((params.get("nonce"), params.repeated()), (Some("n"), None));
        assert!(!params.has("code"));
    }
}
