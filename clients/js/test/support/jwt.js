// HS256 JSON Web Tokens for the tests, made with node:crypto.
import { createHmac } from "node:crypto";

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** signHS256 returns a compact JWT of claims signed with secret. */
export function signHS256(claims, secret) {
  const head = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}
