/**
 * A small local HTTP server speaking the Kubernetes list shape for custom resources
 * (`GET /apis/<group>/<version>/<plural>?limit=&continue=` → `{kind: <Kind>List, metadata: {continue}, items}`),
 * with bearer-token auth and 404 for unknown resources. Items are served without apiVersion/kind, as the
 * API server does in typed lists.
 */
export interface KubeTestServer {
  url: string;
  /** Objects by `<group>/<plural>`; edit freely between requests. */
  objects: Map<string, Record<string, unknown>[]>;
  requests: number;
  stop(): Promise<void>;
}

export function startKubeTestServer(token: string): KubeTestServer {
  const objects = new Map<string, Record<string, unknown>[]>();
  const state = { requests: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    state.requests++;
    if (req.headers.get("authorization") !== `Bearer ${token}`) {
      return Response.json({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 }, {
        status: 401,
      });
    }
    const url = new URL(req.url);
    const m = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const items = m ? objects.get(`${m[1]}/${m[3]}`) : undefined;
    if (!m || !items) {
      return Response.json({ kind: "Status", code: 404, reason: "NotFound" }, { status: 404 });
    }
    const limit = Number(url.searchParams.get("limit") ?? "500");
    const start = Number(url.searchParams.get("continue") ?? "0");
    const page = items.slice(start, start + limit).map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    const next = start + limit < items.length ? String(start + limit) : undefined;
    const kind = String(items[0]?.kind ?? "Object");
    return Response.json({
      apiVersion: `${m[1]}/${m[2]}`,
      kind: `${kind}List`,
      metadata: { resourceVersion: "1", ...(next ? { continue: next } : {}) },
      items: page,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    objects,
    get requests() {
      return state.requests;
    },
    async stop() {
      await server.shutdown();
    },
  };
}
