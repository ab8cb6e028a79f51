//! `[signing]` and the receivers' `secret`/`tolerance`: the world's [`Signing`], every bad value
//! reported at its position.

use super::Validator;
use crate::scenario::file::{ReceiverFile, ScenarioFile, SigningFile};
use crate::world::{KeySpan, ReceiverKeys, SenderKeys, Signing};
use hooksim_core::policy::Profile;
use hooksim_core::signing::{Scheme, Signer, TOLERANCE_S_DEFAULT, Verifier};
use hooksim_core::time::SimTime;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn signing(&mut self, f: &ScenarioFile) -> Signing {
        let profile = f
            .policy
            .as_ref()
            .and_then(|p| p.get_ref().profile.as_ref())
            .and_then(|name| name.get_ref().parse::<Profile>().ok())
            .unwrap_or(Profile::Snapbill);
        let mut signing = Signing::default();
        // A provider signs with its own scheme, whatever the policy's profile implies.
        let mut scheme = self.provider.scheme().or(profile.signing_scheme());
        if let Some(table) = &f.signing {
            let (sender, named) = self.sender(table, profile);
            signing.sender = sender;
            scheme = named.or(scheme);
        }
        for (host, r) in &f.receivers {
            if let Some(keys) = self.receiver_keys(r.get_ref(), scheme, profile) {
                signing.receivers.insert(host.get_ref().clone(), keys);
            }
        }
        signing
    }

    /// The sender's keys, and the scheme the table names (for the receivers, even when a secret
    /// of the table is bad).
    fn sender(&mut self, table: &Spanned<SigningFile>, profile: Profile) -> (Option<SenderKeys>, Option<Scheme>) {
        let t = table.get_ref();
        let implied = self.provider.scheme();
        let scheme = match &t.scheme {
            Some(name) => match name.get_ref().parse::<Scheme>() {
                Ok(scheme) if implied.is_some_and(|p| p != scheme) => {
                    let (provider, signs) = (self.provider.name(), implied.map_or("", |p| p.as_str()));
                    let message = format!(
                        "provider {provider:?} signs with {signs:?}, not {:?}: leave `scheme` out",
                        scheme.as_str()
                    );
                    self.err(name.span(), message);
                    return (None, None);
                }
                Ok(scheme) => scheme,
                Err(e) => {
                    self.err(name.span(), e.to_string());
                    return (None, None);
                }
            },
            None => match implied.or(profile.signing_scheme()) {
                Some(scheme) => scheme,
                None => {
                    self.err(table.span(), no_scheme(profile, "[signing]"));
                    return (None, None);
                }
            },
        };
        let Some(first) = &t.secret else { return (None, Some(scheme)) };
        let mut keys = vec![KeySpan { secret: first.get_ref().clone(), from: SimTime::ZERO, until: None }];
        let mut secrets = vec![first];
        if let Some(rotate) = &t.rotate {
            let rotate = rotate.get_ref();
            let at = SimTime::from_millis(rotate.at.get_ref().ms());
            let overlap_ms = rotate.overlap.as_ref().map_or(0, |o| o.get_ref().ms());
            keys[0].until = Some(at.plus_ms(overlap_ms));
            keys.push(KeySpan { secret: rotate.secret.get_ref().clone(), from: at, until: None });
            secrets.push(&rotate.secret);
        }
        let mut ok = true;
        for secret in secrets {
            if let Err(e) = Signer::new(scheme, &[secret.get_ref().as_str()]) {
                self.err(secret.span(), format!("not a {scheme} secret that can sign: {e}"));
                ok = false;
            }
        }
        (ok.then_some(SenderKeys { scheme, keys }), Some(scheme))
    }

    fn receiver_keys(&mut self, r: &ReceiverFile, scheme: Option<Scheme>, profile: Profile) -> Option<ReceiverKeys> {
        let Some(secret) = &r.secret else {
            if let Some(t) = &r.tolerance {
                self.err(t.span(), "`tolerance` applies to a receiver that verifies: give it a `secret`");
            }
            return None;
        };
        let Some(scheme) = scheme else {
            self.err(secret.span(), no_scheme(profile, "receiver's `secret`"));
            return None;
        };
        let secrets: Vec<&str> = secret.get_ref().0.iter().map(String::as_str).collect();
        if let Err(e) = Verifier::new(scheme, &secrets) {
            self.err(secret.span(), format!("not a {scheme} secret: {e}"));
            return None;
        }
        let tolerance_s = r.tolerance.as_ref().map_or(TOLERANCE_S_DEFAULT, |t| (t.get_ref().ms() / 1_000) as i64);
        Some(ReceiverKeys { scheme, secrets: secret.get_ref().0.clone(), tolerance_s })
    }
}

