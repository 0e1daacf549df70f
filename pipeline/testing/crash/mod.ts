/**
 * The crash test of issue 8: run the whole pipeline as a child process (`lzsync start`) on the embedded
 * broker or a Kafka broker of its own, against a real git smart-HTTP server (the Landing Zone, with a
 * fabric whose `raw/` gets drops) and a Cloud Asset REST server, and kill it while git syncs, fabric
 * ingestion (with a concurrent committer pushing new drops) and asset polls run: first at each named crash
 * point (`LZSYNC_CRASH_AT`, see `pipeline/crash_point.ts`: the process SIGKILLs itself at that moment, e.g.
 * half of a push's pack sent), then with SIGKILLs at random instants. Then let one last run settle and check:
 * - `git fsck --full` of the remote, the committer's clone and every repository lzsync keeps in its data dir;
 * - every raw file is in exactly one of `raw/`, `managed/` (as its objects) or `unmanaged/`;
 * - the Portal's views equal those of a clean run (a fresh data dir, no kill) over the same final inputs;
 * - every processor group's digest equals a clean rebuild from the same input topics.
 *
 * `deno task test` runs a bounded version (`crash_integration_test.ts`); run it longer by hand:
 *
 *   deno run -A pipeline/testing/crash/mod.ts --broker embedded --kills 20 --seed 7
 *   deno run -A pipeline/testing/crash/mod.ts --broker kafka --kills 10      (starts its own Kafka)
 *   deno run -A pipeline/testing/crash/mod.ts --points fgd:mid-push,fgd:mid-push@2 --kills 0
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { createEmbeddedBroker } from "../../broker/embedded/mod.ts";
import { createKafkaBroker } from "../../broker/kafka/mod.ts";
import type { Broker } from "../../broker/types.ts";
import { resolveConfig } from "../../config.ts";
import { freePort } from "../free_port.ts";
import { startGitServer } from "../git_server.ts";
import { startKafka } from "../kafka_server.ts";
import { sleep, waitFor } from "../wait.ts";
import { startAssetRestServer } from "../../../connectors/cloud_asset/rest_test_server.ts";
import {
  assetsAt,
  CRD_DIR,
  drop,
  FABRIC_DIR,
  FABRIC_ID,
  initialRepo,
  type RawDrop,
  rng,
} from "./fixtures.ts";
import { type PipelineProcess, startPipeline } from "./pipeline_process.ts";
import { CRASH_POINTS } from "../../crash_point.ts";
import {
  compareDigests,
  diffPaths,
  type DigestComparison,
  fsck,
  gitDirs,
  rawAccounting,
  readViews,
} from "./checks.ts";

/** Options of {@link runCrashTest}. */
export interface CrashOptions {
  broker: "embedded" | "kafka";
  /** SIGKILLs at random instants (each to a fresh start of the pipeline), after the crash points. */
  kills: number;
  /** Crash points to die at, one start each (`<point>` or `<point>@<n>`; default: every point once). */
  points?: string[];
  /** How long a start may take to reach its crash point (default 60 s); one that does not fails the run. */
  pointTimeoutMs?: number;
  seed?: number;
  /** A running Kafka to use (`host:port`) instead of starting one; its topics must be empty of lz.* data. */
  kafkaBrokers?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a crash run found; `ok` only when every check passed. */
export interface CrashReport {
  broker: string;
  seed: number;
  /** Kills survived: crash points reached plus random SIGKILLs. */
  kills: number;
  /** Each crash point's start: whether the process died there, and after how long. */
  crash_points: { point: string; reached: boolean; ms: number }[];
  /** Starts that failed by themselves (exit code, no signal) before a crash point and were tried again. */
  start_retries: number;
  /** What the pipeline was doing at each kill (the crash point, or the last log message of each connector). */
  killed_during: string[];
  drops: number;
  /** Raw drops found in no place or in more than one. */
  misplaced: { drop: string; places: string[] }[];
  fsck: { dir: string; ok: boolean; output: string; locks: string[] }[];
  views_equal: boolean;
  view_diffs: string[];
  digests: DigestComparison[];
  /** Warnings and errors the last (settling) run after the kills logged: what to read when a check failed. */
  settle_warnings: string[];
  ok: boolean;
}

function configFile(dir: string, o: Record<string, unknown>): string {
  const path = join(dir, "lzsync.yaml");
  Deno.writeTextFileSync(path, stringify(o));
  return path;
}

/** Runs the crash test (see the module doc). */
export async function runCrashTest(o: CrashOptions): Promise<CrashReport> {
  const seed = o.seed ?? Math.floor(Math.random() * 1e9);
  const random = rng(seed);
  const log = o.log ?? (() => {});
  const root = await Deno.makeTempDir({ prefix: "lzsync-crash-" });
  const git = await startGitServer({ root: join(root, "git") });
  const assets = startAssetRestServer(assetsAt(0));
  const kafka = o.broker === "kafka" && !o.kafkaBrokers ? await startKafka() : null;
  const brokers = o.kafkaBrokers ?? kafka?.brokers;
  const { files, drops } = initialRepo(6, 2);
  await git.createRepo("lz", files);
  const raw = (dataDir: string, brokerKind: string, port: number) => ({
    data_dir: dataDir,
    log_level: "info",
    broker: { kind: brokerKind, ...(brokerKind === "kafka" ? { brokers: [brokers] } : {}), partitions: 3 },
    gateway: { host: "127.0.0.1", port },
    landing_zone: { repo: git.url("lz"), branch: "main" },
    layers: {
      git: { interval: "2s" },
      api: { interval: "2s", parent: "projects/web-prod", api_endpoint: assets.url },
      pubsub: { enabled: false },
      bigquery: { enabled: false },
    },
    analytics: { duckdb: { enabled: false } },
    fabrics: [{ id: FABRIC_ID, path: FABRIC_DIR, crd_dirs: [`${CRD_DIR}/`] }],
  });
  const port = freePort();
  const crashRaw = raw(join(root, "crash-data"), o.broker, port);
  const crashConfig = configFile(await Deno.makeTempDir({ dir: root, prefix: "crash-" }), crashRaw);
  const url = `http://127.0.0.1:${port}`;
  const killedDuring: string[] = [];
  let child: PipelineProcess | null = null;
  let stopInputs = false;
  let dropNo = 100;
  const inputs = (async () => {
    // The concurrent committer (new drops, doc edits) and the changing inventory, while kills happen.
    let round = 0;
    while (!stopInputs) {
      await sleep(300 + random() * 600);
      if (stopInputs) break;
      const d = drop(dropNo++, random() < 0.8);
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          await git.commitAndPush("lz", {
            [`${FABRIC_DIR}/${d.drop.path}`]: d.text,
            "docs/log.md": `# Log\n\nround ${round}\n`,
          }, `drop ${d.drop.path}`);
          drops.push(d.drop);
          break;
        } catch {
          await sleep(100 + random() * 300); // lost a push race with lzsync: fetch and try again
        }
      }
      if (++round % 3 === 0) assets.setAssets(assetsAt(round));
    }
  })();
  const crashPoints: CrashReport["crash_points"] = [];
  let startRetries = 0;
  try {
    for (const point of o.points ?? Object.keys(CRASH_POINTS)) {
      const t0 = performance.now();
      const name = point.split("@")[0];
      let reached = false;
      // A start that fails by itself (exit code, no signal: a port taken in the meantime, a broker briefly not
      // answering) is logged with its last lines and tried once more; a second failure fails the point.
      for (let attempt = 1; attempt <= 2 && !reached; attempt++) {
        child = startPipeline(crashConfig, { LZSYNC_CRASH_AT: point });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const status = await Promise.race([
          child.status,
          new Promise<null>((r) => timer = setTimeout(() => r(null), o.pointTimeoutMs ?? 60_000)),
        ]);
        clearTimeout(timer);
        reached = status !== null &&
          child.lines.some((l) => l.includes('"ns":"lzsync.crash"') && l.includes(`"point":"${name}"`));
        const lines = child.lines;
        if (status === null) await child.kill();
        child = null;
        if (reached) break;
        log(
          `crash point ${point}: attempt ${attempt} ended ${
            status ? `with code ${status.code}${status.signal ? ` (${status.signal})` : ""}` : "by timeout"
          }; its last lines:\n${lines.slice(-12).join("\n")}`,
        );
        if (!status || status.signal !== null || status.code === 0) break;
        startRetries++;
      }
      crashPoints.push({ point, reached, ms: Math.round(performance.now() - t0) });
      killedDuring.push(reached ? `crash point ${point}` : `crash point ${point} NOT reached (SIGKILL)`);
      log(`crash point ${point}: ${reached ? "reached" : "not reached"} after ${crashPoints.at(-1)!.ms} ms`);
    }
    for (let k = 0; k < o.kills; k++) {
      child = startPipeline(crashConfig);
      await child.waitForLine(/lzsync is running/, 60_000);
      await sleep(300 + random() * 4_000);
      const last = new Map<string, string>();
      for (const l of child.lines) {
        try {
          const j = JSON.parse(l);
          if (j.ns && j.msg) last.set(String(j.ns).split(".").slice(0, 2).join("."), j.msg);
        } catch { /* not a log line */ }
      }
      await child.kill();
      child = null;
      killedDuring.push([...last].map(([ns, m]) => `${ns}: ${m}`).slice(-4).join("; "));
      log(`kill ${k + 1}/${o.kills}: ${killedDuring.at(-1)}`);
    }
    stopInputs = true;
    await inputs;
    const headBefore = await git.head("lz");
    child = startPipeline(crashConfig);
    await child.waitForLine(/lzsync is running/, 60_000);
    const crashViews = await settle(url, git, "lz", log);
    await child.stop();
    const settleWarnings = warnings(child.lines);
    child = null;
    log(`settled after the kills at ${await git.head("lz")} (inputs ended at ${headBefore})`);

    const cleanConfig = configFile(
      await Deno.makeTempDir({ dir: root, prefix: "clean-" }),
      raw(join(root, "clean-data"), "embedded", port),
    );
    child = startPipeline(cleanConfig);
    await child.waitForLine(/lzsync is running/, 60_000);
    const cleanViews = await settle(url, git, "lz", log);
    await child.stop();
    child = null;

    const dirs = [
      join(git.root, "lz.git"),
      join(git.root, ".work", "lz", ".git"),
      ...await gitDirs(crashRaw.data_dir),
    ];
    const fscks = [];
    for (const d of dirs) fscks.push(await fsck(d));
    const misplaced = (await rawAccounting(join(git.root, "lz.git"), FABRIC_DIR, drops))
      .filter((r) => r.places.length !== 1);
    const broker: Broker = o.broker === "kafka"
      ? await createKafkaBroker({ brokers: [brokers!], clientId: "lzsync-crash-check" })
      : await createEmbeddedBroker({ dataDir: join(crashRaw.data_dir, "broker") });
    let digests;
    try {
      digests = await compareDigests(broker, resolveConfig(crashRaw).config);
    } finally {
      await broker.close();
    }
    const viewDiffs = diffPaths(crashViews, cleanViews);
    const report: CrashReport = {
      broker: o.broker,
      seed,
      kills: killedDuring.length - crashPoints.filter((p) => !p.reached).length,
      crash_points: crashPoints,
      start_retries: startRetries,
      killed_during: killedDuring,
      drops: drops.length,
      misplaced,
      fsck: fscks,
      views_equal: viewDiffs.length === 0,
      view_diffs: viewDiffs,
      digests,
      settle_warnings: settleWarnings,
      ok: crashPoints.every((p) => p.reached) && misplaced.length === 0 && fscks.every((f) =>
        f.ok && f.locks.length === 0
      ) &&
        viewDiffs.length === 0 && digests.every((d) => d.equal),
    };
    return report;
  } finally {
    stopInputs = true;
    await inputs.catch(() => {});
    if (child) await child.kill();
    await assets.close();
    await git.stop();
    await kafka?.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** The last 60 warning and error lines of a run's JSON log. */
function warnings(lines: string[]): string[] {
  return lines.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-60).map((l) => l.slice(0, 400));
}

