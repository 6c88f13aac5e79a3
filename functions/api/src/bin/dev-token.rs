//! Mints a development token: `dev-token [USER] [HOURS]` prints an HS256 JWT for
//! USER (default `dev-user`), valid for HOURS (default 24), signed with `JWT_SECRET`.
//! For local use with `make dev`; production tokens come from an identity provider.

use std::process::ExitCode;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let user = args.next().unwrap_or_else(|| "dev-user".to_owned());
    let hours: i64 = match args.next().map(|h| h.parse()) {
        None => 24,
        Some(Ok(h)) if h > 0 => h,
        Some(_) => {
            eprintln!("dev-token: HOURS must be a positive whole number");
            return ExitCode::FAILURE;
        }
    };
    let Ok(secret) = std::env::var("JWT_SECRET") else {
        eprintln!("dev-token: set JWT_SECRET (make dev does)");
        return ExitCode::FAILURE;
    };
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { sub: &user, iat: now, exp: now + hours * 3600 };
    match encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dev-token: {e}");
            ExitCode::FAILURE
        }
    }
}
