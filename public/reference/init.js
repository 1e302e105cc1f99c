// The API reference: Swagger UI reading this server's own OpenAPI document.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#api",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Never read a document or settings named in the address (?url=, ?configUrl=).
    queryConfigEnabled: false,
  });
});
