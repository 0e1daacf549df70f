import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { buildPortalRepo } from "./mod.ts";

Deno.test("buildPortalRepo() runs nothing without portal_repo and refuses a working-copy path", async () => {
  const broker = await createEmbeddedBroker();
  try {
    assert.deepEqual(buildPortalRepo(testDeps(broker)).topologies, []);
    assert.throws(
      () => buildPortalRepo(testDeps(broker, { portal_repo: { repo: "/home/me/portal" } })),
      /must be an http\(s\) git URL/,
    );
    assert.throws(
      () =>
        buildPortalRepo(testDeps(broker, {
          portal_repo: { repo: "https://git.example.com/p.git", paths: [{ from: "docs/**", to: "../x/" }] },
        })),
      /inside the repo/,
    );
    assert.throws(
      () =>
        buildPortalRepo(testDeps(broker, {
          portal_repo: { repo: "https://git.example.com/p.git", mode: "pull_request" },
        })),
      /needs GitHub: set portal_repo.github/,
    );
    const pr = buildPortalRepo(testDeps(broker, {
      portal_repo: { repo: "https://github.com/acme/portal.git", mode: "pull_request" },
    }));
    assert.equal(pr.topologies.length, 1);
    const ok = buildPortalRepo(
      testDeps(broker, { portal_repo: { repo: "https://git.example.com/p.git" } }),
    );
    assert.deepEqual(ok.topologies.map((t) => t.app), ["lzsync-portal-repo"]);
    assert.deepEqual(ok.services, []);
    assert.deepEqual(ok.resources.map((s) => s.name), ["portal-repo-clone"]);
  } finally {
    await broker.close();
  }
});
