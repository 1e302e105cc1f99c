// An app that trusts Latchkey's sign-ins verifies its access tokens with nothing but the published
// keys: the JavaScript example of docs/api.md ("Verifying a Latchkey token in an app"), run with the
// real `jose` library against the running server.
import { createRemoteJWKSet, jwtVerify } from "jose";
import { expect, test } from "./strict";
import { uniqueEmail } from "./helpers";

test("an app verifies an access token from the published keys, for its audience only", async ({ request, baseURL }) => {
  const issuer = baseURL!;
  const keys = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const verify = async (token: string, audience: string) =>
    (await jwtVerify(token, keys, { issuer, audience, algorithms: ["ES256"], typ: "at+jwt" })).payload;

  const email = uniqueEmail("app");
  const registered = await request.post("/auth/register", { data: { email, password: "correct horse battery" } });
  expect(registered.status()).toBe(201);
  const { access_token } = await registered.json();
  const me = await (await request.get("/auth/me", { headers: { authorization: `Bearer ${access_token}` } })).json();

  const payload = await verify(access_token, `${issuer}/auth`);
  expect(payload.sub).toBe(me.id);
  expect(typeof payload.sid).toBe("string");
  expect(payload.auth_time).toBeLessThanOrEqual(payload.iat!);

  await expect(verify(access_token, "https://app-b.example")).rejects.toThrow(/aud/);
  const [head, body] = access_token.split(".");
  await expect(verify(`${head}.${body}.${"A".repeat(86)}`, `${issuer}/auth`)).rejects.toThrow(/signature/);
});
