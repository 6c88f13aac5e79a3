//! Makes a VAPID key pair for Web Push: `vapid-key` prints a new private key
//! (base64url, what `VAPID_PRIVATE_KEY` holds) on stdout, and its public key
//! on stderr. `make dev` makes one for the local host the first time;
//! `scripts/create-secrets.sh` one for a cluster. Keep the private key in a
//! Secret: changing it ends every browser's subscription.

use secrecy::ExposeSecret;
use todo_lib::push::VapidKeys;

fn main() -> std::process::ExitCode {
    let private = VapidKeys::generate();
    match VapidKeys::new(&private, "mailto:unused@example.com") {
        Ok(keys) => {
            println!("{}", private.expose_secret());
            eprintln!("public key: {}", keys.public_key());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vapid-key: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
