/**
 * Removing credentials written inside URLs (`https://alice:pw@host/x.git`, `https://<token>@host`) from text
 * that is shown or logged. lzsync refuses such URLs in the config and over the API; this is for what older
 * versions stored and for messages that quote a URL.
 */

/** `scheme://userinfo@`: the userinfo runs to the last `@` before the host's end (`/`, `?`, `#`, space, quote). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'\\<>]*@/gi;

/** `text` with the `user:password@` part of every URL in it removed (the same string when there is none). */
export function stripUrlCredentials(text: string): string {
  if (!text.includes("@")) return text;
  return text.replace(USERINFO, "$1");
}

/** True when `text` holds a URL with credentials inside it. */
export function hasUrlCredentials(text: string): boolean {
  return stripUrlCredentials(text) !== text;
}

/**
 * `value` with {@link stripUrlCredentials} applied to every string inside it (object keys included), copying
 * only the objects and arrays that change: the very same value comes back when nothing does.
 */
export function redactStrings<T>(value: T): T {
  if (typeof value === "string") return stripUrlCredentials(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    value.forEach((v, i) => {
      const r = redactStrings(v);
      if (r !== v) (out ??= value.slice())[i] = r;
    });
    return (out ?? value) as T;
  }
  if (value && typeof value === "object") {
    let out: Record<string, unknown> | null = null;
    for (const [k, v] of Object.entries(value)) {
      const r = redactStrings(v);
      const rk = stripUrlCredentials(k);
      if (r !== v || rk !== k) {
        out ??= { ...(value as Record<string, unknown>) };
        if (rk !== k) delete out[k];
        out[rk] = r;
      }
    }
    return (out ?? value) as T;
  }
  return value;
}
