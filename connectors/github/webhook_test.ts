import assert from "node:assert/strict";
import { rawHttp, startTestGateway } from "../gateway/testing.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { readAll } from "../../features/git_sync/_test_util.ts";
import { deliverWebhook, pushPayload } from "./deliver.ts";
import { githubWebhookPlugin, WEBHOOK_PATH } from "./webhook.ts";
import { startTestApiServer } from "./_test_api_server.ts";
import { signPayload } from "./signature.ts";

const ENV = { GITHUB_WEBHOOK_SECRET: "current-secret", GITHUB_WEBHOOK_SECRET_PREVIOUS: "previous-secret" };
const A = "a".repeat(40), B = "b".repeat(40);

const payload = (over: Partial<Parameters<typeof pushPayload>[0]> = {}) =>
  pushPayload({
    fullName: "acme/lz",
    cloneUrl: "https://github.example/acme/lz.git",
    before: A,
    after: B,
    commits: [{
      id: B,
      message: "docs",
      timestamp: "2024-05-01T12:00:00+02:00",
      modified: ["docs/a.md"],
      added: ["docs/b.md"],
    }],
    ...over,
  });

async function gateway(config: Record<string, unknown> = {}, plugin = githubWebhookPlugin()) {
  const t = await startTestGateway({ plugins: [plugin], env: ENV, config });
  return { ...t, hook: `${t.url}${WEBHOOK_PATH}` };
}

const pushes = async (t: { broker: Parameters<typeof readAll>[0] }) =>
  (await readAll<GitPush>(t.broker, GIT_PUSH_TOPIC.name)).map((r) => ({ ...r.value!, _headers: r.headers }));

