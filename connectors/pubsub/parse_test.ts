import assert from "node:assert/strict";
import { parseMessage, type RawMessage } from "./parse.ts";

const enc = new TextEncoder();
const msg = (body: unknown, attributes: Record<string, string> = {}): RawMessage => ({
  id: "123",
  data: enc.encode(typeof body === "string" ? body : JSON.stringify(body)),
  attributes,
  publishTime: "2024-05-01T10:00:00.5Z",
  subscription: "projects/p/subscriptions/portal-lz-events",
});

const FW = {
  name: "//compute.googleapis.com/projects/web-prod/global/firewalls/allow-ssh",
  assetType: "compute.googleapis.com/Firewall",
  updateTime: "2024-05-01T09:59:59Z",
  ancestors: ["projects/111", "organizations/9"],
  resource: { version: "v1", location: "global", data: { name: "allow-ssh", sourceRanges: ["0.0.0.0/0"] } },
};

Deno.test("parseMessage() reads a TemporalAsset feed message", () => {
  const p = parseMessage(
    msg({
      asset: FW,
      priorAssetState: "PRESENT",
      priorAsset: FW,
      window: { startTime: "2024-05-01T09:59:59Z" },
    }),
  );
  assert.equal(p.kind, "event");
  if (p.kind !== "event" || p.event.type !== "asset_feed") throw new Error();
  assert.equal(p.key, FW.name);
  assert.equal(p.event.message_id, "123");
  assert.equal(p.event.publish_time, "2024-05-01T10:00:00.500Z");
  assert.deepEqual(p.event.asset.data?.sourceRanges, ["0.0.0.0/0"]);
  assert.equal(p.event.prior_asset_state, "PRESENT");
  assert.equal(p.event.deleted, false);
  assert.equal(p.event.window_start, "2024-05-01T09:59:59.000Z");
});

Deno.test("parseMessage() reads a deletion with an integer prior state", () => {
  const p = parseMessage(
    msg({
      asset: { name: FW.name, assetType: FW.assetType },
      deleted: true,
      priorAssetState: 1,
      window: { startTime: "2024-05-01T10:00:00Z" },
    }),
  );
  assert.ok(
    p.kind === "event" && p.event.type === "asset_feed" && p.event.deleted &&
      p.event.prior_asset_state === "PRESENT",
  );
});

Deno.test("parseMessage() skips the feed's plain-text welcome message", () => {
  const p = parseMessage(
    msg("You have successfully configured real time feed 'lz-feed' on project 'web-prod'"),
  );
  assert.equal(p.kind, "skip");
});

Deno.test("parseMessage() reads the Landing Zone's resource_created / resource_deleted / policy_violated", () => {
  const c = parseMessage(
    msg({
      type: "resource_created",
      resource: {
        name: "//storage.googleapis.com/logs",
        asset_type: "storage.googleapis.com/Bucket",
        project: "web-prod",
        location: "EU",
        labels: { owner: "ana" },
      },
      actor: "terraform",
    }),
  );
  assert.ok(c.kind === "event" && c.event.type === "resource_created");
  if (c.kind === "event" && c.event.type === "resource_created") {
    assert.equal(c.event.asset.project, "web-prod");
    assert.deepEqual(c.event.asset.data, { labels: { owner: "ana" } });
    assert.equal(c.event.actor, "terraform");
  }
  const d = parseMessage(
    msg({ resource: { name: "//x/y", type: "compute.googleapis.com/Instance" } }, {
      event_type: "resource_deleted",
    }),
  );
  assert.ok(d.kind === "event" && d.event.type === "resource_deleted");
  const v = parseMessage(
    msg({
      event_type: "policy_violated",
      rule_id: "no-public-ip",
      resource_name: "//x/y",
      severity: "HIGH",
      message: "public",
    }),
  );
  assert.ok(v.kind === "event" && v.event.type === "policy_violated" && v.event.severity === "high");
});

Deno.test("parseMessage() gives a reason for every malformed message", () => {
  const cases: [RawMessage, RegExp][] = [
    [msg("{oops"), /not JSON/],
    [{ ...msg(""), data: new Uint8Array([0xff, 0xfe]) }, /not UTF-8/],
    [msg([1, 2]), /not an object/],
    [msg({ hello: "world" }), /neither a Cloud Asset TemporalAsset/],
    [msg({ type: "resource_exploded" }), /unknown event type/],
    [msg({ type: "resource_created" }), /needs `asset`/],
    [msg({ asset: { assetType: "x" } }), /no name/],
    [
      msg({ type: "policy_violated", resource_name: "//x", rule_id: "r", severity: "urgent" }),
      /severity urgent/,
    ],
  ];
  for (const [m, re] of cases) {
    const p = parseMessage(m);
    assert.equal(p.kind, "malformed", re.source);
    if (p.kind === "malformed") assert.match(p.error, re);
  }
});

Deno.test("parseMessage() keeps a feed message whose priorAsset has no name (it is the same asset)", () => {
  const { name: _name, assetType: _type, ...unnamed } = FW;
  const p = parseMessage(msg({ asset: FW, priorAssetState: "PRESENT", priorAsset: unnamed }));
  assert.equal(p.kind, "event", "the current state is never dropped for its prior state");
  if (p.kind !== "event" || p.event.type !== "asset_feed") throw new Error();
  assert.equal(p.event.asset.name, FW.name);
  assert.equal(p.event.prior_asset?.name, FW.name);
  assert.deepEqual(p.event.prior_asset?.data?.sourceRanges, ["0.0.0.0/0"]);
  const odd = parseMessage(msg({ asset: FW, priorAsset: { name: 7, resource: "x" } }));
  assert.ok(odd.kind === "event" && odd.event.type === "asset_feed" && odd.event.asset.name === FW.name);
});