/**
 * Waits until the pipeline has caught up with the remote: `raw/` drained, the Portal at the remote head,
 * and two readings of the views 3 s apart equal. Returns the views.
 */
async function settle(
  url: string,
  git: { head(name: string): Promise<string | undefined>; root: string },
  repo: string,
  log: (l: string) => void,
): Promise<Record<string, unknown>> {
  let previous = "";
  let views: Record<string, unknown> = {};
  await waitFor(
    async () => {
      try {
        views = await readViews(url, FABRIC_ID);
      } catch {
        return false;
      }
      const head = await git.head(repo);
      const tree = await new Deno.Command("git", {
        args: ["ls-tree", "-r", "--name-only", "main", "--", `${FABRIC_DIR}/raw/`],
        cwd: join(git.root, `${repo}.git`),
        stdout: "piped",
      }).output();
      const pending = new TextDecoder().decode(tree.stdout).split("\n").filter((p) => /\.ya?ml$/.test(p));
      const now = JSON.stringify(views);
      // Every infrastructure layer has a status: the sync-status processor reports a quiet layer (pubsub is
      // disabled here) only at its first punctuation (15 s), which a fresh clean run may not have reached.
      const sync = (views.infrastructure as { sync?: Record<string, unknown> } | undefined)?.sync ?? {};
      const reported = Object.values(sync).every((v) => v !== null);
      const done = pending.length === 0 && (views.git as { commit: string | null }).commit === head &&
        reported && now === previous;
      previous = now;
      if (!done) await sleep(3_000);
      return done;
    },
    "the pipeline to settle",
    240_000,
    () => ({ views: Object.keys(views) }),
  );
  log("settled");
  return views;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      broker: { type: "string", default: "embedded" },
      kills: { type: "string", default: "10" },
      points: { type: "string" },
      seed: { type: "string" },
      "kafka-brokers": { type: "string" },
    },
  });
  const report = await runCrashTest({
    broker: values.broker as "embedded" | "kafka",
    kills: Number(values.kills),
    points: values.points?.split(",").filter(Boolean),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    kafkaBrokers: values["kafka-brokers"],
    log: (l) => console.error(l),
  });
  console.log(JSON.stringify(report, null, 2));
  Deno.exit(report.ok ? 0 : 1);
}

export type { RawDrop };
