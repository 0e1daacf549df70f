/**
 * What the crash test checks once the pipeline has settled: `git fsck` of every repository involved, every
 * raw file in exactly one place, the Portal's views against a clean run, and every processor group's state
 * against a clean rebuild from the same input topics.
 */
import { join } from "node:path";
import type { Broker } from "../../broker/types.ts";
import { silentLogger } from "../../log.ts";
import { canonicalJson, digestGroup, readGroupState, topologyState } from "../../digest.ts";
import { createProcessorHost } from "../../processor/host.ts";
import type { Topology } from "../../processor/types.ts";
import type { Config } from "../../config.ts";
import { waitFor } from "../wait.ts";
import { gitSyncTopology } from "../../../processors/git_sync/mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../../../processors/sync_status/mod.ts";
import { policyTopology } from "../../../processors/policy/mod.ts";
import { assetsTopology } from "../../../processors/assets/mod.ts";
import type { RawDrop } from "./fixtures.ts";

async function git(args: string[], cwd: string): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { ok: r.success, out: (d.decode(r.stdout) + d.decode(r.stderr)).trim() };
}

/** Git directories under `root` (bare repos and worktrees' `.git`), not descending into them. */
export async function gitDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (names.has("HEAD") && names.has("objects") && names.has("refs")) {
      out.push(dir);
      return;
    }
    for (const e of entries) if (e.isDirectory) await walk(join(dir, e.name));
  };
  await walk(root);
  return out.sort();
}

/** `git fsck --full` of a git directory, and lock files left in it (a lock left by a kill blocks git). */
export async function fsck(
  dir: string,
): Promise<{ dir: string; ok: boolean; output: string; locks: string[] }> {
  const r = await git(["--git-dir", dir, "fsck", "--full", "--no-progress"], dir);
  const locks: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory && e.name !== "objects") await walk(p);
      else if (e.name.endsWith(".lock")) locks.push(p.slice(dir.length + 1));
    }
  };
  await walk(dir);
  return { dir, ok: r.ok, output: r.out.slice(0, 2000), locks };
}

/** Where each raw drop is in the fabric directory's tree at `ref`: it must be in exactly one place. */
export async function rawAccounting(
  bareRepo: string,
  fabricDir: string,
  drops: RawDrop[],
): Promise<{ drop: string; places: string[] }[]> {
  const tree = (await git(["ls-tree", "-r", "--name-only", "main", "--", fabricDir], bareRepo)).out
    .split("\n").filter(Boolean).map((p) => p.slice(fabricDir.length + 1));
  const paths = new Set(tree);
  return drops.map((d) => {
    const file = d.path.slice("raw/".length);
    const stem = file.replace(/\.ya?ml$/, "");
    const places: string[] = [];
    if (paths.has(d.path)) places.push(d.path);
    const esc = stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const unmanaged = new RegExp(`^unmanaged/${esc}(\\.\\d+)?\\.ya?ml$`);
    for (const p of tree) if (unmanaged.test(p)) places.push(p);
    if (d.expect === "managed" && d.objects.length) {
      const all = d.objects.every((o) => paths.has(`managed/${o}.yaml`));
      if (all) places.push(`managed/{${d.objects.join(",")}}`);
    } else if (d.expect === "managed" && places.length === 0) {
      places.push("managed/ (ingested)");
    }
    return { drop: d.path, places };
  });
}

const VOLATILE =
  /(^|_)(at|time|timestamp|ts|sync_id|cursor|latency|seconds|freshness|next_sync|last_sync|last_attempt|snapshot_id|message_id|attempts|errors|success_rate|items_total|items_synced|previous|forced|changed|removed|source|duration_ms|window|first_seen|last_seen)$/;

/** A view without the fields that differ between any two runs (times, run ids, counters of past runs). */
export function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    if (VOLATILE.test(k)) continue;
    out[k] = stable((v as Record<string, unknown>)[k]);
  }
  return out;
}

/**
 * Lists of named objects sorted by name (nested too): with keyed topics over several partitions
 * (`broker.partitions`), the gateway's views list assets in the order its reader met them across partitions,
 * which two runs need not share.
 */
export function namedInOrder(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(namedInOrder);
    const named = items.every((x) =>
      x && typeof x === "object" && typeof (x as { name?: unknown }).name === "string"
    );
    return named ? items.sort((a: any, b: any) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : items;
  }
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, namedInOrder(x)]));
}

function withoutFrom(body: any): unknown {
  if (!body || !Array.isArray(body.files)) return body;
  return { ...body, files: body.files.map(({ from: _f, ...f }: Record<string, unknown>) => f) };
}

