/**
 * Fabric GitOps Directory ingestion, measured end to end on the embedded broker and a real git
 * smart-HTTP server (`git http-backend`):
 *
 * 1. 10,000 CR documents in 1,000 raw files → one pushed ingestion commit (fetch, validate, normalize,
 *    plan, commit, push) plus the 10,000 object records on `lz.fgd.objects.v1`. Targets: >= 1,000 files/s
 *    (the documents asked for 50) and no slower than the git CLI. Baseline, same run: the git CLI making the same
 *    commit (clone, write the 10,000 managed files the run produced, remove raw/, add, commit, push) — the
 *    cost of git alone, with no parsing or validation. Measured in {@link ROUNDS} alternating rounds (each
 *    round: a fabric of its own, in a repository of its own, is ingested, then the git CLI makes the same
 *    commit there); the figures are the medians (phases too), and the first round — the first big ingestion
 *    of the process, its code not yet optimized by the JIT — is shown on its own.
 * 2. A second run over the result (10,000 managed files, nothing to do), then one raw file of 10 documents
 *    dropped onto it (the everyday case: a small change to a big fabric; its planning phase shown too).
 * 3. Validation throughput: the FGD validator (structure + CRD schema + Hedgehog rules) on decoded
 *    documents, target >= 20,000 docs/s; baseline: the bare Ajv-compiled CRD schema on the same documents.
 */
import { join } from "node:path";
import { Registry } from "prom-client";
import { Ajv } from "ajv";
import type { BenchResult } from "./types.ts";
import { createEmbeddedBroker } from "../pipeline/broker/embedded/mod.ts";
import { resolveConfig } from "../pipeline/config.ts";
import { silentLogger } from "../pipeline/log.ts";
import { type AppDeps, systemClock } from "../pipeline/service.ts";
import { startGitServer } from "../pipeline/testing/git_server.ts";
import { buildFabricServices } from "../features/fabrics/service.ts";
import { crdRepoFiles } from "../features/fabrics/_test_util.ts";
import { crdToJsonSchema } from "../processors/fgd/crd_schema.ts";
import { parseYamlFile } from "../processors/fgd/parse_file.ts";
import { Validator } from "../processors/fgd/validate.ts";
import { hedgehogCrds } from "../processors/fgd/testdata/mod.ts";
import type { KubeObject } from "../processors/fgd/object.ts";

const FILES = 1000;
const DOCS_PER_FILE = 10;
/** Alternating rounds of figure 1 (ingestion, then the git CLI baseline). */
const ROUNDS = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Document `i` of the generated fabric: VPCs, switches, servers, connections and attachments. The fabric is
 * valid as a whole, as the cluster would see it: every VPC has its own subnet and VLAN, every leaf its own ASN,
 * every port one Connection.
 */
export function doc(i: number): string {
  const a = (i >> 8) & 255, b = i & 255;
  switch (i % 5) {
    case 0:
      return `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: v${i}
spec:
  subnets:
    default:
      subnet: 10.${a}.${b}.0/24
      gateway: 10.${a}.${b}.1
      vlan: ${1000 + i / 5}
      dhcp:
        enable: true
        range: {start: 10.${a}.${b}.10, end: 10.${a}.${b}.200}
`;
    case 1:
      return `apiVersion: wiring.githedgehog.com/v1beta1
kind: Switch
metadata:
  name: leaf-${i}
spec:
  role: server-leaf
  profile: vs
  asn: ${65000 + (i - 1) / 5}
  ip: 172.30.${a}.${b}/21
  protocolIP: 172.31.${a}.${b}/32
  vtepIP: 172.29.${a}.${b}/32
`;
    case 2:
      return `apiVersion: wiring.githedgehog.com/v1beta1
kind: Server
metadata:
  name: server-${i}
  labels: {rack: r${i % 40}}
spec:
  description: server ${i}
`;
    case 3:
      return `apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-${i - 1}--unbundled--leaf-${i - 2}
spec:
  unbundled:
    link:
      server: {port: server-${i - 1}/enp2s1}
      switch: {port: leaf-${i - 2}/E1/${i % 48 + 1}}
`;
    default:
      return `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPCAttachment
metadata:
  name: server-${i - 2}--v${i - 4}
spec:
  connection: server-${i - 2}--unbundled--leaf-${i - 3}
  subnet: v${i - 4}/default
`;
  }
}

