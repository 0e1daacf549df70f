/**
 * Child process of `kill_integration_test.ts`: ingests the fabric `fabrics/dc1` of the local repo `Deno.args[0]`
 * (own clone `Deno.args[1]`) in a loop until it is killed. Prints one line per run.
 */
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";

const [repo, gitdir] = Deno.args;
const fg = new FabricGit(
  {
    id: "dc1",
    branch: "main",
    path: "fabrics/dc1",
    crd_dirs: ["fabrics/crds/hedgehog"],
    rule_packs: ["hedgehog"],
  },
  await openFabricRepo({ repo, branch: "main", gitdir }),
  { name: "lzsync", email: "lzsync@example.invalid" },
);
for (;;) {
  const r = await runIngestion(fg, { maxAttempts: 2 });
  console.log(JSON.stringify({ outcome: r.outcome, error: r.error ?? null }));
  await new Promise((res) => setTimeout(res, 10));
}
