import assert from "node:assert/strict";
import { loadConfig, parseDuration, resolveConfig } from "./config.ts";
import { ValidationError } from "./errors.ts";

Deno.test("resolveConfig() fills every default so an empty config runs", () => {
  const { config } = resolveConfig({});
  assert.equal(config.broker.kind, "embedded");
  assert.equal(config.data_dir, ".lzsync");
  assert.equal(config.gateway.port, 8080);
  assert.equal(config.layers.git.interval, "6h");
  assert.ok(config.layers.git.paths.includes("pmo.yaml"));
  assert.ok(Object.isFrozen(config.broker));
});

Deno.test("resolveConfig() names the path of a bad field and what is valid", () => {
  assert.throws(() => resolveConfig({ broker: { kind: "rabbit" } }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, /\/broker\/kind/);
    assert.match(err.message, /"embedded", "kafka"/);
    return true;
  });
});

Deno.test("resolveConfig() rejects unknown fields instead of ignoring them", () => {
  assert.throws(() => resolveConfig({ gateway: { prot: 1 } }), /\/gateway\/prot: unknown field/);
});

Deno.test("resolveConfig() applies env overrides and keeps secrets out of the config", () => {
  const rt = resolveConfig({}, {
    LZSYNC_DATA_DIR: "/tmp/x",
    LZSYNC_PORT: "9999",
    GITHUB_WEBHOOK_SECRET: "s3",
  });
  assert.equal(rt.config.data_dir, "/tmp/x");
  assert.equal(rt.config.gateway.port, 9999);
  assert.equal(rt.secret(rt.config.layers.webhook.secret_env), "s3");
  assert.ok(!JSON.stringify(rt.config).includes("s3"));
  assert.throws(() => resolveConfig({}, { LZSYNC_PORT: "http" }), /LZSYNC_PORT/);
});

Deno.test("parseDuration() reads the config's duration units", () => {
  assert.equal(parseDuration("6h"), 21_600_000);
  assert.equal(parseDuration("300ms"), 300);
  assert.throws(() => parseDuration("6 hours"), /not a duration/);
});

Deno.test("loadConfig() reports malformed YAML with the file name", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.yaml`, "broker: [kind: kafka\n");
  await assert.rejects(() => loadConfig(`${dir}/bad.yaml`), /bad\.yaml is not valid YAML/);
  await assert.rejects(() => loadConfig(`${dir}/missing.yaml`), /not found/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resolveConfig() explains a malformed value with an example of a valid one", () => {
  assert.throws(
    () => resolveConfig({ broker: { kind: "kafka", brokers: ["nohost"] } }),
    /\/broker\/brokers\/0: "nohost" is not valid.*e\.g\. "127\.0\.0\.1:9092"/,
  );
  assert.throws(
    () => resolveConfig({ layers: { git: { interval: "6 hours" } } }),
    /"6 hours" is not valid.*"6h"/,
  );
});

Deno.test("resolveConfig() gives the latency knobs defaults that meet the freshness targets", () => {
  const { config } = resolveConfig({});
  assert.equal(parseDuration(config.broker.fetch_max_wait), 100);
  assert.equal(parseDuration(config.layers.pubsub.ack_max_delay), 10);
  assert.throws(
    () => resolveConfig({ broker: { fetch_max_wait: "fast" } }),
    /\/broker\/fetch_max_wait/,
  );
});

Deno.test("resolveConfig() refuses a fabric path outside the repository with the field and the reason", () => {
  assert.throws(
    () =>
      resolveConfig({
        fabrics: [{ id: "ok", path: "fabrics/ok/" }, { id: "esc", path: "../escaped" }],
      }),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues.map((i) => i.path), ["/fabrics/1/path"]);
      assert.match(err.message, /\/fabrics\/1\/path: "\.\.\/escaped" has a "\.\." segment/);
      return true;
    },
  );
});

Deno.test("resolveConfig() refuses a fabric naming a credential that credentials does not declare", () => {
  assert.throws(
    () => resolveConfig({ fabrics: [{ id: "a", path: "f", credential: "nope" }] }, {}),
    /\/fabrics\/0\/credential: no credential named "nope" in credentials \(configured: none\)/,
  );
  const ok = resolveConfig({
    credentials: { git: { token_env: "GIT_TOKEN", hosts: ["github.com"] } },
    fabrics: [{ id: "a", path: "f", credential: "git" }],
  }, {});
  assert.equal(ok.config.credentials.git.token_env, "GIT_TOKEN");
});

Deno.test("resolveConfig() refuses an LZSYNC_LOG_LEVEL that is not a level", () => {
  assert.throws(
    () => resolveConfig({}, { LZSYNC_LOG_LEVEL: "verbose" }),
    /LZSYNC_LOG_LEVEL="verbose" is not a log level; use one of debug, info, warn, error/,
  );
  assert.equal(resolveConfig({}, { LZSYNC_LOG_LEVEL: "warn" }).config.log_level, "warn");
});

Deno.test("resolveConfig() refuses a password inside a repo URL", () => {
  assert.throws(
    () => resolveConfig({ landing_zone: { repo: "http://alice:pw@git.example/x.git" } }, {}),
    /\/landing_zone\/repo: credentials inside the URL are not accepted/,
  );
  assert.throws(
    () => resolveConfig({ fabrics: [{ id: "a", path: "f", repo: "https://tok@git.example/x.git" }] }, {}),
    /\/fabrics\/0\/repo: credentials inside the URL/,
  );
  assert.equal(
    resolveConfig({ landing_zone: { repo: "https://git.example/x.git" } }, {}).config.landing_zone.repo,
    "https://git.example/x.git",
  );
});
