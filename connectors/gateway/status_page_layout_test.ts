/**
 * The status page's layout in a real headless Chromium at 1400 and 800 px: wide sections span the grid,
 * tables stay inside their cards (scrolling there), no panel overlaps another, and a long live event wraps
 * to two lines that a click expands.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { needs } from "../../pipeline/testing/env.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { launchChromium, startTestGateway } from "./testing.ts";

const EVENTS = "lz.test.layout.v1";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const long = (n: number) =>
  `resource ${n} breaks policy because ${"the bucket is public and ".repeat(12)}end`;
const rows = Array.from({ length: 60 }, (_, i) => ({
  id: `item-${i}`,
  rule: `cis-gcp-${i}.1-some-rather-long-rule-name`,
  project: `project-with-a-long-name-${i}`,
  message: long(i),
  commit: SHA,
  since: new Date(Date.now() - 60_000).toISOString(),
  a: "alpha-alpha-alpha",
  b: "bravo-bravo-bravo",
  c: "charlie-charlie",
  d: "delta-delta-delta",
}));
const columns = [
  { key: "id" },
  { key: "rule" },
  { key: "project" },
  { key: "message" },
  { key: "commit", format: "sha" as const },
  { key: "since", format: "age" as const },
  { key: "a" },
  { key: "b" },
  { key: "c" },
  { key: "d" },
];

const plugin: GatewayPlugin = {
  name: "layout-test",
  eventTopics: [EVENTS],
  statusSections: [
    {
      id: "wide",
      title: "Wide",
      source: "/api/v1/test/rows",
      path: "rows",
      render: "table",
      wide: true,
      columns,
    },
    { id: "narrow", title: "Narrow", source: "/api/v1/test/rows", path: "rows", render: "table", columns },
    {
      id: "small",
      title: "Small",
      source: "/api/v1/test/rows",
      path: "rows",
      render: "table",
      columns: [{ key: "id" }],
    },
  ],
  routes(app, ctx) {
    app.get("/api/v1/test/rows", ctx.requireScope("read"), (c) => c.json({ rows }));
  },
};

interface Box {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
  scrollW: number;
  clientW: number;
}

/** Every panel's box and widths, plus the document's (evaluated in the page: this file has no DOM types). */
function panels(page: Page): Promise<{ doc: { scrollW: number; clientW: number }; boxes: Box[] }> {
  return page.evaluate(`({
    doc: { scrollW: document.documentElement.scrollWidth, clientW: document.documentElement.clientWidth },
    boxes: [...document.querySelectorAll("section.panel")].map((s) => {
      const r = s.getBoundingClientRect();
      return { id: s.id, x: r.x, y: r.y, w: r.width, h: r.height, scrollW: s.scrollWidth, clientW: s.clientWidth };
    }),
  })`);
}

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.w - 1 && b.x < a.x + a.w - 1 && a.y < b.y + b.h - 1 && b.y < a.y + a.h - 1;

Deno.test({
  name: "status page layout: wide sections span the grid, tables stay in their cards, long events wrap",
  ignore: needs("chromium"),
  fn: async () => {
    const t = await startTestGateway({ plugins: [plugin] });
    const browser = await launchChromium();
    try {
      for (const width of [1400, 800]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(t.url);
        for (const id of ["wide", "narrow", "small"]) {
          await page.locator(`#section-${id} td`, { hasText: "item-59" }).waitFor({ timeout: 5_000 });
        }
        await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });
        assert.equal(await page.locator("#feed-empty").isVisible(), true, "an empty feed says so");

        const { doc, boxes } = await panels(page);
        const at = (id: string) => boxes.find((b) => b.id === `section-${id}`)!;
        assert.ok(
          doc.scrollW <= doc.clientW,
          `${width} px: the page does not scroll sideways (${doc.scrollW})`,
        );
        for (const b of boxes) {
          assert.ok(
            b.scrollW <= b.clientW + 1,
            `${width} px: ${b.id} content stays inside (${b.scrollW} > ${b.clientW})`,
          );
        }
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            assert.ok(!overlap(boxes[i], boxes[j]), `${width} px: ${boxes[i].id} overlaps ${boxes[j].id}`);
          }
        }
        assert.ok(Math.abs(at("wide").w - at("feed").w) <= 1, `${width} px: a wide section spans the grid`);
        if (width === 1400) assert.ok(at("small").w < at("wide").w / 2, "a plain section takes one column");
        assert.ok(at("wide").h < 800, `60 rows scroll inside the card (card ${at("wide").h} px high)`);
        assert.match(await page.locator("#section-wide").innerText(), /60 rows/);
        const sha = page.locator(`#section-wide code[data-sha="${SHA}"]`).first();
        assert.equal(await sha.innerText(), SHA.slice(0, 12));
        assert.equal(await sha.getAttribute("title"), SHA);

        // A long event: two lines in the feed, all of it after a click; never wider than the feed.
        const key = `long-${width}`;
        await t.produce(EVENTS, key, { id: key, message: long(width), nested: { deep: [1, 2, 3] } });
        const item = page.locator(`#feed li[data-key="${key}"]`);
        await item.waitFor({ timeout: 2_000 });
        assert.equal(await page.locator("#feed-empty").isVisible(), false);
        const data = item.locator(".data");
        assert.match(await data.innerText(), /^id=long-\d+ message="resource \d+ breaks policy/);
        const lineHeight = parseFloat(
          await data.evaluate((e) => (globalThis as any).getComputedStyle(e).lineHeight),
        );
        const clamped = (await data.boundingBox())!;
        assert.ok(clamped.height <= 2 * lineHeight + 1, `clamped to two lines (${clamped.height} px)`);
        const feed = (await page.locator("#feed").boundingBox())!;
        assert.ok(clamped.x + clamped.width <= feed.x + feed.width + 1, "the event stays inside the feed");
        await item.click();
        const open = (await data.boundingBox())!;
        assert.ok(open.height > clamped.height, "a click shows the whole event");
        assert.match(await data.innerText(), /nested=\{"deep":\[1,2,3\]\}$/);
        assert.deepEqual(errors, [], "no script errors");
        await page.close();
      }
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