Deno.test("webhook: a signed push is on lz.git.push.v1 when the 202 arrives; a redelivery is produced once", async () => {
  const t = await gateway();
  try {
    const r = await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "d-1" });
    assert.equal(r.status, 202);
    assert.equal(r.body.status, "accepted");
    assert.equal(r.body.sync_id, "wh-d-1");
    const recs = await pushes(t);
    assert.equal(recs.length, 1, "acknowledged before the answer");
    const p = recs[0];
    assert.deepEqual(
      [p.repo, p.ref, p.before, p.after, p.source, p.delivery_id, p.commit_count, p.clone_url],
      ["acme/lz", "refs/heads/main", A, B, "webhook", "d-1", 1, "https://github.example/acme/lz.git"],
    );
    assert.deepEqual(p.paths, {
      added: ["docs/b.md"],
      modified: ["docs/a.md"],
      removed: [],
      truncated: false,
      from: "payload",
    });
    assert.equal(p.head_commit?.id, B);
    assert.ok(Date.parse(p.received_at) > Date.now() - 60_000);
    assert.equal(p._headers["lz-delivery-id"], "d-1");

    const again = await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "d-1" });
    assert.deepEqual([again.status, again.body.status], [200, "duplicate"]);
    assert.equal((await pushes(t)).length, 1);

    const rotated = await deliverWebhook(t.hook, payload(), { secret: "previous-secret", deliveryId: "d-2" });
    assert.equal(rotated.status, 202, "the previous secret is accepted during a rotation");
    assert.equal((await pushes(t)).length, 2);
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: created, deleted and forced pushes with empty commits keep their flags", async () => {
  const t = await gateway();
  try {
    const created = await deliverWebhook(
      t.hook,
      payload({ before: null, commits: [], ref: "refs/heads/new" }),
      {
        secret: "current-secret",
      },
    );
    const deleted = await deliverWebhook(t.hook, payload({ after: null, commits: [] }), {
      secret: "current-secret",
    });
    const forced = await deliverWebhook(t.hook, payload({ forced: true, commits: [] }), {
      secret: "current-secret",
    });
    assert.deepEqual([created.status, deleted.status, forced.status], [202, 202, 202]);
    const [c, d, f] = await pushes(t);
    assert.deepEqual([c.created, c.before, c.ref, c.paths.truncated], [true, null, "refs/heads/new", true]);
    assert.deepEqual([d.deleted, d.after, d.head_commit, d.paths.truncated], [true, null, null, false]);
    assert.deepEqual([f.forced, f.commit_count, f.paths.from, f.paths.truncated], [true, 0, "none", true]);
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: bad input gets a defined answer and produces nothing", async () => {
  const t = await gateway({ gateway: { max_body_bytes: 4096 } });
  try {
    const cases: [string, Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
      ["no signature", deliverWebhook(t.hook, payload()), 401, /missing X-Hub-Signature-256/],
      ["wrong secret", deliverWebhook(t.hook, payload(), { secret: "guess" }), 401, /does not match/],
      [
        "malformed signature",
        deliverWebhook(t.hook, payload(), { signature: "sha1=deadbeef" }),
        401,
        /sha256=/,
      ],
      [
        "signature of another body",
        deliverWebhook(t.hook, payload(), { signature: signPayload("current-secret", "{}") }),
        401,
        /does not match/,
      ],
      [
        "malformed JSON",
        deliverWebhook(t.hook, null, { secret: "current-secret", rawBody: '{"ref": "refs/heads/main",' }),
        400,
        /not valid JSON/,
      ],
      [
        "missing repository",
        deliverWebhook(t.hook, null, {
          secret: "current-secret",
          rawBody: JSON.stringify({ ref: "refs/heads/main", before: A, after: B }),
        }),
        400,
        /\/repository/,
      ],
      [
        "bad sha",
        deliverWebhook(t.hook, { ...payload(), after: "xyz" }, { secret: "current-secret" }),
        400,
        /\/after/,
      ],
      [
        "no event header",
        deliverWebhook(t.hook, payload(), { secret: "current-secret", event: "" }),
        400,
        /X-GitHub-Event/,
      ],
    ];
    for (const [what, res, status, reason] of cases) {
      const r = await res;
      assert.equal(r.status, status, what);
      assert.equal(typeof r.body.error, "string", what);
      assert.match(String(r.body.reason), reason, what);
    }
    // too large: declared by Content-Length, and streamed (chunked, no length) past the limit
    const big = JSON.stringify({ ...payload(), padding: "x".repeat(10_000) });
    const declared = await deliverWebhook(t.hook, null, { secret: "current-secret", rawBody: big });
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error, "payload_too_large");
    const chunks = [new TextEncoder().encode(big.slice(0, 3000)), new TextEncoder().encode(big.slice(3000))];
    const streamed = await fetch(t.hook, {
      method: "POST",
      headers: { "x-github-event": "push", "x-hub-signature-256": signPayload("current-secret", big) },
      body: new ReadableStream({
        pull(ctl) {
          const c = chunks.shift();
          if (c) ctl.enqueue(c);
          else ctl.close();
        },
      }),
    });
    assert.equal(streamed.status, 413);
    assert.equal((await streamed.json()).error, "payload_too_large");

    const ping = await deliverWebhook(t.hook, { zen: "Keep it logically awesome.", hook_id: 1 }, {
      secret: "current-secret",
      event: "ping",
    });
    assert.deepEqual([ping.status, ping.body.status], [200, "pong"]);
    const issues = await deliverWebhook(t.hook, { action: "opened" }, {
      secret: "current-secret",
      event: "issues",
    });
    assert.deepEqual([issues.status, issues.body.status], [202, "ignored"]);
    const unsignedIssue = await deliverWebhook(t.hook, { action: "opened" }, { event: "issues" });
    assert.equal(unsignedIssue.status, 401, "the signature is checked before the event type");
    // Unsigned callers cannot grow the metric's label values with made-up event names.
    for (let i = 0; i < 5; i++) {
      const forged = await deliverWebhook(t.hook, { action: "x" }, { event: `made_up_${i}` });
      assert.equal(forged.status, 401);
    }

    assert.equal((await pushes(t)).length, 0);
    const metrics = await t.deps.metrics.metrics();
    assert.match(metrics, /lzsync_webhook_deliveries_total\{event="issues",outcome="ignored"\} 1/);
    assert.match(metrics, /lzsync_webhook_deliveries_total\{event="push",outcome="unauthorized"\} 4/);
    assert.match(metrics, /lzsync_webhook_deliveries_total\{event="unverified",outcome="unauthorized"\} 6/);
    assert.ok(!metrics.includes("made_up_"), "no label value from an unsigned request");
    assert.ok(!metrics.includes("current-secret"));
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: a push the broker cannot store is 503 and its redelivery is accepted", async () => {
  const t = await gateway();
  try {
    await t.broker.admin().deleteTopics([GIT_PUSH_TOPIC.name]);
    const r = await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "d-x" });
    assert.equal(r.status, 503);
    assert.equal(r.body.error, "unavailable");
    await t.broker.admin().createTopics([{ name: GIT_PUSH_TOPIC.name, partitions: 1 }]);
    const again = await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "d-x" });
    assert.equal(again.status, 202, "not remembered as a duplicate: it was never produced");
    assert.equal((await pushes(t)).length, 1);
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: a push with empty commits gets its file list from the Compare API", async () => {
  const git = await startGitServer();
  const first = await git.createRepo("acme/lz", { "docs/a.md": "a" });
  const second = await git.commitAndPush("acme/lz", { "docs/a.md": "a2", "docs/new.md": "n" }, "two");
  const api = startTestApiServer({ token: "ghp_t", repos: { "acme/lz": `${git.root}/acme/lz.git` } });
  const t = await startTestGateway({
    plugins: [githubWebhookPlugin()],
    env: { ...ENV, GITHUB_TOKEN: "ghp_t" },
    config: {
      landing_zone: { repo: git.url("acme/lz"), github: { owner: "acme", repo: "lz", api_url: api.url } },
    },
  });
  try {
    const r = await deliverWebhook(
      `${t.url}${WEBHOOK_PATH}`,
      payload({ before: first, after: second, commits: [], forced: true }),
      {
        secret: "current-secret",
      },
    );
    assert.equal(r.status, 202);
    const [p] = await pushes(t);
    assert.deepEqual(p.paths, {
      added: ["docs/new.md"],
      modified: ["docs/a.md"],
      removed: [],
      truncated: false,
      from: "compare",
    });
    assert.equal(api.compares, 1);
  } finally {
    await t.stop();
    await api.stop();
    await git.stop();
  }
});

