import assert from "node:assert/strict";
import { FEATURES, featureTopics } from "./features.ts";
import { RUNTIME_TOPICS } from "./topics.ts";
import { TOPICS } from "../schemas/mod.ts";

Deno.test("every declared topic is owned by exactly one feature or the runtime, and features own only declared topics", () => {
  const owners = new Map<string, string[]>();
  const own = (topic: string, who: string) => owners.set(topic, [...(owners.get(topic) ?? []), who]);
  for (const t of RUNTIME_TOPICS) own(t.name, "the runtime");
  for (const f of FEATURES) for (const t of f.topics) own(t.name, f.name);
  for (const [topic, who] of owners) {
    assert.ok(TOPICS.has(topic), `${who.join(", ")} declares ${topic}, which is not in schemas/mod.ts`);
    assert.equal(
      TOPICS.get(topic),
      featureTopics().find((t) => t.name === topic),
      `${topic}: the same declaration`,
    );
    assert.equal(who.length, 1, `${topic} is owned by ${who.join(" and ")}; one owner per topic`);
  }
  for (const topic of TOPICS.keys()) {
    assert.ok(owners.has(topic), `no feature owns ${topic} (add it to one's topics)`);
  }
  assert.equal(featureTopics().length, TOPICS.size, "topic creation at start covers the registry, once each");
});

Deno.test("feature names are unique", () => {
  const names = FEATURES.map((f) => f.name);
  assert.deepEqual([...new Set(names)], names);
});
