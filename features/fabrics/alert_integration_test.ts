/**
 * A fabric whose repository lzsync cannot read fails its runs with the reason and, after
 * `alerts.consecutive_failures` failed runs in a row, raises a FabricFailure alert on `lz.alerts.v1` (where
 * the Portal, the status page and the Slack notifier see alerts); the next good run resolves it. A local
 * repository made with the git CLI, moved away and back.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { decode } from "../../pipeline/serde.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { buildFabricServices } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

async function git(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=u", "-c", "user.email=u@x.invalid", ...args],
    cwd,
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

async function alerts(broker: Parameters<typeof readTopicToEnd>[0]): Promise<Map<string, Alert>> {
  const out = new Map<string, Alert>();
  await readTopicToEnd(broker, ALERTS_TOPIC.name, (r) => {
    const a = decode<Alert>(ALERTS_TOPIC.name, r.value);
    if (r.key && a) out.set(r.key, a);
  });
  return out;
}

Deno.test("FGD: a repository that cannot be read fails the runs and raises a FabricFailure alert; a good run resolves it", async () => {
  const root = await Deno.makeTempDir({ prefix: "lzsync-fgd-alert-" });
  const dir = join(root, "lz");
  await git(["init", "-q", "--initial-branch=main", dir], root);
  for (const [p, text] of Object.entries({ ...crdRepoFiles(), "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML })) {
    await Deno.mkdir(join(dir, p, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, p), text);
  }
  await git(["add", "-A"], dir);
  await git(["commit", "-qm", "initial"], dir);
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, {
    data_dir: join(root, "data"),
    landing_zone: { repo: dir },
    alerts: { consecutive_failures: 2 },
    fabrics: [{ id: "dc1", path: "fabrics/dc1", crd_dirs: ["fabrics/crds/hedgehog"] }],
  });
  let fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  try {
    for (const s of fgd.services) await s.start();
    const w = fgd.manager.workers.get("dc1")!;
    const first = await w.trigger("test").done;
    assert.ok(["committed", "unchanged"].includes(first.outcome), first.error ?? "");

    await Deno.rename(dir, `${dir}.moved`);
    const r1 = await w.trigger("test").done;
    assert.equal(r1.outcome, "failed");
    assert.match(r1.error!, /cannot be opened/);
    assert.equal((await alerts(broker)).size, 0, "one failure is not an alert yet");
    await w.trigger("test").done;
    const open = (await alerts(broker)).get("FabricFailure:fgd:dc1");
    assert.ok(open, "alert raised after 2 failed runs");
    assert.deepEqual([open.state, open.type, open.layer, open.value, open.threshold], [
      "open",
      "FabricFailure",
      "fgd",
      2,
      2,
    ]);
    assert.match(open.message, /fabric dc1.*cannot be opened/);

    // a restart remembers the open alert; its first good run resolves it
    for (const s of fgd.services) await s.stop();
    await Deno.rename(`${dir}.moved`, dir);
    fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
    for (const s of fgd.services) await s.start();
    const ok = await fgd.manager.workers.get("dc1")!.trigger("test").done;
    assert.notEqual(ok.outcome, "failed", ok.error ?? "");
    const resolved = (await alerts(broker)).get("FabricFailure:fgd:dc1")!;
    assert.deepEqual([resolved.state, resolved.opened_at], ["resolved", open.opened_at]);
  } finally {
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(root, { recursive: true });
  }
});
