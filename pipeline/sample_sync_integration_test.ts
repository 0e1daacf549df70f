import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "./testing/free_port.ts";
import { runLzsync, startLzsync } from "./testing/lzsync_process.ts";
import { sleep, waitFor } from "./testing/wait.ts";

const head = async (dir: string) =>
  new TextDecoder().decode(
    (await new Deno.Command("git", { args: ["-C", dir, "rev-parse", "HEAD"], stdout: "piped" }).output())
      .stdout,
  ).trim();

Deno.test("first run: the fabric's own commit is synced at once, and a one-line doc edit reports 1 changed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-sample-sync-" });
  const env = { LZSYNC_DATA_DIR: join(dir, "data"), LZSYNC_PORT: String(freePort()) };
  const lz = await startLzsync(env);
  const sample = join(dir, "data", "sample-lz");
  const synced = async () => {
    const body = await (await fetch(`${lz.url}/api/v1/sync/git`)).json();
    return body.commit;
  };
  try {
    // The FGD ingests raw/ of the sample fabric and commits; the git layer syncs that commit without a push.
    let last: { sha: string; message: string } | null = null;
    await waitFor(
      async () => {
        last = await synced();
        const ok = last?.message?.startsWith("fgd(dc1)") && last.sha === await head(sample);
        if (!ok) await sleep(200);
        return !!ok;
      },
      "the git layer to sync the fabric's ingest commit",
      30_000,
      () => last,
    );

    const push = await runLzsync(["demo-push"], env);
    assert.equal(push.code, 0, push.stderr);
    const after = await head(sample);
    let commit: { sha: string; changed: number; removed: number } | null = null;
    await waitFor(
      async () => {
        commit = await synced();
        if (commit?.sha !== after) await sleep(200);
        return commit?.sha === after;
      },
      "the demo push to be synced",
      20_000,
      () => commit,
    );
    assert.equal(commit!.changed, 1, "one file changed: docs/changelog.md");
    assert.equal(commit!.removed, 0);
  } finally {
    assert.equal(await lz.stop(), 0, lz.stderr());
    await Deno.remove(dir, { recursive: true });
  }
});
