// The race's Kamailio entry: a fresh Kamailio per step (bench/edge/kamailio.ts) with its own UDP port.
import { startKamailioBench } from "./kamailio.js";
import type { ProxyLauncher } from "./step.js";
import { freeUdpPort } from "./udp-port.js";

export function kamailioLauncher(sharedMemoryMb: number): ProxyLauncher {
  return {
    name: "kamailio",
    start: async (c) => {
      const udpPort = await freeUdpPort();
      const proc = await startKamailioBench({
        dir: c.dir,
        pki: c.pki,
        tlsPort: c.tlsPort,
        udpPort,
        uasPort: c.uasPort,
        sharedMemoryMb,
      });
      return { proc, udpPort };
    },
  };
}
