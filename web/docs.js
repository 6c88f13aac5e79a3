// The API explorer at /docs: Swagger UI (vendored from the npm package
// swagger-ui-dist into web/vendor/swagger-ui) over this server's own
// /openapi.json. "Try it out" calls this same origin with the bearer token
// given under Authorize; nothing is kept after the page closes.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  filter: true,
});
