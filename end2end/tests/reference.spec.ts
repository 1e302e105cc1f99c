// The API reference page: Swagger UI from the npm package swagger-ui-dist, served by Latchkey itself
// (so it works offline and from the release binary), reading the server's own /openapi.json.
import { expect, test } from "./strict";
import { PRODUCT_NAME, expectAccessible } from "./helpers";

test("the API reference shows the REST API from the server's OpenAPI document, under the product's name, accessibly", async ({ page }) => {
  await page.goto("/reference/");
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(PRODUCT_NAME) })).toBeVisible();
  await expect(page).toHaveTitle(`API reference · ${PRODUCT_NAME}`);
  const signIn = page.locator(".opblock", { hasText: "/auth/passkeys/authenticate/begin" });
  await expect(signIn).toBeVisible();
  await expectAccessible(page, "/reference/");

  await signIn.locator(".opblock-summary").click();
  await expect(signIn.getByText("PublicKeyCredentialRequestOptionsJSON")).toBeVisible();
  await expectAccessible(page, "/reference/ with an operation open");
});
