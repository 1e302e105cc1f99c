// Loads the portal's WASM and brings each island of the page to life. Leptos' own islands script
// is not used because its <link rel="modulepreload"> carries no CSP nonce, so a strict policy
// (scripts by nonce only) blocks it; this one is written with the page's nonce, and the browser
// passes that nonce on to the import below. Islands here never nest, so a flat walk suffices.
(async (code) => {
  const mod = await import(`${code}.js`);
  await mod.default({ module_or_path: `${code}.wasm` });
  mod.hydrate();
  for (const island of document.querySelectorAll("leptos-island")) {
    const hydrateIsland = mod[island.dataset.component];
    if (hydrateIsland) {
      await hydrateIsland(island);
    } else {
      console.warn(`no island ${island.dataset.component} in ${code}.wasm`);
    }
  }
})
