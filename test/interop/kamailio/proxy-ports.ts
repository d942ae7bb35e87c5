// Loopback UDP ports that were free a moment ago, for daemons that cannot bind port 0 and report it (SIPp's
// -p and -cp, the edge's inside port). TCP ports come from ./kamailio.ts (freeTcpPort).
import * as dgram from "node:dgram";

export function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
