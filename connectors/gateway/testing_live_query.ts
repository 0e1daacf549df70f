/** The query string of the gateway's live endpoints (`/ws/sync-events`, `/sse/sync-events`) for test clients. */

/** Query of a live connection. */
export interface LiveQuery {
  topic?: string | string[];
  key?: string | string[];
  cursor?: string;
  access_token?: string;
}

/** Builds `?topic=a,b&key=k&...`. */
export function liveQuery(q: LiveQuery): string {
  const p = new URLSearchParams();
  if (q.topic) p.set("topic", ([] as string[]).concat(q.topic).join(","));
  for (const k of ([] as string[]).concat(q.key ?? [])) p.append("key", k);
  if (q.cursor) p.set("cursor", q.cursor);
  if (q.access_token) p.set("access_token", q.access_token);
  const s = p.toString();
  return s ? `?${s}` : "";
}
