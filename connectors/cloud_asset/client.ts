/**
 * ListAssets through Google's `@google-cloud/asset` client in REST (fallback) mode: the client sends enums as
 * integers (`contentType=1`) and decodes `resource.data` into a protobuf Struct, which {@link normalizeAsset}
 * turns back into JSON. Without `apiEndpoint` it talks to `cloudasset.googleapis.com` with Application
 * Default Credentials; with one (tests, private endpoints) it talks to that URL, e.g. `http://127.0.0.1:8085`.
 */
import { AssetServiceClient } from "@google-cloud/asset";
import type { AssetRecord } from "../../schemas/assets.ts";
import { normalizeAsset } from "./normalize.ts";
import { timestampToIso } from "./struct.ts";

/** Cloud Asset content types used by lzsync (the proto enum values the REST client sends). */
export const CONTENT_TYPES = { RESOURCE: 1, IAM_POLICY: 2 } as const;
export type ContentType = keyof typeof CONTENT_TYPES;

/** One ListAssets page request. */
export interface ListRequest {
  parent: string;
  assetTypes: string[];
  contentType: ContentType;
  pageSize?: number;
  pageToken?: string;
}

/** One page of normalized assets. */
export interface ListPage {
  assets: AssetRecord[];
  nextPageToken: string | null;
  readTime: string | null;
}

/** Lists assets page by page; the poller adds paging loops and backoff on top. */
export interface AssetLister {
  listPage(req: ListRequest): Promise<ListPage>;
  close(): Promise<void>;
}

/**
 * An auth client that adds no credentials and sends requests with the runtime's `fetch`: for a local
 * endpoint (tests, an authenticating proxy). It is what google-gax's REST transport calls (`fetch`).
 */
export function noAuthClient(): unknown {
  return {
    universeDomain: "googleapis.com",
    getRequestHeaders: () => Promise.resolve(new Headers()),
    fetch: (
      url: string,
      init: { method?: string; headers?: HeadersInit; body?: BodyInit; signal?: AbortSignal },
    ) => fetch(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal }),
  };
}

/** Options of {@link createAssetLister}. */
export interface AssetListerOptions {
  /** REST base URL, e.g. `http://127.0.0.1:8085`; default Google's endpoint. */
  apiEndpoint?: string;
  /** An auth client for google-gax; default ADC, or {@link noAuthClient} when `apiEndpoint` is http://. */
  authClient?: unknown;
  /** Per-call timeout (default 60 s). */
  timeoutMs?: number;
}

/** Creates an {@link AssetLister} backed by `AssetServiceClient` in REST mode. */
export function createAssetLister(opts: AssetListerOptions = {}): AssetLister {
  const clientOpts: Record<string, unknown> = { fallback: true };
  if (opts.apiEndpoint) {
    const u = new URL(opts.apiEndpoint);
    clientOpts.apiEndpoint = u.hostname;
    clientOpts.protocol = u.protocol.replace(":", "");
    clientOpts.port = Number(u.port || (u.protocol === "http:" ? 80 : 443));
    if (opts.authClient === undefined && u.protocol === "http:") clientOpts.authClient = noAuthClient();
  }
  if (opts.authClient !== undefined) clientOpts.authClient = opts.authClient;
  const client = new AssetServiceClient(clientOpts as ConstructorParameters<typeof AssetServiceClient>[0]);
  const timeout = opts.timeoutMs ?? 60_000;
  return {
    async listPage(req) {
      const request = {
        parent: req.parent,
        assetTypes: req.assetTypes,
        contentType: CONTENT_TYPES[req.contentType],
        pageSize: req.pageSize ?? 1000,
        pageToken: req.pageToken ?? "",
      };
      // autoPaginate off: the poller owns paging so each page can be retried on its own.
      const [assets, , raw] = await client.listAssets(request, { autoPaginate: false, timeout });
      const response = (raw ?? {}) as { nextPageToken?: string; readTime?: unknown };
      return {
        assets: (assets ?? []).map((a, i) => normalizeAsset(a, `ListAssets ${req.parent} asset ${i}`)),
        nextPageToken: response.nextPageToken ? response.nextPageToken : null,
        readTime: timestampToIso(response.readTime),
      };
    },
    async close() {
      await client.close();
    },
  };
}
