/**
 * The optional, read-only Kubernetes source of a fabric (`fabrics[].kubernetes`): lists the custom resources
 * of each CRD kind over the API server's REST interface with a bearer token, following `continue` tokens.
 * lzsync never writes to the cluster. A kind whose CRD is not installed (404) lists as empty.
 */
import { LzError } from "../../pipeline/errors.ts";
import type { KubeObject } from "../../processors/fgd/object.ts";

/** Options of {@link KubeSource}. */
export interface KubeSourceOptions {
  /** API server base URL, e.g. `https://10.0.0.1:6443`. */
  apiUrl: string;
  token?: string;
  /** Items per page (default 500). */
  pageSize?: number;
  /** Per request timeout (default 15 s). */
  timeoutMs?: number;
}

/** What to list. */
export interface KindRef {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** A read-only lister of custom resources. */
export class KubeSource {
  readonly #o: Required<Omit<KubeSourceOptions, "token">> & { token?: string };

  constructor(o: KubeSourceOptions) {
    this.#o = { pageSize: 500, timeoutMs: 15_000, ...o, apiUrl: o.apiUrl.replace(/\/+$/, "") };
  }

  /** Every object of a kind, across namespaces. */
  async list(k: KindRef): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    let cont: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(this.#o.pageSize) });
      if (cont) q.set("continue", cont);
      const url = `${this.#o.apiUrl}/apis/${k.group}/${k.version}/${k.plural}?${q}`;
      const headers: Record<string, string> = { accept: "application/json" };
      if (this.#o.token) headers.authorization = `Bearer ${this.#o.token}`;
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(this.#o.timeoutMs) });
      } catch (err) {
        throw new LzError(
          "KUBE",
          `cannot reach the Kubernetes API at ${this.#o.apiUrl}: ${(err as Error).message}`,
          {
            cause: err,
            retriable: true,
          },
        );
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return [];
      }
      if (!res.ok) {
        const text = (await res.text()).slice(0, 200);
        const hint = res.status === 401 || res.status === 403
          ? "check the token in kubernetes.token_env (it needs list on these resources)"
          : text;
        throw new LzError("KUBE", `listing ${k.plural}.${k.group} failed (HTTP ${res.status}): ${hint}`, {
          retriable: res.status >= 500 || res.status === 429,
        });
      }
      const body = await res.json() as { items?: KubeObject[]; metadata?: { continue?: string } };
      for (const item of body.items ?? []) {
        out.push({
          ...item,
          apiVersion: item.apiVersion ?? `${k.group}/${k.version}`,
          kind: item.kind ?? k.kind,
        });
      }
      cont = body.metadata?.continue || undefined;
    } while (cont);
    return out;
  }
}
