// axe-core on every page state the portal has, signed out and signed in: any violation fails.
import { expect, test } from "./strict";
import { addAuthenticator, expectAccessible, hydrated, setAutofill, signUpWithPasskey, uniqueEmail } from "./helpers";
import { operatorAt } from "./mailing";

test("every page, signed out, passes axe-core", async ({ page }) => {
  for (const path of ["/", "/sign-up", "/?signed_out=1", "/recover/request", "/verify-email?token=unknown", "/no-such-page"]) {
    await page.goto(path);
    await expectAccessible(page, path);
  }
  // A form that failed, with its error tied to its field.
  await page.goto("/");
  await page.getByLabel("Email").fill(uniqueEmail("nobody"));
  await page.getByLabel("Password").fill("not a password of anyone");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page.locator("#password-form-error")).toBeVisible();
  await expectAccessible(page, "the sign-in page after a wrong password");
});

test("every page, signed in, passes axe-core", async ({ page }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  await signUpWithPasskey(page, uniqueEmail("axe"));
  await hydrated(page);
  await expectAccessible(page, "/passkeys");

  const id = await page.getByTestId("passkey").first().getAttribute("data-credential-id");
  for (const path of ["/", "/account", "/notes", `/passkeys?rename=${id}`, `/passkeys?delete=${id}`, "/passkeys?offer=1&welcome=1"]) {
    await page.goto(path);
    await expectAccessible(page, path);
  }
});

test("the admin console, for an administrator, passes axe-core", async ({ page, baseURL }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  const email = uniqueEmail("admin");
  await signUpWithPasskey(page, email);
  // The first administrator comes from the command line, on the portal's own database.
  expect(operatorAt("target/e2e.db", baseURL!, {}, "grant", email)).toContain(`${email} is an administrator`);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administration");
  await expect(page.getByTestId("chart-day")).toHaveCount(30);
  await expect(page.getByTestId("stat-accounts")).toBeVisible();
  await expectAccessible(page, "/admin");

  // Apps: a refused form comes back with its sentence next to the field, then an app is made and
  // its secret shown once on its page.
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Apps" }).click();
  await expect(page).toHaveURL(/\/admin\/console\/apps$/);
  await expectAccessible(page, "/admin/console/apps");
  const clientId = `axe-app-${Date.now()}`;
  await page.getByTestId("new-app-client_id").fill(clientId);
  await page.getByTestId("new-app-name").fill("Axe App");
  await page.getByTestId("new-app-redirect_uris").fill("http://axe.example/cb");
  await page.getByTestId("create-app").click();
  const field = page.getByTestId("new-app-redirect_uris");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#new-app-redirect_uris-error")).toContainText("must be https");
  await expect(field).toHaveValue("http://axe.example/cb");
  await expectAccessible(page, "/admin/console/apps with a refused form");
  await field.fill("https://axe.example/cb");
  await page.getByTestId("create-app").click();
  await expect(page).toHaveURL(new RegExp(`/admin/console/apps/${clientId}\\?done=created$`));
  await expect(page.getByTestId("new-secret")).toHaveValue(/^[A-Za-z0-9_-]{43}$/);
  await expectAccessible(page, "an app's page with its new secret");
  await page.reload();
  await expect(page.getByTestId("new-secret")).toHaveCount(0);
  await expect(page.getByTestId("app-client-id")).toHaveText(clientId);

  // People: the search finds the administrator, whose page lists their passkey.
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "People" }).click();
  await expect(page).toHaveURL(/\/admin\/console\/people$/);
  await expectAccessible(page, "/admin/console/people");
  await page.getByTestId("people-q").fill(email);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("person-row")).toHaveCount(1);
  await page.getByRole("link", { name: email }).last().click();
  await expect(page.getByTestId("person-email")).toHaveText(email);
  await expect(page.getByTestId("person-passkeys").locator("li")).toHaveCount(1);
  await expectAccessible(page, "a person's page");

  // Invitations: one made for anyone, its link shown once, then listed as waiting.
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Invitations" }).click();
  await expect(page).toHaveURL(/\/admin\/console\/invitations$/);
  await expectAccessible(page, "/admin/console/invitations");
  await page.getByTestId("invite").click();
  await expect(page.getByTestId("invitation-link")).toHaveValue(/\/sign-up\?invitation=/);
  await expect(page.locator('[data-testid="invitation-row"][data-state="pending"]').first()).toBeVisible();
  await expectAccessible(page, "the invitations page with a new link");
});

