import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { portalRepoFeature } from "./mod.ts";

Deno.test("portalRepoFeature() runs nothing without portal_repo and refuses a working-copy path", async () => {
  const broker = await createEmbeddedBroker();
  try {
    assert.deepEqual(portalRepoFeature(testDeps(broker)).topologies, []);
    assert.throws(
      () => portalRepoFeature(testDeps(broker, { portal_repo: { repo: "/home/me/portal" } })),
      /must be an http\(s\) git URL/,
    );
    assert.throws(
      () =>
        portalRepoFeature(testDeps(broker, {
          portal_repo: { repo: "https://git.example.com/p.git", paths: [{ from: "docs/**", to: "../x/" }] },
        })),
      /inside the repo/,
    );
    assert.throws(
      () =>
        portalRepoFeature(testDeps(broker, {
          portal_repo: { repo: "https://git.example.com/p.git", mode: "pull_request" },
        })),
      /needs GitHub: set portal_repo.github/,
    );
    const pr = portalRepoFeature(testDeps(broker, {
      portal_repo: { repo: "https://github.com/acme/portal.git", mode: "pull_request" },
    }));
    assert.equal(pr.topologies.length, 1);
    const ok = portalRepoFeature(
      testDeps(broker, { portal_repo: { repo: "https://git.example.com/p.git" } }),
    );
    assert.deepEqual(ok.topologies.map((t) => t.app), ["lzsync-portal-repo"]);
    assert.deepEqual(ok.services, []);
    assert.deepEqual(ok.resources.map((s) => s.name), ["portal-repo-clone"]);
  } finally {
    await broker.close();
  }
});
