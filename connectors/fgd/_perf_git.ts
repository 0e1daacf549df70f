import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { openFabricRepo } from "./git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";
import { crdRepoFiles } from "./_test_util.ts";
const server = await startGitServer();
const files: Record<string, string> = { ...crdRepoFiles() };
for (let f = 0; f < 1000; f++) {
  const docs = [];
  for (let d = 0; d < 10; d++) {
    const i = f * 10 + d;
    docs.push(`apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: v${i}
spec:
  subnets:
    default:
      subnet: 10.${i >> 8 & 255}.${i & 255}.0/24
      gateway: 10.${i >> 8 & 255}.${i & 255}.1
      vlan: ${1000 + (i % 1000)}
`);
  }
  files[`fabrics/b/raw/f${f}.yaml`] = docs.join("---\n");
}
await server.createRepo("b", files);
const dir = await Deno.makeTempDir();
const repo = await openFabricRepo({ repo: server.url("b"), branch: "main", gitdir: join(dir, "r.git") });
const fg = new FabricGit(
  {
    id: "b",
    branch: "main",
    path: "fabrics/b",
    crd_dirs: ["fabrics/crds/hedgehog"],
    rule_packs: ["hedgehog"],
  },
  repo,
  { name: "x", email: "x@x" },
);
let t = performance.now();
const times: Record<string, number> = {};
let last = "start";
const r = await runIngestion(fg, {
  onPhase(p) {
    const now = performance.now();
    times[last] = Math.round(now - t);
    t = now;
    last = p;
  },
});
times[last] = Math.round(performance.now() - t);
console.log(r.outcome, r.error, times);
t = performance.now();
const r2 = await runIngestion(fg);
console.log("second", r2.outcome, Math.round(performance.now() - t));
repo.close();
await server.stop();
await Deno.remove(dir, { recursive: true });
