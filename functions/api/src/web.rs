//! The web app (`web/`: HTML, CSS and JavaScript modules, no build step),
//! embedded in the binary and served at `/`, same origin as `/v1`; and the API
//! explorer at `/docs`: Swagger UI (vendored from the npm package
//! `swagger-ui-dist` into `web/vendor/swagger-ui`) over `/openapi.json`. Every
//! page and asset carries a strict Content-Security-Policy: scripts and styles
//! from this origin only (no inline code, no `eval`), no framing, no plugins.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/index.html"));
/// The JavaScript modules, by the path they are served at.
const SCRIPTS: [(&str, &str); 21] = [
    ("/app.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/app.js"))),
    ("/api.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/api.js"))),
    ("/form.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/form.js"))),
    ("/list.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/list.js"))),
    ("/lists.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/lists.js"))),
    ("/live.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/live.js"))),
    ("/quick.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/quick.js"))),
    ("/signin.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/signin.js"))),
    ("/reminders.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/reminders.js"))),
    ("/settings.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/settings.js"))),
    ("/push.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/push.js"))),
    ("/words.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/words.js"))),
    ("/keys.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/keys.js"))),
    ("/tabs.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/tabs.js"))),
    ("/subtasks.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/subtasks.js"))),
    ("/invitations.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/invitations.js"))),
    ("/order.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/order.js"))),
    ("/bulk.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/bulk.js"))),
    ("/tags.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/tags.js"))),
    ("/offline.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/offline.js"))),
    ("/problems.js", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/problems.js"))),
];
/// The service worker, served at the root so that its scope is the whole
/// app, with the list of the app's files (and their build) filled in where
/// it says `/*shell*/`.
const SERVICE_WORKER: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/sw.js"));
/// The web app manifest, which makes the app installable.
const MANIFEST: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/manifest.webmanifest"));
const STYLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/app.css"));
/// The API explorer: its page, its start-up script and style, and Swagger UI.
const DOCS: [(&str, &str, &str); 5] = [
    (
        "/docs",
        "text/html; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/docs.html")),
    ),
    (
        "/docs/docs.js",
        "text/javascript; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/docs.js")),
    ),
    (
        "/docs/docs.css",
        "text/css; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/docs.css")),
    ),
    (
        "/docs/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../web/vendor/swagger-ui/swagger-ui-bundle.js"
        )),
    ),
    (
        "/docs/swagger-ui.css",
        "text/css; charset=utf-8",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/vendor/swagger-ui/swagger-ui.css")),
    ),
];
/// The icon browsers show in the tab (and would otherwise ask `/favicon.ico` for, in vain).
const ICON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/favicon.svg"));

/// The policy of every page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; \
     base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// A file of the app: its bytes, or `304 Not Modified` when the browser holds
/// them already (its `If-None-Match` names this build's `ETag` of them), so a
/// reload costs a round trip per file and no bytes.
fn asset(
    content_type: &'static str,
    body: &'static str,
    tag: &str,
    asked: &HeaderMap,
) -> axum::response::Response {
    let held = asked
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == tag));
    let mut response = if held {
        (axum::http::StatusCode::NOT_MODIFIED, security_headers(content_type)).into_response()
    } else {
        (security_headers(content_type), body).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The entity tag of `body`: a hash of its bytes, in quotes, the same in every
/// process of one build.
fn etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

/// The service worker with the app's files named in it: the page and its
/// assets, which it keeps for opening offline, and a version that changes
/// with any of them, so that a new build installs a new worker (and cache).
/// Made once per process.
fn service_worker(pages: &[(&str, &str, &str)], scripts: &[(&str, &str, &str)]) -> &'static str {
    static WORKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WORKER.get_or_init(|| {
        let files: Vec<(&str, &str)> =
            pages.iter().chain(scripts).map(|(path, _, body)| (*path, *body)).collect();
        let version = etag(&files.iter().map(|(_, body)| etag(body)).collect::<String>());
        let shell = serde_json::json!({
            "version": version.trim_matches('"'),
            "files": files.iter().map(|(path, _)| path).collect::<Vec<_>>(),
        });
        SERVICE_WORKER.replacen("/*shell*/ { version: \"unbuilt\", files: [] }", &shell.to_string(), 1)
    })
}

/// A page made on the server (the mail links' pages): `title` and `main`
/// (HTML, its user-written parts escaped by the caller) in the app's style,
/// with the same security headers, never cached.
pub fn page(status: axum::http::StatusCode, title: &str, main: &str) -> axum::response::Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Todo</title><link rel=\"icon\" href=\"/favicon.svg\"><link rel=\"stylesheet\" href=\"/app.css\"></head>\n\
         <body><main class=\"standalone\">\n<h1>{}</h1>\n{main}\n<p><a href=\"/\">Open Todo</a></p>\n</main></body></html>\n",
        todo_lib::mail::escape(title),
        todo_lib::mail::escape(title),
    );
    let mut headers = security_headers("text/html; charset=utf-8");
    headers[4].1 = HeaderValue::from_static("no-store");
    (status, headers, html).into_response()
}

fn security_headers(content_type: &'static str) -> [(HeaderName, HeaderValue); 6] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        // A new binary serves new assets: the browser asks again each time.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ]
}

/// `/`, the modules, `/app.css`, `/favicon.svg` and the explorer under `/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let pages = [
        ("/", "text/html; charset=utf-8", INDEX),
        ("/app.css", "text/css; charset=utf-8", STYLE),
        ("/favicon.svg", "image/svg+xml", ICON),
        ("/manifest.webmanifest", "application/manifest+json", MANIFEST),
    ];
    let scripts = SCRIPTS.map(|(path, script)| (path, "text/javascript; charset=utf-8", script));
    let worker = ("/sw.js", "text/javascript; charset=utf-8", service_worker(&pages, &scripts));
    let mut router = Router::new();
    for (path, content_type, body) in pages.into_iter().chain(scripts).chain([worker]).chain(DOCS) {
        // Hashed once, here, not on every request.
        let tag: Arc<str> = etag(body).into();
        router = router.route(
            path,
            get(move |asked: HeaderMap| {
                let tag = Arc::clone(&tag);
                async move { asset(content_type, body, &tag, &asked) }
            }),
        );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> String {
        let res = routes::<()>()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    /// The worker names every file of the app, each served here, and a
    /// version made from them; the API, the docs and the worker itself are
    /// not among them.
    #[tokio::test]
    async fn the_service_worker_names_the_app_files_and_their_build() {
        let worker = get("/sw.js").await;
        assert!(!worker.contains("/*shell*/"), "the list is filled in");
        let line = worker.lines().find(|l| l.starts_with("const SHELL = ")).expect("the SHELL line");
        let json = line.trim_start_matches("const SHELL = ").trim_end_matches(';');
        let shell: serde_json::Value = serde_json::from_str(json).expect("JSON");
        let files: Vec<&str> =
            shell["files"].as_array().expect("files").iter().filter_map(|f| f.as_str()).collect();
        for file in ["/", "/app.js", "/offline.js", "/app.css", "/favicon.svg", "/manifest.webmanifest"] {
            assert!(files.contains(&file), "{file} in {files:?}");
        }
        assert!(
            !files.iter().any(|f| f.starts_with("/docs") || f.starts_with("/v1") || *f == "/sw.js"),
            "{files:?}"
        );
        assert_eq!(files.len(), SCRIPTS.len() + 4, "every module and page");
        for file in files {
            get(file).await;
        }
        let version = shell["version"].as_str().expect("a version");
        assert!(version.len() == 16 && version.chars().all(|c| c.is_ascii_hexdigit()), "{version}");
    }
}
