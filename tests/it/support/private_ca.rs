//! A private certificate authority and a certificate it signed for 127.0.0.1, made with the
//! `openssl` command: for https receivers that only `--ca-cert` makes trusted. A test that needs
//! one skips, saying why, where `openssl` is not installed.

use std::path::Path;
use std::process::Command;

/// The PEM files [`make`] wrote.
pub struct PrivateCa {
    /// The authority's certificate: what `--ca-cert` is given.
    pub ca: String,
    /// The receiver's certificate, signed by the authority, for IP 127.0.0.1.
    pub leaf: String,
    /// The receiver's private key.
    pub leaf_key: String,
}

/// Whether `openssl` runs here.
pub fn openssl_installed() -> bool {
    Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success())
}

/// Makes the authority and the receiver's certificate in `dir` (which must exist).
pub fn make(dir: &Path) -> PrivateCa {
    let openssl = |args: &str| {
        let out = Command::new("openssl").args(args.split(' ')).current_dir(dir).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=hooksim-test-CA");
    openssl("req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=127.0.0.1");
    openssl("x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 -extfile leaf.ext");
    let path = |name: &str| dir.join(name).display().to_string();
    PrivateCa { ca: path("ca.pem"), leaf: path("leaf.pem"), leaf_key: path("leaf.key") }
}
