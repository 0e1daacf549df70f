import { brokerConformanceSuite } from "../conformance/mod.ts";
import { createEmbeddedBroker } from "./mod.ts";

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