/** The 1,000 raw files of the bench fabric, by repo path. */
export function rawFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let f = 0; f < FILES; f++) {
    const docs = [];
    for (let d = 0; d < DOCS_PER_FILE; d++) docs.push(doc(f * DOCS_PER_FILE + d));
    files[`fabrics/bench/raw/batch-${String(f).padStart(4, "0")}.yaml`] = docs.join("---\n");
  }
  return files;
}

async function sh(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** The git CLI producing the same commit as the ingestion (the baseline), in ms. */
async function gitCliBaseline(url: string, managed: Map<string, Uint8Array>): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-bench-fgd-cli-" });
  const env = ["-c", "user.name=bench", "-c", "user.email=bench@x"];
  try {
    const t0 = performance.now();
    await sh(["clone", "--quiet", "--single-branch", url, "w"], dir);
    const w = join(dir, "w");
    await Deno.remove(join(w, "fabrics/bench/raw"), { recursive: true });
    for (const [path, content] of managed) {
      await Deno.mkdir(join(w, path, ".."), { recursive: true });
      await Deno.writeFile(join(w, path), content);
    }
    await sh(["add", "--all"], w);
    await sh([...env, "commit", "--quiet", "-m", "baseline"], w);
    await sh(["push", "--quiet", "origin", "HEAD:refs/heads/baseline"], w);
    return performance.now() - t0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Figures 1 and 2 (see the module doc). */
export async function ingestion(): Promise<BenchResult[]> {
  const git = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-bench-fgd-" });
  const broker = await createEmbeddedBroker();
  // one fabric (and repository) per round, so that every round ingests the same drop onto the same tree
  const ids = Array.from({ length: ROUNDS }, (_, r) => (r === 0 ? "bench" : `bench${r + 1}`));
  const deps: AppDeps = {
    runtime: resolveConfig(
      {
        data_dir: dataDir,
        landing_zone: { repo: git.url("lz") },
        fabrics: ids.map((id) => ({
          id,
          repo: git.url(`lz-${id}`),
          path: "fabrics/bench",
          crd_dirs: ["fabrics/crds/hedgehog"],
        })),
      },
      {},
      "bench",
    ),
    broker,
    log: silentLogger,
    metrics: new Registry(),
    clock: systemClock,
  };
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  try {
    await git.createRepo("lz", { "README.md": "# bench\n" });
    for (const id of ids) {
      await git.createRepo(`lz-${id}`, {
        ...crdRepoFiles(),
        "README.md": "# bench\n",
        "fabrics/bench/raw/.gitkeep": "",
      });
    }
    for (const s of fgd.services) await s.start();
    const workers = ids.map((id) => fgd.manager.workers.get(id)!);
    for (const w of workers) await w.trigger("warm-up").done; // empty fabric: layout, CRDs compiled, clone made
    const runs: number[] = [];
    const clis: number[] = [];
    const phaseRuns: Record<string, number>[] = [];
    for (const [r, w] of workers.entries()) {
      const id = ids[r];
      await git.commitAndPush(`lz-${id}`, rawFiles(), "drop 1,000 raw files");
      const t0 = performance.now();
      const run = await w.trigger("bench").done;
      runs.push(performance.now() - t0);
      const timed = { ...w.lastTimings! };
      // the rest of the trigger's round trip: the command to the fabric topology, the wait for its tick, the
      // checkpoint that produces the run's records, the reply
      const inRun = Object.values(timed).reduce((a, b) => a + b, 0);
      phaseRuns.push({
        ...timed,
        "outside the run (command, tick, checkpoint, reply)": runs.at(-1)! - inRun,
      });
      if (run.outcome !== "committed") throw new Error(`ingestion did not commit: ${run.error}`);
      if (run.created !== FILES * DOCS_PER_FILE) {
        throw new Error(`expected 10,000 objects, got ${run.created}`);
      }
      const managed = new Map<string, Uint8Array>();
      for (const [path, f] of await w.fg.repo.listTree(run.commit!, "fabrics/bench/managed")) {
        managed.set(`fabrics/bench/managed/${path}`, await w.fg.repo.readBlob(f.oid));
      }
      clis.push(await gitCliBaseline(git.url(`lz-${id}`), managed));
    }
    const ms = median(runs);
    const cliMs = median(clis);
    const phases = Object.fromEntries(
      Object.keys(phaseRuns[0]).map((k) => [k, median(phaseRuns.map((p) => p[k]))]),
    );
    const w = workers[0];
    const t1 = performance.now();
    const again = await w.trigger("bench-again").done;
    const againMs = performance.now() - t1;
    if (again.outcome !== "unchanged") throw new Error(`second run: ${again.outcome}`);

    // 3. A small drop onto the result: one raw file of 10 new documents next to the 10,000 managed files.
    const small: Record<string, string> = {};
    small["fabrics/bench/raw/small.yaml"] = Array.from(
      { length: DOCS_PER_FILE },
      (_, d) => doc(FILES * DOCS_PER_FILE + d),
    )
      .join("---\n");
    await git.commitAndPush("lz-bench", small, "drop 1 raw file onto 10,000 managed files");
    const t2 = performance.now();
    const drop = await w.trigger("bench-small").done;
    const dropMs = performance.now() - t2;
    const dropPhases = w.lastTimings!;
    if (drop.outcome !== "committed" || drop.created !== DOCS_PER_FILE) {
      throw new Error(`small drop: ${drop.outcome}, ${drop.created} created: ${drop.error}`);
    }
    return [
      {
        name: `ingest 1,000 files / 10,000 docs → pushed commit (embedded), median of ${ROUNDS} rounds`,
        value: ms / 1000,
        unit: "s",
        baseline: {
          name: `git CLI clone+write+commit+push of the same tree, alternating rounds, median, s`,
          value: cliMs / 1000,
        },
        ratio: ms / cliMs,
        target: "<= 1.0x the git CLI",
        pass: ms <= cliMs,
      },
      {
        name: "ingestion rate",
        value: FILES / (ms / 1000),
        unit: "files/s",
        target: ">= 1,000 files/s",
        pass: FILES / (ms / 1000) >= 1000,
      },
      ...runs.map((r, i) => ({
        name: `  round ${i + 1} of ${ROUNDS}${
          i === 0 ? " (the first big ingestion of the process: JIT not warm)" : ""
        }`,
        value: r / 1000,
        unit: "s",
        baseline: { name: "git CLI, same round, s", value: clis[i] / 1000 },
        ratio: r / clis[i],
      })),
      ...Object.entries(phases).map(([phase, phaseMs]) => ({
        name: `ingestion phase: ${phase} (median)`,
        value: phaseMs / 1000,
        unit: "s",
      })),
      { name: "second run over 10,000 managed files (no change)", value: againMs / 1000, unit: "s" },
      {
        name: "1 raw file / 10 docs onto 10,000 managed files → pushed commit",
        value: dropMs / 1000,
        unit: "s",
      },
      { name: "  of which planning", value: dropPhases.planning / 1000, unit: "s" },
    ];
  } finally {
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await git.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function validation(): BenchResult[] {
  const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
  validator.schema.compileAll();
  const docs: KubeObject[] = [];
  for (let i = 0; i < 5000; i++) {
    docs.push(parseYamlFile(new TextEncoder().encode(doc(i))).docs[0].value as KubeObject);
  }
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  const bare = new Map<string, (d: unknown) => boolean>();
  for (const k of validator.crds.kinds.values()) {
    bare.set(k.kind, ajv.compile(crdToJsonSchema(k.versions[0].schema!)) as (d: unknown) => boolean);
  }
  const rate = (fn: (d: KubeObject, i: number) => void) => {
    for (let i = 0; i < docs.length; i++) fn(docs[i], i); // warm-up
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      for (let i = 0; i < docs.length; i++) fn(docs[i], i);
      n += docs.length;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const full = rate((d, i) => {
    if (validator.validate(d, i).findings.some((f) => f.severity === "error")) {
      throw new Error(`bench doc ${i} invalid`);
    }
  });
  const schemaOnly = rate((d) => void bare.get(d.kind)!(d));
  const text = docs.slice(0, 2000).map((_, i) => new TextEncoder().encode(doc(i)));
  let parsed = 0;
  const tp = performance.now();
  for (const t of text) parsed += parseYamlFile(t).docs.length;
  const parseRate = parsed / ((performance.now() - tp) / 1000);
  return [
    {
      name: "validation (structure + CRD schema + Hedgehog rules)",
      value: full,
      unit: "docs/s",
      baseline: { name: "bare Ajv CRD schema, docs/s", value: schemaOnly },
      ratio: full / schemaOnly,
      target: ">= 20,000 docs/s",
      pass: full >= 20_000,
    },
    { name: "YAML parsing of raw documents", value: parseRate, unit: "docs/s" },
  ];
}

/** The FGD figures (see the module doc). */
export async function run(): Promise<BenchResult[]> {
  return [...validation(), ...await ingestion()];
}

if (import.meta.main) console.log(await run());
