/**
 * Serves the status page (`static/`: plain HTML, JS and CSS, no build step) from memory. The files are read
 * once, on first app creation. The page holds no data; its API calls carry the user's token if needed.
 */
import type { Hono } from "hono";

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "sections.js": "text/javascript; charset=utf-8",
  "feed_text.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

let cache: Map<string, Uint8Array> | null = null;

function load(): Map<string, Uint8Array> {
  if (cache) return cache;
  cache = new Map();
  for (const name of Object.keys(FILES)) {
    cache.set(name, Deno.readFileSync(new URL(`./static/${name}`, import.meta.url)));
  }
  return cache;
}

const HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
};

/** Adds `GET /` and `GET /static/<file>`. */
export function serveStatic(app: Hono): void {
  const files = load();
  const send = (name: string) =>
    new Response(files.get(name)!.slice(), { headers: { ...HEADERS, "Content-Type": FILES[name] } });
  app.get("/", () => send("index.html"));
  app.get("/static/:name", (c) => {
    const name = c.req.param("name");
    if (!files.has(name)) return c.json({ error: "not_found", reason: `no static file ${name}` }, 404);
    return send(name);
  });
}