Deno.test("webhook: the dedupe window is rebuilt from the topic, so a restarted gateway still dedupes", async () => {
  const t = await gateway();
  try {
    assert.equal(
      (await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "d-r" })).status,
      202,
    );
    const t2 = await startTestGateway({ plugins: [githubWebhookPlugin()], env: ENV, broker: t.broker });
    try {
      const r = await deliverWebhook(`${t2.url}${WEBHOOK_PATH}`, payload(), {
        secret: "current-secret",
        deliveryId: "d-r",
      });
      assert.deepEqual([r.status, r.body.status], [200, "duplicate"]);
    } finally {
      await t2.stop();
    }
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: a form-encoded delivery (payload= field, signed over the raw body) is accepted like JSON; an unknown event is 202 ignored by name", async () => {
  const t = await gateway();
  try {
    const r = await deliverWebhook(t.hook, payload(), {
      secret: "current-secret",
      deliveryId: "f-1",
      contentType: "form",
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const recs = await pushes(t);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].after, B);
    const empty = await deliverWebhook(t.hook, payload(), {
      secret: "current-secret",
      deliveryId: "f-2",
      rawBody: "other=1",
      contentType: "form",
    });
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.reason), /payload/);
    const other = await deliverWebhook(t.hook, {}, {
      secret: "current-secret",
      deliveryId: "f-3",
      event: "projects_v2_item",
    });
    assert.equal(other.status, 202);
    assert.deepEqual(other.body, { status: "ignored", reason: "event projects_v2_item is not handled" });
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: a delivery without a signature header is refused before its body is read", async () => {
  const t = await gateway();
  try {
    // 20 MB announced, none sent: the answer must not wait for the body.
    const t0 = performance.now();
    const r = await rawHttp(
      t.url,
      "POST",
      WEBHOOK_PATH,
      {
        Host: new URL(t.url).host,
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "n-1",
        "Content-Length": String(20 * 1024 * 1024),
      },
      "",
      { headOnly: true, timeoutMs: 3000 },
    );
    assert.equal(r.status, 401, "answered at once, body unread");
    assert.ok(performance.now() - t0 < 2000);
  } finally {
    await t.stop();
  }
});

