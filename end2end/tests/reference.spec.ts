// The API reference page: Swagger UI from the npm package swagger-ui-dist, served by Latchkey itself
// (so it works offline and from the release binary), reading the server's own /openapi.json.
import { expect, test } from "./strict";

test("the API reference shows the REST API from the server's OpenAPI document", async ({ page }) => {
  await page.goto("/reference/");
  await expect(page.getByRole("heading", { name: /Latchkey/ })).toBeVisible();
  const signIn = page.locator(".opblock", { hasText: "/auth/passkeys/authenticate/begin" });
  await expect(signIn).toBeVisible();
  await signIn.locator(".opblock-summary").click();
  await expect(signIn.getByText("PublicKeyCredentialRequestOptionsJSON")).toBeVisible();
});
