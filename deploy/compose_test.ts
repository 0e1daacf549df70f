/**
 * There is no Docker engine on these machines, so docker-compose.yml is checked structurally: every service's
 * addresses agree with each other, the lzsync config it mounts validates, and the Dockerfile copies what exists.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { resolveConfig } from "../pipeline/config.ts";

const root = new URL("../", import.meta.url).pathname;
const compose = parse(await Deno.readTextFile(`${root}docker-compose.yml`)) as any;
const args = (svc: any): Map<string, string> => {
  const m = new Map<string, string>();
  for (const a of svc.command as string[]) {
    const [k, ...v] = a.split(/[ =]/);
    m.set(k, v.join(" "));
  }
  return m;
};
const listeners = (spec: string) =>
  Object.fromEntries(
    spec.split(",").map((l) => {
      const [name, hostPort] = l.split("://");
      const [host, port] = hostPort.split(":");
      return [name, { host, port: Number(port) }];
    }),
  );

Deno.test("docker-compose.yml runs Redpanda in dev-container mode with internal and external listeners", () => {
  const rp = compose.services["redpanda-0"];
  assert.ok(rp, "service redpanda-0");
  const a = args(rp);
  assert.equal(a.get("--mode"), "dev-container");
  const bind = listeners(a.get("--kafka-addr")!);
  const adv = listeners(a.get("--advertise-kafka-addr")!);
  assert.deepEqual(Object.keys(bind).sort(), ["external", "internal"]);
  assert.deepEqual(Object.keys(adv).sort(), ["external", "internal"]);
  assert.equal(adv.internal.host, "redpanda-0", "internal listener advertises the compose service name");
  assert.equal(adv.internal.port, bind.internal.port);
  assert.equal(adv.external.port, bind.external.port);
  assert.equal(
    adv.external.host,
    "127.0.0.1",
    "external listener advertised as 127.0.0.1, as the README says",
  );
  assert.ok(
    (rp.ports as string[]).includes(`127.0.0.1:${bind.external.port}:${bind.external.port}`),
    "the external Kafka port is published on the host's loopback",
  );
  assert.ok(rp.healthcheck, "healthcheck so dependants wait for a ready broker");
});

Deno.test("docker-compose.yml points Console and lzsync at Redpanda's internal listener", async () => {
  const adv = listeners(args(compose.services["redpanda-0"]).get("--advertise-kafka-addr")!);
  const internal = `${adv.internal.host}:${adv.internal.port}`;
  const consoleCfg = parse(compose.services.console.environment.CONSOLE_CONFIG_FILE);
  assert.deepEqual(consoleCfg.kafka.brokers, [internal]);
  const lz = compose.services.lzsync;
  assert.equal(lz.build.dockerfile, "deploy/Dockerfile");
  const cfgPath = (lz.environment.LZSYNC_CONFIG as string).replace(/^\/app\//, root);
  const rt = resolveConfig(parse(await Deno.readTextFile(cfgPath)), {
    LZSYNC_DATA_DIR: lz.environment.LZSYNC_DATA_DIR,
  });
  assert.equal(rt.config.broker.kind, "kafka");
  assert.deepEqual(rt.config.broker.brokers, [internal]);
  assert.equal(rt.config.gateway.host, "0.0.0.0", "listens on the container network");
  const published = (lz.ports as string[])[0].split(":");
  assert.equal(published[0], "127.0.0.1", "published on the host's loopback only");
  assert.equal(Number(published[2]), rt.config.gateway.port);
  for (const svc of Object.values(compose.services) as any[]) {
    for (const dep of Object.keys(svc.depends_on ?? {})) {
      assert.ok(compose.services[dep], `depends_on ${dep}`);
    }
    for (const net of svc.networks ?? []) assert.ok(compose.networks[net], `network ${net}`);
  }
});

Deno.test("deploy/Dockerfile copies paths that exist and runs the start task", async () => {
  const text = await Deno.readTextFile(`${root}deploy/Dockerfile`);
  const copies = [...text.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1].split(/\s+/));
  assert.ok(copies.length > 0);
  for (const p of copies) await Deno.stat(`${root}${p}`);
  assert.match(text, /deno", "task", "start"/);
  const deno = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  assert.ok(deno.tasks.start);
});

Deno.test("deploy/Dockerfile copies every folder the start task's modules live in", async () => {
  const text = await Deno.readTextFile(`${root}deploy/Dockerfile`);
  const copied = new Set([...text.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1].split(/\s+/)));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${root}deno.json`, `${root}pipeline/main.ts`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: { specifier: string }[] };
  const base = new URL(root, "file://").href;
  const folders = new Set(
    info.modules.map((m) => m.specifier).filter((s) => s.startsWith(base) && !s.includes("/node_modules/"))
      .map((s) => s.slice(base.length).split("/")[0]),
  );
  assert.ok(folders.has("pipeline") && folders.size > 3, [...folders].join(", "));
  for (const f of folders) {
    assert.ok(copied.has(f), `deploy/Dockerfile does not copy ${f}/, which start imports`);
  }
});

Deno.test("docker-compose.yml restarts lzsync and its health check answers from /healthz", async () => {
  const lz = compose.services.lzsync;
  assert.equal(lz.restart, "unless-stopped");
  const [kind, cmd, ...rest] = lz.healthcheck.test as string[];
  assert.equal(kind, "CMD");
  assert.equal(cmd, "deno", "the image has deno, not necessarily curl");
  const run = async (port: number) =>
    (await new Deno.Command(Deno.execPath(), {
      args: rest.map((a) => a.replace("127.0.0.1:8080", `127.0.0.1:${port}`)),
      stdout: "null",
      stderr: "null",
    }).output()).code;
  // Against a real gateway: healthy; against a closed port: unhealthy.
  const { startTestGateway } = await import("../connectors/gateway/testing.ts");
  const t = await startTestGateway();
  try {
    assert.equal(await run(Number(new URL(t.url).port)), 0);
  } finally {
    await t.stop();
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = (l.addr as Deno.NetAddr).port;
  l.close();
  assert.equal(await run(closed), 1);
});
