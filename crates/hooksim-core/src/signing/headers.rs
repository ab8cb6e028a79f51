//! Reading request headers without tying the signing module to one HTTP library.

/// Header lookup by lower-case name. Implemented for `http::HeaderMap` (what axum and hyper
/// hand a receiver) and for lists of `(name, value)` pairs (tests, simulated requests).
pub trait Headers {
    /// The first value of header `name` (lower case), as raw bytes.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(|v| v.as_bytes())
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_slice().header(name)
    }
}
