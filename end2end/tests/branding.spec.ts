// An operator's brand on the portal: their logo (light and dark), favicon, accent colour and
// stylesheet, with the pages still passing axe-core.
import { expect, test } from "./strict";
import { BRANDED, expectAccessible, shot } from "./helpers";

test("a branded portal shows the operator's logo, icon, colour and stylesheet, and stays accessible", async ({ page }) => {
  await page.goto(`${BRANDED.origin}/`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in to Acme Sign-in");
  const logo = page.locator("header .brand img.logo");
  await expect(logo).toBeVisible();
  expect(await logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), "the logo loaded").toBe(true);
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute("href", /^\/brand\/favicon\?v=/);

  // The accent colour is the primary button's, and the operator's stylesheet applies.
  const button = page.getByTestId("passkey-sign-in");
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(BRANDED.accent.slice(i, i + 2), 16));
  await expect(button).toHaveCSS("background-color", `rgb(${r}, ${g}, ${b})`);
  await expect(page.locator(".card").first()).toHaveCSS("border-top-width", "4px");
  await shot(page, "sign-in-branded");
  await expectAccessible(page, "the branded sign-in page");

  // A dark colour scheme gets the dark logo, and keeps the portal's own accent.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.reload();
  await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.currentSrc)).toContain("/brand/logo-dark?v=");
  await expect(button).not.toHaveCSS("background-color", `rgb(${r}, ${g}, ${b})`);
  await expectAccessible(page, "the branded sign-in page, dark");
});