Deno.test("webhook: bodies beyond layers.webhook.max_inflight_bodies are answered 503 at once, unread; the slot frees when a body ends", async () => {
  const t = await gateway({ layers: { webhook: { max_inflight_bodies: 2 } } });
  const u = new URL(t.url);
  const held: Deno.TcpConn[] = [];
  try {
    const head = (id: string) =>
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
      `X-GitHub-Event: push\r\nX-GitHub-Delivery: ${id}\r\nX-Hub-Signature-256: sha256=${
        "0".repeat(64)
      }\r\n` +
      `Content-Length: ${1024 * 1024}\r\n\r\n{"ref":`;
    // Two slow senders: headers and a few bytes of a 1 MiB body, then nothing.
    for (const id of ["slow-1", "slow-2"]) {
      const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
      await conn.write(new TextEncoder().encode(head(id)));
      held.push(conn);
    }
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const r = await rawHttp(
      t.url,
      "POST",
      WEBHOOK_PATH,
      {
        Host: u.host,
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "third",
        "X-Hub-Signature-256": `sha256=${"0".repeat(64)}`,
        "Content-Length": String(20 * 1024 * 1024),
      },
      "",
      { headOnly: true, timeoutMs: 3000 },
    );
    assert.equal(r.status, 503, "the third body is refused");
    assert.equal(r.headers["retry-after"], "1");
    assert.ok(performance.now() - t0 < 2000, "answered without waiting for the body");
    const small = await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: "small" });
    assert.equal(small.status, 503, "a correctly signed delivery waits its turn too");
    assert.equal(small.body.error, "unavailable");
    assert.match(String(small.body.reason), /layers\.webhook\.max_inflight_bodies/);
    for (const c of held.splice(0)) c.close();
    let ok = 0;
    for (let i = 0; i < 20 && ok !== 202; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ok = (await deliverWebhook(t.hook, payload(), { secret: "current-secret", deliveryId: `after-${i}` }))
        .status;
    }
    assert.equal(ok, 202, "the slots are released when the slow senders go away");
  } finally {
    for (const c of held) c.close();
    await t.stop();
  }
});

Deno.test("webhook: the HMAC is computed as the body streams in — a wrong signature over a multi-chunk body is 401, the right one 202", async () => {
  const t = await gateway();
  try {
    const big = payload();
    (big as Record<string, unknown>).padding = "x".repeat(3 * 1024 * 1024);
    const body = JSON.stringify(big);
    const post = (sig: string, id: string) =>
      fetch(t.hook, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-GitHub-Event": "push",
          "X-GitHub-Delivery": id,
          "X-Hub-Signature-256": sig,
        },
        body: new Blob([body]).stream(),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const bad = await post(signPayload("other-secret", body), "s-1");
    assert.equal(bad.status, 401);
    assert.match(bad.body.reason, /does not match/);
    const good = await post(signPayload("current-secret", body), "s-2");
    assert.equal(good.status, 202);
    const rotated = await post(signPayload("previous-secret", body), "s-3");
    assert.equal(rotated.status, 202, "the previous secret is accepted during a rotation");
  } finally {
    await t.stop();
  }
});
