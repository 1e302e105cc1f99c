// The API reference: Swagger UI reading this server's own OpenAPI document.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#api",
    // No links to each operation inside its button: a link in a button is two controls in one
    // (axe-core's nested-interactive), which keyboards and screen readers cannot tell apart.
    deepLinking: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Never read a document or settings named in the address (?url=, ?configUrl=).
    queryConfigEnabled: false,
    onComplete: () => {
      // The page is named after the product, as the document's title is (LATCHKEY_PRODUCT_NAME).
      const title = window.ui.specSelectors.info().get("title");
      if (title) document.title = `API reference · ${title}`;
      // Swagger UI's own structure, completed: its top is the page's banner (it is in no landmark).
      // Headings come one level under the title's (h1): Swagger UI's h3, h4 and h5 read as 2, 3
      // and 4, including those it draws later (an operation opened, its responses).
      const api = document.getElementById("api");
      const complete = () => {
        document.querySelector(".information-container")?.setAttribute("role", "banner");
        for (const level of [3, 4, 5]) {
          for (const heading of api.querySelectorAll(`h${level}:not([aria-level])`)) {
            heading.setAttribute("aria-level", String(level - 1));
          }
        }
      };
      complete();
      new MutationObserver(complete).observe(api, { childList: true, subtree: true });
    },
  });
});
