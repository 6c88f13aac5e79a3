//! The API's own settings, read from the environment beside the shared
//! [`todo_lib::config::Config`].

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ApiConfig {
    /// HS256 shared secret (at least 32 bytes). Hidden from `Debug`.
    pub jwt_secret: Option<SecretString>,
    /// An identity provider's JWKS URL, for RS256/ES256/EdDSA tokens.
    pub jwt_jwks_url: Option<String>,
    /// When set, tokens must carry exactly this `iss`.
    pub jwt_issuer: Option<String>,
    /// When set, tokens must carry this `aud`.
    pub jwt_audience: Option<String>,
    /// The web app's client id at `JWT_ISSUER`: turns on sign-in with OpenID
    /// Connect (authorization code with PKCE, a public client).
    pub oidc_client_id: Option<String>,
    /// The scopes it asks for (default `openid`).
    pub oidc_scopes: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_lib::config::from_iter;

    #[test]
    fn jwt_settings_are_read_and_the_secret_is_hidden() {
        let vars = [
            ("JWT_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret"),
            ("JWT_JWKS_URL", "https://idp.example/jwks.json"),
            ("JWT_ISSUER", "https://idp.example/"),
            ("JWT_AUDIENCE", "todo"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config: ApiConfig = from_iter(vars).expect("valid");
        assert_eq!(config.jwt_jwks_url.as_deref(), Some("https://idp.example/jwks.json"));
        assert_eq!(config.jwt_issuer.as_deref(), Some("https://idp.example/"));
        assert_eq!(config.jwt_audience.as_deref(), Some("todo"));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn everything_is_optional_at_this_layer() {
        let config: ApiConfig = from_iter(Vec::new()).expect("valid");
        assert!(config.jwt_secret.is_none() && config.jwt_jwks_url.is_none());
    }
}
