import assert from "node:assert/strict";
import { LzError } from "../errors.ts";
import { type BrokerConfig, createBroker } from "./mod.ts";

Deno.test("createBroker() opens the embedded broker by default config", async () => {
  const b = await createBroker({ kind: "embedded" });
  try {
    assert.equal(b.kind, "embedded");
    await b.admin().createTopics([{ name: "t", partitions: 2 }]);
    assert.deepEqual(await b.admin().listTopics(), ["t"]);
  } finally {
    await b.close();
  }
});

Deno.test("createBroker() refuses kafka without addresses and unknown kinds, naming the config field", async () => {
  await assert.rejects(
    createBroker({ kind: "kafka", brokers: [] }),
    (e: LzError) => e.code === "CONFIG" && /broker\.brokers/.test(e.message),
  );
  await assert.rejects(
    createBroker({ kind: "rabbit" } as unknown as BrokerConfig),
    (e: LzError) => e.code === "CONFIG" && /broker\.kind/.test(e.message) && /"rabbit"/.test(e.message),
  );
});