/** The Portal views the crash test compares, read from a running gateway. */
export async function readViews(url: string, fabric: string): Promise<Record<string, unknown>> {
  const get = async (path: string) => {
    const r = await fetch(`${url}${path}`);
    const body = await r.json();
    return { status: r.status, body };
  };
  const g = (await get("/api/v1/sync/git")).body;
  const files = (g.files ?? []) as { path: string; commit?: string }[];
  return {
    git: { commit: g.commit?.sha ?? null, files: stable(files.map(({ commit: _c, ...f }) => f)) },
    // the commit that last changed each file: the same whether a run synced incrementally or in full
    file_commits: Object.fromEntries(files.map((f) => [f.path, f.commit ?? null])),
    objects: stable((await get(`/api/v1/fabrics/${fabric}/objects`)).body),
    // `from` (the raw/ path a file was moved from) is known only to the run that moved it, never to a clean run
    unmanaged: stable(withoutFrom((await get(`/api/v1/fabrics/${fabric}/unmanaged`)).body)),
    infrastructure: namedInOrder(stable((await get("/api/v1/sync/infrastructure-state")).body)),
  };
}

/** Paths where two JSON values differ (at most `max`). */
export function diffPaths(a: unknown, b: unknown, max = 10, at = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const out: string[] = [];
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      out.push(...diffPaths((a as any)[k], (b as any)[k], max - out.length, `${at}/${k}`));
      if (out.length >= max) break;
    }
    return out;
  }
  return [`${at}: ${JSON.stringify(a)?.slice(0, 200)} != ${JSON.stringify(b)?.slice(0, 200)}`];
}

/** The processor groups of the crash test (the ones the issue names), built for `app` ids. */
export function groupTopologies(config: Readonly<Config>, suffix = ""): Topology[] {
  return [
    gitSyncTopology(`lzsync-git-sync${suffix}`),
    syncStatusTopology(syncStatusOptions(config), `lzsync-sync-status${suffix}`),
    policyTopology({ app: `lzsync-policy${suffix}` }),
    assetsTopology({ app: `lzsync-assets${suffix}` }),
  ] as Topology[];
}

async function committedToEnd(broker: Broker, t: Topology): Promise<boolean> {
  const admin = broker.admin();
  for (const topic of t.inputs) {
    const [highs, committed] = await Promise.all([
      admin.topicOffsets(topic),
      admin.fetchCommitted(t.app, [topic]),
    ]);
    for (const h of highs) {
      if (h.high > h.low && (committed.find((c) => c.partition === h.partition)?.offset ?? 0) < h.high) {
        return false;
      }
    }
  }
  return true;
}

/** One group's comparison. */
export interface DigestComparison {
  group: string;
  crashed: string;
  clean: string;
  equal: boolean;
  differences: string[];
}

/**
 * Each group's digest after the kills against a clean rebuild: the same topology under a fresh app id reads
 * the same input topics from the start, once, with no kill. Equal digests: no update lost or applied twice.
 */
export async function compareDigests(broker: Broker, config: Readonly<Config>): Promise<DigestComparison[]> {
  const suffix = `-clean-${crypto.randomUUID().slice(0, 6)}`;
  const out: DigestComparison[] = [];
  const crashed = groupTopologies(config);
  const clean = groupTopologies(config, suffix);
  for (let i = 0; i < crashed.length; i++) {
    const host = createProcessorHost({ broker, log: silentLogger }, clean[i], { retries: 1, backoffMs: 10 });
    await host.start();
    try {
      await waitFor(() => committedToEnd(broker, clean[i]), `${clean[i].app} caught up`, 120_000);
    } finally {
      await host.stop();
    }
    const a = await digestGroup({ broker, ...topologyState(crashed[i]) });
    const b = await digestGroup({ broker, ...topologyState(clean[i]) });
    const r: DigestComparison = {
      group: crashed[i].app,
      crashed: a.digest,
      clean: b.digest,
      equal: a.digest === b.digest,
      differences: [],
    };
    if (!r.equal) r.differences = await stateDifferences(broker, crashed[i], clean[i]);
    out.push(r);
  }
  return out;
}

/** The first entries in which two groups of the same topology differ, as `store/partition/key: a != b`. */
async function stateDifferences(broker: Broker, a: Topology, b: Topology, max = 5): Promise<string[]> {
  const [sa, sb] = await Promise.all([
    readGroupState({ broker, ...topologyState(a) }),
    readGroupState({ broker, ...topologyState(b) }),
  ]);
  const out: string[] = [];
  for (const store of a.stores) {
    const pa = sa.get(store)!, pb = sb.get(store)!;
    for (const p of new Set([...pa.keys(), ...pb.keys()])) {
      const ma = pa.get(p) ?? new Map(), mb = pb.get(p) ?? new Map();
      for (const k of new Set([...ma.keys(), ...mb.keys()])) {
        const x = canonicalJson(ma.get(k)), y = canonicalJson(mb.get(k));
        if (x !== y && out.length < max) {
          out.push(`${store}/${p}/${k}: ${x.slice(0, 300)} != ${y.slice(0, 300)}`);
        }
      }
    }
  }
  return out;
}
