/**
 * Query strings are checked, not skimmed: a parameter an endpoint does not take is a 400 naming it and the
 * ones it does take (a typo such as `?severty=high` would otherwise answer as if no filter were asked).
 */
import type { Context } from "hono";
import { jsonError } from "./json_error.ts";

/** A 400 answer when the request carries a query parameter outside `allowed`; null when all are known. */
export function unknownQuery(c: Context, allowed: readonly string[]): Response | null {
  const names = [...new Set(new URL(c.req.url).searchParams.keys())];
  const unknown = names.filter((n) => !allowed.includes(n));
  if (!unknown.length) return null;
  return jsonError(
    c,
    400,
    "bad_request",
    `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; ${c.req.path} takes ${
      allowed.length ? allowed.join(", ") : "none"
    }`,
    { unknown },
  );
}
