import { brokerConformanceSuite } from "./conformance.ts";
import { createEmbeddedBroker } from "./embedded.ts";

brokerConformanceSuite("embedded (in-memory)", async () => {
  const broker = await createEmbeddedBroker();
  return { broker, cleanup: () => broker.close() };
});
