/** The gateway's error answer, shared by its own routes, its guards and every plugin's routes. */
import type { Context } from "hono";

/** A JSON error answer `{error, reason}`. */
export function jsonError(
  c: Context,
  status: number,
  error: string,
  reason: string,
  extra: object = {},
): Response {
  return c.json({ error, reason, ...extra }, status as 400);
}
