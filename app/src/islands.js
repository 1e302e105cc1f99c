// Loads the portal's WASM and brings each island of the page to life. Leptos' own islands script
// is not used because its <link rel="modulepreload"> carries no CSP nonce, so a strict policy
// (scripts by nonce only) blocks it; this one is written with the page's nonce, and the browser
// passes that nonce on to the import below. Islands here never nest, so a flat walk suffices.
//
// First, before the WASM loads (and whether it loads at all), the page's times are shown in the
// visitor's time zone: the server, which cannot know it, writes each `<time datetime>` in UTC, as
// "3 hours ago" when recent (the same in every zone), else as a date. Here the exact time (its
// `title`) and any date older than a week become the browser's, in the page's language; a
// browser without JavaScript keeps the server's, marked UTC.
(async (code) => {
  const lang = document.documentElement.lang || undefined;
  for (const time of document.querySelectorAll("time[datetime]")) {
    const at = new Date(time.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    time.title = at.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
    if (Date.now() - at.getTime() >= 7 * 86400000) time.textContent = at.toLocaleDateString(lang, { dateStyle: "medium" });
  }
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
