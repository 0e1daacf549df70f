import { brokerConformanceSuite } from "./conformance.ts";
import { createEmbeddedBroker } from "./embedded.ts";

brokerConformanceSuite("embedded (in-memory)", async () => {
  const broker = await createEmbeddedBroker();
  return { broker, cleanup: () => broker.close() };
});

brokerConformanceSuite("embedded (data dir)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-embedded-" });
  const broker = await createEmbeddedBroker({ dataDir: dir });
  return {
    broker,
    cleanup: async () => {
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
