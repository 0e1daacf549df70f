/**
 * A local HTTP server speaking the REST shape of Cloud Asset `GET /v1/{parent=*\/*}/assets` (ListAssets), for
 * tests and the bench: no emulator exists for Cloud Asset Inventory. It checks what Google's REST transport
 * sends (integer enums, `$alt=json;enum-encoding=int`), pages with opaque tokens bound to a read time, returns
 * `resource.data` as JSON (which the client decodes into a protobuf Struct) and integer enums in responses,
 * and can be told to answer 429 RESOURCE_EXHAUSTED (with RetryInfo) before succeeding. Listens on 127.0.0.1.
 */

/** An asset as the REST API returns it (camelCase JSON). */
export interface RestAsset {
  name: string;
  assetType: string;
  updateTime?: string;
  ancestors?: string[];
  resource?: { version?: string; parent?: string; location?: string; data?: Record<string, unknown> };
  iamPolicy?: { bindings: { role: string; members: string[] }[]; etag?: string; auditConfigs?: unknown[] };
}

/** A request the server saw. */
export interface SeenRequest {
  parent: string;
  contentType: string | null;
  assetTypes: string[];
  pageSize: number | null;
  pageToken: string | null;
  enumEncoding: string | null;
  status: number;
}

/** The running server. */
export interface AssetRestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Replaces the inventory (what the next listing returns). */
  setAssets(assets: RestAsset[]): void;
  /** The next `n` requests answer HTTP 429 RESOURCE_EXHAUSTED with a RetryInfo delay of `retryDelayMs`. */
  failNext(n: number, retryDelayMs?: number): void;
  /** The `readTime` the next listings answer (a lagging index); null: the time of the request. */
  setReadTime(iso: string | null): void;
  close(): Promise<void>;
}

const CONTENT_RESOURCE = "1";
const CONTENT_IAM = "2";

function error(status: number, code: string, message: string, details: unknown[] = []): Response {
  return Response.json({ error: { code: status, message, status: code, details } }, { status });
}

/** Starts the server on a free loopback port. */
export function startAssetRestServer(initial: RestAsset[] = [], opts: { defaultPageSize?: number } = {}) {
  let assets = initial;
  let failures = 0;
  let failDelayMs = 0;
  let generation = 0;
  let readTime: string | null = null;
  const requests: SeenRequest[] = [];
  const snapshots = new Map<number, { readTime: string; assets: RestAsset[] }>();

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const m = /^\/v1\/([^/]+\/[^/]+)\/assets$/.exec(url.pathname);
    const q = url.searchParams;
    const seen: SeenRequest = {
      parent: m?.[1] ?? url.pathname,
      contentType: q.get("contentType"),
      assetTypes: q.getAll("assetTypes"),
      pageSize: q.has("pageSize") ? Number(q.get("pageSize")) : null,
      pageToken: q.get("pageToken"),
      enumEncoding: q.get("$alt"),
      status: 200,
    };
    requests.push(seen);
    const answer = (r: Response) => {
      seen.status = r.status;
      return r;
    };
    if (req.method !== "GET" || !m) {
      return answer(error(404, "NOT_FOUND", `no route ${req.method} ${url.pathname}`));
    }
    if (failures > 0) {
      failures--;
      return answer(
        error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'List Assets requests'", [{
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: `${(failDelayMs / 1000).toFixed(3)}s`,
        }]),
      );
    }
    const ct = seen.contentType ?? "0";
    if (!/^[0-9]+$/.test(ct)) {
      return answer(error(400, "INVALID_ARGUMENT", `contentType must be sent as an integer enum, got ${ct}`));
    }
    if (ct !== CONTENT_RESOURCE && ct !== CONTENT_IAM) {
      return answer(error(400, "INVALID_ARGUMENT", `unsupported contentType ${ct}`));
    }
    let snap: { readTime: string; assets: RestAsset[] };
    let offset = 0;
    if (seen.pageToken) {
      const [gen, off] = seen.pageToken.split(".").map(Number);
      const s = snapshots.get(gen);
      if (!s || !Number.isInteger(off)) return answer(error(400, "INVALID_ARGUMENT", "invalid page token"));
      snap = s;
      offset = off;
    } else {
      generation++;
      snap = { readTime: readTime ?? new Date().toISOString(), assets };
      snapshots.set(generation, snap);
    }
    const gen = seen.pageToken ? Number(seen.pageToken.split(".")[0]) : generation;
    const types = new Set(seen.assetTypes);
    // projects/<id> and projects/<number> name the same project, as in the real API.
    const project = snap.assets.find((a) =>
      a.assetType === "cloudresourcemanager.googleapis.com/Project" &&
      (`projects/${a.resource?.data?.projectId}` === m[1] || a.name.endsWith(`/${m[1]}`))
    );
    const scopes = [m[1], project ? `projects/${String(project.name.split("/").pop())}` : m[1]];
    const matching = snap.assets.filter((a) =>
      (types.size === 0 || types.has(a.assetType)) &&
      scopes.some((sc) =>
        a.name.includes(`/${sc}/`) || a.name.endsWith(`/${sc}`) || (a.ancestors ?? []).includes(sc)
      )
    );
    const size = Math.min(seen.pageSize || opts.defaultPageSize || 100, 1000);
    const page = matching.slice(offset, offset + size).map((a) =>
      ct === CONTENT_IAM
        ? {
          name: a.name,
          assetType: a.assetType,
          ancestors: a.ancestors,
          updateTime: a.updateTime,
          iamPolicy: a.iamPolicy,
        }
        : {
          name: a.name,
          assetType: a.assetType,
          ancestors: a.ancestors,
          updateTime: a.updateTime,
          resource: a.resource,
        }
    ).filter((a) => ct !== CONTENT_IAM || (a as RestAsset).iamPolicy);
    const next = offset + size < matching.length ? `${gen}.${offset + size}` : undefined;
    return answer(
      Response.json({ readTime: snap.readTime, assets: page, ...(next ? { nextPageToken: next } : {}) }),
    );
  });
  const addr = server.addr as Deno.NetAddr;
  const handle: AssetRestServer = {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    setAssets(a) {
      assets = a;
    },
    setReadTime(iso) {
      readTime = iso;
    },
    failNext(n, retryDelayMs = 0) {
      failures = n;
      failDelayMs = retryDelayMs;
    },
    async close() {
      await server.shutdown();
    },
  };
  return handle;
}