fn no_scheme(profile: Profile, what: &str) -> String {
    let signing = Profile::names(Profile::ALL.into_iter().filter(|p| p.signing_scheme().is_some()));
    let schemes = Scheme::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    format!(
        "the {what} needs a signature scheme and the {} profile implies none (only {signing} do): \
         add `scheme` to [signing] ({schemes})",
        profile.name()
    )
}

#[cfg(test)]
mod tests {
    use crate::scenario::load_str;

    const HEAD: &str = r#"
name = "t"
description = "signing"
run_for = "1h"
[webhooks.shop]
url = "http://shop/webhook"
"#;

    fn errors(text: &str) -> String {
        match load_str("t.toml", &format!("{HEAD}{text}")) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_profile_implies_its_scheme_and_a_rotation_overlaps() {
        let text = r#"
[policy]
profile = "svix"
[signing]
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
rotate = { at = "1h", secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", overlap = "10m" }
[receivers.shop]
secret = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
tolerance = "1m"
"#;
        let s = load_str("t.toml", &format!("{HEAD}{text}")).unwrap_or_else(|e| panic!("{e}"));
        let sender = s.world.signing.sender.as_ref().unwrap();
        assert_eq!(sender.scheme, hooksim_core::signing::Scheme::StandardWebhooks);
        let at = hooksim_core::time::SimTime::from_millis;
        assert_eq!(sender.secrets_at(at(3_600_000)).len(), 2);
        assert_eq!(sender.secrets_at(at(4_200_000)).len(), 1);
        assert_eq!(s.world.signing.receivers["shop"].tolerance_s, 60);
    }

    #[test]
    fn a_provider_implies_its_scheme_and_an_unknown_one_is_named_at_its_place() {
        let s = load_str(
            "t.toml",
            &format!("provider = \"github\"\n{HEAD}[signing]\nsecret = \"k\"\n[receivers.shop]\nsecret = \"k\"\n"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.world.provider, hooksim_core::provider::Provider::Github);
        assert_eq!(s.world.signing.sender.unwrap().scheme, hooksim_core::signing::Scheme::Github);
        let e = match load_str("t.toml", &format!("provider = \"paypal\"\n{HEAD}[receivers.shop]\n")) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("t.toml:1:12") && e.contains("unknown provider \"paypal\"") && e.contains("standard-webhooks"),
            "{e}"
        );
        let e = match load_str(
            "t.toml",
            &format!("provider = \"slack\"\n{HEAD}[signing]\nscheme = \"stripe\"\nsecret = \"k\"\n[receivers.shop]\n"),
        ) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("provider \"slack\" signs with \"slack\", not \"stripe\""), "{e}");
    }

    #[test]
    fn every_bad_signing_value_is_reported_at_its_place() {
        // snapbill implies no scheme.
        let e = errors("[signing]\nsecret = \"k\"\n[receivers.shop]\n");
        assert!(e.contains("t.toml:7:1") && e.contains("add `scheme` to [signing]"), "{e}");
        let e = errors("[signing]\nscheme = \"pgp\"\nsecret = \"k\"\n[receivers.shop]\n");
        assert!(e.contains("unknown signature scheme \"pgp\""), "{e}");
        let e =
            errors("[signing]\nscheme = \"standard-webhooks\"\nsecret = \"whsec_\"\n[receivers.shop]\nsecret = \"\"\n");
        assert!(e.contains("bare `whsec_` prefix") && e.contains("the secret is empty"), "{e}");
        let e = errors("[receivers.shop]\ntolerance = \"1m\"\n");
        assert!(e.contains("give it a `secret`"), "{e}");
        let e = errors("[receivers.shop]\nsecret = \"k\"\n");
        assert!(e.contains("receiver's `secret` needs a signature scheme"), "{e}");
        let e = errors("[signing]\nscheme = \"github\"\nrotate = { at = \"1h\" }\n[receivers.shop]\n");
        assert!(e.contains("secret"), "{e}");
    }
}
